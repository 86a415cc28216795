package tui

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
)

// testNow is the pinned clock of every test.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// fakeSource is an in-memory Source. With rows set it filters and sorts
// them (enough of SPEC §4 for the tests: projects, statuses, 2+, search,
// sort); with n set it generates n customers on demand, ordered by id, so
// a million cost nothing until asked for. Cursors are offsets.
type fakeSource struct {
	mu       sync.Mutex
	rows     []client.Customer
	n        int
	projects []client.Project
	details  map[int64]client.CustomerDetail
	err      error // every call fails with it when set
	calls    []filter.Filter
	limits   []int
	exports  []filter.Filter
}

func (s *fakeSource) Customers(_ context.Context, f filter.Filter, limit int, cursor string) (client.CustomerPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, f)
	s.limits = append(s.limits, limit)
	if s.err != nil {
		return client.CustomerPage{}, s.err
	}
	off := 0
	if cursor != "" {
		var err error
		if off, err = strconv.Atoi(cursor); err != nil {
			return client.CustomerPage{}, fmt.Errorf("bad cursor %q", cursor)
		}
	}
	var page []client.Customer
	total := 0
	if s.rows != nil {
		all := s.match(f)
		total = len(all)
		page = all[min(off, total):min(off+limit, total)]
	} else {
		total = s.n
		for i := off; i < min(off+limit, s.n); i++ {
			idx := i
			if f.Sort.Reverse {
				idx = s.n - 1 - i
			}
			page = append(page, genCustomer(idx))
		}
	}
	next := ""
	if off+limit < total {
		next = strconv.Itoa(off + limit)
	}
	return client.CustomerPage{Customers: slices.Clone(page), NextCursor: next}, nil
}

// match applies f to rows.
func (s *fakeSource) match(f filter.Filter) []client.Customer {
	var out []client.Customer
	for _, c := range s.rows {
		if matches(c, f) {
			out = append(out, c)
		}
	}
	desc := f.Sort.Desc()
	slices.SortStableFunc(out, func(a, b client.Customer) int {
		var r int
		switch f.Sort.Column() {
		case filter.SortEmail:
			r = strings.Compare(a.Email, b.Email)
		case filter.SortName:
			r = strings.Compare(a.Name, b.Name)
		case filter.SortMRR:
			r = cmp.Compare(a.MRRTotal, b.MRRTotal)
		case filter.SortProjects:
			r = cmp.Compare(a.ProjectCount, b.ProjectCount)
		case filter.SortFirstSeen:
			r = a.FirstSeen.Compare(b.FirstSeen)
		default:
			r = a.LastSeen.Compare(b.LastSeen)
		}
		if r == 0 {
			r = cmp.Compare(a.ID, b.ID)
		}
		if desc {
			r = -r
		}
		return r
	})
	return out
}

func matches(c client.Customer, f filter.Filter) bool {
	in := map[string]client.Membership{}
	for _, m := range c.Projects {
		in[m.Slug] = m
	}
	for _, p := range f.Projects {
		if _, ok := in[p]; !ok {
			return false
		}
	}
	for _, p := range f.NotProjects {
		if _, ok := in[p]; ok {
			return false
		}
	}
	if c.ProjectCount < f.MinProjects {
		return false
	}
	if len(f.Statuses) > 0 {
		ok := false
		for _, m := range c.Projects {
			if (len(f.Projects) == 0 || slices.Contains(f.Projects, m.Slug)) && slices.Contains(f.Statuses, m.Status) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	q := strings.ToLower(f.Search)
	return q == "" || strings.Contains(c.Email, q) || strings.Contains(strings.ToLower(c.Name), q)
}

func (s *fakeSource) Customer(_ context.Context, id string) (client.CustomerDetail, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return client.CustomerDetail{}, s.err
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	if d, ok := s.details[n]; ok {
		return d, nil
	}
	for _, c := range s.rows {
		if c.ID == n {
			return client.CustomerDetail{Customer: c}, nil
		}
	}
	return client.CustomerDetail{}, &client.APIError{Status: 404, Detail: "no such customer", Problem: true}
}

func (s *fakeSource) Stats(context.Context) (client.Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return client.Stats{}, s.err
	}
	st := client.Stats{Projects: int64(len(s.projects)), Customers: int64(s.n)}
	if s.rows != nil {
		st.Customers = int64(len(s.rows))
		for _, c := range s.rows {
			if c.ProjectCount >= 2 {
				st.MultiProject++
			}
		}
	}
	return st, nil
}

func (s *fakeSource) Projects(context.Context) ([]client.Project, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	return slices.Clone(s.projects), nil
}

func (s *fakeSource) Export(_ context.Context, f filter.Filter, format string) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exports = append(s.exports, f)
	if s.err != nil {
		return nil, s.err
	}
	var b strings.Builder
	b.WriteString("email,name\n")
	for _, c := range s.match(f) {
		b.WriteString(c.Email + "," + c.Name + "\n")
	}
	return io.NopCloser(strings.NewReader(b.String())), nil
}

// lastCall is the filter of the newest Customers call.
func (s *fakeSource) lastCall() (filter.Filter, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) == 0 {
		return filter.Filter{}, 0
	}
	return s.calls[len(s.calls)-1], len(s.calls)
}

var testProjects = []client.Project{
	{Slug: "app-a", Name: "App A", Color: "#E69F00", Customers: 14},
	{Slug: "app-b", Name: "App B", Color: "#56B4E9", Customers: 11},
	{Slug: "app-c", Name: "App C", Color: "#009E73", Customers: 9},
}

// genCustomer is customer i of a generated workspace: id i+1, newest first.
func genCustomer(i int) client.Customer {
	p := testProjects[i%3]
	return client.Customer{
		ID: int64(i + 1), Email: fmt.Sprintf("user%07d@example.com", i+1), Name: fmt.Sprintf("User %d", i+1),
		FirstSeen: testNow.Add(-time.Duration(i+100) * time.Minute), LastSeen: testNow.Add(-time.Duration(i) * time.Minute),
		ProjectCount: 1, MRRTotal: float64(i % 20),
		Projects: []client.Membership{{Slug: p.Slug, Name: p.Name, Color: p.Color, Status: "paid"}},
	}
}

// sampleSource is a small workspace with Alice of SPEC §10 in all three
// projects and 29 others.
func sampleSource() *fakeSource {
	member := func(p client.Project, status string, params map[string]any, ago time.Duration) client.Membership {
		return client.Membership{Slug: p.Slug, Name: p.Name, Color: p.Color, Status: status, Params: params,
			FirstSeen: testNow.Add(-ago - 40*24*time.Hour), LastSeen: testNow.Add(-ago)}
	}
	a, b, c := testProjects[0], testProjects[1], testProjects[2]
	alice := client.Customer{
		ID: 1, Email: "alice@example.com", Name: "Alice Chen", ProjectCount: 3, MRRTotal: 9,
		FirstSeen: testNow.Add(-40 * 24 * time.Hour), LastSeen: testNow.Add(-10 * time.Second),
		Projects: []client.Membership{
			member(a, "paid", map[string]any{"plan": "pro", "mrr": 9.0}, 10*time.Second),
			member(b, "free", map[string]any{"source": "producthunt", "referral": "friend42"}, time.Minute),
			member(c, "trialing", map[string]any{"trial_ends": "2026-03-29", "plan": "starter"}, 2*time.Minute),
		},
	}
	src := &fakeSource{rows: []client.Customer{alice}, projects: testProjects, details: map[int64]client.CustomerDetail{}}
	src.details[1] = client.CustomerDetail{Customer: alice, Timeline: []client.Event{
		{At: testNow.Add(-10 * time.Second), Project: "app-a", Kind: "status", Before: []byte(`"trialing"`), After: []byte(`"paid"`)},
		{At: testNow.Add(-2 * time.Minute), Project: "app-c", Kind: "params", Before: []byte(`null`), After: []byte(`{"plan":"starter","trial_ends":"2026-03-29"}`)},
		{At: testNow.Add(-3 * 24 * time.Hour), Project: "app-b", Kind: "joined"},
		{At: testNow.Add(-40 * 24 * time.Hour), Project: "app-a", Kind: "name", Before: []byte(`null`), After: []byte(`"Alice Chen"`)},
	}}
	first := []string{"Bob", "Carol", "Dan", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Uma", "Victor", "Walter", "Xena", "Yara", "Zoe", "Amir", "Bea", "Chidi", "Dora", "Emeka", "Fatima", "Goran"}
	statuses := []string{"paid", "free", "trialing", "churned", "free", "paid", "past_due"}
	for i, name := range first {
		ps := []client.Membership{}
		ago := time.Duration(i+1) * 7 * time.Hour
		for j, p := range testProjects {
			if (i+j)%3 == 0 || (i%5 == 0 && j == 1) {
				mrr := map[string]any{}
				st := statuses[(i+j)%len(statuses)]
				if st == "paid" {
					mrr["mrr"] = float64(5 + (i*7)%40)
				}
				ps = append(ps, member(p, st, mrr, ago+time.Duration(j)*time.Hour))
			}
		}
		total := 0.0
		for _, m := range ps {
			if v, ok := m.Params["mrr"].(float64); ok {
				total += v
			}
		}
		src.rows = append(src.rows, client.Customer{
			ID: int64(i + 2), Email: strings.ToLower(name) + "@" + []string{"example.com", "mail.test", "startup.io"}[i%3],
			Name: name + " " + string(rune('A'+i%26)) + ".", ProjectCount: len(ps), MRRTotal: total,
			FirstSeen: testNow.Add(-ago - 60*24*time.Hour), LastSeen: testNow.Add(-ago), Projects: ps,
		})
	}
	return src
}
