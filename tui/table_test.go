package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
)

// demoProjects are the demo's three projects and a fourth.
var demoProjects = []client.Project{
	{Slug: "inkwell", Name: "Inkwell", Color: "#E69F00"},
	{Slug: "linkpage", Name: "Linkpage", Color: "#56B4E9"},
	{Slug: "metricly", Name: "Metricly", Color: "#009E73"},
	{Slug: "zeitgeist", Name: "Zeitgeist", Color: "#CC79A7"},
}

// unevenSource is 300 customers whose widths change page by page: short
// emails without names, then long ones with long names, 1 to 4 projects,
// seen from just now to months ago.
func unevenSource() *fakeSource {
	src := &fakeSource{projects: demoProjects[:3], details: map[int64]client.CustomerDetail{}}
	for i := range 300 {
		c := client.Customer{ID: int64(i + 1), Email: fmt.Sprintf("u%d@x.io", i), LastSeen: testNow.Add(-time.Duration(i*i) * time.Minute)}
		if i/25%2 == 1 {
			c.Email = fmt.Sprintf("someone.with.a.long.address%d@example.com", i)
			c.Name = fmt.Sprintf("Maximilian Longname-Smythe %d", i)
			c.MRRTotal = float64(i * 100)
		}
		for j := range 1 + i%4 {
			p := demoProjects[j]
			c.Projects = append(c.Projects, client.Membership{Slug: p.Slug, Name: p.Name, Color: p.Color, Status: []string{"paid", "trialing", "churned", "free"}[j]})
		}
		c.ProjectCount = len(c.Projects)
		src.rows = append(src.rows, c)
	}
	return src
}

// TestLayoutStableWhileScrolling: paging through rows of very different
// widths never moves a column, changes a title or the time format.
func TestLayoutStableWhileScrolling(t *testing.T) {
	t.Parallel()
	for _, size := range [][2]int{{80, 24}, {120, 40}, {60, 15}} {
		h := newHarness(t, unevenSource(), filter.Filter{}, Options{NoColor: true}, size[0], size[1])
		titles := func() string { return strings.Split(h.screen(), "\n")[2] }
		first := titles()
		if size[0] >= nameFrom && !strings.Contains(first, "NAME") {
			t.Fatalf("%dx%d: no NAME column: %q", size[0], size[1], first)
		}
		compact := layout(size[0], allBadges(demoProjects[:3]))[colLast] < fullTimeWidth
		for i := range 40 {
			key := "pgdown"
			if i == 20 {
				key = "g"
			}
			h.press(key)
			if got := titles(); got != first {
				t.Fatalf("%dx%d: after %d keys the titles changed:\n%q\n%q", size[0], size[1], i+1, first, got)
			}
			for _, l := range strings.Split(h.screen(), "\n")[3 : size[1]-2] {
				full := strings.Contains(l, " ago") || strings.Contains(l, "just now")
				if full == compact {
					t.Fatalf("%dx%d: the time format changed (compact %v) on %q", size[0], size[1], compact, l)
				}
			}
		}
	}
}

// TestLayoutWidths: the columns fill the width sensibly at every size.
func TestLayoutWidths(t *testing.T) {
	t.Parallel()
	demo := allBadges(demoProjects[:3]) // 31
	for width := 20; width <= 250; width++ {
		w := layout(width, demo)
		used := -1
		for c := range numCols {
			if w[c] > 0 {
				used += 1 + w[c]
			}
		}
		if used > width-2 || w[colEmail] == 0 {
			t.Fatalf("width %d: %v takes %d cells", width, w, used)
		}
		if (w[colName] > 0) != (width >= nameFrom) {
			t.Fatalf("width %d: name width %d", width, w[colName])
		}
		if w[colBadges] > demo {
			t.Fatalf("width %d: projects %d wide, more than every badge (%d)", width, w[colBadges], demo)
		}
	}
	w := layout(120, demo)
	if w[colBadges] != demo || w[colEmail] < 32 || w[colStatus] < 12 {
		t.Fatalf("120 columns: %v; want every badge, and the rest to email, name and statuses", w)
	}
	if w := layout(80, demo); w[colName] < 12 || w[colEmail] < 20 || w[colBadges] < 21 {
		t.Fatalf("80 columns: %v", w)
	}
}

// TestBadgesWhole: badges show whole as far as they fit, then "+N"; only
// a lone first badge that cannot fit whole is cut.
func TestBadgesWhole(t *testing.T) {
	t.Parallel()
	st := newStyles(true, true)
	var ms []client.Membership
	for _, p := range demoProjects {
		ms = append(ms, client.Membership{Name: p.Name, Color: p.Color})
	}
	for _, tc := range []struct {
		width int
		want  string
	}{
		{40, "[Inkwell] [Linkpage] [Metricly] +1"},
		{34, "[Inkwell] [Linkpage] [Metricly] +1"},
		{33, "[Inkwell] [Linkpage] +2"},
		{23, "[Inkwell] [Linkpage] +2"},
		{22, "[Inkwell] +3"},
		{12, "[Inkwell] +3"},
		{10, "[Inkw…] +3"},
		{6, "+4"},
		{45, "[Inkwell] [Linkpage] [Metricly] [Zeitgeist]"},
	} {
		got := badges(st, ms, tc.width)
		if got != tc.want || ansi.StringWidth(got) > tc.width {
			t.Errorf("width %d: %q, want %q", tc.width, got, tc.want)
		}
	}
	if got := badges(st, ms[:1], 8); got != "[Inkwe…]" {
		t.Errorf("one badge in 8: %q", got)
	}
}

// TestStatusesWhole: statuses, like badges, are shown whole as far as
// they fit and the rest counted, instead of cut in the middle of a word.
func TestStatusesWhole(t *testing.T) {
	t.Parallel()
	st := newStyles(true, true)
	ms := []client.Membership{{Status: "paid"}, {Status: "free"}, {Status: "trialing"}}
	for _, tc := range []struct {
		width int
		want  string
	}{
		{20, "paid·free·trialing"},
		{17, "paid·free +1"},
		{12, "paid·free +1"},
		{11, "paid +2"},
		{7, "paid +2"},
		{6, "paid·free·trialing"}, // left to pad, which cuts it with …
	} {
		if got := statuses(st, ms, tc.width); got != tc.want {
			t.Errorf("width %d: %q, want %q", tc.width, got, tc.want)
		}
	}
}

// TestSelectionContinuous: the selected row's highlight does not stop
// at a badge or a status: every reset inside the row turns it on again.
func TestSelectionContinuous(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleSource(), filter.Filter{}, Options{}, 120, 40)
	on := h.m.sh.styles.selOn
	if on == "" {
		t.Fatal("no selection sequence")
	}
	row := strings.Split(h.m.View().Content, "\n")[3]
	_, row, ok := strings.Cut(row, "▌")
	if !ok {
		t.Fatalf("no cursor mark: %q", row)
	}
	_, row, _ = strings.Cut(row, "\x1b[m") // the mark's own colour
	if !strings.HasPrefix(row, on) || !strings.HasSuffix(row, "\x1b[m") {
		t.Fatalf("the row does not start on the selection: %q", row)
	}
	row = strings.TrimSuffix(row, "\x1b[m")
	parts := strings.Split(row, "\x1b[m")
	if len(parts) < 4 {
		t.Fatalf("expected badges and statuses in the row: %q", row)
	}
	for _, p := range parts[1:] {
		if !strings.HasPrefix(p, on) {
			t.Fatalf("the selection is off after a reset, before %q", p)
		}
	}
}

// TestFitMoney: an amount is never cut, only rounded to fit.
func TestFitMoney(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v     float64
		width int
		want  string
	}{
		{9.5, 6, "$9.50"},
		{1234.5, 6, "$1,235"},
		{12345, 6, "$12k"},
		{1500, 5, "$1.5k"},
		{123456, 6, "$123k"},
		{2_500_000, 6, "$2.5M"},
		{12345.67, 9, "$12,346"},
	} {
		if got := fitMoney(tc.v, tc.width); got != tc.want {
			t.Errorf("fitMoney(%v, %d) = %q, want %q", tc.v, tc.width, got, tc.want)
		}
	}
}
