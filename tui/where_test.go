package tui

import (
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"tinycrm.dev/tinycrm/filter"
)

func mustWhere(t *testing.T, src string) filter.Expr {
	t.Helper()
	e, err := filter.ParseWhere(src)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestWhereEditsAll: w shows every where-expression of the filter, ";"
// between them; applying the text unchanged keeps them as they were
// (separate expressions), and removing one removes it.
func TestWhereEditsAll(t *testing.T) {
	t.Parallel()
	src := sampleSource()
	cli := filter.Filter{Where: []filter.Expr{mustWhere(t, "plan=pro"), mustWhere(t, "mrr>=20")}}
	h := newHarness(t, src, cli, Options{}, 80, 24)
	h.press("w")
	if got := h.m.prompt.value(); got != "plan=pro; mrr>=20" {
		t.Fatalf("w shows %q, want both expressions", got)
	}
	_, calls := src.lastCall()
	h.press("enter")
	f, c := src.lastCall()
	if c != calls+1 || len(f.Where) != 2 || !f.Where[0].Equal(cli.Where[0]) || !f.Where[1].Equal(cli.Where[1]) {
		t.Fatalf("applied unchanged, sent %v", f.Where)
	}
	h.press("w", "home")
	for range len("plan=pro; ") {
		h.send(tea.KeyPressMsg{Code: tea.KeyDelete})
	}
	if got := h.m.prompt.value(); got != "mrr>=20" {
		t.Fatalf("after deleting plan=pro the prompt holds %q", got)
	}
	h.press("enter")
	if f, _ := src.lastCall(); len(f.Where) != 1 || f.Where[0].String() != "mrr>=20" {
		t.Fatalf("after removing plan=pro, sent %v", f.Where)
	}
	if strings.Contains(h.screen(), "plan=pro") {
		t.Fatalf("plan=pro still shows:\n%s", h.screen())
	}
}

// TestWhereErrorPosition: a mistake in the second expression is placed in
// the whole text, so the caret points at it.
func TestWhereErrorPosition(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleSource(), filter.Filter{}, Options{}, 80, 24)
	h.press("w")
	h.typeText("plan=pro;  mrr>=")
	h.press("enter")
	var se *filter.SyntaxError
	if !errors.As(h.m.prompt.err, &se) || se.Pos != len("plan=pro;  mrr>=")+1 {
		t.Fatalf("error %v, want one at the end of the text", h.m.prompt.err)
	}
	lines := strings.Split(h.screen(), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "where ") {
			if caret := strings.Index(lines[i+1], "^"); caret != len("where plan=pro;  mrr>=") {
				t.Fatalf("caret at column %d:\n%s\n%s", caret, l, lines[i+1])
			}
			return
		}
	}
	t.Fatalf("no where prompt:\n%s", h.screen())
}

// TestWhereSourceRoundTrip: whatever the expressions, the prompt text
// parses back to the same expressions, a ";" inside a value included.
func TestWhereSourceRoundTrip(t *testing.T) {
	t.Parallel()
	for _, srcs := range [][]string{
		{"plan=pro"},
		{"plan=pro, mrr>=9", "status=paid"},
		{`note=a;b`, `name~"x; y"`},
		{`q="say \"hi\"; bye"`, "trial_ends < 2026-04-01 and plan exists"},
	} {
		var ws []filter.Expr
		for _, s := range srcs {
			ws = append(ws, mustWhere(t, s))
		}
		text := whereSource(ws)
		got, err := parseWheres(text)
		if err != nil || len(got) != len(ws) {
			t.Fatalf("%q: %v, %d expressions", text, err, len(got))
		}
		for i := range ws {
			if !got[i].Equal(ws[i]) {
				t.Errorf("%q: expression %d is %v, want %v", text, i, got[i], ws[i])
			}
		}
	}
	if ws, err := parseWheres(" ; ;"); err != nil || ws != nil {
		t.Fatalf("blank pieces: %v, %v", ws, err)
	}
}

// TestWherePasteNewline: a pasted line break joins conditions with "and"
// instead of becoming a space inside a value.
func TestWherePasteNewline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ before, paste, want string }{
		{"", "plan=pro\nmrr>=9", "plan=pro and mrr>=9"},
		{"", "plan=pro,\r\nmrr>=9\n", "plan=pro, mrr>=9"},
		{"", "plan=pro\n\n  and mrr>=9", "plan=pro and mrr>=9"},
		{"", "a=1;\nb=2", "a=1; b=2"},
		{"plan=pro", "\nmrr>=9", "plan=pro and mrr>=9"},
		{"x=1, ", "plan=pro", "x=1, plan=pro"},
	} {
		h := newHarness(t, sampleSource(), filter.Filter{}, Options{}, 80, 24)
		h.press("w")
		h.typeText(tc.before)
		h.send(tea.PasteMsg{Content: tc.paste})
		if got := h.m.prompt.value(); got != tc.want {
			t.Errorf("%q + paste %q: %q, want %q", tc.before, tc.paste, got, tc.want)
		}
	}
	src := sampleSource()
	h := newHarness(t, src, filter.Filter{}, Options{}, 80, 24)
	h.press("w")
	h.send(tea.PasteMsg{Content: "plan=pro\nmrr>=9"})
	h.press("enter")
	if f, _ := src.lastCall(); len(f.Where) != 1 || f.Where[0].String() != "plan=pro, mrr>=9" {
		t.Fatalf("sent %v, want one expression of two conditions", f.Where)
	}
}
