package render

import (
	"regexp"
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

// TestSanitizeFormatCharacters: the bidi controls and the zero-width
// characters that stand alone are dropped, so a name cannot reverse the
// rest of a line; ZWJ, ZWNJ, variation selectors and emoji tags, which
// belong to the cluster they join, stay.
func TestSanitizeFormatCharacters(t *testing.T) {
	t.Parallel()
	const family = "👩\u200d👩\u200d👧\u200d👦"
	for in, want := range map[string]string{
		"\u202eevil RTL override\u202c שלום":                            "evil RTL override שלום",
		"\u202eevil RTL\u2066x\u2069":                                   "evil RTLx",
		"\u202eRTL proj\u200b":                                          "RTL proj",
		"zero\u200bwidth\u200djoin\ufeffbom":                            "zerowidth\u200djoinbom",
		"\u200e\u200f\u202a\u202b\u202d\u2067\u2068\u061ca\u2060\u00ad": "a",
		family + " family 🇯🇵 flag":                                      family + " family 🇯🇵 flag",
		"☺\ufe0f e\u0301 می\u200cخواهم":                                 "☺\ufe0f e\u0301 می\u200cخواهم",
		"🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f": "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTableBidiName: a customer named with a right-to-left override
// prints as plain text in a CLI table, cut or not, and the MRR after it
// reads "$15".
func TestTableBidiName(t *testing.T) {
	t.Parallel()
	th := New(Options{Now: func() time.Time { return time.Unix(0, 0) }})
	for _, width := range []int{0, 80, 60} {
		tb := NewTable(CustomerColumns())
		tb.Width = width
		tb.AddCells(th.CustomerCells(client.Customer{Email: "rtl@example.com", Name: "\u202eevil RTL override, and a long name\u202c שלום", MRRTotal: 15,
			Projects: []client.Membership{{Name: "\u202eRTL proj\u200b", Color: "#f0e442", Status: "paid"}}}))
		var b strings.Builder
		if err := tb.Render(&b, th); err != nil {
			t.Fatal(err)
		}
		if out := b.String(); strings.ContainsAny(out, "\u202e\u202c\u200b") || !strings.Contains(out, "$15") || !strings.Contains(out, "[RTL pr") {
			t.Errorf("width %d: %q", width, out)
		}
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

// customerInProjects is a customer in n projects with long names.
func customerInProjects(email string, n int, now time.Time) client.Customer {
	names := []string{"Inkwell", "Linkpage", "Metricly", "Pagecraft", "Formsy", "Mailbird", "Shipfast", "Tallybook"}
	c := client.Customer{Email: email, Name: "Alice Chen", MRRTotal: 1234.5, LastSeen: now.Add(-3 * time.Hour)}
	for i := range n {
		c.Projects = append(c.Projects, client.Membership{Name: names[i%len(names)], Color: "#e69f00", Status: "trialing"})
	}
	c.ProjectCount = n
	return c
}

// The customer table fits the terminal: the badges give way to "+N", and
// MRR and LAST ACTIVE stay in view on every row.
func TestCustomerTableFitsWidth(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, width := range []int{80, 100, 120} {
		for _, color := range []bool{false, true} {
			th := New(Options{Color: color, Now: func() time.Time { return now }})
			tb := NewTable(CustomerColumns())
			tb.Width = width
			for i, n := range []int{1, 3, 5, 8} {
				tb.AddCells(th.CustomerCells(customerInProjects(strings.Repeat("x", 8*i)+"alice@example.com", n, now)))
			}
			var b strings.Builder
			if err := tb.Render(&b, th); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			if !strings.HasSuffix(ansi.Strip(lines[0]), "MRR  LAST ACTIVE") {
				t.Errorf("width %d: header %q", width, ansi.Strip(lines[0]))
			}
			for _, l := range lines[1:] {
				plain := ansi.Strip(l)
				if w := lipgloss.Width(l); w > width {
					t.Errorf("width %d: line is %d cells: %q", width, w, plain)
				}
				if !strings.HasSuffix(plain, "$1,234.50  3h ago") {
					t.Errorf("width %d colour %v: MRR and LAST ACTIVE not in view: %q", width, color, plain)
				}
			}
			// The customer in 8 projects shows some badges and the count
			// of the others.
			last := ansi.Strip(lines[len(lines)-1])
			if width == 120 && !regexp.MustCompile(`(\[Inkwell\]| Inkwell ) .* \+\d `).MatchString(last) {
				t.Errorf("width %d: no +N after the badges: %q", width, last)
			}
		}
	}
}

func TestBadgesFit(t *testing.T) {
	t.Parallel()
	plain := New(Options{})
	ms := customerInProjects("a@b.io", 5, time.Now()).Projects
	for _, tt := range []struct {
		width int
		want  string
	}{
		{100, "[Inkwell] [Linkpage] [Metricly] [Pagecraft] [Formsy]"},
		{24, "[Inkwell] [Linkpage] +3"},
		{22, "[Inkwell] +4"},
		{12, "[Inkwell] +4"},
		{10, "[Inkw…] +4"},
		{3, "+5"},
	} {
		if got := plain.BadgesFit(ms, tt.width); got != tt.want {
			t.Errorf("BadgesFit(%d) = %q, want %q", tt.width, got, tt.want)
		}
	}
	color := New(Options{Color: true})
	if got := ansi.Strip(color.BadgesFit(ms, 24)); got != " Inkwell   Linkpage  +3" {
		t.Errorf("colour BadgesFit(24) = %q", got)
	}
}

func TestStatusesFit(t *testing.T) {
	t.Parallel()
	plain := New(Options{})
	ms := []client.Membership{{Status: "paid"}, {Status: "free"}, {Status: "trialing"}}
	for _, tt := range []struct {
		width int
		want  string
	}{
		{30, "paid·free·trialing"},
		{17, "paid·free +1"},
		{11, "paid +2"},
		{5, "paid…"},
	} {
		if got := plain.StatusesFit(ms, tt.width); got != tt.want {
			t.Errorf("StatusesFit(%d) = %q, want %q", tt.width, got, tt.want)
		}
	}
}

// A table written page by page keeps the first page's widths, so every
// row lines up with the header; later cells that are wider are cut.
func TestTablePagesStayAligned(t *testing.T) {
	t.Parallel()
	now := time.Now()
	th := New(Options{Now: func() time.Time { return now }})
	tb := NewTable(CustomerColumns())
	tb.Width = 100
	tb.AddCells(th.CustomerCells(customerInProjects("a@b.io", 1, now)))
	var b strings.Builder
	if err := tb.Render(&b, th); err != nil {
		t.Fatal(err)
	}
	tb.AddCells(th.CustomerCells(customerInProjects("someone.much.longer@example.com", 4, now)))
	if err := tb.Render(&b, th); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	col := len([]rune(lines[0][:strings.Index(lines[0], "LAST ACTIVE")]))
	for _, l := range lines[1:] {
		if r := []rune(l); len(r) < col || string(r[col:]) != "3h ago" {
			t.Errorf("row not aligned with the header:\n%s\n%s", lines[0], l)
		}
	}
	if !strings.Contains(lines[2], "…") && !strings.Contains(lines[2], "+") {
		t.Errorf("the wider row should be cut: %q", lines[2])
	}
}
