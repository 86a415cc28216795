package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
)

// Names that once garbled the screen.
const (
	family      = "👩\u200d👩\u200d👧\u200d👦"
	rtlName     = "\u202eevil RTL override\u202c שלום"
	isolateName = "\u202eevil RTL\u2066x\u2069"
	zeroWidth   = "zero\u200bwidth\u200djoin\ufeffbom"
	familyName  = family + " family 🇯🇵 flag"
	rtlProject  = "\u202eRTL proj\u200b"
	jpProject   = "山田プロジェクト" + family
	longProject = "L" + "ooooooooooooooooooooooooooooooooooooooooooooooooooooo" + "ng name 64"
)

// unicodeSource is the sample workspace with those names: customers 1-4
// in the RTL and Japanese projects, and a 64-character project (the most
// SPEC §2 allows) in which customer 1 went from free to paid.
func unicodeSource() *fakeSource {
	src := sampleSource()
	src.projects = append(src.projects,
		client.Project{Slug: "rtl", Name: rtlProject, Color: "#f0e442", Customers: 4},
		client.Project{Slug: "yamada", Name: jpProject, Color: "#009e73", Customers: 3},
		client.Project{Slug: "long", Name: longProject, Color: "#0072b2", Customers: 1})
	rtl := client.Membership{Slug: "rtl", Name: rtlProject, Color: "#f0e442", Status: "paid"}
	jp := client.Membership{Slug: "yamada", Name: jpProject, Color: "#009e73", Status: "paid", Params: map[string]any{"plan": "pro"}}
	long := client.Membership{Slug: "long", Name: longProject, Color: "#0072b2", Status: "paid"}
	for i, name := range []string{familyName, rtlName, isolateName, zeroWidth} {
		c := &src.rows[i]
		c.Name, c.MRRTotal, c.LastSeen = name, 15, testNow.Add(-time.Duration(i+1)*time.Minute)
		c.Projects = []client.Membership{jp, rtl}
		c.ProjectCount = 2
	}
	src.rows[0].Projects = append(src.rows[0].Projects, long)
	src.rows[0].ProjectCount = 3
	d := src.details[1]
	d.Customer = src.rows[0]
	d.Timeline = []client.Event{
		{At: testNow.Add(-time.Minute), Project: "long", Kind: "status", Before: []byte(`"free"`), After: []byte(`"paid"`)},
		{At: testNow.Add(-time.Hour), Project: "rtl", Kind: "joined"},
		{At: testNow.Add(-time.Hour), Project: "yamada", Kind: "joined"},
	}
	src.details[1] = d
	return src
}

// TestFormatCharactersNeverShown: no bidi override, isolate or zero-width
// space from a name reaches the screen, in the list, the project picker
// or the detail view; ZWJ, which joins the family emoji, does.
func TestFormatCharactersNeverShown(t *testing.T) {
	t.Parallel()
	for _, drive := range [][]string{nil, {"p"}, {"s"}, {"enter"}, {"j", "enter"}, {"j", "j", "j", "enter"}} {
		h := newHarness(t, unicodeSource(), filter.Filter{}, Options{}, 80, 24)
		h.press(drive...)
		out := h.screen()
		for _, r := range out {
			if unicode.Is(unicode.Cf, r) && r != '\u200d' {
				t.Errorf("after %v, U+%04X is on the screen:\n%s", drive, r, out)
				break
			}
		}
		if drive == nil && (!strings.Contains(out, "evil RTL ov") || !strings.Contains(out, "$15")) {
			t.Errorf("the names do not show as plain text:\n%s", out)
		}
	}
}

// TestGraphemeWidths: a row, a card and the project picker take exactly
// their width in cells with ZWJ emoji, flags and CJK in them, measured by
// grapheme clusters as the terminal draws them (the emoji cut with "…"
// used to leave a row a cell short), and the model asks the renderer to
// lay text out that way too.
func TestGraphemeWidths(t *testing.T) {
	t.Parallel()
	st := newStyles(true, true)
	if got := pad(familyName, 12, false); ansi.StringWidth(got) != 12 || !strings.HasPrefix(got, family) {
		t.Errorf("pad(%q, 12) = %q, %d cells", familyName, got, ansi.StringWidth(got))
	}
	if got := st.Badge(jpProject, "#000", 20); ansi.StringWidth(got) > 20 || strings.Contains(got, "\u200d…") {
		t.Errorf("badge cut to 20: %q", got)
	}

	h := newHarness(t, unicodeSource(), filter.Filter{}, Options{NoColor: true}, 80, 24)
	lines := strings.Split(h.screen(), "\n")
	header := lines[2]
	for _, l := range lines[3:7] {
		// The MRR ends under its title on every row.
		if got, want := ansi.StringWidth(l[:strings.Index(l, "$15")+3]), ansi.StringWidth(header[:strings.Index(header, "MRR")+3]); got != want {
			t.Errorf("row %q: MRR ends at %d, its title at %d", l, got, want)
		}
	}

	h.press("enter")
	for _, l := range strings.Split(h.screen(), "\n") {
		if w := ansi.StringWidth(l); strings.ContainsAny(l, "│╭╰") && w != 79 && w != 39 { // cards of 39, one apart
			t.Errorf("card line %d cells wide: %q", ansi.StringWidth(l), l)
		}
	}

	var asked bool
	for _, cmd := range h.m.Init()().(tea.BatchMsg) {
		if cmd == nil {
			continue
		}
		if msg, ok := cmd().(tea.ModeReportMsg); ok && msg.Mode == ansi.ModeUnicodeCore && msg.Value == ansi.ModeSet {
			asked = true
		}
	}
	if !asked {
		t.Error("Init does not put the renderer in grapheme mode (2027)")
	}
}

// TestPickerCutsLongNames: a 64-character project name is cut in the
// project picker, so every project keeps its hint and a short name no "…".
func TestPickerCutsLongNames(t *testing.T) {
	t.Parallel()
	h := newHarness(t, unicodeSource(), filter.Filter{}, Options{NoColor: true}, 80, 24)
	h.press("p")
	out := h.screen()
	for _, slug := range []string{"app-a", "rtl", "yamada", "long"} {
		if !strings.Contains(out, slug+" · ") {
			t.Errorf("the hint of %s is not shown:\n%s", slug, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "[App A]") && strings.Contains(l, "…") {
			t.Errorf("a short name is cut: %q", l)
		}
	}
}

// TestTimelineShowsChangeAt80: with a 64-character project name the
// timeline cuts the name, as the cards do, so the change itself shows on
// an 80×24 terminal.
func TestTimelineShowsChangeAt80(t *testing.T) {
	t.Parallel()
	h := newHarness(t, unicodeSource(), filter.Filter{}, Options{NoColor: true}, 80, 24)
	h.press("enter")
	if out := h.screen(); !strings.Contains(out, "Looo") || !strings.Contains(out, "status free → paid") {
		t.Errorf("the change is not shown:\n%s", out)
	}
}

// TestTimelineHasMore: when the server says there are older events than
// the newest 200 it sent, the end of the timeline says so; otherwise not.
func TestTimelineHasMore(t *testing.T) {
	t.Parallel()
	const note = "… older events not shown (these are the newest 200)"
	for _, more := range []bool{true, false} {
		src := sampleSource()
		d := src.details[1]
		d.Timeline = nil
		for i := range 200 {
			d.Timeline = append(d.Timeline, client.Event{At: testNow.Add(-time.Duration(i) * time.Minute), Project: "app-a", Kind: "params",
				Before: []byte(fmt.Sprintf(`{"n":%d}`, i)), After: []byte(fmt.Sprintf(`{"n":%d}`, i+1))})
		}
		d.TimelineHasMore = more
		src.details[1] = d
		h := newHarness(t, src, filter.Filter{}, Options{NoColor: true}, 80, 24)
		h.press("enter", "G")
		out := h.screen()
		if strings.Contains(out, note) != more {
			t.Errorf("has more %v, the end of the timeline:\n%s", more, out)
		}
		if !strings.Contains(out, "params n: 199 → 200") {
			t.Errorf("G does not show the oldest event:\n%s", out)
		}
	}
}

// TestPickerMovesAsTable: the pickers take the table's movement keys:
// pgdn and pgup a page, G and end the last item, g and home the first.
func TestPickerMovesAsTable(t *testing.T) {
	t.Parallel()
	src := sampleSource()
	for i := range 100 {
		c := &src.rows[i%len(src.rows)]
		c.Projects = append(c.Projects, client.Membership{Slug: "app-a", Name: "App A", Status: fmt.Sprintf("st%03d", i)})
	}
	h := newHarness(t, src, filter.Filter{}, Options{NoColor: true}, 80, 24)
	h.press("s")
	n := len(h.m.picker.items)
	page := h.m.bodyHeight() - 4 // the items shown: the rest is the border, the title and "↓ N more"
	for _, step := range []struct {
		key  string
		want int
	}{
		{"pgdown", page}, {"pgdown", 2 * page}, {"pgup", page}, {"G", n - 1}, {"pgdown", n - 1},
		{"g", 0}, {"pgup", 0}, {"end", n - 1}, {"home", 0},
	} {
		h.press(step.key)
		if got := h.m.picker.cursor; got != step.want {
			t.Fatalf("after %s the cursor is on item %d of %d, want %d", step.key, got, n, step.want)
		}
	}
	h.press("G")
	if out := h.screen(); !strings.Contains(out, "› [ ] st099") {
		t.Errorf("G does not show the last status:\n%s", out)
	}
	h.press("esc", "o", "G")
	if got, want := h.m.picker.cursor, len(h.m.picker.items)-1; got != want {
		t.Errorf("sort picker: G on item %d, want %d", got, want)
	}
}
