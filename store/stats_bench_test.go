package store_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// BenchmarkCounts times the TUI's two header queries, Stats and
// ListProjects, on a workspace of TINYCRM_BENCH_CUSTOMERS customers
// (default 300,000) in three projects: everyone in the first, a third each in
// the other two, so 5/3 memberships per customer and two thirds of the
// customers in two projects. Rows are made with generate_series, then
// VACUUM ANALYZE, as autovacuum would have done on a settled database.
//
//	go test -run '^$' -bench Counts -benchtime 50x ./store
func BenchmarkCounts(b *testing.B) {
	n := 300000
	if v := os.Getenv("TINYCRM_BENCH_CUSTOMERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	f := newFixture(b, "a", "b", "c")
	st, pool, ws := f.st, f.pool, f.ws
	ids := []int64{f.ids["a"], f.ids["b"], f.ids["c"]}
	fill(b, pool, ws, ids, n)

	want, err := st.Stats(ctx, ws)
	if err != nil {
		b.Fatal(err)
	}
	if want.Customers != int64(n) || want.MultiProject != int64(n-n/3) {
		b.Fatalf("stats = %+v for %d customers", want, n)
	}
	b.Run("Stats", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.Stats(ctx, ws); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ListProjects", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.ListProjects(ctx, ws); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// fill makes n customers: customer i is in ids[0], in ids[1] when i%3 == 0
// and in ids[2] when i%3 == 1.
func fill(b *testing.B, pool *pgxpool.Pool, ws int64, ids []int64, n int) {
	b.Helper()
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		b.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO customers (workspace_id, email, first_seen, last_seen, project_count)
		SELECT $1, 'c' || i || '@example.com', now(), now(), CASE WHEN i % 3 = 2 THEN 1 ELSE 2 END
		FROM generate_series(0, $2::int - 1) i`, ws, n)
	// The customer's ordinal is recovered from its email.
	exec(`INSERT INTO memberships (workspace_id, customer_id, project_id, first_seen, last_seen, state_at)
		SELECT c.workspace_id, c.id, p.id, now(), now(), now()
		FROM customers c
		CROSS JOIN LATERAL (SELECT substr(split_part(c.email, '@', 1), 2)::int % 3 AS r) k
		JOIN (VALUES (0, $2::bigint), (1, $3::bigint), (2, $4::bigint)) p(n, id)
		  ON p.n = 0 OR (p.n = 1 AND k.r = 0) OR (p.n = 2 AND k.r = 1)
		WHERE c.workspace_id = $1`, ws, ids[0], ids[1], ids[2])
	exec(`VACUUM ANALYZE customers`)
	exec(`VACUUM ANALYZE memberships`)
}
