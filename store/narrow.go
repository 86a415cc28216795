package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

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

// A narrowing key is a set of memberships an index finds, with every
// membership that satisfies one where-condition among them: the SQL
// predicate on memberships (its one argument is $2; $1 is the workspace)
// and that argument.
type narrowingKey struct {
	pred string
	arg  string
}

// containsPred is an equality the params GIN index answers (migration 002).
const containsPred = `params @> $2::jsonb`

// daysPred is a date equality the index of migration 008 answers; the
// partial index's predicate comes first so the planner can use it.
const daysPred = `tinycrm_has_days(params) AND tinycrm_param_days(params) @> ARRAY[$2::text]`

// keyFor returns the narrowing key of a condition, if it has one: an
// equality on a number or text param is params containing it (the rule
// paramCond uses to pick @>), and a date-only equality is the param's
// "key=YYYY-MM-DD" in tinycrm_param_days. Either finds exactly the
// memberships that satisfy the condition.
func keyFor(c filter.Cond) (narrowingKey, bool) {
	if c.Field() != filter.FieldParam || c.Op != filter.Eq {
		return narrowingKey{}, false
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
			return narrowingKey{}, false
		}
		v = c.Value.Text
	case filter.Date:
		if !c.Value.DateOnly() {
			return narrowingKey{}, false
		}
		return narrowingKey{pred: daysPred, arg: c.Key + "=" + c.Value.Time.UTC().Format(time.DateOnly)}, true
	default:
		return narrowingKey{}, false
	}
	obj, err := json.Marshal(map[string]any{c.Key: v})
	if err != nil {
		return narrowingKey{}, false
	}
	return narrowingKey{pred: containsPred, arg: string(obj)}, true
}

// narrow helps the list query with rare where-equalities. The list walks a
// sort index and checks each customer's memberships, which is fast when
// matches are common and slow when they are rare (a value held by 0.3 % of
// a million customers took 280 ms). Each where-expression must hold in one
// membership, so every customer it matches has a membership satisfying
// each of its equalities: the customers of the rarest such value are a
// superset of the answer. When the planner does not expect that value to be
// common, its memberships are fetched through its index (keyFor), at most
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
		key  narrowingKey
		rows float64
		expr int
		only bool // the expression's only condition
	}
	var best *candidate
	for i, e := range f.Where {
		for _, c := range e.Conds {
			key, ok := keyFor(c)
			if !ok {
				continue
			}
			rows, err := estimateMemberships(ctx, tx, workspaceID, key)
			if err != nil {
				return false, -1, err
			}
			if rows <= n.estimate && (best == nil || rows < best.rows) {
				best = &candidate{key: key, rows: rows, expr: i, only: len(e.Conds) == 1}
			}
		}
	}
	// Only the rarest value by estimate is fetched: when even it is
	// common, a second index scan would most likely be wasted as well.
	if best == nil {
		return false, -1, nil
	}
	ids, ok, err := customersOf(ctx, tx, workspaceID, best.key, n.fetch)
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

// estimateMemberships is the planner's estimate of the memberships that
// key finds.
func estimateMemberships(ctx context.Context, tx pgx.Tx, workspaceID int64, key narrowingKey) (float64, error) {
	var raw []byte
	if err := tx.QueryRow(ctx, `EXPLAIN (FORMAT JSON) SELECT 1 FROM memberships
		WHERE workspace_id = $1 AND `+key.pred, workspaceID, key.arg).Scan(&raw); err != nil {
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

// customersOf returns the distinct customers of the memberships key finds,
// and true, when there are at most limit such memberships; otherwise false.
func customersOf(ctx context.Context, tx pgx.Tx, workspaceID int64, key narrowingKey, limit int) ([]int64, bool, error) {
	rows, err := tx.Query(ctx, `SELECT customer_id FROM memberships
		WHERE workspace_id = $1 AND `+key.pred+` LIMIT $3`, workspaceID, key.arg, limit+1)
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
