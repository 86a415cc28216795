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
	// Min cells each (8 when Min is 0), then, if the table is still too
	// wide, right to left again down to 4 cells each, so that the columns
	// that do not shrink (such as MRR and LAST ACTIVE) stay in view.
	Shrink bool
	Min    int
}

// Cell is a table cell that knows how to get narrower than its Text: Fit
// renders it in at most width cells (such as badges that give way to
// "+3"). Without Fit, a cell that is too wide is cut with "…".
type Cell struct {
	Text string
	Fit  func(width int) string
}

// Table lays out rows of already rendered cells (styled or not) in aligned
// columns, two spaces apart, measuring width without ANSI sequences.
type Table struct {
	Columns []Column
	// NoHeader leaves out the header row.
	NoHeader bool
	// Width, when positive, is the terminal's width: Shrink columns give
	// way so the table fits (see Column.Shrink), and any line still wider
	// is cut to it (ending in "…"), so a wide table never wraps.
	Width  int
	rows   [][]Cell
	widths []int // fixed by the first Render
}

// NewTable returns an empty table with these columns.
func NewTable(cols []Column) *Table { return &Table{Columns: cols} }

// AddRow appends a row; missing cells are empty, extra ones dropped.
func (t *Table) AddRow(cells []string) {
	row := make([]Cell, len(cells))
	for i, c := range cells {
		row[i] = Cell{Text: c}
	}
	t.AddCells(row)
}

// AddCells appends a row of cells that may know how to shrink; missing
// cells are empty, extra ones dropped.
func (t *Table) AddCells(cells []Cell) {
	row := make([]Cell, len(t.Columns))
	for i := range row {
		if i < len(cells) {
			row[i] = cells[i]
			if max := t.Columns[i].Max; max > 0 && lipgloss.Width(row[i].Text) > max {
				row[i].Text = row[i].fit(max)
			}
		}
	}
	t.rows = append(t.rows, row)
}

// fit renders c in at most width cells.
func (c Cell) fit(width int) string {
	if lipgloss.Width(c.Text) <= width {
		return c.Text
	}
	if c.Fit != nil {
		if s := c.Fit(width); lipgloss.Width(s) <= width {
			return s
		}
	}
	return fit(c.Text, width)
}

// Len is the number of rows added since the last Flush.
func (t *Table) Len() int { return len(t.rows) }

// fit cuts s to max cells, ending in "…".
func fit(s string, max int) string {
	if max <= 0 || lipgloss.Width(s) <= max {
		return s
	}
	return ansi.Truncate(s, max, "…")
}

// Render writes the header (unless NoHeader) and the rows, then forgets
// the rows. The first Render fixes the column widths (from its rows, fitted
// to Width); later ones, the next pages of a long listing, keep them and
// cut what is wider, so every row stays aligned with the header.
func (t *Table) Render(w io.Writer, th Theme) error {
	if len(t.widths) != len(t.Columns) {
		t.widths = make([]int, len(t.Columns))
		for i, c := range t.Columns {
			t.widths[i] = lipgloss.Width(c.Title)
		}
		for _, row := range t.rows {
			for i, cell := range row {
				t.widths[i] = max(t.widths[i], lipgloss.Width(cell.Text))
			}
		}
		t.shrink()
	}
	var b strings.Builder
	if !t.NoHeader {
		titles := make([]Cell, len(t.Columns))
		for i, c := range t.Columns {
			titles[i] = Cell{Text: c.Title}
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
	for _, floor := range []int{0, minShrink} {
		for i := len(t.Columns) - 1; i >= 0; i-- {
			if total <= t.Width {
				return
			}
			minWidth := floor
			if minWidth == 0 {
				if minWidth = t.Columns[i].Min; minWidth <= 0 {
					minWidth = 8
				}
			}
			if !t.Columns[i].Shrink || t.widths[i] <= minWidth {
				continue
			}
			cut := min(total-t.Width, t.widths[i]-minWidth)
			t.widths[i] -= cut
			total -= cut
		}
	}
}

// minShrink is the narrowest a Shrink column gets: three characters and
// "…".
const minShrink = 4

// line writes one row, padded to the column widths, without trailing
// spaces.
func (t *Table) line(b *strings.Builder, cells []Cell, style func(string) string) {
	start := b.Len()
	// The last column that has text ends the line.
	last := len(cells) - 1
	for last > 0 && cells[last].Text == "" {
		last--
	}
	for i := 0; i <= last; i++ {
		cell := cells[i].fit(t.widths[i])
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
// to print on a terminal, as inert text: tabs and line breaks become
// spaces, and control characters (which could move the cursor or change
// colours) and invisible format characters are dropped (see [invisible]).
func Sanitize(s string) string {
	clean := true
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || invisible(r) {
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
		case unicode.IsControl(r) || invisible(r):
			return -1
		}
		return r
	}, s)
}

// invisible reports the format characters (category Cf) Sanitize drops.
// The bidi marks, embeddings, overrides and isolates (U+200E,
// U+202A–U+202E, U+2066–U+2069…) could show the rest of a line reversed
// ("$15" as "51$"), and a cut with "…" would leave them open; the
// zero-width space, word joiner, soft hyphen and byte order mark stand
// alone in no cell, and the screen loses count of its columns. Kept are
// those that belong to a grapheme cluster, by which widths are measured:
// ZWNJ and ZWJ, which shape scripts and join emoji (👩‍👩‍👧‍👦), and the
// tag characters of subdivision flags (🏴󠁧󠁢󠁳󠁣󠁴󠁿).
func invisible(r rune) bool {
	// U+00AD is the first format character: ASCII goes no further.
	return r >= '\u00ad' && unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d' && (r < '\U000e0020' || r > '\U000e007f')
}

// TSV joins fields into one tab-separated line (with its newline) for
// piped output; each field is sanitized, so it holds no tab or newline.
func TSV(fields ...string) string {
	for i, f := range fields {
		fields[i] = Sanitize(f)
	}
	return strings.Join(fields, "\t") + "\n"
}
