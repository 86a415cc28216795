package store

import "context"

// Stats are the counts of the TUI's header line.
type Stats struct {
	Customers    int64 `json:"customers"`
	Projects     int64 `json:"projects"`
	MultiProject int64 `json:"multi_project"`
}

// Stats counts the workspace's customers, projects and customers in two or
// more projects.
func (s *Store) Stats(ctx context.Context, workspaceID int64) (Stats, error) {
	var st Stats
	err := s.pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM customers WHERE workspace_id = $1),
		       (SELECT count(*) FROM projects WHERE workspace_id = $1),
		       (SELECT count(*) FROM customers WHERE workspace_id = $1 AND project_count >= 2)`,
		workspaceID).Scan(&st.Customers, &st.Projects, &st.MultiProject)
	if err != nil {
		return Stats{}, translate("count customers", err)
	}
	return st, nil
}
