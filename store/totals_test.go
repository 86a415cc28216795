package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"tinycrm.dev/tinycrm/store"
)

// assertTotals checks every customer's project_count and mrr_total against
// its memberships, the definition of SPEC §2 in SQL.
func assertTotals(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT c.email, c.project_count, c.mrr_total::text, t.n, t.mrr::text
		FROM customers c
		CROSS JOIN LATERAL (
			SELECT count(*)::int AS n, COALESCE(sum(tinycrm_mrr(m.params)), 0) AS mrr
			FROM memberships m WHERE m.workspace_id = c.workspace_id AND m.customer_id = c.id) t
		WHERE c.project_count <> t.n OR c.mrr_total <> t.mrr`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var email, mrr, wantMRR string
		var n, wantN int
		if err := rows.Scan(&email, &n, &mrr, &wantN, &wantMRR); err != nil {
			t.Fatal(err)
		}
		t.Errorf("%s: project_count %d, mrr_total %s; its memberships say %d and %s", email, n, mrr, wantN, wantMRR)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestTotalsFollowMemberships applies random batches (new and known
// people, several calls for one person in a batch, late calls, mrr as
// integers, decimals, strings, booleans, absent and deleted) and checks
// after each that the totals kept by ingest are the ones the memberships
// define.
func TestTotalsFollowMemberships(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "a", "b", "c")
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	mrrs := []string{`9`, `19.5`, `0.1`, `1e3`, `"9"`, `true`, `null`, ``, `49`, `-0`}
	base := time.Now().Add(-time.Hour)
	for round := range 60 {
		var batch []store.Write
		for range 1 + rng.IntN(12) {
			params := `{"plan":"pro"}`
			if v := mrrs[rng.IntN(len(mrrs))]; v != `` {
				params = fmt.Sprintf(`{"plan":"pro","mrr":%s}`, v)
			}
			// Mostly in order, sometimes a late call (which changes no state).
			at := base.Add(time.Duration(round)*time.Minute + time.Duration(rng.IntN(50))*time.Second)
			if rng.IntN(6) == 0 {
				at = at.Add(-30 * time.Minute)
			}
			batch = append(batch, store.Write{WorkspaceID: f.ws, ProjectID: f.ids[[]string{"a", "b", "c"}[rng.IntN(3)]],
				Email: fmt.Sprintf("p%d@x.io", rng.IntN(8)), Params: json.RawMessage(params), At: at})
		}
		res, err := f.st.ApplyWrites(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Outcome != store.Applied {
				t.Fatalf("round %d write %d: %v %v", round, i, r.Outcome, r.Err)
			}
		}
		assertTotals(t, f.pool)
		if t.Failed() {
			t.Fatalf("after round %d", round)
		}
	}
	var customers, withMRR int
	if err := f.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE mrr_total <> 0) FROM customers`).Scan(&customers, &withMRR); err != nil {
		t.Fatal(err)
	}
	if customers != 8 || withMRR == 0 {
		t.Fatalf("%d customers, %d with MRR: the test did not exercise what it should", customers, withMRR)
	}
}
