package client_test

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
)

// portfolio is SPEC §10's three projects with Alice in all three, plus a
// few people around her.
type portfolio struct {
	*env
	keys map[string]string // slug → project key
}

func newPortfolio(t *testing.T) *portfolio {
	t.Helper()
	e := setup(t)
	p := &portfolio{env: e, keys: map[string]string{}}
	for _, name := range []string{"App A", "App B", "App C"} {
		slug, key := e.project(name)
		p.keys[slug] = key
	}
	old := time.Now().Add(-60 * 24 * time.Hour)
	calls := []struct {
		slug string
		id   client.Identify
	}{
		{"app-a", client.Identify{Email: "alice@example.com", Name: "Alice Chen", Status: "paid", Params: map[string]any{"plan": "pro", "mrr": 9}}},
		{"app-b", client.Identify{Email: "Alice@Example.com ", Status: "free", Params: map[string]any{"source": "producthunt", "referral": "friend42"}}},
		{"app-c", client.Identify{Email: "alice@example.com", Status: "trialing", Params: map[string]any{"trial_ends": "2026-03-29", "plan": "starter"}}},
		{"app-a", client.Identify{Email: "bob@example.com", Name: "Bob", Status: "paid", Params: map[string]any{"mrr": 29}, Timestamp: old}},
		{"app-b", client.Identify{Email: "bob@example.com", Status: "paid", Params: map[string]any{"mrr": 5}}},
		{"app-c", client.Identify{Email: "carol@example.com", Name: "=cmd()", Status: "free"}},
	}
	for _, c := range calls {
		if _, err := e.client(p.keys[c.slug]).Identify(ctx(t), c.id); err != nil {
			t.Fatalf("identify %s in %s: %v", c.id.Email, c.slug, err)
		}
	}
	return p
}

func emails(cs []client.Customer) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Email)
	}
	return strings.Join(out, " ")
}

func where(t *testing.T, src string) filter.Expr {
	t.Helper()
	e, err := filter.ParseWhere(src)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestCustomers(t *testing.T) {
	t.Parallel()
	p := newPortfolio(t)
	a := p.admin
	cases := []struct {
		name string
		f    filter.Filter
		want string
	}{
		{"all, newest first", filter.Filter{}, "carol@example.com bob@example.com alice@example.com"},
		{"by email", filter.Filter{Sort: filter.Sort{Key: filter.SortEmail}}, "alice@example.com bob@example.com carol@example.com"},
		{"multi-project", filter.Filter{MinProjects: 2, Sort: filter.Sort{Key: filter.SortEmail}}, "alice@example.com bob@example.com"},
		{"project app-c", filter.Filter{Projects: []string{"app-c"}, Sort: filter.Sort{Key: filter.SortEmail}}, "alice@example.com carol@example.com"},
		{"not in app-c", filter.Filter{NotProjects: []string{"app-c"}}, "bob@example.com"},
		{"where mrr>=9", filter.Filter{Where: []filter.Expr{where(t, "mrr>=9")}, Sort: filter.Sort{Key: filter.SortMRR}}, "bob@example.com alice@example.com"},
		{"where plan=starter", filter.Filter{Where: []filter.Expr{where(t, "plan=starter")}}, "alice@example.com"},
		{"status free in app-b", filter.Filter{Projects: []string{"app-b"}, Statuses: []string{"free"}}, "alice@example.com"},
		{"search", filter.Filter{Search: "CHEN"}, "alice@example.com"},
	}
	for _, tc := range cases {
		page, err := a.Customers(ctx(t), tc.f, 0, "")
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := emails(page.Customers); got != tc.want || page.NextCursor != "" {
			t.Errorf("%s: got %q (next %q), want %q", tc.name, got, page.NextCursor, tc.want)
		}
	}

	// Pages of one, through the iterator and by hand.
	var got []string
	for c, err := range a.AllCustomers(ctx(t), filter.Filter{Sort: filter.Sort{Key: filter.SortEmail}}, 1) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c.Email)
	}
	if strings.Join(got, " ") != "alice@example.com bob@example.com carol@example.com" {
		t.Errorf("all customers = %q", got)
	}
	first, err := a.Customers(ctx(t), filter.Filter{}, 2, "")
	if err != nil || len(first.Customers) != 2 || first.NextCursor == "" {
		t.Fatalf("first page = %+v, %v", first, err)
	}
	second, err := a.Customers(ctx(t), filter.Filter{}, 2, first.NextCursor)
	if err != nil || emails(second.Customers) != "alice@example.com" || second.NextCursor != "" {
		t.Errorf("second page = %+v, %v", second, err)
	}

	// Re-encoding a customer gives SPEC §5's shape.
	raw, err := json.Marshal(second.Customers[0])
	if err != nil {
		t.Fatal(err)
	}
	var shape map[string]any
	json.Unmarshal(raw, &shape)
	var keys []string
	for k := range shape {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if strings.Join(keys, ",") != "email,first_seen,id,last_seen,mrr_total,name,project_count,projects" {
		t.Errorf("customer JSON keys %v", keys)
	}
	m := shape["projects"].([]any)[0].(map[string]any)
	if len(m) != 7 || m["slug"] != "app-a" || !strings.HasSuffix(m["last_seen"].(string), "Z") {
		t.Errorf("membership JSON %v", m)
	}

	// Errors name the parameter.
	_, err = a.Customers(ctx(t), filter.Filter{Projects: []string{"app-z"}}, 0, "")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Field != "project" {
		t.Errorf("unknown project: %v", err)
	}
	if _, err := a.Customers(ctx(t), filter.Filter{}, 0, "garbage"); !errors.As(err, &ae) || ae.Field != "cursor" {
		t.Errorf("bad cursor: %v", err)
	}
	if _, err := a.Customers(ctx(t), filter.Filter{}, client.MaxPageSize+1, ""); !errors.As(err, &ae) || ae.Field != "limit" {
		t.Errorf("page too big: %v", err)
	}
}

func TestStatsAndInsights(t *testing.T) {
	t.Parallel()
	p := newPortfolio(t)
	a := p.admin

	st, err := a.Stats(ctx(t))
	if err != nil || st != (client.Stats{Customers: 3, Projects: 3, MultiProject: 2}) {
		t.Errorf("stats = %+v, %v", st, err)
	}

	o, err := a.Overlap(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Projects) != 3 || o.Projects[0].Slug != "app-a" || o.Projects[0].Customers != 2 || o.Projects[0].Color == "" {
		t.Errorf("overlap projects = %+v", o.Projects)
	}
	if want := []client.PairOverlap{{"app-a", "app-b", 2}, {"app-a", "app-c", 1}, {"app-b", "app-c", 1}}; !slices.Equal(o.Pairs, want) {
		t.Errorf("pairs = %+v, want %+v", o.Pairs, want)
	}
	if want := []client.ProjectsBucket{{1, 1}, {2, 1}, {3, 1}}; !slices.Equal(o.Distribution, want) {
		t.Errorf("distribution = %+v, want %+v", o.Distribution, want)
	}

	up, err := a.Upsell(ctx(t), client.InsightOptions{})
	if err != nil || emails(up.Customers) != "alice@example.com" {
		t.Errorf("upsell = %+v, %v", up, err)
	}

	// Bob was last seen in app-a 60 days ago but is active in app-b.
	risk, err := a.ChurnRisk(ctx(t), 30*24*time.Hour, 14*24*time.Hour, client.InsightOptions{Limit: 10})
	if err != nil || len(risk.Customers) != 1 || risk.Customers[0].Email != "bob@example.com" {
		t.Fatalf("churn risk = %+v, %v", risk, err)
	}
	if got := risk.Customers[0].AtRisk; !slices.Equal(got, []client.AtRisk{{Slug: "app-a", Reason: "idle"}}) {
		t.Errorf("at risk = %+v", got)
	}
	if risk, err := a.ChurnRisk(ctx(t), 90*24*time.Hour, 0, client.InsightOptions{}); err != nil || len(risk.Customers) != 0 {
		t.Errorf("churn risk with 90d idle = %+v, %v", risk, err)
	}
	if _, err := a.Upsell(ctx(t), client.InsightOptions{Sort: filter.Sort{Key: filter.SortEmail, Reverse: true}, Limit: 1}); err != nil {
		t.Errorf("upsell sorted: %v", err)
	}

	rev, err := a.Revenue(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if rev.TotalMRR != 43 || rev.PayingCustomers != 2 || len(rev.TopCustomers) != 2 || rev.TopCustomers[0].Email != "bob@example.com" {
		t.Errorf("revenue = %+v", rev)
	}
	if len(rev.ByProject) != 3 || rev.ByProject[0] != (client.ProjectRevenue{Slug: "app-a", Name: "App A", Color: rev.ByProject[0].Color, MRR: 38, PayingCustomers: 2}) {
		t.Errorf("by project = %+v", rev.ByProject)
	}
	if rev.TopDecileShare <= 0 || rev.TopDecileShare > 1 {
		t.Errorf("top decile share = %v", rev.TopDecileShare)
	}
}

func TestExport(t *testing.T) {
	t.Parallel()
	p := newPortfolio(t)
	a := p.admin

	rc, err := a.Export(ctx(t), filter.Filter{Sort: filter.Sort{Key: filter.SortEmail}}, client.FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(rc).ReadAll()
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0][1] != "email" || rows[1][1] != "alice@example.com" || rows[1][7] != "app-a;app-b;app-c" || rows[3][2] != "'=cmd()" {
		t.Errorf("csv = %q", rows)
	}

	// Without a sort, export is by id (oldest first): Alice was created
	// first. With sort=last_seen it is the order of the customer list.
	for _, tc := range []struct {
		sort filter.Sort
		want string
	}{
		{filter.Sort{}, "alice@example.com bob@example.com"},
		{filter.Sort{Key: filter.SortLastSeen}, "bob@example.com alice@example.com"},
	} {
		got := exportJSONL(t, a, filter.Filter{MinProjects: 2, Sort: tc.sort})
		if emails(got) != tc.want {
			t.Errorf("jsonl sort %q = %s, want %s", tc.sort.Key, emails(got), tc.want)
		}
		for _, c := range got {
			if c.Email == "alice@example.com" && len(c.Projects) != 3 {
				t.Errorf("alice in jsonl = %+v", c)
			}
		}
	}

	_, err = a.Export(ctx(t), filter.Filter{}, "xml")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Field != "format" {
		t.Errorf("bad format: %v", err)
	}
}

func exportJSONL(t *testing.T, a *client.Client, f filter.Filter) []client.Customer {
	t.Helper()
	rc, err := a.Export(ctx(t), f, client.FormatJSONL)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	var got []client.Customer
	for sc.Scan() {
		var c client.Customer
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// Export streams: a large export is read as it is written, and closing
// the reader early stops it.
func TestExportStreams(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App A")
	items := make([]client.Identify, 3000)
	for i := range items {
		items[i] = client.Identify{Email: fmt.Sprintf("user%04d@example.com", i), Name: strings.Repeat("n", 200)}
	}
	if _, err := e.client(key).Batch(ctx(t), items); err != nil {
		t.Fatal(err)
	}
	// A per-attempt timeout bounds only the wait for the response to start.
	a := e.client(e.token, client.WithTimeout(5*time.Second))
	rc, err := a.Export(ctx(t), filter.Filter{}, client.FormatJSONL)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1024)
	if _, err := io.ReadFull(rc, buf); err != nil {
		t.Fatal(err)
	}
	if err := rc.Close(); err != nil {
		t.Errorf("close early: %v", err)
	}
	rc, err = a.Export(ctx(t), filter.Filter{}, client.FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	want, err := io.ReadAll(rc)
	if err != nil || len(want) < 3000*200 {
		t.Fatalf("read %d bytes: %v", len(want), err)
	}

	// The per-attempt timeout bounds the wait for the response to start,
	// not the download: a reply trickling in for a second is read whole
	// with a 300ms timeout.
	f := newFlaky(t, e.url, slowBody)
	slow := e.client(e.token, client.WithBaseURL(f.URL), client.WithTimeout(300*time.Millisecond))
	rc, err = slow.Export(ctx(t), filter.Filter{}, client.FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	start := time.Now()
	got, err := io.ReadAll(rc)
	if err != nil || string(got) != string(want) || f.requests.Load() != 1 {
		t.Errorf("slow download: %d of %d bytes, %v, %d requests", len(got), len(want), err, f.requests.Load())
	}
	if time.Since(start) < 500*time.Millisecond {
		t.Errorf("the download was not slow (%v); the test proves nothing", time.Since(start))
	}
}

func TestForget(t *testing.T) {
	t.Parallel()
	p := newPortfolio(t)
	a := p.admin

	res, err := a.Forget(ctx(t), "bob@example.com", client.ForgetOptions{Project: "app-b"})
	if err != nil || res != (client.ForgetResult{Deleted: true}) {
		t.Errorf("unlink bob from app-b: %+v, %v", res, err)
	}
	bob, err := a.Customer(ctx(t), "bob@example.com")
	if err != nil || bob.ProjectCount != 1 || bob.MRRTotal != 29 {
		t.Errorf("bob = %+v, %v", bob.Customer, err)
	}

	res, err = a.Forget(ctx(t), "Alice@Example.com", client.ForgetOptions{Suppress: true})
	if err != nil || res != (client.ForgetResult{Deleted: true, CustomerDeleted: true, Suppressed: true}) {
		t.Errorf("forget alice: %+v, %v", res, err)
	}
	if _, err := a.Customer(ctx(t), "alice@example.com"); !client.IsNotFound(err) {
		t.Errorf("alice after forget: %v", err)
	}
	ir, err := p.client(p.keys["app-a"]).Identify(ctx(t), client.Identify{Email: "alice@example.com", Status: "paid"})
	if err != nil || !ir.Suppressed {
		t.Errorf("identify of a suppressed email: %+v, %v", ir, err)
	}
	if _, err := a.Customer(ctx(t), "alice@example.com"); !client.IsNotFound(err) {
		t.Errorf("alice came back: %v", err)
	}

	if _, err := a.Forget(ctx(t), "nobody@example.com", client.ForgetOptions{}); !client.IsNotFound(err) {
		t.Errorf("forget a stranger: %v", err)
	}
	var ae *client.APIError
	if _, err := a.Forget(ctx(t), "bob@example.com", client.ForgetOptions{Project: "app-a", Suppress: true}); !errors.As(err, &ae) || ae.Field != "suppress" {
		t.Errorf("suppress with project: %v", err)
	}

	// The reply is lost; the retry finds carol gone and reports what the
	// lost attempt did.
	f := newFlaky(t, p.url, dropAfter)
	res, err = p.client(p.token, client.WithBaseURL(f.URL)).Forget(ctx(t), "carol@example.com", client.ForgetOptions{})
	if err != nil || res != (client.ForgetResult{Deleted: true, CustomerDeleted: true}) || f.forwarded.Load() != 2 {
		t.Errorf("forget with a lost reply: %+v, %v, %d forwarded", res, err, f.forwarded.Load())
	}
	if st, _ := a.Stats(ctx(t)); st.Customers != 1 {
		t.Errorf("stats after forgetting = %+v", st)
	}
}
