package render

import (
	"strings"
	"testing"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/client"
)

func TestRelTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		ago  time.Duration
		want string
	}{
		{0, "just now"},
		{59 * time.Second, "just now"},
		{-30 * time.Second, "just now"},
		{time.Minute, "1m ago"},
		{5*time.Minute + 59*time.Second, "5m ago"},
		{59 * time.Minute, "59m ago"},
		{time.Hour, "1h ago"},
		{23*time.Hour + 59*time.Minute, "23h ago"},
		{24 * time.Hour, "1d ago"},
		{3 * 24 * time.Hour, "3d ago"},
		{29 * 24 * time.Hour, "29d ago"},
		{30 * 24 * time.Hour, "1mo ago"},
		{364 * 24 * time.Hour, "12mo ago"},
		{365 * 24 * time.Hour, "1y ago"},
		{-5 * time.Minute, "in 5m"},
		{-3 * 24 * time.Hour, "in 3d"},
	}
	for _, tt := range tests {
		if got := RelTime(now, now.Add(-tt.ago)); got != tt.want {
			t.Errorf("RelTime(-%v) = %q, want %q", tt.ago, got, tt.want)
		}
	}
	if got := RelTime(now, time.Time{}); got != "never" {
		t.Errorf("zero time: %q", got)
	}
}

func TestMoneyCountPercent(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{
		0: "$0", 9: "$9", 19.5: "$19.50", 19.99: "$19.99", 0.05: "$0.05", 1234: "$1,234", 1234567.891: "$1,234,567.89", -5: "-$5", 9.999: "$10",
	} {
		if got := Money(v); got != want {
			t.Errorf("Money(%v) = %q, want %q", v, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1204: "1,204", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
	if Plural(1, "row", "rows") != "1 row" || Plural(9876, "row", "rows") != "9,876 rows" {
		t.Error("Plural")
	}
	if Percent(0.42) != "42%" || Percent(0.042) != "4.2%" || Percent(0) != "0%" {
		t.Error("Percent", Percent(0.42), Percent(0.042))
	}
}

func TestColorEnabled(t *testing.T) {
	t.Parallel()
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		getenv func(string) string
		tty    bool
		want   bool
	}{
		{env(), true, true},
		{env(), false, false},
		{env("NO_COLOR", "1"), true, false},
		{env("NO_COLOR", ""), true, true},
		{env("TERM", "dumb"), true, false},
		{env("CLICOLOR_FORCE", "1"), false, true},
		{env("CLICOLOR_FORCE", "1", "NO_COLOR", "1"), true, false},
		{env("CLICOLOR_FORCE", "0"), false, false},
	}
	for i, tt := range tests {
		if got := ColorEnabled(tt.getenv, tt.tty); got != tt.want {
			t.Errorf("case %d: %v, want %v", i, got, tt.want)
		}
	}
}

func TestBadges(t *testing.T) {
	t.Parallel()
	ms := []client.Membership{{Name: "App A", Color: "#e69f00", Status: "paid"}, {Name: "App B", Color: "#123", Status: "free"}, {Name: "C", Color: "nope"}}
	plain := New(Options{})
	if got := plain.Badges(ms); got != "[App A] [App B] [C]" {
		t.Errorf("plain badges %q", got)
	}
	if got := plain.Statuses(ms); got != "paid·free·-" {
		t.Errorf("plain statuses %q", got)
	}
	color := New(Options{Color: true})
	got := color.Badges(ms)
	if !strings.Contains(got, "\x1b[") || !strings.Contains(got, " App A ") {
		t.Errorf("colour badges %q", got)
	}
	// Dark text on a light badge, light text on a dark one.
	if !strings.Contains(color.Badge("A", "#e69f00"), "38;2;17;17;17") || !strings.Contains(color.Badge("A", "#1f2937"), "38;2;255;255;255") {
		t.Errorf("badge text colours: %q %q", color.Badge("A", "#e69f00"), color.Badge("A", "#1f2937"))
	}
	// Both forms are equally wide, so tables align either way.
	if lipgloss.Width(got) != lipgloss.Width(plain.Badges(ms)) {
		t.Errorf("widths differ: %d vs %d", lipgloss.Width(got), lipgloss.Width(plain.Badges(ms)))
	}
	if color.MRR(0) == "" || plain.MRR(0) != "-" || plain.MRR(19.5) != "$19.50" {
		t.Error("MRR")
	}
}

func TestTable(t *testing.T) {
	t.Parallel()
	th := New(Options{Color: true})
	tb := NewTable([]Column{{Title: "EMAIL", Max: 10}, {Title: "MRR", Right: true}, {Title: "NOTE"}})
	tb.AddRow([]string{"a@example.com", "$9", th.Badge("X", "#ff0000")})
	tb.AddRow([]string{"b@x.io", "$1,234", ""})
	var b strings.Builder
	if err := tb.Render(&b, New(Options{})); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := []string{
		"EMAIL          MRR  NOTE",
		"a@example…      $9  " + th.Badge("X", "#ff0000"),
		"b@x.io      $1,234",
	}
	if len(lines) != len(want) {
		t.Fatalf("got %q", lines)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i, lines[i], want[i])
		}
	}
	// The next page keeps the widths and has no header.
	tb.AddRow([]string{"c@y.io", "$1", "n"})
	b.Reset()
	_ = tb.Render(&b, New(Options{}))
	if b.String() != "c@y.io          $1  n\n" {
		t.Errorf("second page %q", b.String())
	}
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Alice Chen":            "Alice Chen",
		"a\tb\nc\r\nd":          "a b c  d",
		"evil\x1b[31mred\x1b[m": "evil[31mred[m",
		"bell\a":                "bell",
		"ünïcødé 漢字":            "ünïcødé 漢字",
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
	if got := TSV("a\tb", "c"); got != "a b\tc\n" {
		t.Errorf("TSV %q", got)
	}
}

func TestTableWidthCutsLongLines(t *testing.T) {
	t.Parallel()
	th := New(Options{Color: true, Now: time.Now})
	tb := NewTable([]Column{{Title: "EMAIL"}, {Title: "BADGES"}})
	tb.Width = 20
	tb.AddRow([]string{"someone.long@example.com", th.Badge("App A", "#e69f00")})
	tb.AddRow([]string{"a@b.io", "x"})
	var b strings.Builder
	if err := tb.Render(&b, th); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines: %q", len(lines), b.String())
	}
	for _, l := range lines {
		if w := lipgloss.Width(l); w > 20 {
			t.Errorf("line %q is %d cells wide, want ≤ 20", l, w)
		}
	}
	if !strings.HasSuffix(ansi.Strip(lines[1]), "…") {
		t.Errorf("a cut line should end in …: %q", ansi.Strip(lines[1]))
	}
}

func TestTableShrinksNameBeforeEmail(t *testing.T) {
	t.Parallel()
	th := New(Options{Now: time.Now})
	tb := NewTable([]Column{{Title: "EMAIL", Shrink: true, Min: 24}, {Title: "NAME", Shrink: true}, {Title: "MRR", Right: true}})
	tb.Width = 42
	tb.AddRow([]string{"someone.long@example.com", "A Rather Long Name", "$1,234"})
	var b strings.Builder
	if err := tb.Render(&b, th); err != nil {
		t.Fatal(err)
	}
	row := strings.Split(b.String(), "\n")[1]
	if lipgloss.Width(row) > 42 || !strings.Contains(row, "someone.long@example.com") || !strings.HasSuffix(row, "$1,234") ||
		!strings.Contains(row, "…") {
		t.Fatalf("want the name cut, the email and money kept within 42 cells: %q", row)
	}
}
