package store_test

import (
	"context"
	"testing"

	"tinycrm.dev/tinycrm/pgtest"
)

// TestGINPendingListsAreShort guards migration 010: the GIN indexes ingest
// writes keep a 256 kB pending list, so no single insert has to move
// megabytes of it into the index (the slow group commits behind the
// identify p99, docs/benchmarks.md).
func TestGINPendingListsAreShort(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	rows, err := pool.Query(context.Background(), `
		SELECT c.relname, coalesce(array_to_string(c.reloptions, ','), '')
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
		WHERE am.amname = 'gin' AND c.relnamespace = 'public'::regnamespace`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var name, opts string
		if err := rows.Scan(&name, &opts); err != nil {
			t.Fatal(err)
		}
		seen++
		if opts != "gin_pending_list_limit=256" {
			t.Errorf("GIN index %s has options %q, want gin_pending_list_limit=256", name, opts)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen < 2 {
		t.Fatalf("found %d GIN indexes, want the params and param-day ones at least", seen)
	}
}
