package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// portfolio is a small workspace with known answers: three projects with
// members, one empty project, and seven people whose statuses, params and
// activity cover every filter. Times are relative to the test's start, so
// active_within and inactive_for have fixed answers too.
//
//	person  app-a                  app-b                     app-c                        last seen
//	alice   paid  plan=pro mrr=9   free  source,referral     trialing trial_ends,starter  1h
//	bob     free  plan=free mrr=0  paid  plan=team mrr=29    -                            2d
//	carol   -                      trialing trial_ends=bad   trialing mrr="12" (text)     5d
//	dave    paid  mrr=49 seats flag=true                     -                            100d
//	erin    churned mrr=0          -                         paid mrr=19.5 "Pro Plus"     25h
//	frank   -                      free (60d)                free (50d)                   50d
//	gina    -                      (no status) note,renewal  -                            10d
type portfolio struct {
	*env
	start time.Time
	keys  map[string]string // slug → project key
}

// in returns the portfolio with its helpers reporting to t, for subtests.
func (p *portfolio) in(t *testing.T) *portfolio {
	e := *p.env
	e.t = t
	return &portfolio{env: &e, start: p.start, keys: p.keys}
}

// Orders of the seven people by each sort key in its natural direction
// (ties by id, newest first; ids follow the order people first appear).
var portfolioOrder = map[string][]string{
	"last_seen":  {"alice", "erin", "bob", "carol", "gina", "frank", "dave"},
	"first_seen": {"alice", "erin", "carol", "gina", "bob", "frank", "dave"},
	"email":      {"alice", "bob", "carol", "dave", "erin", "frank", "gina"},
	"name":       {"frank", "alice", "bob", "carol", "dave", "erin", "gina"},
	"projects":   {"alice", "frank", "erin", "carol", "bob", "gina", "dave"},
	"mrr":        {"dave", "bob", "erin", "alice", "gina", "frank", "carol"},
}

func newPortfolio(t *testing.T) *portfolio {
	t.Helper()
	e := setup(t)
	p := &portfolio{env: e, start: time.Now(), keys: map[string]string{}}
	for _, name := range []string{"App A", "App B", "App C", "App D"} {
		slug, key := e.project(name)
		p.keys[slug] = key
	}
	ago := func(d time.Duration) string { return p.start.Add(-d).UTC().Format(time.RFC3339Nano) }
	const day = 24 * time.Hour
	for _, c := range []struct {
		project string
		body    map[string]any
	}{
		{"app-a", map[string]any{"email": "alice@example.com", "name": "Alice Chen", "status": "paid", "params": map[string]any{"plan": "pro", "mrr": 9}, "timestamp": ago(time.Hour)}},
		{"app-b", map[string]any{"email": "alice@example.com", "status": "free", "params": map[string]any{"source": "producthunt", "referral": "friend42"}, "timestamp": ago(2 * time.Hour)}},
		{"app-c", map[string]any{"email": "alice@example.com", "status": "trialing", "params": map[string]any{"trial_ends": "2026-03-29", "plan": "starter"}, "timestamp": ago(3 * time.Hour)}},
		{"app-a", map[string]any{"email": "bob@example.com", "name": "Bob Stone", "status": "free", "params": map[string]any{"plan": "free", "mrr": 0}, "timestamp": ago(40 * day)}},
		{"app-b", map[string]any{"email": "bob@example.com", "status": "paid", "params": map[string]any{"plan": "team", "mrr": 29}, "timestamp": ago(2 * day)}},
		{"app-b", map[string]any{"email": "carol@example.com", "name": "Carol Diaz", "status": "trialing", "params": map[string]any{"trial_ends": "2026-02-30"}, "timestamp": ago(5 * day)}},
		{"app-c", map[string]any{"email": "carol@example.com", "status": "trialing", "params": map[string]any{"mrr": "12"}, "timestamp": ago(6 * day)}},
		{"app-a", map[string]any{"email": "dave@example.com", "name": "Dave", "status": "paid", "params": map[string]any{"mrr": 49, "seats": 5, "flag": true}, "timestamp": ago(100 * day)}},
		{"app-a", map[string]any{"email": "erin@example.com", "name": "Erin Park", "status": "churned", "params": map[string]any{"mrr": 0}, "timestamp": ago(26 * time.Hour)}},
		{"app-c", map[string]any{"email": "erin@example.com", "status": "paid", "params": map[string]any{"mrr": 19.5, "plan": "Pro Plus"}, "timestamp": ago(25 * time.Hour)}},
		{"app-c", map[string]any{"email": "frank@example.com", "status": "free", "timestamp": ago(50 * day)}},
		{"app-b", map[string]any{"email": "frank@example.com", "status": "free", "timestamp": ago(60 * day)}},
		{"app-b", map[string]any{"email": "gina@example.org", "name": "Gina_100%", "params": map[string]any{"note": "likes 50% off", "renewal": "2026-04-01T10:00:00Z"}, "timestamp": ago(10 * day)}},
	} {
		e.identify(p.keys[c.project], c.body)
	}
	return p
}

// pageJSON is a page of customers as the API returns it.
type pageJSON struct {
	Customers  []customerJSON `json:"customers"`
	NextCursor *string        `json:"next_cursor"`
}

// list gets one page and fails the test unless it is a 200.
func (e *env) list(path string, query url.Values) pageJSON {
	e.t.Helper()
	r := e.do("GET", path+"?"+query.Encode(), e.admin, nil).must(e.t, http.StatusOK)
	var p pageJSON
	if err := json.Unmarshal(r.Raw, &p); err != nil {
		e.t.Fatal(err)
	}
	if p.Customers == nil {
		e.t.Fatalf("customers is null, want an array: %s", r.Raw)
	}
	return p
}

// people are the local parts of the customers' emails.
func people(cs []customerJSON) []string {
	out := []string{}
	for _, c := range cs {
		local, _, _ := strings.Cut(c.Email, "@")
		out = append(out, local)
	}
	return out
}

// walk follows next_cursor from the first page to the last and returns
// everyone in order; between pages it calls between(page number).
func (e *env) walk(path string, query url.Values, between func(int)) []string {
	e.t.Helper()
	var all []string
	for n := 0; ; n++ {
		p := e.list(path, query)
		all = append(all, people(p.Customers)...)
		if p.NextCursor == nil {
			return all
		}
		if n > 100 {
			e.t.Fatalf("more than 100 pages")
		}
		if between != nil {
			between(n)
		}
		query = cloneValues(query)
		query.Set("cursor", *p.NextCursor)
	}
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

// qs builds query parameters from pairs: qs("project", "a", "where", "x").
func qs(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Add(kv[i], kv[i+1])
	}
	return q
}

func TestCustomerFilters(t *testing.T) {
	t.Parallel()
	p := newPortfolio(t)
	at := func(d time.Duration) string { return p.start.Add(-d).UTC().Format(time.RFC3339) }
	const day = 24 * time.Hour
	for _, tc := range []struct {
		name  string
		query url.Values
		want  []string // in the default order, last_seen newest first
	}{
		{"no filter", qs(), portfolioOrder["last_seen"]},

		{"project", qs("project", "app-a"), []string{"alice", "erin", "bob", "dave"}},
		{"every listed project", qs("project", "app-a", "project", "app-b"), []string{"alice", "bob"}},
		{"comma-separated projects", qs("project", "app-a,app-c"), []string{"alice", "erin"}},
		{"empty project matches nobody", qs("project", "app-d"), []string{}},
		{"not_project", qs("not_project", "app-a"), []string{"carol", "gina", "frank"}},
		{"not_project of several", qs("not_project", "app-a,app-c"), []string{"gina"}},
		{"project and not_project", qs("project", "app-b", "not_project", "app-c"), []string{"bob", "gina"}},
		{"min_projects 2 (multi-project)", qs("min_projects", "2"), []string{"alice", "erin", "bob", "carol", "frank"}},
		{"min_projects 3", qs("min_projects", "3"), []string{"alice"}},
		{"min_projects 0 is no condition", qs("min_projects", "0"), portfolioOrder["last_seen"]},

		{"status", qs("status", "paid"), []string{"alice", "erin", "bob", "dave"}},
		{"status in project scope", qs("status", "paid", "project", "app-a"), []string{"alice", "dave"}},
		{"status outside the scope does not count", qs("status", "paid", "project", "app-b"), []string{"bob"}},
		{"any of several statuses", qs("status", "free,trialing"), []string{"alice", "bob", "carol", "frank"}},
		{"repeated status", qs("status", "churned", "status", "trialing"), []string{"alice", "erin", "carol"}},

		{"where number >=", qs("where", "mrr>=9"), []string{"alice", "erin", "bob", "dave"}},
		{"where number >", qs("where", "mrr>9"), []string{"erin", "bob", "dave"}},
		{"where number = (decimal)", qs("where", "mrr=19.5"), []string{"erin"}},
		{"where number = compares numerically", qs("where", "mrr=9.0"), []string{"alice"}},
		{"where number = 0", qs("where", "mrr=0"), []string{"erin", "bob"}},
		{"where number != needs a number", qs("where", "mrr!=0"), []string{"alice", "erin", "bob", "dave"}},
		{"where number < skips text values", qs("where", "mrr<20"), []string{"alice", "erin", "bob"}},
		{"where number does not match a string", qs("where", "mrr=12"), []string{}},
		{"where quoted text matches the string", qs("where", `mrr="12"`), []string{"carol"}},
		{"where text =", qs("where", "plan=starter"), []string{"alice"}},
		{"where text = is exact", qs("where", "plan=pro"), []string{"alice"}},
		{"where text = with spaces", qs("where", "plan=Pro Plus"), []string{"erin"}},
		{"where text !=", qs("where", "plan!=pro"), []string{"alice", "erin", "bob"}},
		{"where text ordering", qs("where", "plan>r"), []string{"alice", "bob"}},
		{"where ~ is case-insensitive substring", qs("where", "plan~PRO"), []string{"alice", "erin"}},
		{"where ~ on a number's text", qs("where", "mrr~9."), []string{"erin"}},
		{"where ~ with LIKE wildcards is literal", qs("where", "note~50%"), []string{"gina"}},
		{"where ~ with underscore is literal", qs("where", "referral~d_"), []string{}},
		{"where exists", qs("where", "plan exists"), []string{"alice", "erin", "bob"}},
		{"where !exists", qs("where", "plan !exists"), []string{"alice", "erin", "carol", "gina", "frank", "dave"}},
		{"where !exists in scope", qs("where", "plan !exists", "project", "app-a"), []string{"erin", "dave"}},
		{"where boolean compares by text", qs("where", "flag=true"), []string{"dave"}},
		{"where date <", qs("where", "trial_ends<2026-04-01"), []string{"alice"}},
		{"where date = is the whole day", qs("where", "trial_ends=2026-03-29"), []string{"alice"}},
		{"where date > is after the day", qs("where", "trial_ends>2026-03-29"), []string{}},
		{"where date >=", qs("where", "trial_ends>=2026-03-29"), []string{"alice"}},
		{"where date != skips invalid dates", qs("where", "trial_ends!=2026-01-01"), []string{"alice"}},
		{"where timestamp value", qs("where", "renewal>2026-04-01T09:00:00Z"), []string{"gina"}},
		{"where timestamp equality", qs("where", "renewal=2026-04-01T12:00:00+02:00"), []string{"gina"}},
		{"where stored timestamp within a day", qs("where", "renewal=2026-04-01"), []string{"gina"}},
		{"where stored timestamp < day", qs("where", "renewal<2026-04-01"), []string{}},
		{"where stored timestamp <= day", qs("where", "renewal<=2026-04-01"), []string{"gina"}},
		{"where conditions hold for one membership", qs("where", "status=paid, mrr>=20"), []string{"bob", "dave"}},
		{"where conditions joined by and", qs("where", "status=free and mrr>=20"), []string{}},
		{"several where-expressions may use different memberships", qs("where", "status=free", "where", "mrr>=20"), []string{"bob"}},
		{"where reserved status =", qs("where", "status=churned"), []string{"erin"}},
		{"where reserved status != needs a status", qs("where", "status!=paid"), []string{"alice", "erin", "bob", "carol", "frank"}},
		{"where reserved status !exists", qs("where", "status !exists"), []string{"gina"}},
		{"where reserved status exists in scope", qs("where", "status exists", "project", "app-b"), []string{"alice", "bob", "carol", "frank"}},
		{"where reserved status ~", qs("where", "status~trial"), []string{"alice", "carol"}},
		{"where reserved last_seen", qs("where", "last_seen<"+at(30*day)), []string{"bob", "frank", "dave"}},
		{"where reserved first_seen", qs("where", "first_seen>="+at(day)), []string{"alice"}},
		{"where reserved last_seen in scope", qs("where", "last_seen<"+at(30*day), "project", "app-b"), []string{"frank"}},

		{"q on name", qs("q", "chen"), []string{"alice"}},
		{"q is case-insensitive", qs("q", "CHEN"), []string{"alice"}},
		{"q on email", qs("q", "example.org"), []string{"gina"}},
		{"q escapes LIKE wildcards", qs("q", "_100%"), []string{"gina"}},
		{"q percent alone is literal", qs("q", "%"), []string{"gina"}},
		{"q never spans email and name", qs("q", "comalice"), []string{}},
		{"empty q is no search", qs("q", ""), portfolioOrder["last_seen"]},

		{"active_within", qs("active_within", "7d"), []string{"alice", "erin", "bob", "carol"}},
		{"inactive_for", qs("inactive_for", "30d"), []string{"frank", "dave"}},
		{"between active_within and inactive_for", qs("active_within", "30d", "inactive_for", "7d"), []string{"gina"}},

		{"combined: project, status and q", qs("project", "app-b", "status", "free", "q", "example.com"), []string{"alice", "frank"}},
		{"combined: multi, where, active, sort", qs("min_projects", "2", "where", "mrr>0", "active_within", "7d", "sort", "email"), []string{"alice", "bob", "erin"}},
		{"combined: not_project, where, inactive", qs("not_project", "app-c", "where", "mrr exists", "inactive_for", "1d"), []string{"bob", "dave"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := people(p.in(t).list("/v1/customers", tc.query).Customers)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("%s: got %v, want %v", tc.query.Encode(), got, tc.want)
			}
		})
	}
}

func TestCustomerSortsAndPages(t *testing.T) {
	t.Parallel()
	p := newPortfolio(t)
	for key, natural := range portfolioOrder {
		reversed := slices.Clone(natural)
		slices.Reverse(reversed)
		for _, tc := range []struct {
			sort string
			want []string
		}{{key, natural}, {"-" + key, reversed}} {
			for _, limit := range []string{"1", "2", "3", "7", "500"} {
				t.Run(tc.sort+"/limit="+limit, func(t *testing.T) {
					t.Parallel()
					got := p.in(t).walk("/v1/customers", qs("sort", tc.sort, "limit", limit), nil)
					if !slices.Equal(got, tc.want) {
						t.Fatalf("got %v, want %v", got, tc.want)
					}
				})
			}
		}
	}
	t.Run("default sort is last_seen, newest first", func(t *testing.T) {
		t.Parallel()
		p := p.in(t)
		if got := people(p.list("/v1/customers", qs()).Customers); !slices.Equal(got, portfolioOrder["last_seen"]) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("pages of a filter", func(t *testing.T) {
		t.Parallel()
		got := p.in(t).walk("/v1/customers", qs("where", "mrr>=0", "sort", "-mrr", "limit", "1"), nil)
		if want := []string{"alice", "erin", "bob", "dave"}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("last page has a null cursor, full pages a cursor", func(t *testing.T) {
		t.Parallel()
		p := p.in(t)
		first := p.list("/v1/customers", qs("limit", "7"))
		if len(first.Customers) != 7 || first.NextCursor != nil {
			t.Fatalf("exactly one full page: %d customers, cursor %v", len(first.Customers), first.NextCursor)
		}
		r := p.do("GET", "/v1/customers?limit=3", p.admin, nil).must(t, http.StatusOK)
		if !strings.Contains(string(r.Raw), `"next_cursor":"`) {
			t.Fatalf("no next_cursor string: %s", r.Raw)
		}
		r = p.do("GET", "/v1/customers?project=app-d", p.admin, nil).must(t, http.StatusOK)
		if string(r.Raw) != "{\"customers\":[],\"next_cursor\":null}\n" {
			t.Fatalf("empty page %s", r.Raw)
		}
	})
}

// TestPagesSurviveInserts walks pages while new customers arrive before,
// inside and after the walked range: every original customer comes exactly
// once, in order.
func TestPagesSurviveInserts(t *testing.T) {
	t.Parallel()
	for _, sort := range []string{"last_seen", "-last_seen", "email", "-email", "name", "mrr", "-projects", "first_seen"} {
		t.Run(sort, func(t *testing.T) {
			t.Parallel()
			p := newPortfolio(t)
			old := p.start.Add(-300 * 24 * time.Hour).UTC().Format(time.RFC3339)
			inserted := 0
			got := p.walk("/v1/customers", qs("sort", sort, "limit", "2"), func(n int) {
				if n > 2 {
					return
				}
				for _, email := range []string{"aaa", "mmm", "zzz"} {
					inserted++
					body := map[string]any{"email": email + strconv.Itoa(inserted) + "@new.example", "name": strings.ToUpper(email),
						"status": "paid", "params": map[string]any{"mrr": inserted * 7}}
					if inserted%2 == 0 {
						body["timestamp"] = old
					}
					p.identify(p.keys["app-d"], body)
				}
			})
			var originals []string
			for _, who := range got {
				if !strings.HasPrefix(who, "aaa") && !strings.HasPrefix(who, "mmm") && !strings.HasPrefix(who, "zzz") {
					originals = append(originals, who)
				}
			}
			key := strings.TrimPrefix(sort, "-")
			want := slices.Clone(portfolioOrder[key])
			if strings.HasPrefix(sort, "-") {
				slices.Reverse(want)
			}
			if !slices.Equal(originals, want) {
				t.Fatalf("originals %v, want %v (whole walk %v)", originals, want, got)
			}
			seen := map[string]bool{}
			for _, who := range got {
				if seen[who] {
					t.Fatalf("%s twice in %v", who, got)
				}
				seen[who] = true
			}
		})
	}
}

func TestCustomerListRejectsBadParameters(t *testing.T) {
	t.Parallel()
	p := newPortfolio(t)
	first := p.list("/v1/customers", qs("limit", "2", "sort", "email"))
	cursor := *first.NextCursor
	tampered := []byte(cursor)
	tampered[len(tampered)/2] ^= 1
	if tampered[len(tampered)/2] == '-' || tampered[len(tampered)/2] == '_' {
		tampered[len(tampered)/2] = 'A'
	}
	for _, tc := range []struct {
		name   string
		query  url.Values
		field  string
		detail string // a substring of the detail
	}{
		{"limit 0", qs("limit", "0"), "limit", "1 to 500"},
		{"limit too big", qs("limit", "501"), "limit", "1 to 500"},
		{"limit not a number", qs("limit", "ten"), "limit", ""},
		{"limit signed", qs("limit", "+5"), "limit", ""},
		{"limit twice", qs("limit", "5", "limit", "6"), "limit", "more than once"},
		{"cursor garbage", qs("cursor", "not a cursor!"), "cursor", "not a cursor"},
		{"cursor base64 of junk", qs("cursor", "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ"), "cursor", ""},
		{"cursor tampered", qs("sort", "email", "cursor", string(tampered)), "cursor", ""},
		{"cursor for another sort", qs("sort", "name", "cursor", cursor), "cursor", `sort="email"`},
		{"cursor for the default sort", qs("cursor", cursor), "cursor", "sort"},
		{"cursor for other filters", qs("sort", "email", "project", "app-a", "cursor", cursor), "cursor", "other filters"},
		{"cursor twice", qs("sort", "email", "cursor", cursor, "cursor", cursor), "cursor", "more than once"},
		{"unknown sort", qs("sort", "age"), "sort", "not a sort key"},
		{"sort twice", qs("sort", "email", "sort", "name"), "sort", ""},
		{"where without value", qs("where", "plan="), "where", "position 6"},
		{"where bad operator", qs("where", "mrr => 9"), "where", "position"},
		{"where second expression", qs("where", "plan=pro", "where", "mrr >"), "where", "expression 2"},
		{"where date on last_seen", qs("where", "last_seen>yesterday"), "where", "position 11"},
		{"where invalid date", qs("where", "trial_ends<2026-02-30"), "where", "not a valid date"},
		{"unknown project", qs("project", "app-x"), "project", "app-x"},
		{"unknown not_project", qs("not_project", "app-x"), "not_project", "app-x"},
		{"bad slug", qs("project", "App A"), "project", ""},
		{"project in and out", qs("project", "app-a", "not_project", "app-a"), "not_project", ""},
		{"bad min_projects", qs("min_projects", "-1"), "min_projects", ""},
		{"bad status", qs("status", "Paid"), "status", ""},
		{"bad age", qs("active_within", "soon"), "active_within", ""},
		{"unknown parameter", qs("stauts", "paid"), "stauts", "unknown query parameter"},
		{"format is not a list parameter", qs("format", "csv"), "format", "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := p.in(t)
			r := p.do("GET", "/v1/customers?"+tc.query.Encode(), p.admin, nil)
			if r.Status != http.StatusBadRequest || r.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d %q, want a 400 problem: %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
			}
			detail, _ := r.Body["detail"].(string)
			if r.Body["field"] != tc.field || !strings.Contains(detail, tc.detail) {
				t.Fatalf("problem %s, want field %q and detail with %q", r.Raw, tc.field, tc.detail)
			}
		})
	}
}

// TestCustomerJSONShape checks one listed customer field by field against
// SPEC §5, and that the list and the detail agree.
func TestCustomerJSONShape(t *testing.T) {
	t.Parallel()
	p := newPortfolio(t)
	r := p.do("GET", "/v1/customers?q=erin", p.admin, nil).must(t, http.StatusOK)
	var raw struct {
		Customers []map[string]json.RawMessage `json:"customers"`
	}
	if err := json.Unmarshal(r.Raw, &raw); err != nil || len(raw.Customers) != 1 {
		t.Fatalf("%s: %v", r.Raw, err)
	}
	var keys []string
	for k := range raw.Customers[0] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"email", "first_seen", "id", "last_seen", "mrr_total", "name", "project_count", "projects"}; !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	listed := p.list("/v1/customers", qs("q", "erin")).Customers[0]
	detail := p.customer("erin@example.com")
	detail.Timeline = nil
	a, _ := json.Marshal(listed)
	b, _ := json.Marshal(detail)
	if string(a) != string(b) {
		t.Fatalf("list %s\ndetail %s", a, b)
	}
	if listed.ProjectCount != 2 || listed.MRRTotal != 19.5 || listed.Projects[0].Slug != "app-a" || listed.Projects[0].Status != "churned" ||
		listed.Projects[1].Params["plan"] != "Pro Plus" || listed.Projects[1].Color == "" || !strings.HasSuffix(listed.LastSeen, "Z") {
		t.Fatalf("customer %+v", listed)
	}
}

// TestSearchFollowsRenames checks that search sees a customer's current
// name: the searched text lives in a side table kept by a trigger.
func TestSearchFollowsRenames(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App")
	e.identify(key, map[string]any{"email": "zoe@x.io", "name": "Zoe Old", "timestamp": "2026-01-01T00:00:00Z"})
	e.identify(key, map[string]any{"email": "max@x.io", "name": "Max Other"})
	e.identify(key, map[string]any{"email": "zoe@x.io", "name": "Zoe Newname", "timestamp": "2026-01-02T00:00:00Z"})
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"newname", []string{"zoe"}},
		{"old", []string{}},
		{"ZOE@", []string{"zoe"}},
		{"x.io", []string{"max", "zoe"}},
	} {
		got := people(e.list("/v1/customers", url.Values{"q": {tc.q}, "sort": {"email"}}).Customers)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("q=%s: %v, want %v", tc.q, got, tc.want)
		}
	}
}

// TestSearchFindsEitherSpellingOfAnAccent: names are stored NFC, as
// emails are, and q is compared NFC, so "José" typed on one platform
// finds "José" sent from another (U+00E9 or e + U+0301).
func TestSearchFindsEitherSpellingOfAnAccent(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App")
	e.identify(key, map[string]any{"email": "jose@x.io", "name": "Jose\u0301 Nu\u0301n\u0303ez"})
	if c := e.customer("jose@x.io"); c.Name != "Jos\u00e9 N\u00fa\u00f1ez" {
		t.Fatalf("stored name %q, want it NFC", c.Name)
	}
	for _, q := range []string{"Jos\u00e9", "Jose\u0301", "n\u00fa\u00f1"} {
		r := e.do("GET", "/v1/customers?q="+url.QueryEscape(q), e.admin, nil).must(t, http.StatusOK)
		if n := len(r.Body["customers"].([]any)); n != 1 {
			t.Errorf("q=%q found %d customers, want 1", q, n)
		}
	}
}

// TestCaseInsensitiveBeyondASCII: q and the where-operator ~ ignore the
// case of every letter, not only of A-Z (the managed cluster classifies
// characters in C.UTF-8; in C, "ZOË" missed "Zoë").
func TestCaseInsensitiveBeyondASCII(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App")
	e.identify(key, map[string]any{"email": "zoe@x.io", "name": "Zoë Brontë", "params": map[string]any{"city": "Łódź"}})
	e.identify(key, map[string]any{"email": "max@x.io", "name": "Max Other", "params": map[string]any{"city": "Lodz"}})
	for _, tc := range []struct {
		name string
		q    url.Values
	}{
		{"q upper case", url.Values{"q": {"ZOË"}}},
		{"q mixed case", url.Values{"q": {"bRONTË"}}},
		{"~ upper case", url.Values{"where": {"city~ŁÓDŹ"}}},
	} {
		got := people(e.list("/v1/customers", tc.q).Customers)
		if strings.Join(got, ",") != "zoe" {
			t.Errorf("%s (%v): %v, want [zoe]", tc.name, tc.q, got)
		}
	}
}
