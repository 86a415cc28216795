package store

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"tinycrm.dev/tinycrm/pgtest"
)

// TestPageAndExportTransactions checks what the list's and the export's
// transactions begin with: read-only, no parallel workers, and for the
// export one repeatable-read snapshot.
func TestPageAndExportTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	for begin, want := range map[string][3]string{
		pageBegin:   {"on", "0", "read committed"},
		exportBegin: {"on", "0", "repeatable read"},
	} {
		var got [3]string
		err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{BeginQuery: begin}, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT current_setting('transaction_read_only'),
				current_setting('max_parallel_workers_per_gather'), current_setting('transaction_isolation')`).Scan(&got[0], &got[1], &got[2])
		})
		if err != nil || got != want {
			t.Fatalf("%q: read only, parallel workers, isolation %q (%v); want %q", begin, got, err, want)
		}
	}
}
