package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/internal/render"
)

// The customer table: column layout and row rendering. It draws whatever
// rows the list gives it; it never fetches.

// Column indexes, in display order.
const (
	colEmail = iota
	colName
	colBadges
	colStatus
	colMRR
	colLast
	numCols
)

// colTitles are each column's titles, longest first: the longest that
// fits is shown.
var colTitles = [numCols][]string{
	{"EMAIL"}, {"NAME"}, {"PROJECTS"}, {"STATUS"}, {"MRR"}, {"LAST ACTIVE", "ACTIVE", "SEEN"},
}

// fullTimeWidth is the width of the last-active column that fits "12mo
// ago"; narrower, times are compact ("3d").
const fullTimeWidth = 8

// needs is the width each column's content wants, measured on the rows on
// screen, so the layout follows the data.
type needs struct {
	email, name, badges, status, mrr int
}

func measure(rows []client.Customer) needs {
	n := needs{email: 5, name: 4, badges: 7, status: 6, mrr: 3}
	for _, c := range rows {
		n.email = max(n.email, ansi.StringWidth(c.Email))
		n.name = max(n.name, ansi.StringWidth(c.Name))
		n.mrr = max(n.mrr, ansi.StringWidth(render.Money(c.MRRTotal)))
		b, s := 0, 0
		for i, m := range c.Projects {
			if i > 0 {
				b, s = b+1, s+1 // the gap between badges, the "·" between statuses
			}
			b += badgeWidth(m.Name)
			s += max(len(m.Status), 1)
		}
		n.badges, n.status = max(n.badges, b), max(n.status, s)
	}
	return n
}

// layout gives each column a width for a terminal width, following what
// the rows on screen need. Email and badges come first (who, and where):
// with MRR, the last-active time and the statuses they get a least useful
// width, then grow until readable; the name is shown only if it then fits
// readably; last, everything grows towards what it needs. A column that
// does not fit even its least width is hidden (width 0).
func layout(width int, n needs) [numCols]int {
	avail := width - 2 // the cursor mark and a space
	var w [numCols]int
	used := -1 // no gap before the first column
	add := func(c, size int) {
		if used+1+size <= avail {
			w[c] = size
			used += 1 + size
		}
	}
	grow := func(c, to int) {
		if w[c] == 0 || w[c] >= to {
			return
		}
		more := min(to-w[c], avail-used)
		w[c] += more
		used += more
	}
	add(colEmail, min(n.email, 16))
	add(colBadges, min(n.badges, 12))
	add(colMRR, n.mrr) // money is never cut
	add(colLast, 4)
	add(colStatus, min(n.status, 9))

	grow(colEmail, min(n.email, 20))
	grow(colBadges, min(n.badges, 26))
	grow(colStatus, min(n.status, 12))

	add(colName, min(n.name, 8))

	grow(colName, min(n.name, 14))
	grow(colLast, fullTimeWidth)
	grow(colBadges, n.badges)
	grow(colStatus, n.status)
	grow(colEmail, min(n.email, 32))
	grow(colName, min(n.name, 24))
	grow(colLast, len("LAST ACTIVE"))
	grow(colEmail, min(n.email, 48))
	grow(colName, min(n.name, 40))
	return w
}

// tableHeader renders the column titles.
func tableHeader(st Styles, w [numCols]int) string {
	cells := make([]string, 0, numCols)
	for c := range numCols {
		if w[c] == 0 {
			continue
		}
		title := colTitles[c][len(colTitles[c])-1]
		for _, t := range colTitles[c] {
			if len(t) <= w[c] {
				title = t
				break
			}
		}
		cells = append(cells, pad(title, w[c], c == colMRR))
	}
	return st.TableHeader.Render("  " + strings.Join(cells, " "))
}

// tableRow renders one customer. The selected row is marked and its text
// cells highlighted; badges and statuses keep their own colours.
func tableRow(sh *shared, c client.Customer, w [numCols]int, selected bool) string {
	st := sh.styles
	hl := func(s string) string {
		if selected {
			return st.Selected.Render(s)
		}
		return s
	}
	var b strings.Builder
	if selected {
		b.WriteString(st.Accent.Render("▌") + hl(" "))
	} else {
		b.WriteString("  ")
	}
	first := true
	for col := range numCols {
		if w[col] == 0 {
			continue
		}
		if !first {
			b.WriteString(hl(" "))
		}
		first = false
		switch col {
		case colEmail:
			b.WriteString(hl(pad(render.Sanitize(c.Email), w[col], false)))
		case colName:
			b.WriteString(hl(pad(render.Sanitize(c.Name), w[col], false)))
		case colBadges:
			b.WriteString(pad(badges(st, c.Projects, w[col]), w[col], false))
		case colStatus:
			b.WriteString(pad(st.Statuses(c.Projects), w[col], false))
		case colMRR:
			b.WriteString(hl(pad(st.MRR(c.MRRTotal), w[col], true)))
		case colLast:
			t := render.RelTime(sh.now(), c.LastSeen)
			if w[col] < fullTimeWidth {
				t = compactTime(t)
			}
			b.WriteString(hl(pad(t, w[col], false)))
		}
	}
	return b.String()
}

// badges fits a customer's project badges into width cells: full names
// when they fit, else names cut to the same length, else as many as fit
// and "+N" for the rest.
func badges(st Styles, ms []client.Membership, width int) string {
	if len(ms) == 0 {
		return st.Faint.Render("–")
	}
	try := func(cut int) (string, bool) {
		var parts []string
		used := 0
		for i, m := range ms {
			name := m.Name
			if cut > 0 && ansi.StringWidth(name) > cut {
				name = ansi.Truncate(name, cut, "…")
			}
			bw := badgeWidth(name)
			gap := 0
			if i > 0 {
				gap = 1
			}
			rest := len(ms) - i - 1
			more := 0
			if rest > 0 {
				more = len(" +") + len(render.Count(rest))
			}
			if used+gap+bw+more > width {
				if used == 0 {
					return "", false
				}
				parts = append(parts, st.Muted.Render("+"+render.Count(len(ms)-i)))
				return strings.Join(parts, " "), false
			}
			parts = append(parts, st.Badge(name, m.Color, 0))
			used += gap + bw
		}
		return strings.Join(parts, " "), true
	}
	if s, ok := try(0); ok {
		return s
	}
	for cut := 8; cut >= 2; cut-- {
		if s, ok := try(cut); ok {
			return s
		}
	}
	if s, _ := try(2); s != "" {
		return s
	}
	return st.Muted.Render("+" + render.Count(len(ms)))
}
