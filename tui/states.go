package tui

import (
	"strings"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/internal/render"
)

// state returns the screen to show instead of the table when there are no
// rows to show: loading, an error, an empty workspace, or no match. Each
// says what to do next.
func (m *model) state() (string, bool) {
	l := m.list
	_, end := l.pg.span()
	first, _ := l.pg.span()
	if end > first && !l.empty() {
		return "", false
	}
	st := m.sh.styles
	switch {
	case l.err != nil:
		p := explain(l.err, m.sh.opts.Server)
		return strings.Join([]string{
			"",
			st.Error.Render(wrap("Cannot load customers: "+p.title+".", m.sh.width)),
			st.Muted.Render(wrap(p.detail, m.sh.width)),
			"",
			wrap(p.hint, m.sh.width),
			"",
			st.Muted.Render("Press r to retry, q to quit."),
		}, "\n"), true
	case !l.loaded:
		return "\n" + st.Muted.Render("Loading customers…"), true
	case m.stats != nil && m.stats.Customers == 0:
		return m.emptyWorkspace(), true
	}
	return m.noMatch(), true
}

// emptyWorkspace explains how customers get here.
func (m *model) emptyWorkspace() string {
	st := m.sh.styles
	server := m.sh.opts.Server
	if server == "" {
		server = client.DefaultBaseURL
	}
	step1 := []string{
		"1. Create a project for each app; it gets a write-only key (tcrm_pk_…):",
		"     " + st.Accent.Render(`tinycrm projects create "My App"`),
	}
	if n := m.stats.Projects; n > 0 {
		step1 = []string{
			"1. You have " + render.Plural(n, "project", "projects") + ". Lost its key? Make another:",
			"     " + st.Accent.Render("tinycrm projects keys create SLUG"),
		}
	}
	lines := []string{
		"",
		st.Bold.Render("No customers yet."),
		"",
	}
	lines = append(lines, step1...)
	lines = append(lines,
		"2. Call identify with that key when someone signs up, logs in or pays:",
		st.Accent.Render("     curl -X POST "+server+"/v1/identify \\"),
		st.Accent.Render(`       -H "Authorization: Bearer tcrm_pk_…" \`),
		st.Accent.Render(`       -H "Content-Type: application/json" \`),
		st.Accent.Render(`       -d '{"email":"alice@example.com","name":"Alice Chen","status":"paid"}'`),
		"3. They appear here within seconds: this screen refreshes by itself.",
		"",
		st.Muted.Render("Just looking? `tinycrm demo` loads sample data."),
	)
	return strings.Join(lines, "\n")
}

// noMatch names the filter that matched nobody and how to loosen it.
func (m *model) noMatch() string {
	st := m.sh.styles
	d := filtersOnly(m.f).Describe()
	if d == "" {
		return "\n" + st.Muted.Render("No customers.")
	}
	var how []string
	if m.f.Search != "" {
		how = append(how, "/ to change the search")
	}
	if len(m.f.Projects) > 0 {
		how = append(how, "p to change projects")
	}
	if m.f.MinProjects > 0 {
		how = append(how, "m to drop 2+ projects")
	}
	if len(m.f.Statuses) > 0 {
		how = append(how, "s to change statuses")
	}
	if len(m.f.Where) > 0 {
		how = append(how, "w to edit the where-expressions")
	}
	how = append(how, "x to clear every filter")
	return strings.Join([]string{
		"",
		wrap(st.Bold.Render("No customers match ")+st.Filter.Render(d), m.sh.width),
		"",
		wrap("Press "+strings.Join(how, ", ")+".", m.sh.width),
	}, "\n")
}
