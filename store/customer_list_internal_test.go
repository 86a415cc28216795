package store

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"tinycrm.dev/tinycrm/pgtest"
)

// TestReadTransaction checks what the list's and the export's transactions
// begin with: read-only, one repeatable-read snapshot (the narrowing's reads
// and the page see the same data), no parallel workers.
func TestReadTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t, ConfigurePool)
	var got [3]string
	err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{BeginQuery: readBegin}, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT current_setting('transaction_read_only'),
			current_setting('max_parallel_workers_per_gather'), current_setting('transaction_isolation')`).Scan(&got[0], &got[1], &got[2])
	})
	if want := [3]string{"on", "0", "repeatable read"}; err != nil || got != want {
		t.Fatalf("read only, parallel workers, isolation %q (%v); want %q", got, err, want)
	}
}
