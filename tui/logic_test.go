package tui

import (
	"errors"
	"image/color"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
)

// bound is the most rows the model may hold with the default options.
const bound = DefaultMaxPages * DefaultPageSize

// boundedHarness fails the test as soon as the model holds too many rows.
func boundedHarness(t *testing.T, src *fakeSource, f filter.Filter) *harness {
	h := newHarness(t, src, f, Options{}, 80, 24)
	h.check = func(m *model) {
		if n := m.list.pg.held(); n > bound {
			t.Fatalf("the model holds %d rows, more than %d", n, bound)
		}
	}
	return h
}

// TestPagingBounded walks 10,000 customers to the end and back: every row
// under the cursor is the right one, and the window never holds more than
// MaxPages pages.
func TestPagingBounded(t *testing.T) {
	t.Parallel()
	const n = 10_000
	h := boundedHarness(t, &fakeSource{n: n, projects: testProjects}, filter.Filter{})
	want := int64(1)
	for i := range n - 1 {
		if i%1000 == 999 {
			h.press("pgdown") // mix in pages
			want += int64(h.m.tableHeight() - 1)
			want = min(want, n)
		} else if want < n {
			h.press("j")
			want++
		}
		if got := h.current(); got != want {
			t.Fatalf("after %d keys the cursor is on customer %d, want %d", i+1, got, want)
		}
		if want == n {
			break
		}
	}
	if got, ok := h.m.list.pg.total(); !ok || got != n {
		t.Fatalf("total = %d, %v at the end; want %d", got, ok, n)
	}
	h.press("j") // past the end: stays
	if got := h.current(); got != n {
		t.Fatalf("past the end the cursor is on %d", got)
	}
	for want > 1 {
		h.press("k")
		want--
		if got := h.current(); got != want {
			t.Fatalf("walking back, the cursor is on %d, want %d", got, want)
		}
	}
	if h.m.list.pg.lo != 0 {
		t.Fatalf("back at the top, the window starts at page %d", h.m.list.pg.lo)
	}
}

// TestBottomAndTop: G fetches the first page of the reversed order and
// shows it upside down, without walking the pages in between; g goes back.
func TestBottomAndTop(t *testing.T) {
	t.Parallel()
	const n = 1_000_000
	src := &fakeSource{n: n, projects: testProjects}
	h := boundedHarness(t, src, filter.Filter{Sort: filter.Sort{Key: filter.SortMRR}})
	_, before := src.lastCall()
	h.press("G")
	f, after := src.lastCall()
	if after-before > 2 {
		t.Fatalf("G made %d requests, want at most 2 (a page and its neighbour)", after-before)
	}
	if want := (filter.Sort{Key: filter.SortMRR, Reverse: true}); f.Sort != want {
		t.Fatalf("G sent sort %+v, want the reverse %+v", f.Sort, want)
	}
	if got := h.current(); got != n {
		t.Fatalf("after G the cursor is on %d, want the last customer %d", got, n)
	}
	lines := strings.Split(h.screen(), "\n")
	if last := lines[len(lines)-3]; !strings.Contains(last, "user1000000@") { // above status and help
		t.Fatalf("the last customer is not on the last table line:\n%s", h.screen())
	}
	h.press("k", "k")
	if got := h.current(); got != n-2 {
		t.Fatalf("k k from the bottom: cursor on %d, want %d", got, n-2)
	}
	h.press("pgup", "pgup", "pgup", "pgup", "pgup", "pgup", "pgup", "pgup")
	if got := h.current(); got >= n-100 {
		t.Fatalf("pgup from the bottom did not page: cursor on %d", got)
	}
	h.press("g")
	if got := h.current(); got != 1 {
		t.Fatalf("after g the cursor is on %d, want 1", got)
	}
	if f, _ := src.lastCall(); f.Sort != (filter.Sort{Key: filter.SortMRR}) {
		t.Fatalf("g sent sort %+v, want the view's own order", f.Sort)
	}
	if h.m.list.back {
		t.Fatal("after g the list is still anchored at the end")
	}
}

// TestGWithinReach: in a short list, G and g just move the cursor.
func TestGWithinReach(t *testing.T) {
	t.Parallel()
	src := sampleSource()
	h := newHarness(t, src, filter.Filter{}, Options{}, 80, 24)
	_, calls := src.lastCall()
	h.press("G")
	if h.current() != 30 || h.m.list.back {
		t.Fatalf("G: cursor on %d, back %v", h.current(), h.m.list.back)
	}
	h.press("g")
	if _, c := src.lastCall(); c != calls || h.current() != 1 {
		t.Fatalf("G g in a loaded list fetched %d times, cursor on %d", c-calls, h.current())
	}
}

// TestStaleRepliesDropped: a reply for an older list (an earlier search)
// that arrives after the newer one changes nothing.
func TestStaleRepliesDropped(t *testing.T) {
	t.Parallel()
	src := sampleSource()
	h := newHarness(t, src, filter.Filter{}, Options{}, 80, 24)
	h.press("/")
	h.typeText("a")
	h.hold = true
	fire[searchMsg](h) // the search for "a": held
	old := h.held
	h.held = nil
	h.hold = false
	h.typeText("l")
	h.hold = true
	fire[searchMsg](h) // the search for "al": held too
	newer := h.held
	h.held = nil
	h.hold = false
	if len(old) != 1 || len(newer) != 1 {
		t.Fatalf("held %d and %d fetches, want one each", len(old), len(newer))
	}
	h.run(newer[0])
	want := h.screen()
	if !strings.Contains(want, "alice@") || strings.Contains(want, "carol@") {
		t.Fatalf("the newer search did not show:\n%s", want)
	}
	h.run(old[0]) // the older reply arrives last
	if got := h.screen(); got != want {
		t.Fatalf("a stale reply changed the screen:\n%s", got)
	}

	// A reply tagged with an older generation, sent by hand.
	gen := h.m.list.pg.gen
	h.send(pageMsg{gen: gen - 1, page: 0, res: client.CustomerPage{Customers: []client.Customer{{ID: 99, Email: "stale@example.com"}}}})
	if got := h.screen(); got != want || strings.Contains(got, "stale@") {
		t.Fatalf("a reply of generation %d was not dropped:\n%s", gen-1, got)
	}
	// And a search debounce of an older keystroke fires nothing.
	_, calls := src.lastCall()
	h.send(searchMsg{seq: h.m.searchSeq - 1})
	if _, c := src.lastCall(); c != calls {
		t.Fatal("a stale search timer fetched again")
	}
}

// TestFilterComposition: the pickers, toggles, where and search build the
// filter sent to the source, on top of the filter from the command line.
func TestFilterComposition(t *testing.T) {
	t.Parallel()
	src := sampleSource()
	cli := filter.Filter{NotProjects: []string{"app-c"}, ActiveWithin: 7 * 24 * time.Hour}
	h := newHarness(t, src, cli, Options{}, 80, 24)
	if f, _ := src.lastCall(); !reflect.DeepEqual(f, cli) {
		t.Fatalf("first fetch with %+v, want the command line's %+v", f, cli)
	}
	h.press("p", "space", "down", "space", "enter") // app-a and app-b
	h.press("m")
	h.press("s", "space", "enter") // paid
	h.press("w")
	h.typeText("mrr>=9")
	h.press("enter")
	h.press("o", "down", "down", "-", "enter") // email, reversed
	h.press("/")
	h.typeText("alice")
	fire[searchMsg](h)
	h.press("enter")

	e, err := filter.ParseWhere("mrr>=9")
	if err != nil {
		t.Fatal(err)
	}
	want := filter.Filter{
		Projects: []string{"app-a", "app-b"}, NotProjects: []string{"app-c"}, MinProjects: 2,
		Statuses: []string{"paid"}, Where: []filter.Expr{e}, Search: "alice",
		ActiveWithin: 7 * 24 * time.Hour, Sort: filter.Sort{Key: filter.SortEmail, Reverse: true},
	}
	got, _ := src.lastCall()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sent %+v\nwant %+v", got, want)
	}
	for _, d := range []string{filtersOnly(h.m.f).Describe() + "  (x clears)", "sort: email, Z to A"} {
		if !strings.Contains(strings.ReplaceAll(h.screen(), "\n", " "), d) {
			t.Fatalf("the filter line does not show %q:\n%s", d, h.screen())
		}
	}

	// m again drops 2+; x clears all but the sort.
	h.press("m")
	if got, _ := src.lastCall(); got.MinProjects != 0 {
		t.Fatalf("m did not toggle off: %+v", got)
	}
	h.press("x")
	if got, _ := src.lastCall(); !reflect.DeepEqual(got, filter.Filter{Sort: want.Sort}) {
		t.Fatalf("x sent %+v", got)
	}
}

// TestWhereInvalidNeverSent: a malformed expression stays in the input
// with its position, is never sent, and the error goes once it is fixed.
func TestWhereInvalidNeverSent(t *testing.T) {
	t.Parallel()
	src := sampleSource()
	h := newHarness(t, src, filter.Filter{}, Options{}, 80, 24)
	_, calls := src.lastCall()
	h.press("w")
	h.typeText("plan ==pro")
	h.press("enter")
	if _, c := src.lastCall(); c != calls {
		t.Fatal("an invalid where-expression was sent")
	}
	if h.m.mode != modeWhere || !strings.Contains(h.screen(), "position 7") {
		t.Fatalf("the error is not shown in the input:\n%s", h.screen())
	}
	h.press("left", "left", "left", "backspace")
	h.press("backspace")
	h.typeText("=")
	if h.m.prompt.err != nil {
		t.Fatalf("fixed, but still shows %v", h.m.prompt.err)
	}
	h.press("enter")
	if f, c := src.lastCall(); c != calls+1 || len(f.Where) != 1 || f.Where[0].String() != "plan=pro" {
		t.Fatalf("after the fix sent %+v (%d calls)", f.Where, c-calls)
	}
	h.press("w", "esc")
	if h.m.mode != modeList {
		t.Fatal("esc did not close the where input")
	}
}

// TestRefreshKeepsCursor: new customers arrive above; after the automatic
// refresh the cursor is still on the same customer.
func TestRefreshKeepsCursor(t *testing.T) {
	t.Parallel()
	src := sampleSource()
	h := newHarness(t, src, filter.Filter{}, Options{}, 80, 24)
	h.press("j", "j", "j", "j")
	id := h.current()
	src.mu.Lock()
	for i := range 3 {
		src.rows = append(src.rows, client.Customer{ID: int64(100 + i), Email: "new" + string(rune('a'+i)) + "@example.com", LastSeen: testNow, ProjectCount: 1})
	}
	src.mu.Unlock()
	fire[tickMsg](h)
	if got := h.current(); got != id {
		t.Fatalf("after the refresh the cursor is on %d, want %d", got, id)
	}
	if !strings.Contains(h.screen(), "33 customers") || !strings.Contains(h.screen(), "newa@") {
		t.Fatalf("the refresh did not show the new customers:\n%s", h.screen())
	}
	if len(h.timers) == 0 {
		t.Fatal("the refresh timer was not scheduled again")
	}
}

// TestSearchEsc: esc restores the search from before the prompt.
func TestSearchEsc(t *testing.T) {
	t.Parallel()
	src := sampleSource()
	h := newHarness(t, src, filter.Filter{Search: "bob"}, Options{}, 80, 24)
	h.press("/")
	h.typeText("x")
	fire[searchMsg](h)
	if f, _ := src.lastCall(); f.Search != "bobx" {
		t.Fatalf("searched %q", f.Search)
	}
	h.press("esc")
	if f, _ := src.lastCall(); f.Search != "bob" || h.m.f.Search != "bob" {
		t.Fatalf("esc left the search at %q", f.Search)
	}
}

// TestExport: e writes the current view to the default file and names it
// by its absolute path; "~/" is the home directory; an existing file is
// refused, and an error names the path once.
func TestExport(t *testing.T) {
	t.Parallel()
	dir, home := t.TempDir(), t.TempDir()
	src := sampleSource()
	h := newHarness(t, src, filter.Filter{MinProjects: 2}, Options{}, 120, 24)
	h.m.sh.getwd = func() (string, error) { return dir, nil }
	h.m.sh.home = func() (string, error) { return home, nil }
	h.press("e")
	path := filepath.Join(dir, "tinycrm-export-2026-11-25.csv")
	if got := h.m.prompt.value(); got != path {
		t.Fatalf("the prompt offers %q, want the absolute %q", got, path)
	}
	h.press("enter")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\n"); lines != 6 { // header and 5
		t.Fatalf("exported %d lines:\n%s", lines, b)
	}
	if !strings.Contains(h.screen(), "exported 5 customers to "+path) {
		t.Fatalf("no result with the absolute path shown:\n%s", h.screen())
	}
	// The view's order goes with the export: given no sort, the server
	// would export by id instead of by last_seen as on screen.
	src.mu.Lock()
	sent := src.exports[len(src.exports)-1]
	src.mu.Unlock()
	if want := (filter.Filter{MinProjects: 2, Sort: filter.Sort{Key: filter.SortLastSeen}}); !reflect.DeepEqual(sent, want) {
		t.Fatalf("exported with filter %+v, want the view's %+v", sent, want)
	}
	h.press("e", "enter") // the file exists now: refused, not overwritten
	if s := h.screen(); !strings.Contains(s, path+" already exists; pick another name") {
		t.Fatalf("overwrite not refused:\n%s", s)
	}

	// ~/ is the home directory; a relative path is under the working one.
	for typed, want := range map[string]string{
		"~/out.csv":    filepath.Join(home, "out.csv"),
		"sub/../x.csv": filepath.Join(dir, "x.csv"),
	} {
		h.press("e")
		for range len(h.m.prompt.value()) {
			h.press("backspace")
		}
		h.typeText(typed)
		h.press("enter")
		if _, err := os.Stat(want); err != nil {
			t.Fatalf("%q: %v", typed, err)
		}
		if !strings.Contains(h.screen(), "to "+want) {
			t.Fatalf("%q: the note does not name %s:\n%s", typed, want, h.screen())
		}
	}

	// A directory that is not there: the path once, then the reason.
	missing := filepath.Join(dir, "nope", "y.csv")
	h.press("e")
	for range len(h.m.prompt.value()) {
		h.press("backspace")
	}
	h.typeText(missing)
	h.press("enter")
	s := h.screen()
	if !strings.Contains(s, "export failed: "+missing+": no such file or directory") || strings.Count(s, "y.csv") != 1 {
		t.Fatalf("the error should name the path once:\n%s", s)
	}
}

// TestExportNoteFits: at 80 columns a long path is shortened from its
// start with "…", so the file name and the reason stay readable.
func TestExportNoteFits(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), strings.Repeat("long-directory-name/", 3))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, sampleSource(), filter.Filter{}, Options{}, 80, 24)
	h.m.sh.getwd = func() (string, error) { return dir, nil }
	h.press("e", "enter", "e", "enter")
	lines := strings.Split(h.screen(), "\n")
	status := lines[len(lines)-2]
	if !strings.HasPrefix(status, "export failed: …/") || !strings.HasSuffix(status, "tinycrm-export-2026-11-25.csv already exists; pick another name") {
		t.Fatalf("the status line is not shortened in the path: %q", status)
	}
}

// TestErrorRetry: an unreachable server is a message, r retries.
func TestErrorRetry(t *testing.T) {
	t.Parallel()
	src := sampleSource()
	src.err = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	h := newHarness(t, src, filter.Filter{}, Options{}, 80, 24)
	if s := h.screen(); !strings.Contains(s, "cannot reach") || !strings.Contains(s, "r to retry") {
		t.Fatalf("no error screen:\n%s", s)
	}
	src.mu.Lock()
	src.err = nil
	src.mu.Unlock()
	h.press("r")
	if s := h.screen(); !strings.Contains(s, "alice@example.com") || !strings.Contains(s, "30 customers") {
		t.Fatalf("retry did not load:\n%s", s)
	}
	// A failed refresh keeps the rows and says so in the status line.
	src.mu.Lock()
	src.err = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	src.mu.Unlock()
	h.press("r")
	if s := h.screen(); !strings.Contains(s, "alice@example.com") || !strings.Contains(s, "r to retry") {
		t.Fatalf("a failed refresh lost the rows or the message:\n%s", s)
	}
}

// TestResize: the frame follows the window size.
func TestResize(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleSource(), filter.Filter{}, Options{}, 80, 24)
	for _, size := range [][2]int{{100, 30}, {60, 15}, {200, 50}, {20, 8}} {
		h.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for _, keys := range [][]string{nil, {"enter"}, {"esc", "p"}, {"esc", "?"}, {"esc", "w"}, {"esc"}} {
			h.press(keys...)
			checkFrame(t, h.screen(), size[0], size[1])
		}
	}
	h.send(tea.WindowSizeMsg{Width: 5, Height: 2}) // absurd: drawn at the smallest size, no panic
	_ = h.screen()
}

// TestQuit: q and ctrl+c quit from the list, ctrl+c from a prompt.
func TestQuit(t *testing.T) {
	t.Parallel()
	for _, keys := range [][]string{{"q"}, {"ctrl+c"}, {"/", "ctrl+c"}, {"enter", "q"}} {
		h := newHarness(t, sampleSource(), filter.Filter{}, Options{}, 80, 24)
		h.press(keys...)
		if !h.quit {
			t.Errorf("%v did not quit", keys)
		}
	}
	h := newHarness(t, sampleSource(), filter.Filter{}, Options{}, 80, 24)
	h.press("/", "q")
	if h.quit || h.m.prompt.value() != "q" {
		t.Error("q in the search input quit instead of typing")
	}
}

// TestPasteSearch: pasted text searches like typed text.
func TestPasteSearch(t *testing.T) {
	t.Parallel()
	src := sampleSource()
	h := newHarness(t, src, filter.Filter{}, Options{}, 80, 24)
	h.press("/")
	h.send(tea.PasteMsg{Content: "alice"})
	fire[searchMsg](h)
	if f, _ := src.lastCall(); f.Search != "alice" {
		t.Fatalf("searched %q after a paste", f.Search)
	}
}

// TestHostileText: names, emails, params and project names from apps
// cannot put escape codes on the terminal.
func TestHostileText(t *testing.T) {
	t.Parallel()
	src := sampleSource()
	evil := "\x1b]0;pwned\x07\x1b[2J"
	src.rows[0].Name = "Eve" + evil
	src.rows[0].Email = "eve" + evil + "@example.com"
	src.rows[0].Projects[0].Name = "App" + evil
	src.rows[0].Projects[0].Params = map[string]any{"note": "x" + evil}
	d := src.details[1]
	d.Customer = src.rows[0]
	d.Timeline = append(d.Timeline, client.Event{At: testNow, Project: "app-a", Kind: "name", After: []byte(`"Eve\u001b[2J"`)})
	src.details[1] = d
	h := newHarness(t, src, filter.Filter{}, Options{NoColor: true}, 100, 30)
	for _, keys := range [][]string{nil, {"enter"}} {
		h.press(keys...)
		if out := h.m.View().Content; strings.Contains(out, "\x1b]") || strings.Contains(out, "\x1b[2J") || strings.Contains(out, "\a") {
			t.Fatalf("escape codes from data reached the screen after %v: %q", keys, out)
		}
	}
}

// TestFailedFilterChange: when the new filter's first page fails, the
// error shows and r retries it.
func TestFailedFilterChange(t *testing.T) {
	t.Parallel()
	src := sampleSource()
	h := newHarness(t, src, filter.Filter{}, Options{}, 80, 24)
	src.mu.Lock()
	src.err = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	src.mu.Unlock()
	h.press("m")
	if s := h.screen(); !strings.Contains(s, "cannot reach") {
		t.Fatalf("the failure is not shown:\n%s", s)
	}
	src.mu.Lock()
	src.err = nil
	src.mu.Unlock()
	h.press("r")
	if f, _ := src.lastCall(); f.MinProjects != 2 || !strings.Contains(h.screen(), "row 1 of 5") {
		t.Fatalf("r did not retry the new filter (%+v):\n%s", f, h.screen())
	}
}

// TestLightBackground: the styles follow the terminal's background.
func TestLightBackground(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleSource(), filter.Filter{}, Options{}, 80, 24)
	dark := h.m.View().Content
	h.send(tea.BackgroundColorMsg{Color: color.White})
	if h.m.sh.dark {
		t.Fatal("a white background was taken for dark")
	}
	light := h.m.View().Content
	if light == dark || ansi.Strip(light) != ansi.Strip(dark) {
		t.Fatal("a light background should change the colours and nothing else")
	}
}
