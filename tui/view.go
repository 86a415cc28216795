package tui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/filter"
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
		out[i] = cut(l, sh.width)
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
	title := st.Title.Render("TinyCRM")
	s := m.stats
	if s == nil {
		return title
	}
	// Too narrow for every count: the last ones go first.
	counts := joinFit([]string{
		render.Plural(s.Customers, "customer", "customers"),
		render.Plural(s.Projects, "project", "projects"),
		render.Count(s.MultiProject) + " in 2+",
	}, st.Muted.Render(" · "), m.sh.width-ansi.StringWidth(title)-2)
	return title + "  " + counts
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
	dot := st.Muted.Render(" · ")
	sorted := ""
	if s := m.f.Sort; s.Column() != filter.SortLastSeen || s.Reverse {
		sorted = st.Muted.Render("sort: ") + st.Filter.Render(sortName(s))
	}
	d := filtersOnly(m.f).Describe()
	if d == "" {
		// One line: the hints that do not fit are left out, whole.
		parts := []string{st.FilterLabel.Render("filter: ") + st.Muted.Render("none")}
		if sorted != "" {
			parts = append(parts, sorted)
		}
		for _, h := range []string{"/ search", "p projects", "m 2+", "s status", "w where"} {
			parts = append(parts, st.Muted.Render(h))
		}
		return joinFit(parts, dot, m.sh.width)
	}
	// A long filter wraps, at most maxFilterLines lines; the table shrinks.
	line := st.FilterLabel.Render("filter: ") + st.Filter.Render(d) + st.Muted.Render("  (x clears)")
	if sorted != "" {
		line += dot + sorted
	}
	return wrapMax(line, m.sh.width, maxFilterLines)
}

// filtersOnly is f without its sort: what x clears.
func filtersOnly(f filter.Filter) filter.Filter {
	f.Sort = filter.Sort{}
	return f
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
	w := layout(m.sh.width, allBadges(m.projects))
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
		return st.Error.Render(m.noteText())
	case m.note != "":
		return st.OK.Render(m.noteText())
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
	return st.Muted.Render(m.list.position(m.knownTotal()))
}

// noteText is the status line's note in the terminal's width; a path in
// it is shortened from the start so the file name stays.
func (m *model) noteText() string {
	if m.notePath == "" {
		return cut(m.note, m.sh.width)
	}
	room := m.sh.width - ansi.StringWidth(m.note) - ansi.StringWidth(m.noteTail)
	return cut(m.note+fitPath(m.notePath, max(room, 16))+m.noteTail, m.sh.width)
}

// knownTotal is the number of customers in the list, when it is known:
// counted once the list's last page has been seen, or, before that, from
// the header's counts when the view is all customers, all in 2+ projects
// or the members of one project (a sort changes no count).
func (m *model) knownTotal() (int, bool) {
	if n, ok := m.list.pg.total(); ok {
		return n, true
	}
	f := filtersOnly(m.f)
	switch {
	case m.stats == nil:
	case f.Describe() == "":
		return int(m.stats.Customers), true
	case f.Describe() == (filter.Filter{MinProjects: 2}).Describe():
		return int(m.stats.MultiProject), true
	}
	if len(f.Projects) == 1 && f.Describe() == (filter.Filter{Projects: f.Projects}).Describe() {
		for _, p := range m.projects {
			if p.Slug == f.Projects[0] {
				return int(p.Customers), true
			}
		}
	}
	return 0, false
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
	return m.help.ShortHelpView(m.fitHelp(h))
}

// fitHelp is the short help that fits the terminal's width: the hints of
// h.drop leave first, in that order; the others (help and quit) stay.
func (m *model) fitHelp(h helpKeys) []key.Binding {
	keys := h.ShortHelp()
	wide := m.help
	wide.SetWidth(0) // measure without cutting
	for _, d := range h.drop {
		if ansi.StringWidth(wide.ShortHelpView(keys)) <= m.sh.width {
			break
		}
		keys = slices.DeleteFunc(slices.Clone(keys), func(b key.Binding) bool {
			return slices.Equal(b.Keys(), d.Keys()) && b.Help() == d.Help()
		})
	}
	return keys
}

// fullHelp is the ? overlay: every key, and the where syntax.
func (m *model) fullHelp() string {
	st := m.sh.styles
	lines := []string{
		st.BoxTitle.Render("Keys"),
		m.help.FullHelpView(m.sh.keys.listHelp().FullHelp()),
		"",
		st.Bold.Render("where") + "  key OP value, joined by \",\" or \"and\": all in one project",
		st.Muted.Render("  OP:  = != > >= < <= ~ (contains), or key exists / key !exists"),
		st.Muted.Render("  key: a params key, status, first_seen or last_seen"),
		st.Muted.Render("  ;    starts another expression, which any project may meet"),
		st.Muted.Render("  e.g. plan=pro, mrr>=9    trial_ends < 2026-04-01; status=paid"),
		"",
		st.Muted.Render("x clears the filters and keeps the sort; o changes the sort"),
		st.Muted.Render("esc or ? closes this help"),
	}
	return st.Box.Width(min(m.sh.width, 80)).Render(strings.Join(lines, "\n"))
}
