package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"tinycrm.dev/tinycrm/pgtest"
	"tinycrm.dev/tinycrm/store"
)

// TestIngestPlansStayOnIndexesAsTablesGrow guards the write path against
// plans made while the tables were empty. A daemon's connections prepare
// the ingest statements on its first calls; PostgreSQL then keeps a plan
// per statement, and until autovacuum analyzes a table (a minute or more
// into a burst) it plans with what it knew then. Before ingest pinned its
// plans to index look-ups, a burst that grew the tables from empty made a
// 1,000-item batch take over 30 s: each look-up scanned memberships whole.
//
// The test warms the statements on near-empty tables, grows them behind
// the planner's back (no ANALYZE, autovacuum off), then ingests again and
// requires that no ingest statement scanned a big table or a whole index.
func TestIngestPlansStayOnIndexesAsTablesGrow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	// One connection: its cached plans are the ones under test, and its
	// scan counters are flushed on demand below.
	cfg.MaxConns = 1
	// What PostgreSQL may choose by itself after five runs of a statement
	// (plan_cache_mode = auto), and what a server may be configured with:
	// cached generic plans, made here on the first calls, on empty tables.
	cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	st := store.New(pool)
	ws, _, err := st.Bootstrap(ctx, []byte("admin-token-hash"))
	if err != nil {
		t.Fatal(err)
	}
	var projects []int64
	for _, slug := range []string{"app-a", "app-b"} {
		hash := make([]byte, 32)
		copy(hash, slug)
		p, _, err := st.CreateProject(ctx, ws, store.NewProject{Slug: slug, Name: slug, Color: "#000000"},
			store.NewKey{Hash: hash, Hint: "abcd"})
		if err != nil {
			t.Fatal(err)
		}
		projects = append(projects, p.ID)
	}
	big := []string{"customers", "memberships", "events", "message_ids", "customer_search"}
	for _, table := range big {
		if _, err := pool.Exec(ctx, "ALTER TABLE "+table+" SET (autovacuum_enabled = false)"); err != nil {
			t.Fatal(err)
		}
	}

	now := time.Now().Add(-time.Hour)
	msg := 0
	batch := func(n int, email func(i int) string, ping bool) []store.Write {
		writes := make([]store.Write, n)
		for i := range writes {
			msg++
			writes[i] = store.Write{WorkspaceID: ws, ProjectID: projects[i%2], Email: email(i),
				Status: []string{"paid", "free"}[msg%2], Params: []byte(fmt.Sprintf(`{"mrr":%d}`, msg%50)),
				At: now.Add(time.Duration(msg) * time.Millisecond), MessageID: fmt.Sprintf("m%d", msg), Ping: ping}
			if ping {
				writes[i].Status, writes[i].Params, writes[i].MessageID = "", nil, ""
			}
		}
		return writes
	}
	apply := func(writes []store.Write) {
		t.Helper()
		results, err := st.ApplyWrites(ctx, writes)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range results {
			if r.Outcome != store.Applied {
				t.Fatalf("write %d: outcome %v, %v", i, r.Outcome, r.Err)
			}
		}
	}
	// Warm up on near-empty tables: more than five runs of each statement,
	// so PostgreSQL may switch to a cached generic plan.
	for round := range 8 {
		apply(batch(10, func(i int) string { return fmt.Sprintf("warm%d-%d@example.com", round, i%6) }, false))
		apply(batch(4, func(i int) string { return fmt.Sprintf("warm%d-%d@example.com", round, i) }, true))
	}
	// Grow the tables without telling the planner.
	const grown = 100_000
	if _, err := pool.Exec(ctx, `
		INSERT INTO customers (workspace_id, email, name, first_seen, last_seen, project_count, mrr_total)
		SELECT $1, 'bulk' || g || '@example.com', '', $2, $2, 1, 0 FROM generate_series(1, $3) g`, ws, now, grown); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO memberships (workspace_id, customer_id, project_id, status, params, first_seen, last_seen, state_at)
		SELECT workspace_id, id, $2, 'free', '{}', $3, $3, $3 FROM customers WHERE workspace_id = $1 AND email LIKE 'bulk%'`, ws, projects[0], now); err != nil {
		t.Fatal(err)
	}

	before := tableReads(ctx, t, pool, big)
	// Known people (existing customers and memberships) and new ones, then
	// pings of known people.
	apply(batch(300, func(i int) string {
		if i%3 == 0 {
			return fmt.Sprintf("new%d@example.com", i)
		}
		return fmt.Sprintf("bulk%d@example.com", i*7+1)
	}, false))
	apply(batch(300, func(i int) string { return fmt.Sprintf("bulk%d@example.com", i*11+1) }, true))
	after := tableReads(ctx, t, pool, big)
	// 600 writes touch a few rows each; a plan that scans a table or an
	// index range reads on the order of the 100,000 rows. Index blocks
	// catch what rows cannot: an index scan whose condition is not on the
	// index's leading columns (memberships_status searched by customer)
	// tests every entry of the index in its pages but returns only the
	// match. Key look-ups and index upkeep take ~20 blocks per write.
	const rowLimit, blockLimit = 10 * 600, 40 * 600
	for _, table := range big {
		if n := after[table].rows - before[table].rows; n > rowLimit {
			t.Errorf("ingesting 600 writes read %d rows of %s (%d rows in all); at most %d expected: its plans must look rows up by key",
				n, table, grown, rowLimit)
		}
		if n := after[table].indexBlocks - before[table].indexBlocks; n > blockLimit {
			t.Errorf("ingesting 600 writes read %d index blocks of %s (%d rows in all); at most %d expected: its plans must look rows up by key",
				n, table, grown, blockLimit)
		}
	}
}

// reads counts what scans of one table read: rows from sequential scans
// plus entries returned from its indexes, and blocks of its indexes.
type reads struct{ rows, indexBlocks int64 }

// tableReads flushes this backend's statistics and returns what each table
// has had read so far.
func tableReads(ctx context.Context, t *testing.T, pool *pgxpool.Pool, tables []string) map[string]reads {
	t.Helper()
	if _, err := pool.Exec(ctx, "SELECT pg_stat_force_next_flush()"); err != nil {
		t.Fatal(err)
	}
	got := map[string]reads{}
	rows, err := pool.Query(ctx, `
		SELECT t.relname, t.seq_tup_read + COALESCE(sum(i.idx_tup_read), 0)::bigint,
		       (SELECT COALESCE(b.idx_blks_hit, 0) + COALESCE(b.idx_blks_read, 0) FROM pg_statio_user_tables b WHERE b.relid = t.relid)
		FROM pg_stat_user_tables t LEFT JOIN pg_stat_user_indexes i USING (relid)
		WHERE t.relname = ANY($1) GROUP BY t.relname, t.relid, t.seq_tup_read`, tables)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var r reads
		if err := rows.Scan(&name, &r.rows, &r.indexBlocks); err != nil {
			t.Fatal(err)
		}
		got[name] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}
