package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Key describes a project key; the secret itself is never stored.
type Key struct {
	ID        int64      `json:"id"`
	Hint      string     `json:"hint"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// NewKey is a key to store: the SHA-256 of the secret and a short hint.
type NewKey struct {
	Hash []byte
	Hint string
}

func scanKey(row pgx.Row) (Key, error) {
	var k Key
	if err := row.Scan(&k.ID, &k.Hint, &k.CreatedAt, &k.ExpiresAt, &k.RevokedAt); err != nil {
		return Key{}, err
	}
	k.CreatedAt = utc(k.CreatedAt)
	for _, t := range []**time.Time{&k.ExpiresAt, &k.RevokedAt} {
		if *t != nil {
			u := utc(**t)
			*t = &u
		}
	}
	return k, nil
}

const keyColumns = `id, hint, created_at, expires_at, revoked_at`

func insertKey(ctx context.Context, tx pgx.Tx, workspaceID, projectID int64, nk NewKey) (Key, error) {
	return scanKey(tx.QueryRow(ctx, `
		INSERT INTO project_keys (workspace_id, project_id, key_hash, hint) VALUES ($1, $2, $3, $4)
		RETURNING `+keyColumns, workspaceID, projectID, nk.Hash, nk.Hint))
}

// projectID resolves a slug inside a transaction, locking the project row so
// key changes on one project are serialised.
func projectID(ctx context.Context, tx pgx.Tx, workspaceID int64, slug string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM projects WHERE workspace_id = $1 AND slug = $2 FOR UPDATE`,
		workspaceID, slug).Scan(&id)
	return id, err
}

// ListKeys returns a project's keys, newest first, including revoked and
// expired ones so the owner can see what happened.
func (s *Store) ListKeys(ctx context.Context, workspaceID int64, slug string) ([]Key, error) {
	var keys []Key
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		id, err := projectID(ctx, tx, workspaceID, slug)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+keyColumns+` FROM project_keys
			WHERE workspace_id = $1 AND project_id = $2 ORDER BY id DESC`, workspaceID, id)
		if err != nil {
			return err
		}
		keys, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Key, error) { return scanKey(r) })
		return err
	})
	if err != nil {
		return nil, translate("list keys of "+slug, err)
	}
	return keys, nil
}

// CreateKey adds a key to a project; existing keys stay valid.
func (s *Store) CreateKey(ctx context.Context, workspaceID int64, slug string, nk NewKey) (Key, error) {
	var k Key
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		id, err := projectID(ctx, tx, workspaceID, slug)
		if err != nil {
			return err
		}
		k, err = insertKey(ctx, tx, workspaceID, id, nk)
		return err
	})
	if err != nil {
		return Key{}, translate("create key for "+slug, err)
	}
	return k, nil
}

// RotateKey adds a new key and makes every key that had no end date expire
// after grace, so apps can switch over without dropping calls.
func (s *Store) RotateKey(ctx context.Context, workspaceID int64, slug string, nk NewKey, grace time.Duration) (Key, error) {
	var k Key
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		id, err := projectID(ctx, tx, workspaceID, slug)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE project_keys SET expires_at = now() + $3::interval
			WHERE workspace_id = $1 AND project_id = $2 AND revoked_at IS NULL
			  AND (expires_at IS NULL OR expires_at > now() + $3::interval)`,
			workspaceID, id, grace); err != nil {
			return err
		}
		k, err = insertKey(ctx, tx, workspaceID, id, nk)
		return err
	})
	if err != nil {
		return Key{}, translate("rotate keys of "+slug, err)
	}
	return k, nil
}

// RevokeKey ends a key at once. Unknown ids (or another project's) are
// ErrNotFound; revoking twice is not an error.
func (s *Store) RevokeKey(ctx context.Context, workspaceID int64, slug string, keyID int64) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		id, err := projectID(ctx, tx, workspaceID, slug)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			UPDATE project_keys SET revoked_at = COALESCE(revoked_at, now())
			WHERE workspace_id = $1 AND project_id = $2 AND id = $3`, workspaceID, id, keyID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return pgx.ErrNoRows
		}
		return nil
	})
	return translate("revoke key of "+slug, err)
}
