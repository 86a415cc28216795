package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// The tables ingest writes have no foreign keys (migration 006): a key
// costs a query per inserted row. So nothing cascades from customers or
// projects to the rows that belong to them, and the two deletes that used
// to rely on cascades remove those rows here. Callers hold the customers'
// row locks (and, for a project, the project's), the locks ingest takes
// before it writes, so no batch can add a row behind the delete.

// deleteCustomers removes customers with their memberships (and, through
// segment_users' key to memberships, their Segment user ids), events and
// search rows.
func deleteCustomers(ctx context.Context, tx pgx.Tx, workspaceID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, table := range []string{"customer_search", "events", "memberships"} {
		b.Queue(`DELETE FROM `+table+` WHERE workspace_id = $1 AND customer_id = ANY($2::bigint[])`, workspaceID, ids)
	}
	b.Queue(`DELETE FROM customers WHERE workspace_id = $1 AND id = ANY($2::bigint[])`, workspaceID, ids)
	return tx.SendBatch(ctx, b).Close()
}

// deleteProjectRows removes a project's memberships and events; the
// project row itself cascades to its keys and activity counters.
func deleteProjectRows(ctx context.Context, tx pgx.Tx, workspaceID, projectID int64) error {
	b := &pgx.Batch{}
	for _, table := range []string{"events", "memberships"} {
		b.Queue(`DELETE FROM `+table+` WHERE workspace_id = $1 AND project_id = $2`, workspaceID, projectID)
	}
	return tx.SendBatch(ctx, b).Close()
}
