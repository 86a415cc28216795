package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// bootstrapLock serialises first-start bootstrap across daemons ("tcrmboot").
const bootstrapLock int64 = 0x7463726d626f6f74

// Bootstrap makes sure the default workspace exists. When it has to create
// it, it stores adminTokenHash as the workspace's first admin token and
// returns created=true; otherwise the hash is ignored. Two daemons starting at
// once create one workspace.
func (s *Store) Bootstrap(ctx context.Context, adminTokenHash []byte) (workspaceID int64, created bool, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", bootstrapLock); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, defaultWorkspace).Scan(&workspaceID)
		if err == nil {
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return fmt.Errorf("generate suppress key: %w", err)
		}
		if err := tx.QueryRow(ctx,
			"INSERT INTO workspaces (name, suppress_key) VALUES ('default', $1) RETURNING id", key,
		).Scan(&workspaceID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx,
			"INSERT INTO admin_tokens (workspace_id, token_hash) VALUES ($1, $2)", workspaceID, adminTokenHash,
		); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		return 0, false, translate("bootstrap workspace", err)
	}
	return workspaceID, created, nil
}

// defaultWorkspace selects the workspace Bootstrap made, the first one.
const defaultWorkspace = "SELECT id FROM workspaces ORDER BY id LIMIT 1"

// ReplaceAdminToken makes adminTokenHash the only admin token of the
// default workspace (the one Bootstrap made): the way back in for someone
// who lost the token file. Every other admin token stops working.
func (s *Store) ReplaceAdminToken(ctx context.Context, adminTokenHash []byte) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var ws int64
		if err := tx.QueryRow(ctx, defaultWorkspace).Scan(&ws); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM admin_tokens WHERE workspace_id = $1", ws); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO admin_tokens (workspace_id, token_hash) VALUES ($1, $2)", ws, adminTokenHash)
		return err
	})
	return translate("replace admin token", err)
}

// AdminWorkspace returns the workspace an admin token hash belongs to, or
// ErrNotFound.
func (s *Store) AdminWorkspace(ctx context.Context, tokenHash []byte) (int64, error) {
	var ws int64
	err := s.pool.QueryRow(ctx, "SELECT workspace_id FROM admin_tokens WHERE token_hash = $1", tokenHash).Scan(&ws)
	if err != nil {
		return 0, translate("look up admin token", err)
	}
	return ws, nil
}

// KeyOwner is what a valid project key grants: writes to one project.
type KeyOwner struct {
	WorkspaceID int64
	ProjectID   int64
	KeyID       int64
	// ExpiresAt is when a rotated key stops working; nil if it does not.
	ExpiresAt *time.Time
}

// ProjectKeyOwner returns the project a key hash writes to, or ErrNotFound
// when the key is unknown, revoked or past its grace period.
func (s *Store) ProjectKeyOwner(ctx context.Context, keyHash []byte) (KeyOwner, error) {
	var o KeyOwner
	err := s.pool.QueryRow(ctx, `
		SELECT workspace_id, project_id, id, expires_at FROM project_keys
		WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
		keyHash).Scan(&o.WorkspaceID, &o.ProjectID, &o.KeyID, &o.ExpiresAt)
	if err != nil {
		return KeyOwner{}, translate("look up project key", err)
	}
	return o, nil
}
