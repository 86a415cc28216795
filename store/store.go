// Package store is TinyCRM's one way to PostgreSQL. It hides pgx from the
// rest of the program: callers see plain Go types and the sentinel errors
// below, never driver types. Every statement is scoped by workspace_id.
//
// The store does not validate user input; the server does that before it
// calls in. It does own the merge semantics of SPEC §2 (merge.go), applied
// to a whole batch of identifies with a handful of statements (ingest.go).
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Sentinel errors; callers test them with errors.Is.
var (
	// ErrNotFound means the addressed row does not exist in the workspace.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique value (a project slug) is already taken.
	ErrConflict = errors.New("already exists")
	// ErrUnavailable means the database could not be reached or the outcome
	// of a write is unknown; the caller should answer 503 and let the client
	// retry.
	ErrUnavailable = errors.New("database unavailable")
)

// Store runs TinyCRM's queries on a connection pool.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store on pool. The caller owns the pool and closes it; its
// config should have been through ConfigurePool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// ConfigurePool sets what the store's statements need on every connection
// of a pool: plan_cache_mode = force_custom_plan, so that every execution
// is planned with the tables' current sizes.
//
// pgx prepares each statement once per connection, and PostgreSQL's
// default (auto) switches a prepared statement to a cached generic plan
// after five runs when that plan looks no costlier. On near-empty tables
// every plan looks cheap, so the plans a daemon caches while its tables
// are small are the wrong ones once they have grown, until autovacuum next
// analyzes them: after 100,000 customers were imported, a page filtered
// by project ran for over nine minutes instead of 235 ms, the unfiltered
// first page took 311 ms instead of 2.6. Ingest is the exception: its
// transactions ask for generic plans, which its statements were made safe
// for (see ingestBegin).
func ConfigurePool(cfg *pgxpool.Config) {
	cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return translate("ping database", err)
	}
	return nil
}

// translate wraps err with the operation name and maps driver errors to the
// store's sentinels, so no caller ever needs to import pgx.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("%s: %w", op, ErrConflict)
	case errors.Is(err, ErrUnavailable):
		return fmt.Errorf("%s: %w", op, err)
	case isUnavailable(err):
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// isRetryable reports whether a transaction failed only because it raced
// another one (deadlock, serialization failure) and can simply run again.
func isRetryable(err error) bool {
	if errors.Is(err, errLostRace) {
		return true
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// isUnavailable reports whether err means the server could not be reached,
// went away, or is starting up or shutting down.
func isUnavailable(err error) bool {
	if errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P0x: admin/crash shutdown,
		// cannot connect now; 53300: too many connections.
		return pgErr.Code[:2] == "08" || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err) || isNetError(err)
}

// utc normalises a time read from the database for JSON output.
func utc(t time.Time) time.Time { return t.UTC() }
