package tui

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/internal/render"
)

// Golden frames of every state and mode, at 80×24 and 120×40. Frames are
// compared without escape codes (the colour profile pinned to none), so
// they read as what a NO_COLOR user sees; TestViewColor pins the colours.
// Run `go test ./tui -update` to rewrite them after a deliberate change.

func TestViewGolden(t *testing.T) {
	t.Parallel()
	unreachable := fmt.Errorf("list customers: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")})
	cases := []struct {
		name  string
		src   func() *fakeSource
		f     filter.Filter
		opts  Options
		drive func(h *harness)
	}{
		{name: "loading"}, // built without running Init's fetches
		{name: "list"},
		{name: "list_nocolor", opts: Options{NoColor: true}},
		{name: "list_cli_filter", f: filter.Filter{Projects: []string{"app-a"}, MinProjects: 2, Sort: filter.Sort{Key: filter.SortMRR}}},
		{name: "moved", drive: func(h *harness) { h.press("j", "j", "j") }},
		{name: "bottom", drive: func(h *harness) { h.press("G") }},
		{name: "empty_workspace", src: func() *fakeSource { return &fakeSource{rows: []client.Customer{}} }},
		{name: "no_match", drive: func(h *harness) {
			h.press("/")
			h.typeText("zzz")
			fire[searchMsg](h)
			h.press("enter", "m")
		}},
		{name: "error", src: func() *fakeSource { s := sampleSource(); s.err = unreachable; return s }},
		{name: "token_rejected", src: func() *fakeSource {
			s := sampleSource()
			s.err = fmt.Errorf("list customers: %w", &client.APIError{Status: 401, Title: "Unauthorized", Detail: "unknown token"})
			return s
		}},
		{name: "search_typing", drive: func(h *harness) {
			h.press("/")
			h.typeText("ali")
			fire[searchMsg](h)
		}},
		{name: "project_picker", drive: func(h *harness) { h.press("p", "down", "space") }},
		{name: "status_picker", drive: func(h *harness) { h.press("s", "space", "down", "down") }},
		{name: "where_error", drive: func(h *harness) {
			h.press("w")
			h.typeText("plan ==pro")
			h.press("enter")
		}},
		{name: "sort_picker", drive: func(h *harness) { h.press("o", "down", "down") }},
		{name: "detail", drive: func(h *harness) { h.press("enter") }},
		{name: "help", drive: func(h *harness) { h.press("?") }},
		{name: "export_prompt", drive: func(h *harness) { h.press("e") }},
	}
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%dx%d/%s", size[0], size[1], tc.name), func(t *testing.T) {
				t.Parallel()
				src := sampleSource()
				if tc.src != nil {
					src = tc.src()
				}
				h := build(t, src, tc.f, tc.opts, size[0], size[1])
				if tc.name != "loading" {
					h.run(h.m.Init())
				}
				if tc.drive != nil {
					tc.drive(h)
				}
				out := h.screen()
				checkFrame(t, out, size[0], size[1])
				golden.RequireEqual(t, out)
			})
		}
	}
}

// TestViewColor pins the coloured frame (dark background, true colour):
// badges on their project colours, the selected row highlighted.
func TestViewColor(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleSource(), filter.Filter{}, Options{}, 80, 24)
	out := h.m.View().Content
	if !strings.Contains(out, "\x1b[") {
		t.Fatal("no escape codes in the coloured frame")
	}
	golden.RequireEqual(t, out)
}

// checkFrame asserts the frame is exactly the terminal's size.
func checkFrame(t *testing.T, out string, w, h int) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) != h {
		t.Errorf("frame has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := len([]rune(l)); n > w {
			t.Errorf("line %d is %d wide, more than %d: %q", i+1, n, w, l)
		}
	}
}

// TestSameAsCLI: badges, statuses and MRR are exactly what the CLI's
// render.Theme prints, in colour and without.
func TestSameAsCLI(t *testing.T) {
	t.Parallel()
	ms := sampleSource().rows[0].Projects
	ms = append(ms, client.Membership{Name: "No Status", Color: "#123456"})
	for _, noColor := range []bool{false, true} {
		st := newStyles(true, noColor)
		th := render.New(render.Options{Color: !noColor})
		for range 2 { // the second time from the memo
			if got, want := st.Statuses(ms), th.Statuses(ms); got != want {
				t.Errorf("noColor=%v: statuses %q, CLI %q", noColor, got, want)
			}
			for _, m := range ms {
				if got, want := st.Badge(m.Name, m.Color, 0), th.Badge(m.Name, m.Color); got != want {
					t.Errorf("noColor=%v: badge %q, CLI %q", noColor, got, want)
				}
			}
		}
		if got, want := st.MRR(0), th.MRR(0); got != want {
			t.Errorf("MRR %q, CLI %q", got, want)
		}
	}
}
