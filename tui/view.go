package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/internal/render"
)

// The screen, top to bottom: header, filter line (or the search input),
// body (the table, a picker, the help or a detail), the status line (or
// the where/export input) and the key help. Always exactly the terminal's
// size, every line cut to its width.

// View renders the screen.
func (m *model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	return v
}

func (m *model) render() string {
	sh := m.sh
	lines := []string{m.header()}
	if m.mode != modeDetail {
		lines = append(lines, m.filterLine())
	}
	body := m.body()
	lines = append(lines, fit(body, m.bodyHeight())...)
	lines = append(lines, m.footer())
	lines = append(lines, m.helpLine())
	out := strings.Split(strings.Join(lines, "\n"), "\n")
	for i, l := range out {
		out[i] = ansi.Truncate(l, sh.width, "")
	}
	return strings.Join(fit(strings.Join(out, "\n"), sh.height), "\n")
}

// fit returns exactly n lines of s, cut or padded with empty lines.
func fit(s string, n int) []string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	for len(lines) < n {
		lines = append(lines, "")
	}
	return lines
}

// footerHeight is the lines of the status line or the bottom prompt.
func (m *model) footerHeight() int {
	if m.prompt != nil && m.mode != modeSearch {
		return m.prompt.viewHeight(m.sh)
	}
	return 1
}

// bodyHeight is the lines between the top lines and the footer.
func (m *model) bodyHeight() int {
	top := 1
	if m.mode != modeDetail {
		top += strings.Count(m.filterLine(), "\n") + 1
	}
	return max(m.sh.height-top-m.footerHeight()-1, 1)
}

// tableHeight is the number of customer rows on screen.
func (m *model) tableHeight() int { return m.bodyHeight() - 1 }

func (m *model) header() string {
	st := m.sh.styles
	h := st.Title.Render("TinyCRM")
	if s := m.stats; s != nil {
		h += "  " + render.Plural(s.Customers, "customer", "customers") + st.Muted.Render(" · ") +
			render.Plural(s.Projects, "project", "projects") + st.Muted.Render(" · ") +
			render.Count(s.MultiProject) + " in 2+"
	}
	return h
}

// describe is the active filter in words, or "all customers".
func (m *model) describe() string {
	if d := m.f.Describe(); d != "" {
		return d
	}
	return "all customers"
}

func (m *model) filterLine() string {
	st := m.sh.styles
	if m.mode == modeSearch && m.prompt != nil {
		line := m.prompt.view(m.sh)
		if m.prompt.err != nil {
			// The search line has room for one line: keep the input.
			line, _, _ = strings.Cut(line, "\n")
			line += "  " + st.Error.Render(m.prompt.err.Error())
		}
		return line
	}
	d := m.f.Describe()
	if d == "" {
		return st.FilterLabel.Render("filter: ") + st.Muted.Render("none · / search · p projects · m 2+ · s status · w where")
	}
	// A long filter wraps, at most maxFilterLines lines; the table shrinks.
	line := wrap(st.FilterLabel.Render("filter: ")+st.Filter.Render(d)+st.Muted.Render("  (x clears)"), m.sh.width)
	return strings.Join(fit(line, min(strings.Count(line, "\n")+1, maxFilterLines)), "\n")
}

// maxFilterLines is the most lines the filter line may wrap to.
const maxFilterLines = 3

func (m *model) body() string {
	h := m.bodyHeight()
	switch m.mode {
	case modeDetail:
		return m.detail.view(m.sh, h)
	case modeHelp:
		return m.fullHelp()
	case modeProjects, modeStatus, modeSort:
		return m.picker.view(m.sh, h)
	}
	if s, ok := m.state(); ok {
		return s
	}
	return m.table(h)
}

// table renders the header row and the visible customers.
func (m *model) table(h int) string {
	rows, sel := m.list.visible(h - 1)
	w := layout(m.sh.width, measure(rows))
	out := make([]string, 0, len(rows)+1)
	out = append(out, tableHeader(m.sh.styles, w))
	for i, c := range rows {
		out = append(out, tableRow(m.sh, c, w, i == sel))
	}
	return strings.Join(out, "\n")
}

// footer is the bottom prompt, or the status line: a note, a failed
// refresh, loading, or the cursor's position.
func (m *model) footer() string {
	st := m.sh.styles
	if m.prompt != nil && m.mode != modeSearch {
		return m.prompt.view(m.sh)
	}
	switch {
	case m.note != "" && m.noteErr:
		return st.Error.Render(m.note)
	case m.note != "":
		return st.OK.Render(m.note)
	case m.mode == modeDetail:
		if n := m.detail.below(m.sh, m.bodyHeight()); n > 0 {
			return st.Muted.Render("↓ " + render.Plural(n, "more line", "more lines"))
		}
		return ""
	case m.list.err != nil && !m.stateShown():
		p := explain(m.list.err, m.sh.opts.Server)
		return st.Error.Render(p.title) + st.Muted.Render(" · r to retry")
	case m.list.pg.loading() && m.list.loaded:
		return st.Muted.Render("loading…")
	}
	return st.Muted.Render(m.list.position())
}

// stateShown reports whether a state screen replaces the table.
func (m *model) stateShown() bool {
	_, ok := m.state()
	return ok
}

func (m *model) helpLine() string {
	k := m.sh.keys
	var h helpKeys
	switch m.mode {
	case modeSearch:
		h = k.inputHelp("keep search")
	case modeWhere:
		h = k.inputHelp("apply")
	case modeExport:
		h = k.inputHelp("export")
	case modeProjects, modeStatus:
		h = k.pickerHelp()
	case modeSort:
		h = k.sortHelp()
	case modeDetail:
		h = k.detailHelp()
	default:
		if m.stateShown() && m.list.err != nil {
			h = k.errorHelp()
		} else {
			h = k.listHelp()
		}
	}
	return m.help.ShortHelpView(h.ShortHelp())
}

// fullHelp is the ? overlay: every key, and the where syntax.
func (m *model) fullHelp() string {
	st := m.sh.styles
	lines := []string{
		st.BoxTitle.Render("Keys"),
		m.help.FullHelpView(m.sh.keys.listHelp().FullHelp()),
		"",
		st.Bold.Render("where") + "  key OP value, joined by \",\" or \"and\"",
		st.Muted.Render("  OP:  = != > >= < <= ~ (contains), or key exists / key !exists"),
		st.Muted.Render("  key: a params key, status, first_seen or last_seen"),
		st.Muted.Render("  e.g. plan=pro, mrr>=9    trial_ends < 2026-04-01"),
		"",
		st.Muted.Render("esc or ? closes this help"),
	}
	return st.Box.Width(min(m.sh.width, 80)).Render(strings.Join(lines, "\n"))
}
