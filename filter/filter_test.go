package filter

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFromQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query string
		want  Filter
	}{
		{"", Filter{}},
		{"limit=10&cursor=abc&format=csv", Filter{}},
		{"project=app-a&project=app-b", Filter{Projects: []string{"app-a", "app-b"}}},
		{"project=app-a,app-b&project=app-a", Filter{Projects: []string{"app-a", "app-b"}}},
		{"not_project=app-c", Filter{NotProjects: []string{"app-c"}}},
		{"min_projects=2", Filter{MinProjects: 2}},
		{"min_projects=0", Filter{}},
		{"status=paid&status=trialing,free", Filter{Statuses: []string{"paid", "trialing", "free"}}},
		{"where=mrr>%3D9", Filter{Where: []Expr{{Source: "mrr>=9", Conds: []Cond{{Key: "mrr", Op: Ge, Value: num("9", 9), Pos: 1}}}}}},
		{"q=Alice", Filter{Search: "Alice"}},
		{"q=", Filter{}},
		{"active_within=7d&inactive_for=12h", Filter{ActiveWithin: 7 * day, InactiveFor: 12 * time.Hour}},
		{"inactive_for=30d", Filter{InactiveFor: 30 * day}},
		{"sort=mrr", Filter{Sort: Sort{Key: SortMRR}}},
		{"sort=-email", Filter{Sort: Sort{Key: SortEmail, Reverse: true}}},
		{"sort=last_seen", Filter{Sort: Sort{Key: SortLastSeen}}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := FromQuery(q)
			if err != nil {
				t.Fatalf("FromQuery(%s): %v", tt.query, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromQuery(%s)\n got %#v\nwant %#v", tt.query, got, tt.want)
			}
		})
	}
}

func TestFromQueryErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query url.Values
		param string
		want  string // the whole Error()
	}{
		{url.Values{"min_projects": {"-1"}}, "min_projects", "min_projects: must be a whole number ≥ 0"},
		{url.Values{"min_projects": {"two"}}, "min_projects", "min_projects: must be a whole number ≥ 0"},
		{url.Values{"min_projects": {"2.5"}}, "min_projects", "min_projects: must be a whole number ≥ 0"},
		{url.Values{"min_projects": {""}}, "min_projects", "min_projects: must be a whole number ≥ 0"},
		{url.Values{"min_projects": {"1001"}}, "min_projects", "min_projects: must be at most 1000"},
		{url.Values{"min_projects": {"99999999999999999999999"}}, "min_projects", "min_projects: must be at most 1000"},
		{url.Values{"min_projects": {"2", "3"}}, "min_projects", "min_projects: given more than once"},
		{url.Values{"project": {"App-A"}}, "project", `project: "App-A" is not a project slug (lowercase letters, digits and "-", at most 40)`},
		{url.Values{"project": {""}}, "project", `project: "" is not a project slug (lowercase letters, digits and "-", at most 40)`},
		{url.Values{"project": {"a,,b"}}, "project", `project: "" is not a project slug (lowercase letters, digits and "-", at most 40)`},
		{url.Values{"project": {strings.Repeat("a", 41)}}, "project", `project: "` + strings.Repeat("a", 41) + `" is not a project slug (lowercase letters, digits and "-", at most 40)`},
		{url.Values{"project": {manySlugs(51)}}, "project", "project: at most 50 projects"},
		{url.Values{"not_project": {"a_b"}}, "not_project", `not_project: "a_b" is not a project slug (lowercase letters, digits and "-", at most 40)`},
		{url.Values{"not_project": {manySlugs(51)}}, "not_project", "not_project: at most 50 projects"},
		{url.Values{"project": {"a"}, "not_project": {"b", "a"}}, "not_project", `not_project: "a" is also in project; a customer cannot be both in and not in it`},
		{url.Values{"status": {"Paid"}}, "status", `status: "Paid" is not a status token (lowercase letters, digits, "_" and "-", at most 32)`},
		{url.Values{"status": {manySlugs(51)}}, "status", "status: at most 50 statuses"},
		{url.Values{"where": {"plan x"}}, "where", `where: position 6: expected an operator (=, !=, >, >=, <, <=, ~, exists, !exists) after "plan", found "x"`},
		{url.Values{"where": {"a=1", "plan="}}, "where", `where: expression 2, position 6: expected a value after "="`},
		{url.Values{"where": slices.Repeat([]string{"a=1"}, 11)}, "where", "where: at most 10 expressions"},
		{url.Values{"q": {strings.Repeat("é", 257)}}, "q", "q: must be at most 256 characters"},
		{url.Values{"q": {"a\x00b"}}, "q", "q: must not contain control characters"},
		{url.Values{"q": {"a\xffb"}}, "q", "q: must be valid UTF-8"},
		{url.Values{"q": {"a", "b"}}, "q", "q: given more than once"},
		{url.Values{"active_within": {"7x"}}, "active_within", `active_within: "7x" is not an age; use a positive age like 7d, 2w, 12h or 90m`},
		{url.Values{"active_within": {""}}, "active_within", `active_within: "" is not an age; use a positive age like 7d, 2w, 12h or 90m`},
		{url.Values{"inactive_for": {"0d"}}, "inactive_for", `inactive_for: "0d" is not an age; it must be greater than zero, like 7d`},
		{url.Values{"active_within": {"7d"}, "inactive_for": {"30d"}}, "inactive_for", "inactive_for: must be shorter than active_within when both are given (seen between active_within and inactive_for ago)"},
		{url.Values{"sort": {"price"}}, "sort", `sort: "price" is not a sort key; use one of last_seen, email, name, projects, mrr, first_seen, with "-" in front to reverse`},
		{url.Values{"sort": {"--mrr"}}, "sort", `sort: "--mrr" is not a sort key; use one of last_seen, email, name, projects, mrr, first_seen, with "-" in front to reverse`},
		{url.Values{"sort": {""}}, "sort", `sort: "" is not a sort key; use one of last_seen, email, name, projects, mrr, first_seen, with "-" in front to reverse`},
		{url.Values{"sort": {"MRR"}}, "sort", `sort: "MRR" is not a sort key; use one of last_seen, email, name, projects, mrr, first_seen, with "-" in front to reverse`},
	}
	for _, tt := range tests {
		t.Run(tt.query.Encode(), func(t *testing.T) {
			t.Parallel()
			f, err := FromQuery(tt.query)
			if err == nil {
				t.Fatalf("FromQuery = %#v, want an error", f)
			}
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *ParamError", err, err)
			}
			if pe.Param != tt.param || err.Error() != tt.want {
				t.Errorf("error = %q (param %q)\nwant   %q (param %q)", err, pe.Param, tt.want, tt.param)
			}
			var se *SyntaxError
			if errors.As(err, &se) != (tt.param == "where" && !strings.Contains(tt.want, "at most")) {
				t.Errorf("errors.As(*SyntaxError) = %v for %v", se != nil, err)
			}
		})
	}
}

func manySlugs(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("p%d", i)
	}
	return strings.Join(s, ",")
}

// TestQueryRoundTrip checks FromQuery(f.Query()) == f, through a real URL,
// over random valid filters.
func TestQueryRoundTrip(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	slugs := []string{"app-a", "app-b", "app-c", "newsletter", "link-in-bio", "x", "9"}
	statuses := []string{"paid", "trialing", "free", "churned", "past_due", "a-b_c"}
	wheres := []string{
		"mrr>=9", "plan=starter", "plan = pro and mrr >= 9", `name~"chen, alice"`, "trial_ends !exists",
		"status=paid, last_seen>=2026-03-01", "flag=true AND n=-0.5e3", `q="say \"hi\""`, " padded = yes ",
		"t<2026-03-29T10:00:00+02:00", "url=https://x.io/?a=b&c=d", "a = ünï ", "plan exists",
	}
	searches := []string{"alice", "Alice Chen", "a&b=c", "100%_", "✓ ünï", " spaced ", "+plus"}
	ages := []time.Duration{time.Second, 90 * time.Minute, 12 * time.Hour, 7 * day, 30 * day, 14 * day, 1500 * time.Millisecond}
	pick := func(pool []string, n int) []string {
		var out []string
		for _, i := range r.Perm(len(pool))[:n] {
			out = append(out, pool[i])
		}
		return out
	}
	for i := range 500 {
		var f Filter
		all := pick(slugs, r.IntN(len(slugs)+1))
		split := r.IntN(len(all) + 1)
		f.Projects, f.NotProjects = all[:split:split], all[split:]
		if len(f.Projects) == 0 {
			f.Projects = nil
		}
		if len(f.NotProjects) == 0 {
			f.NotProjects = nil
		}
		if r.IntN(2) == 0 {
			f.MinProjects = r.IntN(MaxMinProjects + 1)
		}
		f.Statuses = pick(statuses, r.IntN(3))
		for _, src := range pick(wheres, r.IntN(4)) {
			e, err := ParseWhere(src)
			if err != nil {
				t.Fatal(err)
			}
			f.Where = append(f.Where, e)
		}
		if r.IntN(2) == 0 {
			f.Search = searches[r.IntN(len(searches))]
		}
		if r.IntN(2) == 0 {
			f.ActiveWithin = ages[r.IntN(len(ages))]
		}
		if r.IntN(2) == 0 {
			f.InactiveFor = ages[r.IntN(len(ages))]
			if f.ActiveWithin > 0 && f.InactiveFor >= f.ActiveWithin {
				f.InactiveFor = 0
			}
		}
		if r.IntN(3) > 0 {
			keys := SortKeys()
			f.Sort = Sort{Key: keys[r.IntN(len(keys))], Reverse: r.IntN(2) == 0}
		}
		if len(f.Statuses) == 0 {
			f.Statuses = nil
		}

		raw := f.Query().Encode()
		q, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatal(err)
		}
		got, err := FromQuery(q)
		if err != nil {
			t.Fatalf("case %d: FromQuery(%s): %v", i, raw, err)
		}
		if !reflect.DeepEqual(got, f) {
			t.Fatalf("case %d: round trip through %s\n got %#v\nwant %#v", i, raw, got, f)
		}
		if err := f.Validate(); err != nil {
			t.Fatalf("case %d: Validate: %v", i, err)
		}
		for k := range q {
			if !slices.Contains(KnownParams(), k) {
				t.Fatalf("Query() emits %q, which is not in KnownParams", k)
			}
		}
	}
}

func TestQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    Filter
		want string
	}{
		{"zero", Filter{}, ""},
		{"full", Filter{
			Projects:     []string{"app-b", "app-a"},
			NotProjects:  []string{"app-c"},
			MinProjects:  2,
			Statuses:     []string{"paid"},
			Where:        []Expr{mustParse(t, "mrr >= 9"), {Conds: []Cond{{Key: "plan", Op: Eq, Value: text("Pro Plus")}}}},
			Search:       "alice",
			ActiveWithin: 14 * day,
			InactiveFor:  36 * time.Hour,
			Sort:         Sort{Key: SortEmail, Reverse: true},
		}, "active_within=14d&inactive_for=36h&min_projects=2&not_project=app-c&project=app-b&project=app-a&q=alice&sort=-email&status=paid&where=mrr+%3E%3D+9&where=plan%3DPro+Plus"},
		{"default sort key reversed", Filter{Sort: Sort{Reverse: true}}, "sort=-last_seen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.f.Query().Encode(); got != tt.want {
				t.Errorf("Query() = %s\nwant      %s", got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		f     Filter
		param string // "" for valid
	}{
		{"zero", Filter{}, ""},
		{"multi-project", Filter{MinProjects: 2}, ""},
		{"negative min", Filter{MinProjects: -1}, "min_projects"},
		{"bad slug", Filter{Projects: []string{"App A"}}, "project"},
		{"bad status", Filter{Statuses: []string{"PAID"}}, "status"},
		{"negative age", Filter{ActiveWithin: -time.Hour}, "active_within"},
		{"bad sort", Filter{Sort: Sort{Key: "price"}}, "sort"},
		{"bad hand-built where", Filter{Where: []Expr{{Conds: []Cond{{Key: "last_seen", Op: Gt, Value: text("yesterday")}}}}}, "where"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.f.Validate()
			var pe *ParamError
			switch {
			case tt.param == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.param != "" && (!errors.As(err, &pe) || pe.Param != tt.param):
				t.Errorf("Validate() = %v, want a ParamError for %s", err, tt.param)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    Filter
		want string
	}{
		{"zero", Filter{}, ""},
		{"default sort", Filter{Sort: Sort{Key: SortLastSeen}}, ""},
		{"spec example", Filter{
			Projects:    []string{"app-a"},
			MinProjects: 2,
			Statuses:    []string{"paid"},
			Where:       []Expr{mustParse(t, "mrr >= 9")},
			Search:      "alice",
		}, `project:app-a · 2+ projects · status:paid · mrr>=9 · "alice"`},
		{"everything", Filter{
			Projects:     []string{"app-a", "app-b"},
			NotProjects:  []string{"app-c"},
			MinProjects:  3,
			Statuses:     []string{"paid", "trialing"},
			Where:        []Expr{mustParse(t, "plan = pro and mrr>=9"), mustParse(t, `name ~ "chen, a"`)},
			Search:       `say "hi"`,
			ActiveWithin: 30 * day,
			InactiveFor:  7 * day,
			Sort:         Sort{Key: SortMRR, Reverse: true},
		}, `project:app-a · project:app-b · -project:app-c · 3+ projects · status:paid,trialing · plan=pro, mrr>=9 · name~"chen, a" · "say \"hi\"" · active within 30d · inactive for 7d · sort:-mrr`},
		{"oldest first", Filter{Sort: Sort{Reverse: true}}, "sort:-last_seen"},
		{"by email", Filter{Sort: Sort{Key: SortEmail}}, "sort:email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.f.Describe(); got != tt.want {
				t.Errorf("Describe() = %q\nwant         %q", got, tt.want)
			}
		})
	}
}

func TestSort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		param  string
		column SortKey
		desc   bool
	}{
		{"", SortLastSeen, true},
		{"last_seen", SortLastSeen, true},
		{"-last_seen", SortLastSeen, false},
		{"first_seen", SortFirstSeen, true},
		{"-first_seen", SortFirstSeen, false},
		{"projects", SortProjects, true},
		{"-projects", SortProjects, false},
		{"mrr", SortMRR, true},
		{"-mrr", SortMRR, false},
		{"email", SortEmail, false},
		{"-email", SortEmail, true},
		{"name", SortName, false},
		{"-name", SortName, true},
	}
	for _, tt := range tests {
		t.Run(tt.param, func(t *testing.T) {
			t.Parallel()
			var s Sort
			if tt.param != "" {
				var err error
				if s, err = ParseSort(tt.param); err != nil {
					t.Fatal(err)
				}
			}
			if s.Column() != tt.column || s.Desc() != tt.desc || s.String() != tt.param {
				t.Errorf("ParseSort(%q) = %+v: Column %q, Desc %v, String %q; want %q, %v, %q",
					tt.param, s, s.Column(), s.Desc(), s.String(), tt.column, tt.desc, tt.param)
			}
		})
	}
}

func TestKnownParams(t *testing.T) {
	t.Parallel()
	got := KnownParams()
	want := []string{"project", "not_project", "min_projects", "status", "where", "q", "active_within", "inactive_for", "sort"}
	if !slices.Equal(got, want) {
		t.Errorf("KnownParams() = %v, want %v", got, want)
	}
	got[0] = "changed"
	if KnownParams()[0] != "project" {
		t.Error("KnownParams shares its slice between calls")
	}
}
