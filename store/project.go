package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Project is one product of the portfolio, with the counters the project
// list shows.
type Project struct {
	ID        int64     `json:"-"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Color     string    `json:"color"`
	CreatedAt time.Time `json:"created_at"`
	// Customers is the number of members.
	Customers int64 `json:"customers"`
	// LastIngest is the time of the newest identify, nil if none yet.
	LastIngest *time.Time `json:"last_ingest"`
	// Identifies24h counts identify calls in the last 24 hours (hourly
	// buckets, so it may include up to one extra hour).
	Identifies24h int64 `json:"identifies_24h"`
}

// NewProject is what CreateProject needs; the server fills every field.
type NewProject struct {
	Slug  string
	Name  string
	Color string
}

// ProjectPatch changes the fields that are non-nil.
type ProjectPatch struct {
	Name  *string
	Color *string
}

const projectColumns = `p.id, p.slug, p.name, p.color, p.created_at,
	(SELECT count(*) FROM memberships m WHERE m.workspace_id = p.workspace_id AND m.project_id = p.id),
	(SELECT max(a.last_at) FROM project_activity a WHERE a.workspace_id = p.workspace_id AND a.project_id = p.id),
	(SELECT COALESCE(sum(a.identifies), 0) FROM project_activity a
	  WHERE a.workspace_id = p.workspace_id AND a.project_id = p.id AND a.hour >= date_trunc('hour', now() - interval '24 hours'))`

func scanProject(row pgx.Row) (Project, error) {
	var p Project
	if err := row.Scan(&p.ID, &p.Slug, &p.Name, &p.Color, &p.CreatedAt, &p.Customers, &p.LastIngest, &p.Identifies24h); err != nil {
		return Project{}, err
	}
	p.CreatedAt = utc(p.CreatedAt)
	if p.LastIngest != nil {
		t := utc(*p.LastIngest)
		p.LastIngest = &t
	}
	return p, nil
}

// CreateProject inserts a project and its first key in one transaction.
// A taken slug is ErrConflict.
func (s *Store) CreateProject(ctx context.Context, workspaceID int64, np NewProject, key NewKey) (Project, Key, error) {
	var (
		p Project
		k Key
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx,
			`INSERT INTO projects (workspace_id, slug, name, color) VALUES ($1, $2, $3, $4) RETURNING id`,
			workspaceID, np.Slug, np.Name, np.Color).Scan(&id); err != nil {
			return err
		}
		var err error
		if k, err = insertKey(ctx, tx, workspaceID, id, key); err != nil {
			return err
		}
		p, err = scanProject(tx.QueryRow(ctx,
			`SELECT `+projectColumns+` FROM projects p WHERE p.workspace_id = $1 AND p.id = $2`, workspaceID, id))
		return err
	})
	if err != nil {
		return Project{}, Key{}, translate("create project", err)
	}
	return p, k, nil
}

// ListProjects returns the workspace's projects in creation order.
func (s *Store) ListProjects(ctx context.Context, workspaceID int64) ([]Project, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+projectColumns+` FROM projects p WHERE p.workspace_id = $1 ORDER BY p.id`, workspaceID)
	if err != nil {
		return nil, translate("list projects", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Project, error) { return scanProject(r) })
	if err != nil {
		return nil, translate("list projects", err)
	}
	return out, nil
}

// GetProject returns one project by slug, or ErrNotFound.
func (s *Store) GetProject(ctx context.Context, workspaceID int64, slug string) (Project, error) {
	p, err := scanProject(s.pool.QueryRow(ctx,
		`SELECT `+projectColumns+` FROM projects p WHERE p.workspace_id = $1 AND p.slug = $2`, workspaceID, slug))
	if err != nil {
		return Project{}, translate("get project "+slug, err)
	}
	return p, nil
}

// UpdateProject applies a patch to the project with this slug.
func (s *Store) UpdateProject(ctx context.Context, workspaceID int64, slug string, patch ProjectPatch) (Project, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE projects SET name = COALESCE($3, name), color = COALESCE($4, color)
		WHERE workspace_id = $1 AND slug = $2`, workspaceID, slug, patch.Name, patch.Color)
	if err != nil {
		return Project{}, translate("update project "+slug, err)
	}
	if tag.RowsAffected() == 0 {
		return Project{}, translate("update project "+slug, pgx.ErrNoRows)
	}
	return s.GetProject(ctx, workspaceID, slug)
}

// DeleteProject removes a project with its keys, memberships and events.
// Customers keep their other memberships and their totals are recomputed;
// customers left in no project are removed, since nothing refers to them.
func (s *Store) DeleteProject(ctx context.Context, workspaceID int64, slug string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `SELECT id FROM projects WHERE workspace_id = $1 AND slug = $2 FOR UPDATE`,
			workspaceID, slug).Scan(&id); err != nil {
			return err
		}
		// Lock the affected customers in email order before their memberships
		// go, like every other writer, so concurrent ingest cannot deadlock.
		if _, err := tx.Exec(ctx, `
			SELECT 1 FROM customers c
			WHERE c.workspace_id = $1 AND c.id IN (
				SELECT customer_id FROM memberships WHERE workspace_id = $1 AND project_id = $2)
			ORDER BY c.email FOR UPDATE`, workspaceID, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			CREATE TEMP TABLE affected ON COMMIT DROP AS
			SELECT customer_id FROM memberships WHERE workspace_id = $1 AND project_id = $2`, workspaceID, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM projects WHERE workspace_id = $1 AND id = $2`, workspaceID, id); err != nil {
			return err
		}
		if err := deleteProjectRows(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT a.customer_id FROM affected a
			WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.workspace_id = $1 AND m.customer_id = a.customer_id)`,
			workspaceID)
		if err != nil {
			return err
		}
		orphans, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		if err := deleteCustomers(ctx, tx, workspaceID, orphans); err != nil {
			return err
		}
		return recomputeTotals(ctx, tx, workspaceID, `SELECT customer_id FROM affected`)
	})
	return translate("delete project "+slug, err)
}

// recomputeTotals sets project_count, mrr_total, first_seen and last_seen
// from the memberships of the customers that the ids query selects.
func recomputeTotals(ctx context.Context, tx pgx.Tx, workspaceID int64, ids string, args ...any) error {
	_, err := tx.Exec(ctx, `
		UPDATE customers c SET
			project_count = t.n, mrr_total = t.mrr, first_seen = t.first_seen, last_seen = t.last_seen
		FROM (SELECT m.customer_id, count(*) AS n, COALESCE(sum(tinycrm_mrr(m.params)), 0) AS mrr,
		             min(m.first_seen) AS first_seen, max(m.last_seen) AS last_seen
		      FROM memberships m WHERE m.workspace_id = $1 AND m.customer_id IN (`+ids+`)
		      GROUP BY m.customer_id) t
		WHERE c.workspace_id = $1 AND c.id = t.customer_id`, append([]any{workspaceID}, args...)...)
	return err
}
