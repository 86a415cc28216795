package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"tinycrm.dev/tinycrm/filter"
)

// narrowing bounds when a where-equality drives the list from the
// customers the params index finds (see narrow).
type narrowing struct {
	// estimate is the most memberships the planner may expect to contain
	// the value for the real ones to be fetched at all, so that a common
	// value does not cost an index scan for nothing. Migration 005 keeps
	// the estimates of rare values within ~10 %.
	estimate float64
	// fetch is the most memberships actually fetched: one more means the
	// value is too common to gain from narrowing.
	fetch int
}

// defaultNarrowing is used by the list and the export. At a million
// customers a narrowed page costs ~3 µs per fetched membership, while the
// sort index walk costs (limit+1) ÷ (matching fraction) customer visits at
// ~10 µs each: up to 10,000 memberships (~0.4 % of customers) narrowing
// keeps a page under ~30 ms, where the walk takes 50 ms or more.
var defaultNarrowing = narrowing{estimate: 15_000, fetch: 10_000}

// containment returns the params object an equality condition is
// equivalent to containing (the same rule paramCond uses to pick @>), and
// whether there is one.
func containment(c filter.Cond) (json.RawMessage, bool) {
	if c.Field() != filter.FieldParam || c.Op != filter.Eq {
		return nil, false
	}
	var v any
	switch c.Value.Kind {
	case filter.Number:
		lit := c.Value.Text
		if lit == "" {
			lit = strconv.FormatFloat(c.Value.Num, 'g', -1, 64)
		}
		v = json.Number(lit)
	case filter.Text:
		if !onlyStringsPrintAs(c.Value.Text) {
			return nil, false
		}
		v = c.Value.Text
	default:
		return nil, false
	}
	obj, err := json.Marshal(map[string]any{c.Key: v})
	if err != nil {
		return nil, false
	}
	return obj, true
}

// narrow helps the list query with rare where-equalities. The list walks a
// sort index and checks each customer's memberships, which is fast when
// matches are common and slow when they are rare (a value held by 0.3 % of
// a million customers took 280 ms). Each where-expression must hold in one
// membership, so every customer it matches has a membership containing
// each of its equalities: the customers of the rarest such value are a
// superset of the answer. When the planner does not expect that value to be
// common, its memberships are fetched through the params GIN index, at most
// n.fetch+1 of them; when there are no more than n.fetch, the query reads
// just those customers and sorts them (b.from) instead of walking the sort
// index. The other conditions stay, and tx is the page's repeatable-read
// transaction, so the answer and the cursors are the same either way, even
// while the memberships change.
//
// narrow reports whether it narrowed, and the index in f.Where of an
// expression the narrowing alone decides (its one condition is the value
// fetched, with no project scope), whose EXISTS the caller can leave out;
// -1 when there is none.
func narrow(ctx context.Context, tx pgx.Tx, b *selectBuilder, workspaceID int64, f filter.Filter, n narrowing) (bool, int, error) {
	type candidate struct {
		obj  string
		rows float64
		expr int
		only bool // the expression's only condition
	}
	var best *candidate
	for i, e := range f.Where {
		for _, c := range e.Conds {
			obj, ok := containment(c)
			if !ok {
				continue
			}
			rows, err := estimateContainment(ctx, tx, workspaceID, obj)
			if err != nil {
				return false, -1, err
			}
			if rows <= n.estimate && (best == nil || rows < best.rows) {
				best = &candidate{obj: string(obj), rows: rows, expr: i, only: len(e.Conds) == 1}
			}
		}
	}
	// Only the rarest value by estimate is fetched: when even it is
	// common, a second index scan would most likely be wasted as well.
	if best == nil {
		return false, -1, nil
	}
	ids, ok, err := containingCustomers(ctx, tx, workspaceID, best.obj, n.fetch)
	if err != nil || !ok {
		return false, -1, err
	}
	// The fence (OFFSET 0) keeps the planner from walking a sort index
	// with the ids as a filter: it reads them by primary key and sorts the
	// few that pass the conditions.
	b.from = "(SELECT * FROM customers WHERE workspace_id = $1 AND id = ANY(" + b.arg(ids) + "::bigint[]) OFFSET 0) c"
	exact := -1
	if best.only && len(f.Projects) == 0 {
		exact = best.expr
	}
	return true, exact, nil
}

// estimateContainment is the planner's estimate of the memberships whose
// params contain obj.
func estimateContainment(ctx context.Context, tx pgx.Tx, workspaceID int64, obj []byte) (float64, error) {
	var raw []byte
	if err := tx.QueryRow(ctx, `EXPLAIN (FORMAT JSON) SELECT 1 FROM memberships
		WHERE workspace_id = $1 AND params @> $2::jsonb`, workspaceID, string(obj)).Scan(&raw); err != nil {
		return 0, fmt.Errorf("estimate where: %w", err)
	}
	var plan []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(raw, &plan); err != nil || len(plan) == 0 {
		return 0, fmt.Errorf("estimate where: unexpected plan %q", raw)
	}
	return plan[0].Plan.Rows, nil
}

// containingCustomers returns the distinct customers with a membership
// whose params contain obj, and true, when there are at most limit such
// memberships; otherwise false.
func containingCustomers(ctx context.Context, tx pgx.Tx, workspaceID int64, obj string, limit int) ([]int64, bool, error) {
	rows, err := tx.Query(ctx, `SELECT customer_id FROM memberships
		WHERE workspace_id = $1 AND params @> $2::jsonb LIMIT $3`, workspaceID, obj, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("narrow where: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, false, fmt.Errorf("narrow where: %w", err)
	}
	if len(ids) > limit {
		return nil, false, nil
	}
	slices.Sort(ids)
	return slices.Compact(ids), true, nil
}
