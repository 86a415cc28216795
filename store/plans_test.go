package store_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"tinycrm.dev/tinycrm/filter"
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
// Its database defaults to cached generic plans, which PostgreSQL may also
// choose by itself; the store's pool settings must override that.
func TestIngestPlansStayOnIndexesAsTablesGrow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := onePlanPool(t, genericPlansDB(t), true)
	big := []string{"customers", "memberships", "events", "message_ids", "customer_search"}
	st, ws, projects := planWorkspace(t, pool, big)

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

// genericPlansDB returns a new database whose sessions default to cached
// generic plans (plan_cache_mode = force_generic_plan): what PostgreSQL's
// default (auto) may switch a statement to after five runs, and what a
// server may be configured with.
func genericPlansDB(t *testing.T) string {
	t.Helper()
	conn := pgtest.NewDB(t)
	c, err := pgx.Connect(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(context.Background(), `DO $$ BEGIN
		EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = force_generic_plan', current_database());
	END $$`); err != nil {
		t.Fatal(err)
	}
	return conn
}

// onePlanPool opens a one-connection pool on conn, so that the cached plans
// are that connection's and its statistics can be flushed on demand. With
// storeConfig it is configured as the daemon's pool is (ConfigurePool);
// without, it plans every statement anew, as a reference.
func onePlanPool(t *testing.T, conn string, storeConfig bool) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(conn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	// A plan made for empty tables can run for minutes on grown ones.
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = "10s"
	if storeConfig {
		store.ConfigurePool(cfg)
	} else {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// TestReadPlansStayRightAsTablesGrow is the same guard for the read side: a
// connection that served pages, a customer and the insights while the
// tables were nearly empty must read as little, once they have grown, as a
// connection that plans each of them anew. With generic plans cached on a
// few customers, a page filtered by project ran for minutes once 100,000
// customers had been imported, and the unfiltered first page read every
// membership of the workspace.
func TestReadPlansStayRightAsTablesGrow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := genericPlansDB(t)
	warmPool := onePlanPool(t, conn, true)
	tables := []string{"customers", "memberships", "events", "customer_search"}
	warm, ws, projects := planWorkspace(t, warmPool, tables)
	now := time.Now()
	var writes []store.Write
	for i := range 4 {
		writes = append(writes, store.Write{WorkspaceID: ws, ProjectID: projects[i%2], Email: fmt.Sprintf("p%d@example.com", i),
			Status: "paid", Params: []byte(`{"plan":"pro","mrr":5}`), At: now.Add(-time.Hour)})
	}
	if _, err := warm.ApplyWrites(ctx, writes); err != nil {
		t.Fatal(err)
	}

	type read struct {
		name string
		run  func(*store.Store) error
	}
	var reads []read
	for _, q := range []string{"", "project=app-a", "status=paid", "min_projects=2", "not_project=app-b", "q=bulk77",
		"where=plan%3Dpro", "where=mrr%3E%3D9", "active_within=7d", "inactive_for=30d", "sort=-last_seen", "sort=-mrr", "sort=name"} {
		v, err := url.ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		f, err := filter.FromQuery(v)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		reads = append(reads, read{"customers?" + q, func(st *store.Store) error {
			_, err := st.ListCustomers(ctx, ws, store.CustomerQuery{Filter: f, Now: now})
			return err
		}})
	}
	churn := store.ChurnQuery{Idle: 14 * 24 * time.Hour, Active: 7 * 24 * time.Hour, Now: now}
	reads = append(reads,
		read{"customer", func(st *store.Store) error { _, err := st.GetCustomer(ctx, ws, "p1@example.com"); return err }},
		read{"stats", func(st *store.Store) error { _, err := st.Stats(ctx, ws); return err }},
		read{"overlap", func(st *store.Store) error { _, err := st.Overlap(ctx, ws); return err }},
		read{"upsell", func(st *store.Store) error { _, err := st.Upsell(ctx, ws, store.InsightQuery{}); return err }},
		read{"churn-risk", func(st *store.Store) error { _, err := st.ChurnRisk(ctx, ws, churn); return err }},
		read{"revenue", func(st *store.Store) error { _, err := st.Revenue(ctx, ws); return err }},
	)
	// More than five runs each, so PostgreSQL may cache generic plans.
	for range 8 {
		for _, r := range reads {
			if err := r.run(warm); err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
		}
	}

	// Grow the tables without telling the planner: 100,000 people in app-a.
	for _, step := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO customers (workspace_id, email, name, first_seen, last_seen, project_count, mrr_total)
		  SELECT $1, 'bulk' || g || '@example.com', '', now() - interval '40 days', now() - interval '40 days', 1, 0
		  FROM generate_series(1, 100000) g`, []any{ws}},
		{`INSERT INTO memberships (workspace_id, customer_id, project_id, status, params, first_seen, last_seen, state_at)
		  SELECT workspace_id, id, $2, 'free', '{"plan":"basic"}', first_seen, last_seen, last_seen
		  FROM customers WHERE workspace_id = $1 AND email LIKE 'bulk%'`, []any{ws, projects[0]}},
		{`INSERT INTO customer_search (workspace_id, customer_id, doc)
		  SELECT workspace_id, id, email || chr(1) FROM customers WHERE workspace_id = $1 AND email LIKE 'bulk%'`, []any{ws}},
	} {
		if _, err := warmPool.Exec(ctx, step.sql, step.args...); err != nil {
			t.Fatal(err)
		}
	}

	fresh := onePlanPool(t, conn, false)
	cost := func(pool *pgxpool.Pool, r read) (int64, error) {
		t.Helper()
		before := tableReads(ctx, t, pool, tables)
		if err := r.run(store.New(pool)); err != nil {
			return 0, err
		}
		after := tableReads(ctx, t, pool, tables)
		var n int64
		for _, table := range tables {
			n += after[table].rows - before[table].rows + after[table].indexBlocks - before[table].indexBlocks
		}
		return n, nil
	}
	for _, r := range reads {
		want, err := cost(fresh, r)
		if err != nil {
			t.Fatalf("%s on a new connection: %v", r.name, err)
		}
		got, err := cost(warmPool, r)
		switch {
		case err != nil:
			t.Errorf("%s on a connection that ran it on near-empty tables: %v (a plan made for the empty tables?)", r.name, err)
		case got > 2*want+1000:
			t.Errorf("%s read %d rows and index blocks on a connection that ran it on near-empty tables, %d on a new one: its plan was made for the empty tables",
				r.name, got, want)
		}
	}
}

// planWorkspace bootstraps a workspace with projects app-a and app-b on
// pool, and turns autovacuum off for tables so that nothing analyzes them
// behind the test's back.
func planWorkspace(t *testing.T, pool *pgxpool.Pool, tables []string) (*store.Store, int64, []int64) {
	t.Helper()
	ctx := context.Background()
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
	for _, table := range tables {
		if _, err := pool.Exec(ctx, "ALTER TABLE "+table+" SET (autovacuum_enabled = false)"); err != nil {
			t.Fatal(err)
		}
	}
	return st, ws, projects
}
