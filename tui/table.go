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

// nameFrom is the narrowest terminal that shows the NAME column.
const nameFrom = 70

// defaultBadges is the badge width assumed before the projects are known.
const defaultBadges = 30

// maxBadges is the widest the projects column gets.
const maxBadges = 40

// allBadges is the cells the workspace's badges take side by side: the
// widest the projects column is useful. It changes only when a project is
// created, renamed or deleted, never when the list scrolls.
func allBadges(ps []client.Project) int {
	if len(ps) == 0 {
		return defaultBadges
	}
	n := -1
	for _, p := range ps {
		n += 1 + badgeWidth(render.Sanitize(p.Name))
	}
	return n
}

// layout gives each column a width for a terminal width. It depends only
// on the width and on badgesW (see allBadges), never on the rows on
// screen, so columns, titles and the time format stay put while the list
// scrolls. Every column starts at a least readable width; when they do not
// all fit, the name goes first (it is shown from nameFrom columns), then
// the statuses, the time, the MRR and the badges: the email always stays.
// What is left grows the columns in turns, email and name getting the
// most.
func layout(width, badgesW int) [numCols]int {
	avail := width - 2 // the cursor mark and a space
	proj := min(max(badgesW, 1), maxBadges)
	least := [numCols]int{
		colEmail: 16, colName: 10, colBadges: max(min(proj, 10), len("PROJECTS")),
		colStatus: 8, colMRR: 6, colLast: 4,
	}
	shown := [numCols]bool{true, width >= nameFrom, true, true, true, true}
	need := func() int {
		n := -1
		for c := range numCols {
			if shown[c] {
				n += 1 + least[c]
			}
		}
		return n
	}
	for _, c := range []int{colName, colStatus, colLast, colMRR, colBadges} {
		if need() <= avail {
			break
		}
		shown[c] = false
	}
	var w [numCols]int
	for c := range numCols {
		if shown[c] {
			w[c] = least[c]
		}
	}
	w[colEmail] = min(w[colEmail], max(avail, 1))
	left := avail - need()
	grow := func(c, to int) {
		if w[c] == 0 || w[c] >= to || left <= 0 {
			return
		}
		more := min(to-w[c], left)
		w[c] += more
		left -= more
	}
	for _, s := range [...]struct{ c, to int }{
		{colBadges, min(proj, 12)}, {colEmail, 20}, {colName, 12}, {colLast, 6},
		{colBadges, min(proj, 22)}, {colEmail, 26}, {colName, 16}, {colStatus, 12}, {colLast, fullTimeWidth},
		{colBadges, proj}, {colEmail, 32}, {colName, 20}, {colStatus, 18}, {colLast, len("LAST ACTIVE")},
		{colMRR, 9}, {colEmail, 40}, {colName, 30}, {colEmail, 48}, {colName, 40},
	} {
		grow(s.c, s.to)
	}
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

// tableRow renders one customer. The selected row is marked and
// highlighted from the mark to its last column, gaps included; badges and
// statuses keep their own colours on the highlight.
func tableRow(sh *shared, c client.Customer, w [numCols]int, selected bool) string {
	st := sh.styles
	cells := make([]string, 0, numCols)
	for col := range numCols {
		if w[col] == 0 {
			continue
		}
		var cell string
		switch col {
		case colEmail:
			cell = pad(render.Sanitize(c.Email), w[col], false)
		case colName:
			cell = pad(render.Sanitize(c.Name), w[col], false)
		case colBadges:
			cell = pad(badges(st, c.Projects, w[col]), w[col], false)
		case colStatus:
			cell = pad(statuses(st, c.Projects, w[col]), w[col], false)
		case colMRR:
			cell = pad(mrrCell(st, c.MRRTotal, w[col]), w[col], true)
		case colLast:
			t := render.RelTime(sh.now(), c.LastSeen)
			if w[col] < fullTimeWidth {
				t = compactTime(t)
			}
			cell = pad(t, w[col], false)
		}
		cells = append(cells, cell)
	}
	row := strings.Join(cells, " ")
	if !selected {
		return "  " + row
	}
	return st.Accent.Render("▌") + st.highlight(" "+row)
}

// mrrCell renders a total MRR that fits width cells: never cut, but
// rounded to dollars, then to thousands or millions, when it is too wide.
func mrrCell(st Styles, v float64, width int) string {
	if v == 0 {
		return st.MRR(0)
	}
	return fitMoney(v, width)
}

// badges fits a customer's project badges into width cells: whole badges
// as far as they fit, then "+N" for the rest. Only a first badge that does
// not fit whole is cut, and only when enough of it shows to be read.
func badges(st Styles, ms []client.Membership, width int) string {
	if len(ms) == 0 {
		return st.Faint.Render("–")
	}
	more := func(n int) int { return len(" +") + len(render.Count(n)) }
	parts := make([]string, 0, len(ms))
	used := 0
	for i, m := range ms {
		bw := badgeWidth(render.Sanitize(m.Name))
		gap := min(i, 1)
		reserve := 0
		if rest := len(ms) - i - 1; rest > 0 {
			reserve = more(rest)
		}
		if used+gap+bw+reserve <= width {
			parts = append(parts, st.Badge(m.Name, m.Color, 0))
			used += gap + bw
			continue
		}
		if i == 0 { // not even the first fits whole: cut it, if it stays readable
			room := width
			if len(ms) > 1 {
				room -= more(len(ms) - 1)
			}
			if room < minCutBadge {
				return st.Muted.Render("+" + render.Count(len(ms)))
			}
			parts = append(parts, st.Badge(m.Name, m.Color, room))
			i++
		}
		if i < len(ms) {
			parts = append(parts, st.Muted.Render("+"+render.Count(len(ms)-i)))
		}
		break
	}
	return strings.Join(parts, " ")
}

// statuses renders the statuses in badge order in at most width cells,
// as badges does the badges: whole statuses as far as they fit, then "+N"
// for the others ("paid·free +1"). When not even the first fits with the
// count, the whole is left to pad, which cuts it with "…".
func statuses(st Styles, ms []client.Membership, width int) string {
	full := st.Statuses(ms)
	if ansi.StringWidth(full) <= width {
		return full
	}
	for k := len(ms) - 1; k >= 1; k-- {
		if s := st.Statuses(ms[:k]) + " " + st.Muted.Render("+"+render.Count(len(ms)-k)); ansi.StringWidth(s) <= width {
			return s
		}
	}
	return full
}

// minCutBadge is the narrowest cut badge: the padding and three cells of
// the name ("Li…").
const minCutBadge = 5
