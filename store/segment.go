package store

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SegmentUser is a Segment userId seen together with an email in a project
// (SPEC §8). Email is normalized.
type SegmentUser struct {
	WorkspaceID int64
	ProjectID   int64
	UserID      string
	Email       string
}

// SegmentEmails returns the emails remembered for userIDs in a project,
// keyed by userId; userIds never seen with an email are absent.
func (s *Store) SegmentEmails(ctx context.Context, workspaceID, projectID int64, userIDs []string) (map[string]string, error) {
	out := make(map[string]string, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT u.user_id, c.email
		FROM segment_users u
		JOIN customers c ON c.workspace_id = u.workspace_id AND c.id = u.customer_id
		WHERE u.workspace_id = $1 AND u.project_id = $2 AND u.user_id = ANY($3::text[])`,
		workspaceID, projectID, userIDs)
	if err != nil {
		return nil, translate("look up segment users", err)
	}
	var uid, email string
	if _, err := pgx.ForEachRow(rows, []any{&uid, &email}, func() error {
		out[uid] = email
		return nil
	}); err != nil {
		return nil, translate("look up segment users", err)
	}
	return out, nil
}

// RememberSegmentUsers records userId → person for each user whose email
// is a member of the project; the others (a ping for a stranger, a
// suppressed email, a project deleted meanwhile) are skipped, since the
// mapping lives exactly as long as the membership it points at. A userId
// already remembered moves to the new person. When one userId appears more
// than once, the last one wins.
func (s *Store) RememberSegmentUsers(ctx context.Context, users []SegmentUser) error {
	if len(users) == 0 {
		return nil
	}
	type key struct {
		ws, project int64
		uid         string
	}
	last := make(map[key]string, len(users))
	for _, u := range users {
		last[key{u.WorkspaceID, u.ProjectID, u.UserID}] = u.Email
	}
	keys := make([]key, 0, len(last))
	for k := range last {
		keys = append(keys, k)
	}
	// One order for every writer, so concurrent upserts cannot deadlock.
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.ws, b.ws), cmp.Compare(a.project, b.project), cmp.Compare(a.uid, b.uid))
	})
	n := len(keys)
	ws, ps, uids, emails := make([]int64, n), make([]int64, n), make([]string, n), make([]string, n)
	for j, k := range keys {
		ws[j], ps[j], uids[j], emails[j] = k.ws, k.project, k.uid, last[k]
	}
	var err error
	for range maxAttempts {
		_, err = s.pool.Exec(ctx, `
			INSERT INTO segment_users AS s (workspace_id, project_id, user_id, customer_id)
			SELECT u.w, u.p, u.uid, m.customer_id
			FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) WITH ORDINALITY AS u(w, p, uid, e, n)
			JOIN customers c ON c.workspace_id = u.w AND c.email = u.e
			JOIN memberships m ON m.workspace_id = u.w AND m.customer_id = c.id AND m.project_id = u.p
			ORDER BY u.n
			ON CONFLICT (workspace_id, project_id, user_id) DO UPDATE
			SET customer_id = EXCLUDED.customer_id
			WHERE s.customer_id <> EXCLUDED.customer_id`, ws, ps, uids, emails)
		// A forget that deletes the membership between the join and the
		// foreign-key check fails the insert; run it again and the join
		// leaves that row out.
		if err == nil || !(isRetryable(err) || isForeignKeyViolation(err)) || ctx.Err() != nil {
			break
		}
	}
	return translate("remember segment users", err)
}

func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}
