package tui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
)

// line returns line i of the screen (negative counts from the end).
func line(h *harness, i int) string {
	lines := strings.Split(h.screen(), "\n")
	if i < 0 {
		i += len(lines)
	}
	return lines[i]
}

// TestSortIsNotAFilter: a sort alone shows as the sort, without the
// "x clears" hint, and x leaves it; with filters, x clears them and keeps
// the sort.
func TestSortIsNotAFilter(t *testing.T) {
	t.Parallel()
	src := sampleSource()
	sorted := filter.Filter{Sort: filter.Sort{Key: filter.SortMRR}}
	h := newHarness(t, src, sorted, Options{}, 80, 24)
	if l := line(h, 1); strings.Contains(l, "x clears") || !strings.Contains(l, "sort: MRR, biggest first") {
		t.Fatalf("filter line with only a sort: %q", l)
	}
	_, calls := src.lastCall()
	h.press("x")
	if _, c := src.lastCall(); c != calls || h.m.f.Sort != sorted.Sort {
		t.Fatalf("x with only a sort refetched (%d) or dropped the sort (%+v)", c-calls, h.m.f.Sort)
	}
	h.press("m")
	if l := line(h, 1); !strings.Contains(l, "2+ projects  (x clears)") || !strings.Contains(l, "sort: MRR") {
		t.Fatalf("filter line with a filter and a sort: %q", l)
	}
	h.press("x")
	if f, _ := src.lastCall(); f.MinProjects != 0 || f.Sort != sorted.Sort {
		t.Fatalf("x sent %+v", f)
	}
}

// TestNothingCutBare: every line that does not fit is cut with "…" or
// leaves out whole parts; nothing wraps inside a word.
func TestNothingCutBare(t *testing.T) {
	t.Parallel()
	// The header at 40 columns leaves out the last counts, whole.
	h := newHarness(t, sampleSource(), filter.Filter{}, Options{}, 40, 10)
	if got := line(h, 0); got != "TinyCRM  30 customers · 3 projects" {
		t.Errorf("header at 40: %q", got)
	}
	// The filter hints and the key help at 60 leave out whole hints.
	h.send(tea.WindowSizeMsg{Width: 60, Height: 15})
	if got := line(h, 1); got != "filter: none · / search · p projects · m 2+ · s status" {
		t.Errorf("filter line at 60: %q", got)
	}
	if got := line(h, -1); !strings.HasSuffix(got, "? help • q quit") || ansi.StringWidth(got) > 60 {
		t.Errorf("help at 60: %q", got)
	}
	// A long email and name in the detail header are cut with "…".
	src := sampleSource()
	long := strings.Repeat("very.long.address.", 4) + "x@example.com"
	src.rows[0].Email, src.rows[0].Name = long, "Alexandra Konstantinopoulou-Wetherby"
	d := src.details[1]
	d.Customer = src.rows[0]
	src.details[1] = d
	h = newHarness(t, src, filter.Filter{}, Options{}, 80, 24)
	h.press("enter")
	if got := line(h, 1); !strings.HasSuffix(got, "…") || ansi.StringWidth(got) != 80 || !strings.HasPrefix(got, long[:60]) {
		t.Errorf("detail header: %q", got)
	}
	h.send(tea.WindowSizeMsg{Width: 100, Height: 24})
	if got := line(h, 1); !strings.HasPrefix(got, long+"  Alex") || !strings.HasSuffix(got, "…") {
		t.Errorf("detail header at 100: the name should be cut, not the email: %q", got)
	}
	// A where error wraps between words.
	h = newHarness(t, sampleSource(), filter.Filter{}, Options{}, 80, 24)
	h.press("w")
	h.typeText("plan ==pro")
	h.press("enter")
	msg := h.m.prompt.err.Error()
	lines := strings.Split(h.screen(), "\n")
	got := strings.TrimSpace(lines[len(lines)-3]) + " " + strings.TrimSpace(lines[len(lines)-2])
	if !strings.Contains(msg, strings.TrimPrefix(got, "position 7: ")) {
		t.Errorf("the where error wrapped inside a word:\n%s\n%s", lines[len(lines)-3], lines[len(lines)-2])
	}
	// A note too long for the status line ends in "…".
	h.press("esc")
	h.m.setNote("export failed: "+strings.Repeat("x", 100), true)
	if got := line(h, -2); !strings.HasSuffix(got, "…") {
		t.Errorf("note: %q", got)
	}
}

func TestWrapKeepsWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s     string
		width int
		n     int
		want  string
	}{
		{"aaa bbb ccc", 7, 3, "aaa bbb\nccc"},
		{"aaa bbbbbbbbbb ccc", 7, 3, "aaa\nbbbbbb…\nccc"},
		{"aaa bbb ccc ddd", 7, 1, "aaa bb…"},
	} {
		if got := wrapMax(tc.s, tc.width, tc.n); got != tc.want {
			t.Errorf("wrapMax(%q, %d, %d) = %q, want %q", tc.s, tc.width, tc.n, got, tc.want)
		}
	}
	if got := fitPath("/home/owner/exports/2026/tinycrm.csv", 20); got != "…/2026/tinycrm.csv" {
		t.Errorf("fitPath: %q", got)
	}
}

// TestPositionTotal: the status line says "row N of TOTAL" with the
// header's count before the last page is fetched, also from the end.
func TestPositionTotal(t *testing.T) {
	t.Parallel()
	src := &fakeSource{n: 1000, projects: testProjects}
	h := newHarness(t, src, filter.Filter{}, Options{}, 80, 24)
	for range 18 {
		h.press("j")
	}
	if got := line(h, -2); got != "row 19 of 1,000" {
		t.Fatalf("status line %q", got)
	}
	h.press("G", "k")
	if got := line(h, -2); got != "row 999 of 1,000" {
		t.Fatalf("after G k: %q", got)
	}
	// A sort is no filter: the count still holds.
	h = newHarness(t, src, filter.Filter{Sort: filter.Sort{Key: filter.SortEmail}}, Options{}, 80, 24)
	if got := line(h, -2); got != "row 1 of 1,000" {
		t.Fatalf("sorted: %q", got)
	}
	// A filter whose total is not known yet says no total.
	h = newHarness(t, src, filter.Filter{Search: "user"}, Options{}, 80, 24)
	if got := line(h, -2); got != "row 1" {
		t.Fatalf("searching: %q", got)
	}
	// 2+ projects is counted in the header too.
	h = newHarness(t, sampleSource(), filter.Filter{MinProjects: 2}, Options{PageSize: 2}, 80, 24)
	if got := line(h, -2); got != "row 1 of 5" {
		t.Fatalf("2+ projects: %q", got)
	}
}

// TestHelpKeepsHelpAndQuit: at every width the list's key help ends with
// "? help • q quit", leaving out less important hints first.
func TestHelpKeepsHelpAndQuit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleSource(), filter.Filter{}, Options{}, 80, 24)
	for _, w := range []int{40, 60, 80, 100, 140} {
		h.send(tea.WindowSizeMsg{Width: w, Height: 24})
		got := line(h, -1)
		if !strings.HasSuffix(got, "? help • q quit") || ansi.StringWidth(got) > w || strings.Contains(got, "…") {
			t.Errorf("width %d: %q", w, got)
		}
		if w >= 60 && !strings.HasPrefix(got, "/ search") {
			t.Errorf("width %d: the search hint left before others: %q", w, got)
		}
	}
	h.send(tea.WindowSizeMsg{Width: 140, Height: 24})
	for _, k := range []string{"e export", "r refresh", "o sort"} {
		if !strings.Contains(line(h, -1), k) {
			t.Errorf("at 140 columns the help lacks %q", k)
		}
	}
}

// TestDetailGone: a customer deleted while its detail is open reads as
// gone, not as a server error; esc goes back and reloads the list.
func TestDetailGone(t *testing.T) {
	t.Parallel()
	src := sampleSource()
	h := newHarness(t, src, filter.Filter{}, Options{}, 80, 24)
	h.press("enter")
	src.mu.Lock()
	src.rows = src.rows[1:]
	delete(src.details, 1)
	src.mu.Unlock()
	h.press("r")
	s := h.screen()
	if !strings.Contains(s, "This customer no longer exists.") || strings.Contains(s, "404") || strings.Contains(s, "Cannot load") {
		t.Fatalf("a deleted customer:\n%s", s)
	}
	h.press("esc")
	if h.m.mode != modeList || strings.Contains(h.screen(), "alice@") {
		t.Fatalf("esc did not go back to a reloaded list:\n%s", h.screen())
	}
}

// TestDetailCosmetics: the timeline's events line up whatever the badge
// widths; no MRR reads "-" as in the list; long numbers in params keep
// every digit.
func TestDetailCosmetics(t *testing.T) {
	t.Parallel()
	src := sampleSource()
	bob := src.rows[1]
	bob.MRRTotal = 0
	bob.Projects[0].Name = "A Much Longer Name"
	bob.Projects[0].Params = map[string]any{"account": json.Number("12345678901234567890"), "mrr": json.Number("9.5")}
	src.rows[1] = bob
	src.details[bob.ID] = client.CustomerDetail{Customer: bob, Timeline: []client.Event{
		{At: testNow.Add(-time.Hour), Project: bob.Projects[0].Slug, Kind: "params", Before: []byte(`null`), After: []byte(`{"account":12345678901234567890}`)},
		{At: testNow.Add(-2 * time.Hour), Project: bob.Projects[1].Slug, Kind: "joined"},
		{At: testNow.Add(-3 * time.Hour), Project: "gone-project", Kind: "joined"},
	}}
	h := newHarness(t, src, filter.Filter{}, Options{NoColor: true}, 120, 40)
	h.press("j", "enter")
	s := h.screen()
	if !strings.Contains(s, "MRR - ·") {
		t.Errorf("no MRR should read \"-\":\n%s", s)
	}
	if !strings.Contains(s, "account=12345678901234567890") || !strings.Contains(s, "mrr=9.5") {
		t.Errorf("params lost digits:\n%s", s)
	}
	var cols []int
	for _, l := range strings.Split(s, "\n") {
		for _, ev := range []string{"params account: – → 12345678901234567890", "joined"} {
			if i := strings.Index(l, ev); i >= 0 && strings.HasPrefix(l, "  ") {
				cols = append(cols, ansi.StringWidth(l[:i]))
			}
		}
	}
	if len(cols) != 3 || cols[0] != cols[1] || cols[1] != cols[2] {
		t.Errorf("events start at columns %v, want three equal:\n%s", cols, s)
	}
}
