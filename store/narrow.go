package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"tinycrm.dev/tinycrm/filter"
)

// narrowCap is the most customer ids a where-equality may hand the list
// query up front (see narrowByContainment).
const narrowCap = 5000

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

// narrowByContainment helps the list query with rare where-equalities. The
// list walks a sort index and checks each customer's memberships, which is
// fast when matches are common and slow when they are rare (a value held by
// 0.3 % of a million customers took 700 ms). When the planner expects at
// most narrowCap memberships to contain the value, their customers are
// fetched first through the params GIN index and the list is restricted to
// them; the EXISTS conditions stay, so the answer is the same either way.
func (s *Store) narrowByContainment(ctx context.Context, b *selectBuilder, workspaceID int64, f filter.Filter) error {
	for _, e := range f.Where {
		for _, c := range e.Conds {
			obj, ok := containment(c)
			if !ok {
				continue
			}
			var plan []struct {
				Plan struct {
					Rows float64 `json:"Plan Rows"`
				} `json:"Plan"`
			}
			var raw []byte
			if err := s.pool.QueryRow(ctx, `EXPLAIN (FORMAT JSON) SELECT 1 FROM memberships
				WHERE workspace_id = $1 AND params @> $2::jsonb`, workspaceID, string(obj)).Scan(&raw); err != nil {
				return fmt.Errorf("estimate where: %w", err)
			}
			if err := json.Unmarshal(raw, &plan); err != nil || len(plan) == 0 || plan[0].Plan.Rows > narrowCap {
				continue
			}
			rows, err := s.pool.Query(ctx, `SELECT DISTINCT customer_id FROM memberships
				WHERE workspace_id = $1 AND params @> $2::jsonb LIMIT $3`, workspaceID, string(obj), narrowCap+1)
			if err != nil {
				return fmt.Errorf("narrow where: %w", err)
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return fmt.Errorf("narrow where: %w", err)
			}
			if len(ids) > narrowCap {
				continue // the estimate was low; the plain query is right
			}
			b.where("c.id = ANY(" + b.arg(ids) + "::bigint[])")
			return nil
		}
	}
	return nil
}
