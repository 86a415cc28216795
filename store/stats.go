package store

import "context"

// Stats are the counts of the TUI's header line.
type Stats struct {
	Customers    int64 `json:"customers"`
	Projects     int64 `json:"projects"`
	MultiProject int64 `json:"multi_project"`
}

// Stats counts the workspace's customers, projects and customers in two or
// more projects. Both customer counts come from one pass over the index
// customers_projects (workspace_id, project_count, id): an index-only scan
// once the visibility map is set, a parallel sequential scan when the
// planner prefers it, and either way one pass instead of two. The counts are
// exact but cost O(customers) (about 40 ms per million rows); the server
// caches them for a few seconds (server/countcache.go).
func (s *Store) Stats(ctx context.Context, workspaceID int64) (Stats, error) {
	var st Stats
	err := s.pool.QueryRow(ctx, `
		SELECT c.n, c.multi, (SELECT count(*) FROM projects WHERE workspace_id = $1)
		FROM (SELECT count(*) AS n, count(*) FILTER (WHERE project_count >= 2) AS multi
		      FROM customers WHERE workspace_id = $1) c`,
		workspaceID).Scan(&st.Customers, &st.MultiProject, &st.Projects)
	if err != nil {
		return Stats{}, translate("count customers", err)
	}
	return st, nil
}
