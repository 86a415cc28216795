package render

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/client"
)

// Badges renders a customer's project badges, in the order given,
// separated by one space: "[App A] [App B]" without colour.
func (t Theme) Badges(ms []client.Membership) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = t.Badge(m.Name, m.Color)
	}
	return strings.Join(parts, " ")
}

// Statuses renders a customer's statuses in the order of their badges,
// joined by "·" ("paid·free·trialing"); a membership without a status
// reads "-".
func (t Theme) Statuses(ms []client.Membership) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = t.Status(m.Status)
	}
	return strings.Join(parts, t.Dim("·"))
}

// MRR renders a customer's total MRR, or a dim "-" when it is zero.
func (t Theme) MRR(v float64) string {
	if v == 0 {
		return t.Dim("-")
	}
	return Money(v)
}

// CustomerColumns are the columns of the customer table: email, name,
// badges, statuses, MRR, last active. On a narrow terminal (Table.Width)
// the status, badge, name and email columns give way, in that order, so MRR
// and last active stay in view.
func CustomerColumns() []Column {
	return []Column{
		{Title: "EMAIL", Max: 40, Shrink: true, Min: 20},
		{Title: "NAME", Max: 24, Shrink: true},
		{Title: "PROJECTS", Shrink: true, Min: 12},
		{Title: "STATUS", Shrink: true, Min: 10},
		{Title: "MRR", Right: true},
		{Title: "LAST ACTIVE"},
	}
}

// CustomerRow renders one customer for the columns of [CustomerColumns].
// Text that came from users (email, name) is made safe for a terminal.
func (t Theme) CustomerRow(c client.Customer) []string {
	return []string{
		Sanitize(c.Email),
		Sanitize(c.Name),
		t.Badges(c.Projects),
		t.Statuses(c.Projects),
		t.MRR(c.MRRTotal),
		t.Since(c.LastSeen),
	}
}

// CustomerCells is [Theme.CustomerRow] as cells that shrink well: the
// badges give way to a "+N" count (see [Theme.BadgesFit]).
func (t Theme) CustomerCells(c client.Customer) []Cell {
	row := t.CustomerRow(c)
	cells := make([]Cell, len(row))
	for i, s := range row {
		cells[i] = Cell{Text: s}
	}
	ms := c.Projects
	cells[2].Fit = func(width int) string { return t.BadgesFit(ms, width) }
	cells[3].Fit = func(width int) string { return t.StatusesFit(ms, width) }
	return cells
}

// StatusesFit renders statuses as [Theme.Statuses] does, in at most width
// terminal cells: as many whole statuses as fit, then the number of the
// others ("paid·free +1"), as BadgesFit does for the badges; when not even
// the first one fits whole, it is cut with "…".
func (t Theme) StatusesFit(ms []client.Membership, width int) string {
	full := t.Statuses(ms)
	if len(ms) == 0 || lipgloss.Width(full) <= width {
		return full
	}
	for k := len(ms) - 1; k >= 1; k-- {
		if s := t.Statuses(ms[:k]) + " " + t.Dim("+"+Count(len(ms)-k)); lipgloss.Width(s) <= width {
			return s
		}
	}
	return ansi.Truncate(full, width, "…")
}

// BadgesFit renders badges as [Theme.Badges] does, in at most width
// terminal cells: as many whole badges as fit, then the number of the
// others (" Inkwell  Linkpage  +3", "[Inkwell] +4" without colour); when
// not even one whole badge fits, the first one's name is cut with "…".
func (t Theme) BadgesFit(ms []client.Membership, width int) string {
	full := t.Badges(ms)
	if len(ms) == 0 || lipgloss.Width(full) <= width {
		return full
	}
	more := func(n int) string { return t.Dim("+" + Count(n)) }
	for k := len(ms) - 1; k >= 1; k-- {
		if s := t.Badges(ms[:k]) + " " + more(len(ms)-k); lipgloss.Width(s) <= width {
			return s
		}
	}
	rest := ""
	if len(ms) > 1 {
		rest = " " + more(len(ms)-1)
	}
	// A badge is its name plus two cells (padding, or brackets).
	if room := width - lipgloss.Width(rest) - 2; room >= 2 {
		name := ansi.Truncate(Sanitize(ms[0].Name), room, "…")
		return t.Badge(name, ms[0].Color) + rest
	}
	if s := more(len(ms)); len(ms) > 1 && lipgloss.Width(s) <= width {
		return s
	}
	return ansi.Truncate(full, width, "…")
}
