package filter

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseWhere(f *testing.F) {
	for _, s := range []string{
		"plan=pro", "mrr>=9", "plan = pro and mrr >= 9", "a=1,b=2", "a=1 AND b=2",
		"plan exists", "trial_ends !exists", "x!exists", `name~"chen, alice"`, `q="say \"hi\" \\o/"`,
		"status=paid", "status exists", "last_seen>=2026-03-01", "first_seen<2026-03-29T10:00:00+02:00",
		"a=-0.5e3", "a=012", "flag=true", "a=and", "a=1 and and=2", "name=Alice Chen , plan=pro",
		"plan=", "=x", "plan ==x", "plan >", `"unterminated`, `plan="unterminated`, "a=1,,b=2",
		"a=1 and", "pl@n=1", "a=2026-02-30", "a=1e999", "a=\xff", "last_seen>30d", `a="x\n"`,
		strings.Repeat("a=1,", 21), "ref~42", `a=""`, "x=1 and exists exists",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := ParseWhere(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError", err)
			}
			if se.Pos < 1 || se.Pos > len(src)+1 || se.Msg == "" {
				t.Fatalf("error %q has position %d out of 1..%d", err, se.Pos, len(src)+1)
			}
			return
		}
		if e.Source != src || len(e.Conds) == 0 || len(e.Conds) > MaxConds {
			t.Fatalf("Expr %#v for %q", e, src)
		}
		for _, c := range e.Conds {
			checkCond(t, src, c)
		}

		canon := e.String()
		back, err := ParseWhere(canon)
		if err != nil {
			// The canonical form spells out ", " and " !exists", so it may
			// outgrow the length limit; nothing else may fail.
			var se *SyntaxError
			if len(canon) > MaxWhereLen && errors.As(err, &se) && se.Pos == MaxWhereLen+1 {
				return
			}
			t.Fatalf("re-parse of canonical %q (from %q): %v", canon, src, err)
		}
		if !back.Equal(e) {
			t.Fatalf("canonical %q of %q re-parses differently:\n got %#v\nwant %#v", canon, src, back.Conds, e.Conds)
		}
		if again := back.String(); again != canon {
			t.Fatalf("canonical form is not stable: %q then %q", canon, again)
		}
	})
}

func checkCond(t *testing.T, src string, c Cond) {
	t.Helper()
	if c.Pos < 1 || c.Pos > len(src) || !strings.HasPrefix(src[c.Pos-1:], c.Key) {
		t.Fatalf("Cond %#v: Pos does not point at its key in %q", c, src)
	}
	if c.Key == "" || len(c.Key) > MaxKeyLen {
		t.Fatalf("Cond %#v: bad key length", c)
	}
	for i := 0; i < len(c.Key); i++ {
		if !isKeyChar(c.Key[i]) {
			t.Fatalf("Cond %#v: bad key", c)
		}
	}
	if c.Op < Eq || c.Op > NotExists {
		t.Fatalf("Cond %#v: bad op", c)
	}
	if c.Op.HasValue() == (c.Value.Kind == NoValue) {
		t.Fatalf("Cond %#v: op and value disagree", c)
	}
	if !utf8.ValidString(c.Value.Text) {
		t.Fatalf("Cond %#v: invalid UTF-8 value", c)
	}
	switch c.Field() {
	case FieldStatus:
		if c.Op.HasValue() && !IsStatus(c.Value.Text) {
			t.Fatalf("Cond %#v: status value is not a token", c)
		}
	case FieldFirstSeen, FieldLastSeen:
		if c.Value.Kind != Date {
			t.Fatalf("Cond %#v: time key without a date", c)
		}
	}
	if c.Op == Contains && (c.Value.Kind != Text || c.Value.Text == "") {
		t.Fatalf("Cond %#v: ~ without non-empty text", c)
	}
}
