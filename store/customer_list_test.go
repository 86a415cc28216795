package store_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/pgtest"
	"tinycrm.dev/tinycrm/store"
)

// fixture is a store on a fresh database with one workspace.
type fixture struct {
	t     testing.TB
	st    *store.Store
	pool  *pgxpool.Pool
	ws    int64
	ids   map[string]int64 // project slug → id
	start time.Time
}

func newFixture(t testing.TB, slugs ...string) *fixture {
	t.Helper()
	pool := pgtest.NewPool(t, store.ConfigurePool)
	st := store.New(pool)
	ctx := context.Background()
	ws, _, err := st.Bootstrap(ctx, []byte("admin-token-hash"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, st: st, pool: pool, ws: ws, ids: map[string]int64{}, start: time.Now()}
	for _, slug := range slugs {
		hash := make([]byte, 32)
		_, _ = rand.Read(hash)
		p, _, err := st.CreateProject(ctx, ws, store.NewProject{Slug: slug, Name: strings.ToUpper(slug), Color: "#000000"},
			store.NewKey{Hash: hash, Hint: "abcd"})
		if err != nil {
			t.Fatal(err)
		}
		f.ids[slug] = p.ID
	}
	return f
}

// identify applies identifies given as (project, email, status, params JSON).
func (f *fixture) identify(calls ...[4]string) {
	f.t.Helper()
	var ws []store.Write
	for i, c := range calls {
		w := store.Write{WorkspaceID: f.ws, ProjectID: f.ids[c[0]], Email: c[1], Status: c[2],
			At: f.start.Add(time.Duration(i-len(calls)) * time.Minute)}
		if c[3] != "" {
			w.Params = json.RawMessage(c[3])
		}
		ws = append(ws, w)
	}
	res, err := f.st.ApplyWrites(context.Background(), ws)
	if err != nil {
		f.t.Fatal(err)
	}
	for i, r := range res {
		if r.Outcome != store.Applied {
			f.t.Fatalf("write %d: outcome %v: %v", i, r.Outcome, r.Err)
		}
	}
}

// emails lists everyone matching f, by email.
func (f *fixture) emails(flt filter.Filter) ([]string, error) {
	flt.Sort = filter.Sort{Key: filter.SortEmail}
	page, err := f.st.ListCustomers(context.Background(), f.ws, store.CustomerQuery{Filter: flt, Limit: store.MaxLimit, Now: time.Now()})
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, c := range page.Customers {
		local, _, _ := strings.Cut(c.Email, "@")
		out = append(out, local)
	}
	return out, nil
}

func where(t *testing.T, src string) filter.Filter {
	t.Helper()
	e, err := filter.ParseWhere(src)
	if err != nil {
		t.Fatal(err)
	}
	return filter.Filter{Where: []filter.Expr{e}}
}

// TestWhereOnOddValues covers stored values that the HTTP tests do not:
// arrays and objects, exponent numbers, timestamps with offsets, strings
// shaped like dates that are not dates, and expressions built by hand
// rather than parsed.
func TestWhereOnOddValues(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "app")
	f.identify(
		[4]string{"app", "a@x.io", "paid", `{"tags":["pro"],"plan":"pro","flag":false}`},
		[4]string{"app", "b@x.io", "", `{"plan":{"tier":"pro"},"n":1e3,"when":"2026-03-29T23:30:00-02:00","bad":"2026-13-01","neg":-5}`},
		[4]string{"app", "c@x.io", "free", `{"plan":"PRO","when":"2026-03-29","txt":"[1, 2]","odd":"2026-03-29T10:00:00"}`},
	)
	day := time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		flt  filter.Filter
		want []string
	}{
		{"text = is case-sensitive", where(t, "plan=pro"), []string{"a"}},
		{"~ sees the text form of objects", where(t, "plan~pro"), []string{"a", "b", "c"}},
		{"= does not look into arrays", where(t, "tags=pro"), []string{}},
		{"~ does", where(t, "tags~pro"), []string{"a"}},
		{"number = literal", where(t, "n=1000"), []string{"b"}},
		{"number = exponent", where(t, "n=1e3"), []string{"b"}},
		{"number ordering", where(t, "n>999.5"), []string{"b"}},
		{"negative number", where(t, "neg<0"), []string{"b"}},
		{"quoted text against a number's text", where(t, `n="1000"`), []string{"b"}},
		{"false as text", where(t, "flag=false"), []string{"a"}},
		{"text that looks like JSON", where(t, `txt="[1, 2]"`), []string{"c"}},
		{"timestamp with offset falls on its UTC day", where(t, "when=2026-03-30"), []string{"b"}},
		{"stored date is its midnight", where(t, "when<2026-03-30"), []string{"c"}},
		{"stored date = its day", where(t, "when=2026-03-29"), []string{"c"}},
		{"stored date vs timestamp", where(t, "when>=2026-03-29T00:00:00Z"), []string{"b", "c"}},
		{"invalid stored date matches nothing, fails nothing", where(t, "bad>2000-01-01"), []string{}},
		{"timestamp without offset is not a date", where(t, "odd>2000-01-01"), []string{}},
		{"but it is text", where(t, "odd~T10"), []string{"c"}},
		{"status != skips no status", where(t, "status!=paid"), []string{"c"}},
		{"hand-built number without literal", filter.Filter{Where: []filter.Expr{{Conds: []filter.Cond{
			{Key: "n", Op: filter.Ge, Value: filter.Value{Kind: filter.Number, Num: 999}}}}}}, []string{"b"}},
		{"hand-built date-only value", filter.Filter{Where: []filter.Expr{{Conds: []filter.Cond{
			{Key: "when", Op: filter.Eq, Value: filter.Value{Kind: filter.Date, Time: day}}}}}}, []string{"b"}},
		{"hand-built timestamp value", filter.Filter{Where: []filter.Expr{{Conds: []filter.Cond{
			{Key: "when", Op: filter.Lt, Value: filter.Value{Kind: filter.Date, Time: day.Add(time.Hour)}}}}}}, []string{"c"}},
		{"search with backslash", filter.Filter{Search: `\`}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := f.emails(tc.flt)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDateEqualityIsItsHalfOpenDay pins the bounds of a date-only
// equality (f <= x < t, one call of tinycrm_time per membership) and of its
// negation.
func TestDateEqualityIsItsHalfOpenDay(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "app")
	f.identify(
		[4]string{"app", "start@x.io", "", `{"d":"2026-03-29T00:00:00Z"}`},
		[4]string{"app", "date@x.io", "", `{"d":"2026-03-29"}`},
		[4]string{"app", "last@x.io", "", `{"d":"2026-03-29T23:59:59.999999Z"}`},
		[4]string{"app", "next@x.io", "", `{"d":"2026-03-30T00:00:00Z"}`},
		[4]string{"app", "before@x.io", "", `{"d":"2026-03-28T23:59:59.999999Z"}`},
		[4]string{"app", "offset@x.io", "", `{"d":"2026-03-30T01:00:00+02:00"}`},
		[4]string{"app", "bad@x.io", "", `{"d":"2026-02-30"}`},
		[4]string{"app", "none@x.io", "", `{}`},
	)
	for src, want := range map[string][]string{
		"d=2026-03-29":  {"date", "last", "offset", "start"},
		"d!=2026-03-29": {"before", "next"},
	} {
		got, err := f.emails(where(t, src))
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("%s: %v, %v; want %v", src, got, err, want)
		}
	}
}

// TestTimeFunction pins tinycrm_time, the guard that keeps bad params from
// failing a date filter.
func TestTimeFunction(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for in, want := range map[string]string{
		"2026-03-29":                       "2026-03-29T00:00:00Z",
		"2026-03-29T10:00:00Z":             "2026-03-29T10:00:00Z",
		"2026-03-29T10:00:00.123456789Z":   "2026-03-29T10:00:00.123457Z",
		"2026-03-29T10:00:00+02:00":        "2026-03-29T08:00:00Z",
		"2026-02-30":                       "",
		"2026-13-01":                       "",
		"2026-03-29T25:00:00Z":             "",
		"2026-03-29T10:00:00":              "",
		"2026-03-29 10:00:00Z":             "",
		"29/03/2026":                       "",
		"":                                 "",
		"2026-03-29T10:00:00Z; DROP TABLE": "",
	} {
		var got *time.Time
		if err := f.pool.QueryRow(context.Background(), "SELECT tinycrm_time($1)", in).Scan(&got); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		s := ""
		if got != nil {
			s = got.UTC().Format(time.RFC3339Nano)
		}
		if s != want {
			t.Errorf("tinycrm_time(%q) = %q, want %q", in, s, want)
		}
	}
}

func TestListReportsUnknownProjectsAndCursors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "app")
	f.identify([4]string{"app", "a@x.io", "", ""}, [4]string{"app", "b@x.io", "", ""})
	ctx := context.Background()
	_, err := f.st.ListCustomers(ctx, f.ws, store.CustomerQuery{Filter: filter.Filter{NotProjects: []string{"gone"}}})
	var up *store.UnknownProjectError
	if !errors.As(err, &up) || up.Param != "not_project" || up.Slug != "gone" {
		t.Fatalf("err %v", err)
	}
	page, err := f.st.ListCustomers(ctx, f.ws, store.CustomerQuery{Limit: 1})
	if err != nil || page.NextCursor == "" {
		t.Fatalf("page %+v, %v", page, err)
	}
	_, err = f.st.ListCustomers(ctx, f.ws, store.CustomerQuery{Limit: 1, Cursor: page.NextCursor, Filter: filter.Filter{Search: "a"}})
	if !errors.Is(err, store.ErrInvalidCursor) {
		t.Fatalf("cursor with another filter: %v", err)
	}
	// Upsell and the list share the sort mrr but not their cursors.
	up2, err := f.st.ListCustomers(ctx, f.ws, store.CustomerQuery{Limit: 1, Filter: filter.Filter{Sort: filter.Sort{Key: filter.SortMRR}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Upsell(ctx, f.ws, store.InsightQuery{Cursor: up2.NextCursor}); !errors.Is(err, store.ErrInvalidCursor) {
		t.Fatalf("list cursor in upsell: %v", err)
	}
}

func TestExportStopsAtCallbackError(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "app")
	var calls [][4]string
	for i := range 20 {
		calls = append(calls, [4]string{"app", fmt.Sprintf("u%02d@x.io", i), "", ""})
	}
	f.identify(calls...)
	stop := errors.New("client went away")
	n := 0
	err := f.st.ExportCustomers(context.Background(), f.ws, filter.Filter{Sort: filter.Sort{Key: filter.SortEmail}}, time.Now(), func(c store.Customer) error {
		if n++; n == 5 {
			return stop
		}
		return nil
	})
	if err != stop || n != 5 {
		t.Fatalf("err %v after %d rows", err, n)
	}
	var got []string
	err = f.st.ExportCustomers(context.Background(), f.ws, filter.Filter{Search: "u1", Sort: filter.Sort{Key: filter.SortEmail, Reverse: true}}, time.Now(), func(c store.Customer) error {
		got = append(got, c.Email)
		return nil
	})
	if err != nil || len(got) != 10 || got[0] != "u19@x.io" || got[9] != "u10@x.io" {
		t.Fatalf("export %v, %v", got, err)
	}
}

// TestExportStopsMidBatch stops exports of several batches (the next batch
// is read while the caller handles one) by a callback error and by the
// context's end, at a batch boundary and inside a batch: the error comes
// back, and the store keeps working afterwards.
func TestExportStopsMidBatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "app")
	var calls [][4]string
	for i := range 5000 {
		calls = append(calls, [4]string{"app", fmt.Sprintf("u%04d@x.io", i), "", ""})
	}
	for i := 0; i < len(calls); i += 1000 {
		f.identify(calls[i:min(i+1000, len(calls))]...)
	}
	all := filter.Filter{Sort: filter.Sort{Key: filter.SortEmail}}
	for _, at := range []int{1, 2000, 2001, 4999} {
		stop := errors.New("client went away")
		n := 0
		err := f.st.ExportCustomers(context.Background(), f.ws, all, time.Now(), func(c store.Customer) error {
			if n++; n == at {
				return stop
			}
			return nil
		})
		if err != stop || n != at {
			t.Fatalf("stop at %d: err %v after %d rows", at, err, n)
		}
		ctx, cancel := context.WithCancel(context.Background())
		n = 0
		err = f.st.ExportCustomers(ctx, f.ws, all, time.Now(), func(c store.Customer) error {
			if n++; n == at {
				cancel()
			}
			return nil
		})
		cancel()
		if !errors.Is(err, context.Canceled) || n < at {
			t.Fatalf("cancel at %d: err %v after %d rows", at, err, n)
		}
	}
	n := 0
	if err := f.st.ExportCustomers(context.Background(), f.ws, all, time.Now(), func(store.Customer) error { n++; return nil }); err != nil || n != 5000 {
		t.Fatalf("export after the stops: %d rows, %v", n, err)
	}
}

// TestForgetRacesIngest forgets people while identifies for them keep
// arriving, and checks nothing deadlocks and every surviving customer's
// totals still match their memberships.
func TestForgetRacesIngest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "a", "b", "c")
	ctx := context.Background()
	emails := []string{"p0@x.io", "p1@x.io", "p2@x.io", "p3@x.io"}
	deadline := time.Now().Add(1500 * time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 3 {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				var batch []store.Write
				for j, e := range emails {
					batch = append(batch, store.Write{WorkspaceID: f.ws, ProjectID: f.ids[[]string{"a", "b", "c"}[(g+i+j)%3]],
						Email: e, Status: "paid", Params: json.RawMessage(fmt.Sprintf(`{"mrr":%d}`, i%7)), At: time.Now()})
				}
				res, err := f.st.ApplyWrites(ctx, batch)
				if err != nil {
					errs <- err
					return
				}
				for _, r := range res {
					if r.Outcome == store.Failed {
						errs <- r.Err
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		for i := 0; time.Now().Before(deadline); i++ {
			o := store.ForgetOptions{}
			if i%2 == 0 {
				o.Project = []string{"a", "b", "c"}[i%3]
			}
			if _, err := f.st.ForgetCustomer(ctx, f.ws, emails[i%len(emails)], o); err != nil && !errors.Is(err, store.ErrNotFound) {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var bad int
	if err := f.pool.QueryRow(ctx, `
		SELECT count(*) FROM customers c
		WHERE c.project_count <> (SELECT count(*) FROM memberships m WHERE m.workspace_id = c.workspace_id AND m.customer_id = c.id)
		   OR c.mrr_total <> (SELECT COALESCE(sum(tinycrm_mrr(m.params)), 0) FROM memberships m WHERE m.workspace_id = c.workspace_id AND m.customer_id = c.id)`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Fatalf("%d customers with totals that do not match their memberships", bad)
	}
	assertNoOrphans(t, f.pool)
}

// TestTimeFunctionInParallelPlans runs tinycrm_time under forced parallel
// plans: a function with an exception block must not be marked parallel
// safe, or a date filter on a big table fails with a 500 (seen at 1M
// customers).
func TestTimeFunctionInParallelPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	probe, err := pgxpool.NewWithConfig(ctx, cfg.Copy())
	if err != nil {
		t.Fatal(err)
	}
	var version int
	err = probe.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version)
	probe.Close()
	if err != nil {
		t.Fatal(err)
	}
	setting := "debug_parallel_query" // PostgreSQL 16+
	if version < 160000 {
		setting = "force_parallel_mode"
	}
	cfg.ConnConfig.RuntimeParams[setting] = "on"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(tinycrm_time(d)) FROM (VALUES ('2026-02-30'), ('2026-03-29')) v(d)`).Scan(&n); err != nil {
		t.Fatalf("tinycrm_time in a forced parallel plan: %v", err)
	}
	if n != 1 {
		t.Fatalf("count %d, want 1", n)
	}
}

// TestWhereEqualityCommonAndRare lists by a where-equality both when the
// value is rare (the list is narrowed to the customers the params index
// finds) and when it is common (more than narrowCap memberships: the plain
// walk). Both must give exactly the matching customers.
func TestWhereEqualityCommonAndRare(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "app", "other")
	var calls [][4]string
	for i := range 5200 {
		calls = append(calls, [4]string{"app", fmt.Sprintf("common%04d@x.io", i), "paid", `{"plan":"pro","country":"DE"}`})
	}
	calls = append(calls,
		[4]string{"app", "rare1@x.io", "free", `{"plan":"pro","country":"IS"}`},
		[4]string{"other", "rare2@x.io", "free", `{"country":"IS","seats":3}`},
		[4]string{"app", "near@x.io", "free", `{"country":"is"}`},
	)
	for i := 0; i < len(calls); i += 1000 {
		f.identify(calls[i:min(i+1000, len(calls))]...)
	}
	if _, err := f.pool.Exec(context.Background(), "ANALYZE memberships"); err != nil {
		t.Fatal(err)
	}
	got, err := f.emails(where(t, "country=IS"))
	if err != nil || !slices.Equal(got, []string{"rare1", "rare2"}) {
		t.Fatalf("rare value: %v, %v", got, err)
	}
	got, err = f.emails(filter.Filter{Projects: []string{"other"}, Where: where(t, "country=IS, seats=3").Where})
	if err != nil || !slices.Equal(got, []string{"rare2"}) {
		t.Fatalf("rare value in a project scope: %v, %v", got, err)
	}
	page, err := f.st.ListCustomers(context.Background(), f.ws, store.CustomerQuery{Filter: where(t, "plan=pro"), Limit: store.MaxLimit, Now: time.Now()})
	if err != nil || len(page.Customers) != store.MaxLimit || page.NextCursor == "" {
		t.Fatalf("common value: %d customers, cursor %q, %v", len(page.Customers), page.NextCursor, err)
	}
	n := 0
	cursor := ""
	for {
		p, err := f.st.ListCustomers(context.Background(), f.ws, store.CustomerQuery{Filter: where(t, "plan=pro"), Limit: store.MaxLimit, Cursor: cursor, Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		n += len(p.Customers)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if n != 5201 {
		t.Fatalf("common value matched %d customers, want 5201", n)
	}
}

// TestExportWalksBatches exports more customers than one export batch, in
// both directions of a sort with ties, explicitly by last_seen and with no
// sort (by id), and checks every customer comes once, in order, with their
// memberships.
func TestExportWalksBatches(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "a", "b")
	var calls [][4]string
	for i := range 4500 {
		calls = append(calls, [4]string{"a", fmt.Sprintf("p%04d@x.io", i), "paid", fmt.Sprintf(`{"mrr":%d}`, i%7)})
		if i%3 == 0 {
			calls = append(calls, [4]string{"b", fmt.Sprintf("p%04d@x.io", i), "free", `{"plan":"x"}`})
		}
	}
	for i := 0; i < len(calls); i += 1000 {
		f.identify(calls[i:min(i+1000, len(calls))]...)
	}
	for _, sort := range []string{"", "last_seen", "mrr", "-mrr", "email"} {
		var s filter.Sort
		if sort != "" {
			var err error
			if s, err = filter.ParseSort(sort); err != nil {
				t.Fatal(err)
			}
		}
		var got []store.Customer
		err := f.st.ExportCustomers(context.Background(), f.ws, filter.Filter{Sort: s}, time.Now(), func(c store.Customer) error {
			got = append(got, c)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4500 {
			t.Fatalf("sort %s: exported %d, want 4500", sort, len(got))
		}
		seen := map[int64]bool{}
		for i, c := range got {
			if seen[c.ID] {
				t.Fatalf("sort %s: %s exported twice", sort, c.Email)
			}
			seen[c.ID] = true
			n := 0
			fmt.Sscanf(c.Email, "p%04d@x.io", &n)
			wantProjects := 1
			if n%3 == 0 {
				wantProjects = 2
			}
			if len(c.Projects) != wantProjects || c.Projects[0].Slug != "a" || c.ProjectCount != wantProjects {
				t.Fatalf("sort %s: %s has memberships %+v", sort, c.Email, c.Projects)
			}
			if i == 0 {
				continue
			}
			prev := got[i-1]
			switch sort {
			case "": // no sort: by id, oldest first
				if prev.ID >= c.ID {
					t.Fatalf("export without sort out of id order at %d: %d then %d", i, prev.ID, c.ID)
				}
			case "last_seen": // given explicitly: newest first, as the list
				if prev.LastSeen.Before(c.LastSeen) || prev.LastSeen.Equal(c.LastSeen) && prev.ID < c.ID {
					t.Fatalf("sort last_seen out of order at %d: %v #%d then %v #%d", i, prev.LastSeen, prev.ID, c.LastSeen, c.ID)
				}
			case "mrr": // biggest first
				if prev.MRRTotal < c.MRRTotal {
					t.Fatalf("sort mrr out of order at %d: %v then %v", i, prev.MRRTotal, c.MRRTotal)
				}
			case "-mrr":
				if prev.MRRTotal > c.MRRTotal {
					t.Fatalf("sort -mrr out of order at %d: %v then %v", i, prev.MRRTotal, c.MRRTotal)
				}
			case "email":
				if prev.Email >= c.Email {
					t.Fatalf("sort email out of order at %d", i)
				}
			}
		}
	}
}
