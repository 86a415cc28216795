package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func num(lit string, f float64) Value { return Value{Kind: Number, Text: lit, Num: f} }
func text(s string) Value             { return Value{Kind: Text, Text: s} }
func date(lit string, t time.Time) Value {
	return Value{Kind: Date, Text: lit, Time: t}
}

func TestParseWhere(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		src  string
		want []Cond
	}{
		// every operator
		{"plan=pro", []Cond{{Key: "plan", Op: Eq, Value: text("pro"), Pos: 1}}},
		{"plan!=pro", []Cond{{Key: "plan", Op: Ne, Value: text("pro"), Pos: 1}}},
		{"mrr>9", []Cond{{Key: "mrr", Op: Gt, Value: num("9", 9), Pos: 1}}},
		{"mrr>=9", []Cond{{Key: "mrr", Op: Ge, Value: num("9", 9), Pos: 1}}},
		{"mrr<9", []Cond{{Key: "mrr", Op: Lt, Value: num("9", 9), Pos: 1}}},
		{"mrr<=9", []Cond{{Key: "mrr", Op: Le, Value: num("9", 9), Pos: 1}}},
		{"name~chen", []Cond{{Key: "name", Op: Contains, Value: text("chen"), Pos: 1}}},
		{"plan exists", []Cond{{Key: "plan", Op: Exists, Pos: 1}}},
		{"trial_ends !exists", []Cond{{Key: "trial_ends", Op: NotExists, Pos: 1}}},
		{"trial_ends!exists", []Cond{{Key: "trial_ends", Op: NotExists, Pos: 1}}},
		{"plan EXISTS", []Cond{{Key: "plan", Op: Exists, Pos: 1}}},
		{"  mrr  >=  9  ", []Cond{{Key: "mrr", Op: Ge, Value: num("9", 9), Pos: 3}}},
		// joiners
		{"plan=pro,mrr>=9", []Cond{
			{Key: "plan", Op: Eq, Value: text("pro"), Pos: 1},
			{Key: "mrr", Op: Ge, Value: num("9", 9), Pos: 10},
		}},
		{"plan = pro and mrr >= 9", []Cond{
			{Key: "plan", Op: Eq, Value: text("pro"), Pos: 1},
			{Key: "mrr", Op: Ge, Value: num("9", 9), Pos: 16},
		}},
		{"a=1 AND b=2\tAnd\nc exists , d!exists", []Cond{
			{Key: "a", Op: Eq, Value: num("1", 1), Pos: 1},
			{Key: "b", Op: Eq, Value: num("2", 2), Pos: 9},
			{Key: "c", Op: Exists, Pos: 17},
			{Key: "d", Op: NotExists, Pos: 28},
		}},
		{"a=band,b=android", []Cond{
			{Key: "a", Op: Eq, Value: text("band"), Pos: 1},
			{Key: "b", Op: Eq, Value: text("android"), Pos: 8},
		}},
		{"a=and", []Cond{{Key: "a", Op: Eq, Value: text("and"), Pos: 1}}},
		{"a=1 and and=2", []Cond{
			{Key: "a", Op: Eq, Value: num("1", 1), Pos: 1},
			{Key: "and", Op: Eq, Value: num("2", 2), Pos: 9},
		}},
		{"x=1 and exists exists", []Cond{
			{Key: "x", Op: Eq, Value: num("1", 1), Pos: 1},
			{Key: "exists", Op: Exists, Pos: 9},
		}},
		// bare words with inner spaces, trimmed
		{"name = Alice Chen , plan=pro", []Cond{
			{Key: "name", Op: Eq, Value: text("Alice Chen"), Pos: 1},
			{Key: "plan", Op: Eq, Value: text("pro"), Pos: 21},
		}},
		{"url=https://x.io/?a=b&c=d", []Cond{{Key: "url", Op: Eq, Value: text("https://x.io/?a=b&c=d"), Pos: 1}}},
		// quoting and escapes
		{`name="Chen, Alice and Bob"`, []Cond{{Key: "name", Op: Eq, Value: text("Chen, Alice and Bob"), Pos: 1}}},
		{`q="say \"hi\" \\o/"`, []Cond{{Key: "q", Op: Eq, Value: text(`say "hi" \o/`), Pos: 1}}},
		{`a="", b = "9"`, []Cond{
			{Key: "a", Op: Eq, Value: text(""), Pos: 1},
			{Key: "b", Op: Eq, Value: text("9"), Pos: 7},
		}},
		{`a="2026-03-29" and b="true"`, []Cond{
			{Key: "a", Op: Eq, Value: text("2026-03-29"), Pos: 1},
			{Key: "b", Op: Eq, Value: text("true"), Pos: 20},
		}},
		{`a="=x"`, []Cond{{Key: "a", Op: Eq, Value: text("=x"), Pos: 1}}},
		{`a="é ✓"`, []Cond{{Key: "a", Op: Eq, Value: text("é ✓"), Pos: 1}}},
		// number typing
		{"a=-12, b=0.5, c=1e3, d=-0.5E-3, e=0", []Cond{
			{Key: "a", Op: Eq, Value: num("-12", -12), Pos: 1},
			{Key: "b", Op: Eq, Value: num("0.5", 0.5), Pos: 8},
			{Key: "c", Op: Eq, Value: num("1e3", 1000), Pos: 15},
			{Key: "d", Op: Eq, Value: num("-0.5E-3", -0.0005), Pos: 22},
			{Key: "e", Op: Eq, Value: num("0", 0), Pos: 33},
		}},
		{"a=012, b=+1, c=.5, d=1., e=0x10, f=1e, g=NaN", []Cond{
			{Key: "a", Op: Eq, Value: text("012"), Pos: 1},
			{Key: "b", Op: Eq, Value: text("+1"), Pos: 8},
			{Key: "c", Op: Eq, Value: text(".5"), Pos: 14},
			{Key: "d", Op: Eq, Value: text("1."), Pos: 20},
			{Key: "e", Op: Eq, Value: text("0x10"), Pos: 26},
			{Key: "f", Op: Eq, Value: text("1e"), Pos: 34},
			{Key: "g", Op: Eq, Value: text("NaN"), Pos: 40},
		}},
		{"big=123456789012345678901234567890.25", []Cond{{Key: "big", Op: Eq, Value: num("123456789012345678901234567890.25", 123456789012345678901234567890.25), Pos: 1}}},
		// date typing
		{"trial_ends<2026-03-29", []Cond{{Key: "trial_ends", Op: Lt, Value: date("2026-03-29", day), Pos: 1}}},
		{"t>=2026-03-29T12:30:00+02:00", []Cond{{Key: "t", Op: Ge, Value: date("2026-03-29T12:30:00+02:00", day.Add(10*time.Hour+30*time.Minute)), Pos: 1}}},
		{"t=2026-03-29T00:00:00.5Z", []Cond{{Key: "t", Op: Eq, Value: date("2026-03-29T00:00:00.5Z", day.Add(500*time.Millisecond)), Pos: 1}}},
		{"t=2026-3-29, u=29/03/2026, v=2026-03-29 10:00", []Cond{
			{Key: "t", Op: Eq, Value: text("2026-3-29"), Pos: 1},
			{Key: "u", Op: Eq, Value: text("29/03/2026"), Pos: 14},
			{Key: "v", Op: Eq, Value: text("2026-03-29 10:00"), Pos: 28},
		}},
		// text typing, booleans are text
		{"flag=true, other=false, n=null", []Cond{
			{Key: "flag", Op: Eq, Value: text("true"), Pos: 1},
			{Key: "other", Op: Eq, Value: text("false"), Pos: 12},
			{Key: "n", Op: Eq, Value: text("null"), Pos: 25},
		}},
		{"plan>m", []Cond{{Key: "plan", Op: Gt, Value: text("m"), Pos: 1}}},
		// ~ is always text
		{"ref~42, d~2026-02-30, x ~ -", []Cond{
			{Key: "ref", Op: Contains, Value: text("42"), Pos: 1},
			{Key: "d", Op: Contains, Value: text("2026-02-30"), Pos: 9},
			{Key: "x", Op: Contains, Value: text("-"), Pos: 23},
		}},
		// reserved keys
		{"status=paid", []Cond{{Key: "status", Op: Eq, Value: text("paid"), Pos: 1}}},
		{"status=2026-03-29, status!=-1", []Cond{
			{Key: "status", Op: Eq, Value: text("2026-03-29"), Pos: 1},
			{Key: "status", Op: Ne, Value: text("-1"), Pos: 20},
		}},
		{`status~"tri", status exists`, []Cond{
			{Key: "status", Op: Contains, Value: text("tri"), Pos: 1},
			{Key: "status", Op: Exists, Pos: 15},
		}},
		{"last_seen>=2026-03-29, first_seen<2026-03-29T00:00:00Z", []Cond{
			{Key: "last_seen", Op: Ge, Value: date("2026-03-29", day), Pos: 1},
			{Key: "first_seen", Op: Lt, Value: date("2026-03-29T00:00:00Z", day), Pos: 24},
		}},
		{"Status=Paid", []Cond{{Key: "Status", Op: Eq, Value: text("Paid"), Pos: 1}}},
		{"a.b-c_D9=1", []Cond{{Key: "a.b-c_D9", Op: Eq, Value: num("1", 1), Pos: 1}}},
		{strings.Repeat("k", 64) + "=1", []Cond{{Key: strings.Repeat("k", 64), Op: Eq, Value: num("1", 1), Pos: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			e, err := ParseWhere(tt.src)
			if err != nil {
				t.Fatalf("ParseWhere(%q): %v", tt.src, err)
			}
			if e.Source != tt.src {
				t.Errorf("Source = %q, want %q", e.Source, tt.src)
			}
			if !reflect.DeepEqual(e.Conds, tt.want) {
				t.Errorf("ParseWhere(%q)\n got %#v\nwant %#v", tt.src, e.Conds, tt.want)
			}
			for _, c := range e.Conds {
				if !strings.HasPrefix(tt.src[c.Pos-1:], c.Key) {
					t.Errorf("Pos %d of %q does not point at its key", c.Pos, c.Key)
				}
			}
		})
	}
}

func TestParseWhereErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		pos  int
		want string // a substring of the message
	}{
		{"", 1, "empty expression"},
		{"   ", 4, "empty expression"},
		{"plan", 5, `expected an operator (=, !=, >, >=, <, <=, ~, exists, !exists) after "plan"`},
		{"plan x", 6, `expected an operator (=, !=, >, >=, <, <=, ~, exists, !exists) after "plan", found "x"`},
		{"plan=", 6, `expected a value after "="`},
		{"plan = ", 8, `expected a value after "="`},
		{"plan=,a=1", 6, `expected a value after "="`},
		{"plan= and a=1", 7, `expected a value after "="`},
		{"=x", 1, `expected a key before "="`},
		{"  !=x", 3, `expected a key before "!"`},
		{"plan ==x", 7, `unexpected "=" after operator "="`},
		{"plan=>5", 6, `unexpected ">" after operator "="`},
		{"plan>=<5", 7, `unexpected "<" after operator ">="`},
		{"plan >", 7, `expected a value after ">"`},
		{"plan ~", 7, `expected a value after "~"`},
		{`plan~""`, 6, "~ needs a non-empty value"},
		{`"unterminated`, 1, "keys are not quoted"},
		{`plan="unterminated`, 6, "unterminated quoted value"},
		{`plan='pro`, 6, "values are quoted with double quotes"},
		{`plan='pro'`, 6, "values are quoted with double quotes"},
		{"plan=pro mrr>=9", 10, `"mrr>=" looks like the start of another condition`},
		{"plan=pro\nmrr >= 9", 10, `"mrr >=" looks like the start of another condition`},
		{`plan="ends in backslash\`, 6, "unterminated quoted value"},
		{`plan="a\nb"`, 8, `unknown escape \n`},
		{`plan="pro" mrr=9`, 12, `expected "," or "and" before "mrr=9"`},
		{`plan="pro"x`, 11, `expected "," or "and" before "x"`},
		{`plan=pro"x"`, 9, `unexpected '"' inside a bare value`},
		{"a=1,,b=2", 5, `expected a condition after ","`},
		{"a=1,", 5, `expected a condition after ","`},
		{"a=1, ", 6, `expected a condition after ","`},
		{"a=1 and", 8, `expected a condition after "and"`},
		{"a=1 and  ", 10, `expected a condition after "and"`},
		{"a=1 and ,b=2", 9, `expected a condition after "and"`},
		{"and a=1", 1, `expected a condition before "and"`},
		{",a=1", 1, "expected a key"},
		{"pl@n=1", 3, `unexpected "@" in key "pl"`},
		{"plän=1", 3, `unexpected "ä" in key "pl"`},
		{"a b=1", 3, `after "a", found "b=1"`},
		{"plan existsx", 6, "expected an operator"},
		{"planexists", 11, "expected an operator"},
		{"plan ! exists", 6, "expected an operator"},
		{"plan exists x", 13, `expected "," or "and" before "x"`},
		{strings.Repeat("k", 65) + "=1", 1, "longer than 64 bytes"},
		{"a=" + strings.Repeat("x", 1023), 1025, "longer than 1024 bytes"},
		{strings.Repeat("a=1,", 20) + "b=2", 81, "more than 20 conditions"},
		{"a=\xff", 3, "invalid UTF-8"},
		{"a=x\x00y", 4, "control character"},
		{"a=1e999", 3, "out of range"},
		{"a=-1e-999", 3, "out of range"},
		{"a=2026-02-30", 3, "not a valid date"},
		{"a=2026-03-29T25:00:00Z", 3, "not a valid date"},
		{"a=2026-03-29Tnoon", 3, "not a valid date"},
		{"status=Paid", 8, "not a status token"},
		{`status=""`, 8, "not a status token"},
		{"status=" + strings.Repeat("a", 33), 8, "not a status token"},
		{"status>paid", 7, "status has no order"},
		{"last_seen>30d", 11, "last_seen needs a date"},
		{`first_seen>"2026-03-01"`, 12, "first_seen needs a date, written without quotes"},
		{"last_seen~2026", 10, "last_seen is a time"},
		{"last_seen exists", 11, "last_seen always exists"},
		{"first_seen !exists", 12, "first_seen always exists"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			e, err := ParseWhere(tt.src)
			if err == nil {
				t.Fatalf("ParseWhere(%q) = %v, want an error", tt.src, e)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError", err)
			}
			if se.Pos != tt.pos || !strings.Contains(se.Msg, tt.want) {
				t.Errorf("ParseWhere(%q) error = %q (pos %d), want pos %d and %q", tt.src, err, se.Pos, tt.pos, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "where: position ") {
				t.Errorf("Error() = %q, want a where: position prefix", err)
			}
		})
	}
}

func TestSyntaxErrorMessage(t *testing.T) {
	t.Parallel()
	_, err := ParseWhere("plan x")
	want := `where: position 6: expected an operator (=, !=, >, >=, <, <=, ~, exists, !exists) after "plan", found "x"`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestCondField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		want Field
	}{
		{"status", FieldStatus},
		{"first_seen", FieldFirstSeen},
		{"last_seen", FieldLastSeen},
		{"plan", FieldParam},
		{"Status", FieldParam},
		{"last_seen.x", FieldParam},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			if got := (Cond{Key: tt.key}).Field(); got != tt.want {
				t.Errorf("Field() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOpString(t *testing.T) {
	t.Parallel()
	want := map[Op]string{Eq: "=", Ne: "!=", Gt: ">", Ge: ">=", Lt: "<", Le: "<=", Contains: "~", Exists: "exists", NotExists: "!exists", 0: "Op(0)"}
	for op, s := range want {
		if op.String() != s {
			t.Errorf("Op(%d).String() = %q, want %q", op, op.String(), s)
		}
		if got := op.HasValue(); got != (op != 0 && op != Exists && op != NotExists) {
			t.Errorf("%v.HasValue() = %v", op, got)
		}
	}
}

func TestExprString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		expr Expr
		want string
	}{
		{"parsed", mustParse(t, "plan = pro and mrr >= 9 , trial_ends !exists"), "plan=pro, mrr>=9, trial_ends !exists"},
		{"quotes only when needed", mustParse(t, `a="pro", b="Alice Chen", c="x, y", d="9", e="2026-03-29", f=" pad", g="say \"hi\"", h="=x", i="", j="a and b", k="'pro'", l="pro mrr>=9"`),
			`a=pro, b=Alice Chen, c="x, y", d="9", e="2026-03-29", f=" pad", g="say \"hi\"", h="=x", i="", j="a and b", k="'pro'", l="pro mrr>=9"`},
		{"contains and status stay bare", mustParse(t, `ref~"42", status="-1", x~"y z"`), `ref~42, status=-1, x~y z`},
		{"literals kept", mustParse(t, "a=1.50, b=2026-03-29T10:00:00+02:00"), "a=1.50, b=2026-03-29T10:00:00+02:00"},
		{"hand-built", Expr{Conds: []Cond{
			{Key: "mrr", Op: Ge, Value: Value{Kind: Number, Num: 9.5}},
			{Key: "big", Op: Lt, Value: Value{Kind: Number, Num: 1e21}},
			{Key: "d", Op: Lt, Value: Value{Kind: Date, Time: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}},
			{Key: "t", Op: Gt, Value: Value{Kind: Date, Time: time.Date(2026, 4, 1, 9, 0, 0, 0, time.FixedZone("x", 3600))}},
			{Key: "flag", Op: Eq, Value: Value{Kind: Text, Text: "true"}},
			{Key: "plan", Op: Exists},
		}}, "mrr>=9.5, big<1e+21, d<2026-04-01, t>2026-04-01T08:00:00Z, flag=true, plan exists"},
		{"empty", Expr{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.expr.String()
			if got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
			if len(tt.expr.Conds) == 0 {
				return
			}
			back, err := ParseWhere(got)
			if err != nil {
				t.Fatalf("re-parse %q: %v", got, err)
			}
			if !back.Equal(tt.expr) {
				t.Errorf("re-parse of %q = %#v, want %#v", got, back.Conds, tt.expr.Conds)
			}
		})
	}
}

func TestValueSpan(t *testing.T) {
	t.Parallel()
	d := time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		src      string
		dateOnly bool
		from, to time.Time
	}{
		{"a=2026-03-29", true, d, d.AddDate(0, 0, 1)},
		{"a=2026-03-29T00:00:00Z", false, d, d},
		{"a=2026-03-29T02:00:00+02:00", false, d, d},
		{"a=pro", false, time.Time{}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			v := mustParse(t, tt.src).Conds[0].Value
			from, to := v.Span()
			if v.DateOnly() != tt.dateOnly || !from.Equal(tt.from) || !to.Equal(tt.to) {
				t.Errorf("DateOnly, Span = %v, %v, %v; want %v, %v, %v", v.DateOnly(), from, to, tt.dateOnly, tt.from, tt.to)
			}
			if v.Kind == Date && v.Time.Location() != time.UTC {
				t.Errorf("Time %v is not in UTC", v.Time)
			}
		})
	}
}

func mustParse(t *testing.T, src string) Expr {
	t.Helper()
	e, err := ParseWhere(src)
	if err != nil {
		t.Fatalf("ParseWhere(%q): %v", src, err)
	}
	return e
}

// TestShapes checks the shared shape checks at their bounds; the server
// and the CLI both validate with them.
func TestShapes(t *testing.T) {
	long := func(n int, c string) string { return strings.Repeat(c, n) }
	for _, tc := range []struct {
		name  string
		check func(string) bool
		ok    []string
		bad   []string
	}{
		{"IsParamKey", IsParamKey,
			[]string{"a", "mrr", "trial_ends", "Plan.v2-x", "0", long(64, "k")},
			[]string{"", long(65, "k"), "a b", "ü", "a/b", "a:b", "a\x00"}},
		{"IsStatus", IsStatus,
			[]string{"paid", "past_due", "t-1", long(32, "s")},
			[]string{"", "Paid", long(33, "s"), "a.b", "a b", "é"}},
		{"IsSlug", IsSlug,
			[]string{"app-a", "x", "-lead", long(40, "s")},
			[]string{"", "App", "a_b", long(41, "s"), "a.b", "\xff"}},
	} {
		for _, s := range tc.ok {
			if !tc.check(s) {
				t.Errorf("%s(%q) = false, want true", tc.name, s)
			}
		}
		for _, s := range tc.bad {
			if tc.check(s) {
				t.Errorf("%s(%q) = true, want false", tc.name, s)
			}
		}
	}
}
