package store

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/pgtest"
)

// narrowFixture is a store with two projects and 240 customers whose
// params make rare and common equalities, ties on every sort key but
// email, and customers in both projects with different values in each.
func narrowFixture(t *testing.T) (*Store, int64) {
	t.Helper()
	ctx := context.Background()
	st := New(pgtest.NewPool(t, ConfigurePool))
	ws, _, err := st.Bootstrap(ctx, []byte("admin-token-hash"))
	if err != nil {
		t.Fatal(err)
	}
	pids := map[string]int64{}
	for _, slug := range []string{"a", "b"} {
		hash := make([]byte, 32)
		_, _ = rand.Read(hash)
		p, _, err := st.CreateProject(ctx, ws, NewProject{Slug: slug, Name: slug, Color: "#000000"}, NewKey{Hash: hash, Hint: "abcd"})
		if err != nil {
			t.Fatal(err)
		}
		pids[slug] = p.ID
	}
	// Ten distinct times, so sorts by time have ties broken by id.
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	var writes []Write
	for i := range 240 {
		country := "DE"
		if i%7 == 0 {
			country = "IS"
		}
		plan := []string{"pro", "team", "free"}[i%3]
		// Trial ends as a date, as timestamps on either side of a UTC
		// midnight, as a date that does not exist and as a number.
		trial := []string{`"2026-03-29"`, `"2026-03-29T23:30:00-02:00"`, `"2026-03-30T00:10:00Z"`, `"2026-02-30"`, `20260330`}[i%5]
		params := fmt.Sprintf(`{"country":%q,"plan":%q,"mrr":%d,"trial_ends":%s}`, country, plan, []int{0, 19, 49}[i%3], trial)
		writes = append(writes, Write{WorkspaceID: ws, ProjectID: pids["a"], Email: fmt.Sprintf("p%03d@x.io", i),
			Name: fmt.Sprintf("N%d", i%4), Status: "paid", Params: json.RawMessage(params), At: base.Add(time.Duration(i%10) * time.Minute)})
		if i%4 == 0 {
			// In b, the country is IS where it is not in a and the other
			// way round, and the seats only exist here.
			other := "IS"
			if country == "IS" {
				other = "FR"
			}
			writes = append(writes, Write{WorkspaceID: ws, ProjectID: pids["b"], Email: fmt.Sprintf("p%03d@x.io", i),
				Status: "trialing", Params: json.RawMessage(fmt.Sprintf(`{"country":%q,"seats":%d,"trial_ends":"2026-03-%02dT12:00:00Z"}`, other, i%3, 29+i%2)),
				At: base.Add(time.Duration(i%10) * time.Minute)})
		}
	}
	res, err := st.ApplyWrites(ctx, writes)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Outcome != Applied {
			t.Fatalf("write %d: %v %v", i, r.Outcome, r.Err)
		}
	}
	if _, err := st.pool.Exec(ctx, "ANALYZE memberships"); err != nil {
		t.Fatal(err)
	}
	return st, ws
}

func mustFilter(t *testing.T, query string) filter.Filter {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	f, err := filter.FromQuery(q)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return f
}

// TestNarrowedListIsThePlainList pages through filters with where-
// equalities, in every sort both ways, once with narrowing forced and once
// with it off, and wants the same customers in the same order with the same
// cursors, page by page; and a cursor of one path must continue in the
// other.
func TestNarrowedListIsThePlainList(t *testing.T) {
	t.Parallel()
	st, ws := narrowFixture(t)
	ctx := context.Background()
	forced := narrowing{estimate: math.Inf(1), fetch: 1 << 20}
	off := narrowing{estimate: -1}
	queries := []string{
		"where=country=IS",
		"where=country=IS, plan=pro",
		"where=country=IS&where=plan=team",
		"project=b&where=country=IS",
		"project=a&where=country=IS, mrr=19",
		"where=seats=2",
		"where=country=IS, seats>=1",
		"where=country=IS&status=trialing&min_projects=2",
		"where=country=IS&q=p01",
		"not_project=b&where=mrr=49",
		"where=country=NOWHERE",
		"where=trial_ends=2026-03-30",
		"where=trial_ends=2026-03-29",
		"where=trial_ends=2026-03-30, plan=pro",
		"project=b&where=trial_ends=2026-03-30",
		"where=trial_ends=2026-03-31",
	}
	sorts := []string{"", "last_seen", "-last_seen", "first_seen", "-first_seen", "name", "-name", "email", "-email", "projects", "-projects", "mrr", "-mrr"}
	for _, query := range queries {
		for _, sort := range sorts {
			src := query
			if sort != "" {
				src += "&sort=" + sort
			}
			f := mustFilter(t, src)
			var plain []int64
			cursor, pages := "", 0
			for {
				q := CustomerQuery{Filter: f, Limit: 7, Cursor: cursor, Now: time.Now()}
				a, err := st.listCustomers(ctx, ws, q, forced)
				if err != nil {
					t.Fatalf("%s sort %s narrowed: %v", query, sort, err)
				}
				b, err := st.listCustomers(ctx, ws, q, off)
				if err != nil {
					t.Fatalf("%s sort %s plain: %v", query, sort, err)
				}
				if !slices.Equal(ids(a.Customers), ids(b.Customers)) || a.NextCursor != b.NextCursor {
					t.Fatalf("%s sort %s page %d: narrowed %v %q, plain %v %q", query, sort, pages,
						ids(a.Customers), a.NextCursor, ids(b.Customers), b.NextCursor)
				}
				if !slices.EqualFunc(a.Customers, b.Customers, func(x, y Customer) bool { return len(x.Projects) == len(y.Projects) }) {
					t.Fatalf("%s sort %s page %d: memberships differ", query, sort, pages)
				}
				plain = append(plain, ids(b.Customers)...)
				pages++
				if b.NextCursor == "" {
					break
				}
				cursor = b.NextCursor
			}
			// The export in the list's order matches the list; with no
			// sort it has the same customers by id.
			listOrder := f
			listOrder.Sort.Key = f.Sort.Column()
			var exported, byID []int64
			err := st.ExportCustomers(ctx, ws, listOrder, time.Now(), func(c Customer) error {
				exported = append(exported, c.ID)
				return nil
			})
			if err != nil || !slices.Equal(exported, plain) {
				t.Fatalf("%s sort %s: export %v (%v), list %v", query, sort, exported, err, plain)
			}
			if f.Sort == (filter.Sort{}) {
				err := st.ExportCustomers(ctx, ws, f, time.Now(), func(c Customer) error {
					byID = append(byID, c.ID)
					return nil
				})
				if want := slices.Sorted(slices.Values(plain)); err != nil || !slices.Equal(byID, want) {
					t.Fatalf("%s: export without sort %v (%v), want the list's customers by id %v", query, byID, err, want)
				}
			}
		}
	}
}

// TestNarrowTakesRareValuesOnly checks when narrowing happens: for a rare
// value within the bounds, not for a value with more memberships than the
// fetch bound or a higher estimate than the estimate bound, and not without
// an indexable equality.
func TestNarrowTakesRareValuesOnly(t *testing.T) {
	t.Parallel()
	st, ws := narrowFixture(t)
	ctx := context.Background()
	cases := []struct {
		query string
		n     narrowing
		want  bool
	}{
		{"where=country=IS", narrowing{estimate: 1000, fetch: 86}, true},           // 35 in a + 51 in b
		{"where=country=IS", narrowing{estimate: 1000, fetch: 85}, false},          // one more than 85
		{"where=country=IS", narrowing{estimate: 1, fetch: 100}, false},            // estimated above 1
		{"where=plan=pro, country=IS", narrowing{estimate: 1000, fetch: 90}, true}, // 80 and 86
		{"where=plan~pro", narrowing{estimate: 1000, fetch: 1000}, false},          // no equality
		{"where=seats>1", narrowing{estimate: 1000, fetch: 1000}, false},           // a range
		{"where=country=NOWHERE", narrowing{estimate: 1000, fetch: 1000}, true},    // nobody: an empty set
		// A date-only equality through tinycrm_param_days: 03-30 is the UTC
		// day of 48 timestamps at 23:30-02:00 and of 48 at 00:10Z, all in a.
		{"where=trial_ends=2026-03-30", narrowing{estimate: 1000, fetch: 96}, true},
		{"where=trial_ends=2026-03-30", narrowing{estimate: 1000, fetch: 95}, false},
		{"where=trial_ends=2026-03-30T00:10:00Z", narrowing{estimate: 1000, fetch: 1000}, false}, // an instant
	}
	// narrowed narrows a new select by query within n.
	narrowed := func(query string, n narrowing) (*selectBuilder, bool) {
		t.Helper()
		b := newSelect(ws)
		var got bool
		err := pgx.BeginTxFunc(ctx, st.pool, pgx.TxOptions{BeginQuery: readBegin}, func(tx pgx.Tx) error {
			var err error
			got, _, err = narrow(ctx, tx, b, ws, mustFilter(t, query), n)
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return b, got
	}
	for _, c := range cases {
		b, got := narrowed(c.query, c.n)
		if got != c.want || (b.from != "") != c.want {
			t.Fatalf("%s with %+v: narrowed %v (from %q), want %v", c.query, c.n, got, b.from, c.want)
		}
	}
	// A narrowed query reads just the ids found: count them.
	b, _ := narrowed("where=country=IS", defaultNarrowing)
	if got := len(b.args[len(b.args)-1].([]int64)); got != 86 {
		t.Fatalf("narrowed to %d customers, want 86", got)
	}
	b, _ = narrowed("where=trial_ends=2026-03-30", defaultNarrowing)
	if got := len(b.args[len(b.args)-1].([]int64)); got != 96 {
		t.Fatalf("narrowed to %d customers, want 96", got)
	}
}

func ids(cs []Customer) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}
