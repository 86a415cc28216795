package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"tinycrm.dev/tinycrm/filter"
)

// The statuses the insights know (SPEC §2).
const (
	StatusPaid     = "paid"
	StatusTrialing = "trialing"
	StatusFree     = "free"
	StatusChurned  = "churned"
)

// ProjectCustomers is one project with its number of members.
type ProjectCustomers struct {
	Slug      string `json:"slug"`
	Name      string `json:"name"`
	Color     string `json:"color"`
	Customers int64  `json:"customers"`
}

// PairOverlap is how many customers two projects share.
type PairOverlap struct {
	A      string `json:"a"`
	B      string `json:"b"`
	Shared int64  `json:"shared"`
}

// ProjectsBucket is how many customers are in exactly Projects projects.
type ProjectsBucket struct {
	Projects  int   `json:"projects"`
	Customers int64 `json:"customers"`
}

// Overlap is the overlap insight (SPEC §7).
type Overlap struct {
	// Projects in creation order, with their member counts.
	Projects []ProjectCustomers `json:"projects"`
	// Pairs has every pair of projects once, a before b in creation order,
	// including pairs that share nobody.
	Pairs []PairOverlap `json:"pairs"`
	// Distribution counts customers by number of projects, from 1 to the
	// largest count present, with no gaps (zero rows included).
	Distribution []ProjectsBucket `json:"distribution"`
}

// Overlap computes the overlap insight from one snapshot.
func (s *Store) Overlap(ctx context.Context, workspaceID int64) (Overlap, error) {
	out := Overlap{Projects: []ProjectCustomers{}, Pairs: []PairOverlap{}, Distribution: []ProjectsBucket{}}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		out = Overlap{Projects: []ProjectCustomers{}, Pairs: []PairOverlap{}, Distribution: []ProjectsBucket{}}
		rows, err := tx.Query(ctx, `
			SELECT p.id, p.slug, p.name, p.color,
			       (SELECT count(*) FROM memberships m WHERE m.workspace_id = p.workspace_id AND m.project_id = p.id)
			FROM projects p WHERE p.workspace_id = $1 ORDER BY p.id`, workspaceID)
		if err != nil {
			return err
		}
		index := map[int64]int{}
		var ids []int64
		for rows.Next() {
			var (
				id int64
				p  ProjectCustomers
			)
			if err := rows.Scan(&id, &p.Slug, &p.Name, &p.Color, &p.Customers); err != nil {
				rows.Close()
				return err
			}
			index[id] = len(out.Projects)
			ids = append(ids, id)
			out.Projects = append(out.Projects, p)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		shared := map[[2]int]int64{}
		rows, err = tx.Query(ctx, `
			SELECT a.project_id, b.project_id, count(*)
			FROM memberships a
			JOIN memberships b ON b.workspace_id = a.workspace_id AND b.customer_id = a.customer_id AND b.project_id > a.project_id
			WHERE a.workspace_id = $1
			GROUP BY 1, 2`, workspaceID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var (
				a, b int64
				n    int64
			)
			if err := rows.Scan(&a, &b, &n); err != nil {
				rows.Close()
				return err
			}
			shared[[2]int{index[a], index[b]}] = n
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range ids {
			for j := i + 1; j < len(ids); j++ {
				out.Pairs = append(out.Pairs, PairOverlap{A: out.Projects[i].Slug, B: out.Projects[j].Slug, Shared: shared[[2]int{i, j}]})
			}
		}
		rows, err = tx.Query(ctx, `
			SELECT project_count, count(*) FROM customers
			WHERE workspace_id = $1 AND project_count > 0
			GROUP BY 1 ORDER BY 1`, workspaceID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var b ProjectsBucket
			if err := rows.Scan(&b.Projects, &b.Customers); err != nil {
				rows.Close()
				return err
			}
			for len(out.Distribution) < b.Projects-1 {
				out.Distribution = append(out.Distribution, ProjectsBucket{Projects: len(out.Distribution) + 1})
			}
			out.Distribution = append(out.Distribution, b)
		}
		return rows.Err()
	})
	if err != nil {
		return Overlap{}, translate("overlap insight", err)
	}
	return out, nil
}

// InsightQuery pages through the customers of a list insight.
type InsightQuery struct {
	// Sort defaults to mrr (biggest first) when zero.
	Sort   filter.Sort
	Limit  int
	Cursor string
}

func (q InsightQuery) sort() filter.Sort {
	if q.Sort == (filter.Sort{}) {
		return filter.Sort{Key: filter.SortMRR}
	}
	return q.Sort
}

// Upsell lists people who are free or trialing in one project and paid in
// another (SPEC §7), biggest mrr_total first unless q.Sort says otherwise.
func (s *Store) Upsell(ctx context.Context, workspaceID int64, q InsightQuery) (CustomerPage, error) {
	b := newSelect(workspaceID)
	b.where("c.project_count >= 2")
	b.where("EXISTS (SELECT 1 FROM memberships m WHERE m.workspace_id = $1 AND m.customer_id = c.id AND m.status IN ('" +
		StatusFree + "', '" + StatusTrialing + "'))")
	b.where("EXISTS (SELECT 1 FROM memberships m WHERE m.workspace_id = $1 AND m.customer_id = c.id AND m.status = '" + StatusPaid + "')")
	rows, next, err := s.page(ctx, b, pageSpec{sort: q.sort(), limit: q.Limit, cursor: q.Cursor, scope: "upsell"})
	if err != nil {
		return CustomerPage{}, translate("upsell insight", err)
	}
	out := CustomerPage{Customers: make([]Customer, len(rows)), NextCursor: next}
	for i, r := range rows {
		out.Customers[i] = r.Customer
	}
	return out, nil
}

// ChurnQuery pages through the churn-risk insight.
type ChurnQuery struct {
	InsightQuery
	// Idle: a membership not seen for this long is at risk.
	Idle time.Duration
	// Active: the person counts as still active when seen in another
	// project within this long.
	Active time.Duration
	Now    time.Time
}

// AtRisk is one project in which a customer is slipping away.
type AtRisk struct {
	Slug string `json:"slug"`
	// Reason is "churned" (their status there) or "idle" (not seen there
	// within the idle age).
	Reason string `json:"reason"`
}

// RiskCustomer is a customer with the projects they are at risk in.
type RiskCustomer struct {
	Customer
	AtRisk []AtRisk `json:"at_risk"`
}

// RiskPage is one page of the churn-risk insight.
type RiskPage struct {
	Customers  []RiskCustomer
	NextCursor string
}

// ChurnRisk lists people who are idle (last_seen older than q.Idle) or
// churned in some project while active (seen within q.Active, and not
// churned) in another one (SPEC §7), biggest mrr_total first by default.
func (s *Store) ChurnRisk(ctx context.Context, workspaceID int64, q ChurnQuery) (RiskPage, error) {
	b := newSelect(workspaceID)
	idle := b.arg(q.Now.Add(-q.Idle)) + "::timestamptz"
	active := b.arg(q.Now.Add(-q.Active)) + "::timestamptz"
	// x is a membership at risk, y an active one elsewhere.
	atRisk := `x.workspace_id = $1 AND x.customer_id = c.id
		  AND (x.last_seen < ` + idle + ` OR x.status = '` + StatusChurned + `')
		  AND EXISTS (SELECT 1 FROM memberships y
		              WHERE y.workspace_id = $1 AND y.customer_id = c.id AND y.project_id <> x.project_id
		                AND y.last_seen >= ` + active + ` AND y.status <> '` + StatusChurned + `')`
	b.where("c.project_count >= 2")
	b.where("EXISTS (SELECT 1 FROM memberships x WHERE " + atRisk + ")")
	b.extra = `(SELECT jsonb_agg(jsonb_build_object('slug', p.slug,
			'reason', CASE WHEN x.status = '` + StatusChurned + `' THEN 'churned' ELSE 'idle' END) ORDER BY p.id)
		FROM memberships x JOIN projects p ON p.workspace_id = x.workspace_id AND p.id = x.project_id
		WHERE ` + atRisk + `)`
	scope := fmt.Sprintf("churn-risk\x00%d\x00%d", q.Idle, q.Active)
	rows, next, err := s.page(ctx, b, pageSpec{sort: q.sort(), limit: q.Limit, cursor: q.Cursor, scope: scope})
	if err != nil {
		return RiskPage{}, translate("churn-risk insight", err)
	}
	out := RiskPage{Customers: make([]RiskCustomer, len(rows)), NextCursor: next}
	for i, r := range rows {
		out.Customers[i].Customer = r.Customer
		if err := json.Unmarshal(r.extra, &out.Customers[i].AtRisk); err != nil {
			return RiskPage{}, fmt.Errorf("churn-risk insight: decode at_risk: %w", err)
		}
	}
	return out, nil
}

// ProjectRevenue is one project's share of the revenue.
type ProjectRevenue struct {
	Slug  string  `json:"slug"`
	Name  string  `json:"name"`
	Color string  `json:"color"`
	MRR   float64 `json:"mrr"`
	// PayingCustomers counts members whose params.mrr in this project is
	// a number greater than zero.
	PayingCustomers int64 `json:"paying_customers"`
}

// Revenue is the revenue insight (SPEC §7).
type Revenue struct {
	// TotalMRR is the sum of every customer's mrr_total.
	TotalMRR float64 `json:"total_mrr"`
	// PayingCustomers counts customers with mrr_total > 0.
	PayingCustomers int64 `json:"paying_customers"`
	// ByProject has every project, biggest MRR first (ties in creation
	// order).
	ByProject []ProjectRevenue `json:"by_project"`
	// TopCustomers are the (at most) 10 customers with the largest
	// mrr_total > 0, biggest first, ties by newest id.
	TopCustomers []Customer `json:"top_customers"`
	// TopDecileShare is the share of paying customers' MRR held by the top
	// 10 % of them: with n paying customers, the ceil(n/10) with the
	// largest mrr_total (ties by newest id), as a fraction 0..1 rounded to
	// four places; 0 when nobody pays.
	TopDecileShare float64 `json:"top_decile_share"`
}

// topCustomers is the length of Revenue.TopCustomers.
const topCustomers = 10

// Revenue computes the revenue insight from one snapshot.
func (s *Store) Revenue(ctx context.Context, workspaceID int64) (Revenue, error) {
	var out Revenue
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		out = Revenue{ByProject: []ProjectRevenue{}, TopCustomers: []Customer{}}
		var top, paying float64
		if err := tx.QueryRow(ctx, `
			WITH ranked AS (
				SELECT mrr_total, row_number() OVER (ORDER BY mrr_total DESC, id DESC) AS rank
				FROM customers WHERE workspace_id = $1 AND mrr_total > 0)
			SELECT (SELECT COALESCE(sum(mrr_total), 0)::float8 FROM customers WHERE workspace_id = $1),
			       (SELECT count(*) FROM ranked),
			       COALESCE((SELECT sum(mrr_total) FROM ranked), 0)::float8,
			       COALESCE((SELECT sum(mrr_total) FROM ranked
			                 WHERE rank <= ceil((SELECT count(*) FROM ranked) / 10.0)), 0)::float8`,
			workspaceID).Scan(&out.TotalMRR, &out.PayingCustomers, &paying, &top); err != nil {
			return err
		}
		if paying > 0 {
			out.TopDecileShare = math.Round(top/paying*10000) / 10000
		}
		rows, err := tx.Query(ctx, `
			SELECT p.slug, p.name, p.color,
			       COALESCE(sum(tinycrm_mrr(m.params)), 0)::float8 AS mrr,
			       count(m.customer_id) FILTER (WHERE tinycrm_mrr(m.params) > 0)
			FROM projects p
			LEFT JOIN memberships m ON m.workspace_id = p.workspace_id AND m.project_id = p.id
			WHERE p.workspace_id = $1
			GROUP BY p.workspace_id, p.id
			ORDER BY mrr DESC, p.id`, workspaceID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var p ProjectRevenue
			if err := rows.Scan(&p.Slug, &p.Name, &p.Color, &p.MRR, &p.PayingCustomers); err != nil {
				rows.Close()
				return err
			}
			out.ByProject = append(out.ByProject, p)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		b := newSelect(workspaceID)
		b.where("c.mrr_total > 0")
		sql, args := b.sql(sortColumn(filter.Sort{Key: filter.SortMRR}), true, nil, topCustomers)
		rows, err = tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			r, _, err := scanRow(rows, false)
			if err != nil {
				rows.Close()
				return err
			}
			out.TopCustomers = append(out.TopCustomers, r.Customer)
		}
		return rows.Err()
	})
	if err != nil {
		return Revenue{}, translate("revenue insight", err)
	}
	return out, nil
}
