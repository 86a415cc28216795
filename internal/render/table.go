package render

import (
	"io"
	"strings"
	"unicode"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Column describes one column of a Table.
type Column struct {
	Title string
	// Max is the widest a cell may be, in terminal cells; longer cells are
	// cut with "…". 0 means no limit.
	Max int
	// Right aligns the column to the right (numbers, money).
	Right bool
	// Shrink lets the column give up width when the table is wider than
	// Table.Width; shrinkable columns give it up right to left, down to
	// Min cells each (8 when Min is 0).
	Shrink bool
	Min    int
}

// Table lays out rows of already rendered cells (styled or not) in aligned
// columns, two spaces apart, measuring width without ANSI sequences.
type Table struct {
	Columns []Column
	// NoHeader leaves out the header row.
	NoHeader bool
	// Width, when positive, cuts every line to that many terminal cells
	// (ending in "…"), so a wide table never wraps on a narrow terminal.
	Width  int
	rows   [][]string
	widths []int
}

// NewTable returns an empty table with these columns.
func NewTable(cols []Column) *Table { return &Table{Columns: cols} }

// AddRow appends a row; missing cells are empty, extra ones dropped.
func (t *Table) AddRow(cells []string) {
	row := make([]string, len(t.Columns))
	for i := range row {
		if i < len(cells) {
			row[i] = fit(cells[i], t.Columns[i].Max)
		}
	}
	t.rows = append(t.rows, row)
}

// Len is the number of rows added since the last Flush.
func (t *Table) Len() int { return len(t.rows) }

// fit cuts s to max cells, ending in "…".
func fit(s string, max int) string {
	if max <= 0 || lipgloss.Width(s) <= max {
		return s
	}
	return lipgloss.NewStyle().MaxWidth(max-1).Render(s) + "…"
}

// Render writes the header (unless NoHeader) and the rows, then forgets
// the rows. Column widths only grow from one Render to the next, so a long
// listing written page by page stays aligned as far as it can.
func (t *Table) Render(w io.Writer, th Theme) error {
	if len(t.widths) != len(t.Columns) {
		t.widths = make([]int, len(t.Columns))
		for i, c := range t.Columns {
			t.widths[i] = lipgloss.Width(c.Title)
		}
	}
	for _, row := range t.rows {
		for i, cell := range row {
			t.widths[i] = max(t.widths[i], lipgloss.Width(cell))
		}
	}
	t.shrink()
	var b strings.Builder
	if !t.NoHeader {
		titles := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			titles[i] = c.Title
		}
		t.line(&b, titles, func(s string) string { return th.Header(s) })
		t.NoHeader = true
	}
	for _, row := range t.rows {
		t.line(&b, row, nil)
	}
	t.rows = t.rows[:0]
	_, err := io.WriteString(w, b.String())
	return err
}

// shrink narrows the Shrink columns, right to left, until the table fits Width
// (or they are down to their minimum); line cuts what no longer fits.
func (t *Table) shrink() {
	if t.Width <= 0 {
		return
	}
	total := 2 * (len(t.widths) - 1)
	for _, w := range t.widths {
		total += w
	}
	for i := len(t.Columns) - 1; i >= 0; i-- {
		if total <= t.Width {
			return
		}
		minWidth := t.Columns[i].Min
		if minWidth <= 0 {
			minWidth = 8
		}
		if !t.Columns[i].Shrink || t.widths[i] <= minWidth {
			continue
		}
		cut := min(total-t.Width, t.widths[i]-minWidth)
		t.widths[i] -= cut
		total -= cut
	}
}

// line writes one row, padded to the column widths, without trailing
// spaces.
func (t *Table) line(b *strings.Builder, cells []string, style func(string) string) {
	start := b.Len()
	// The last column that has text ends the line.
	last := len(cells) - 1
	for last > 0 && cells[last] == "" {
		last--
	}
	for i := 0; i <= last; i++ {
		cell := fit(cells[i], t.widths[i])
		pad := t.widths[i] - lipgloss.Width(cell)
		if style != nil {
			cell = style(cell)
		}
		if i > 0 {
			b.WriteString("  ")
		}
		switch {
		case t.Columns[i].Right:
			b.WriteString(strings.Repeat(" ", pad))
			b.WriteString(cell)
		case i < last:
			b.WriteString(cell)
			b.WriteString(strings.Repeat(" ", pad))
		default:
			b.WriteString(cell)
		}
	}
	if t.Width > 0 {
		if whole := b.String(); lipgloss.Width(whole[start:]) > t.Width {
			b.Reset()
			b.WriteString(whole[:start])
			b.WriteString(ansi.Truncate(whole[start:], t.Width, "…"))
		}
	}
	b.WriteByte('\n')
}

// Sanitize makes text that came from outside (names, emails, params) safe
// to print on a terminal: tabs and line breaks become spaces and other
// control characters (which could move the cursor or change colours) are
// dropped.
func Sanitize(s string) string {
	clean := true
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

// TSV joins fields into one tab-separated line (with its newline) for
// piped output; each field is sanitized, so it holds no tab or newline.
func TSV(fields ...string) string {
	for i, f := range fields {
		fields[i] = Sanitize(f)
	}
	return strings.Join(fields, "\t") + "\n"
}
