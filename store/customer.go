package store

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Customer is one person across the portfolio, in the JSON shape of SPEC §5.
type Customer struct {
	ID           int64        `json:"id"`
	Email        string       `json:"email"`
	Name         string       `json:"name"`
	FirstSeen    time.Time    `json:"first_seen"`
	LastSeen     time.Time    `json:"last_seen"`
	ProjectCount int          `json:"project_count"`
	MRRTotal     float64      `json:"mrr_total"`
	Projects     []Membership `json:"projects"`
}

// Membership is a customer's state in one project.
type Membership struct {
	Slug      string          `json:"slug"`
	Name      string          `json:"name"`
	Color     string          `json:"color"`
	Status    string          `json:"status"`
	Params    json.RawMessage `json:"params"`
	FirstSeen time.Time       `json:"first_seen"`
	LastSeen  time.Time       `json:"last_seen"`
}

// Event is one entry of a customer's timeline.
type Event struct {
	At      time.Time       `json:"at"`
	Project string          `json:"project"`
	Kind    string          `json:"kind"`
	Before  json.RawMessage `json:"before"`
	After   json.RawMessage `json:"after"`
}

// CustomerDetail is a customer with their timeline, newest first: the
// newest timelineLimit events, and TimelineHasMore when there are older
// ones.
type CustomerDetail struct {
	Customer
	Timeline        []Event `json:"timeline"`
	TimelineHasMore bool    `json:"timeline_has_more"`
}

// timelineLimit caps the events returned with a customer.
const timelineLimit = 200

// customerColumns selects a customer with memberships aggregated as JSON, so
// a page of customers is one query. Memberships come in project order.
const customerColumns = `c.id, c.email, c.name, c.first_seen, c.last_seen, c.project_count, c.mrr_total::float8,
	COALESCE((SELECT jsonb_agg(jsonb_build_object(
			'slug', p.slug, 'name', p.name, 'color', p.color, 'status', m.status, 'params', m.params,
			'first_seen', m.first_seen, 'last_seen', m.last_seen) ORDER BY p.id)
		FROM memberships m JOIN projects p ON p.workspace_id = m.workspace_id AND p.id = m.project_id
		WHERE m.workspace_id = c.workspace_id AND m.customer_id = c.id), '[]'::jsonb)`

// bareCustomerColumns is customerColumns without the memberships.
const bareCustomerColumns = `c.id, c.email, c.name, c.first_seen, c.last_seen, c.project_count, c.mrr_total::float8`

func scanCustomer(row pgx.Row) (Customer, error) {
	var (
		c        Customer
		projects []byte
	)
	if err := row.Scan(&c.ID, &c.Email, &c.Name, &c.FirstSeen, &c.LastSeen, &c.ProjectCount, &c.MRRTotal, &projects); err != nil {
		return Customer{}, err
	}
	c.FirstSeen, c.LastSeen = utc(c.FirstSeen), utc(c.LastSeen)
	if err := json.Unmarshal(projects, &c.Projects); err != nil {
		return Customer{}, err
	}
	for i := range c.Projects {
		m := &c.Projects[i]
		m.FirstSeen, m.LastSeen = utc(m.FirstSeen), utc(m.LastSeen)
	}
	return c, nil
}

// GetCustomer finds a customer by numeric id or by normalized email and
// returns them with their newest timeline events.
func (s *Store) GetCustomer(ctx context.Context, workspaceID int64, idOrEmail string) (CustomerDetail, error) {
	var d CustomerDetail
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		q := `SELECT ` + customerColumns + ` FROM customers c WHERE c.workspace_id = $1 AND `
		var arg any = idOrEmail
		if id, err := strconv.ParseInt(idOrEmail, 10, 64); err == nil && !strings.Contains(idOrEmail, "@") {
			q += `c.id = $2`
			arg = id
		} else {
			q += `c.email = $2`
		}
		var err error
		if d.Customer, err = scanCustomer(tx.QueryRow(ctx, q, workspaceID, arg)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT e.at, p.slug, e.kind, e.before, e.after
			FROM events e JOIN projects p ON p.workspace_id = e.workspace_id AND p.id = e.project_id
			WHERE e.workspace_id = $1 AND e.customer_id = $2
			ORDER BY e.at DESC, e.id DESC LIMIT $3`, workspaceID, d.ID, timelineLimit+1)
		if err != nil {
			return err
		}
		d.Timeline, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
			var e Event
			var before, after []byte
			if err := r.Scan(&e.At, &e.Project, &e.Kind, &before, &after); err != nil {
				return Event{}, err
			}
			e.At = utc(e.At)
			e.Before, e.After = nullJSON(before), nullJSON(after)
			return e, nil
		})
		if len(d.Timeline) > timelineLimit {
			d.Timeline, d.TimelineHasMore = d.Timeline[:timelineLimit], true
		}
		return err
	})
	if err != nil {
		return CustomerDetail{}, translate("get customer", err)
	}
	return d, nil
}

func nullJSON(b []byte) json.RawMessage {
	if b == nil {
		return json.RawMessage("null")
	}
	return b
}
