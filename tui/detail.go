package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/internal/render"
)

// detail is one customer: per-project cards and the timeline, newest
// first. It scrolls; esc goes back to the list.
type detail struct {
	seq     uint64
	summary client.Customer // the row it was opened from, shown while loading
	data    *client.CustomerDetail
	err     error
	off     int // first line shown
}

// update handles a key and reports whether the view should close.
func (d *detail) update(sh *shared, msg tea.KeyPressMsg, height int) bool {
	k := sh.keys
	switch {
	case key.Matches(msg, k.Back):
		return true
	case key.Matches(msg, k.Up):
		d.off--
	case key.Matches(msg, k.Down):
		d.off++
	case key.Matches(msg, k.PageUp):
		d.off -= height
	case key.Matches(msg, k.PageDown):
		d.off += height
	case key.Matches(msg, k.Top):
		d.off = 0
	case key.Matches(msg, k.Bottom):
		d.off = 1 << 30
	}
	return false
}

// view renders the detail in height lines.
func (d *detail) view(sh *shared, height int) string {
	lines := d.lines(sh)
	d.off = max(min(d.off, len(lines)-height), 0)
	end := min(d.off+height, len(lines))
	return strings.Join(lines[d.off:end], "\n")
}

// below is the number of lines under the screen.
func (d *detail) below(sh *shared, height int) int {
	return max(len(d.lines(sh))-d.off-height, 0)
}

// lines renders the whole detail, one terminal line per entry.
func (d *detail) lines(sh *shared) []string {
	st := sh.styles
	c := d.summary
	if d.data != nil {
		c = d.data.Customer
	}
	name := render.Sanitize(c.Name)
	if name == "" {
		name = st.Muted.Render("(no name)")
	}
	mrr := "-" // as the list shows none
	if c.MRRTotal != 0 {
		mrr = render.Money(c.MRRTotal)
	}
	out := []string{
		d.title(sh, render.Sanitize(c.Email), name),
		cut(st.Muted.Render("in "+render.Plural(c.ProjectCount, "project", "projects")+
			" · MRR "+mrr+
			" · first seen "+render.RelTime(sh.now(), c.FirstSeen)+
			" · last active "+render.RelTime(sh.now(), c.LastSeen)), sh.width),
		"",
	}
	switch {
	case client.IsNotFound(d.err):
		return append(out, st.Error.Render(cut("This customer no longer exists.", sh.width)),
			st.Muted.Render(wrap("It was forgotten, or its projects were deleted, after the list was loaded.", sh.width)),
			"", st.Muted.Render("esc back"))
	case d.err != nil:
		p := explain(d.err, sh.opts.Server)
		return append(out, st.Error.Render(wrap("Cannot load this customer: "+p.title+".", sh.width)), st.Muted.Render(wrap(p.detail, sh.width)),
			"", wrap(p.hint, sh.width), "", st.Muted.Render("esc back · r retry"))
	case d.data == nil:
		return append(out, st.Muted.Render("Loading…"))
	}
	out = append(out, d.cards(sh)...)
	out = append(out, "", st.Bold.Render("Timeline")+st.Muted.Render(" (newest first)"))
	if len(d.data.Timeline) == 0 {
		out = append(out, st.Muted.Render("  no changes recorded yet"))
	}
	names := map[string]client.Membership{}
	for _, m := range d.data.Projects {
		names[m.Slug] = m
	}
	// A long project name is cut, as on the cards, so the change shows.
	maxBadge := max(sh.width/3, minCutBadge)
	badges := make([]string, len(d.data.Timeline))
	badgeW := 0
	for i, e := range d.data.Timeline {
		badges[i] = "[" + cut(render.Sanitize(e.Project), maxBadge-2) + "]"
		if m, ok := names[e.Project]; ok {
			badges[i] = st.Badge(m.Name, m.Color, maxBadge)
		}
		badgeW = max(badgeW, ansi.StringWidth(badges[i]))
	}
	for i, e := range d.data.Timeline {
		// The badges are padded to the widest, so the events line up.
		line := "  " + pad(render.RelTime(sh.now(), e.At), 9, false) + " " + pad(badges[i], badgeW, false) + " " + event(e)
		out = append(out, cut(line, sh.width))
	}
	if d.data.TimelineHasMore {
		more := "  … older events not shown (these are the newest " + render.Count(len(d.data.Timeline)) + ")"
		out = append(out, st.Muted.Render(cut(more, sh.width)))
	}
	return out
}

// title is the detail's first line, the email and the name: when both do
// not fit, the name is cut first, then the email.
func (d *detail) title(sh *shared, email, name string) string {
	st := sh.styles
	room := sh.width - ansi.StringWidth(email) - 2
	if room < min(ansi.StringWidth(name), 8) {
		return st.Title.Render(cut(email, sh.width))
	}
	return st.Title.Render(email) + "  " + cut(name, room)
}

// cards renders one card per project, side by side when they fit.
func (d *detail) cards(sh *shared) []string {
	st := sh.styles
	n := max(len(d.data.Projects), 1)
	perRow := min(max(sh.width/30, 1), n)
	cardW := (sh.width - (perRow - 1)) / perRow
	var rows []string
	var row []string
	for _, m := range d.data.Projects {
		status := st.Status(m.Status)
		body := []string{
			// The name gives way to the status, which would wrap below it.
			st.Badge(m.Name, m.Color, max(cardW-5-ansi.StringWidth(status), minCutBadge)) + " " + status,
			st.Muted.Render("first seen  ") + render.RelTime(sh.now(), m.FirstSeen),
			st.Muted.Render("last active ") + render.RelTime(sh.now(), m.LastSeen),
		}
		params := formatParams(m.Params)
		if len(params) == 0 {
			body = append(body, st.Muted.Render("no params"))
		}
		for _, p := range params {
			body = append(body, ansi.Truncate(p, cardW-4, "…"))
		}
		row = append(row, st.Card.Width(cardW).Render(strings.Join(body, "\n")))
		if len(row) == perRow {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, joinGap(row)...))
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, joinGap(row)...))
	}
	return strings.Split(strings.Join(rows, "\n"), "\n")
}

// joinGap puts a one-column gap between boxes.
func joinGap(boxes []string) []string {
	out := make([]string, 0, 2*len(boxes))
	for i, b := range boxes {
		if i > 0 {
			out = append(out, " ")
		}
		out = append(out, b)
	}
	return out
}

// event says what a timeline entry changed, safe to print.
func event(e client.Event) string { return render.Sanitize(describeEvent(e)) }

func describeEvent(e client.Event) string {
	switch e.Kind {
	case "joined":
		return "joined"
	case "name", "status":
		return e.Kind + " " + formatRaw(e.Before) + " → " + formatRaw(e.After)
	case "params":
		return "params " + paramsChange(e.Before, e.After)
	}
	return e.Kind + " " + formatRaw(e.After)
}
