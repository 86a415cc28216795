package render

import (
	"strings"

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

// CustomerColumns are the columns of the customer table, shared by the CLI
// and the TUI: email, name, badges, statuses, MRR, last active.
func CustomerColumns() []Column {
	return []Column{
		{Title: "EMAIL", Max: 40, Shrink: true, Min: 24},
		{Title: "NAME", Max: 24, Shrink: true},
		{Title: "PROJECTS"},
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
