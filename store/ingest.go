package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Write is one validated ingest call: an identify, or a ping when Ping is
// set. Email is already normalized and At already clamped by the caller.
type Write struct {
	WorkspaceID int64
	ProjectID   int64
	Ping        bool
	Email       string
	Name        string          // "" = not given
	Status      string          // "" = not given
	Params      json.RawMessage // nil = not given; a JSON object otherwise
	At          time.Time
	MessageID   string // "" = none
}

// Outcome is what happened to one Write.
type Outcome int

// Outcomes of ApplyWrites.
const (
	Applied    Outcome = iota // committed (or, for a ping, nothing to move)
	Duplicate                 // message_id already applied in this project
	Suppressed                // the email was forgotten with suppress
	Failed                    // this write alone failed; see Result.Err
)

// Result pairs an Outcome with the error of a Failed write.
type Result struct {
	Outcome Outcome
	Err     error
}

// maxAttempts bounds how often a batch is re-run after losing a deadlock or
// serialization race to a concurrent batch.
const maxAttempts = 4

// ApplyWrites applies writes in one transaction and returns one Result per
// write, in input order, once that transaction has committed. Writes are
// applied sorted by email (stable, so calls for one person keep their order),
// which makes every batch take row locks in the same order.
//
// If the transaction cannot commit for a reason that belongs to one write (a
// project deleted meanwhile, say), each write is retried alone so the others
// still land and only the culprit is Failed. An error return means nothing is
// known to be committed: ErrUnavailable when the database is unreachable or
// the commit's outcome is unknown.
func (s *Store) ApplyWrites(ctx context.Context, writes []Write) ([]Result, error) {
	if len(writes) == 0 {
		return nil, nil
	}
	order := make([]int, len(writes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(writes[a].Email, writes[b].Email) })

	results, err := s.applyOrdered(ctx, writes, order)
	if err == nil {
		return results, nil
	}
	if isUnavailable(err) || ctx.Err() != nil {
		return nil, translate("apply writes", err)
	}
	if len(writes) == 1 {
		return []Result{{Outcome: Failed, Err: translate("apply write", err)}}, nil
	}
	// Something in the batch is bad: isolate it.
	results = make([]Result, len(writes))
	for _, i := range order {
		r, err := s.applyOrdered(ctx, writes, []int{i})
		switch {
		case err == nil:
			results[i] = r[i]
		case isUnavailable(err) || ctx.Err() != nil:
			return nil, translate("apply writes", err)
		default:
			results[i] = Result{Outcome: Failed, Err: translate("apply write", err)}
		}
	}
	return results, nil
}

// applyOrdered runs the writes at the given indices, in that order, in one
// transaction, retrying lost lock races. Results are indexed like writes.
func (s *Store) applyOrdered(ctx context.Context, writes []Write, order []int) ([]Result, error) {
	var err error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var results []Result
		results, err = s.applyOnce(ctx, writes, order)
		if err == nil || !isRetryable(err) {
			return results, err
		}
	}
	return nil, err
}

type activityKey struct{ ws, project int64 }

func (s *Store) applyOnce(ctx context.Context, writes []Write, order []int) ([]Result, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	batch := &pgx.Batch{}
	activity := map[activityKey]int64{}
	latest := map[activityKey]time.Time{}
	for _, i := range order {
		w := writes[i]
		if w.Ping {
			batch.Queue(`SELECT 'ok'::text FROM (SELECT tinycrm_ping($1, $2, $3, $4)) t`,
				w.WorkspaceID, w.ProjectID, w.Email, w.At)
			continue
		}
		var params any
		if w.Params != nil {
			params = string(w.Params)
		}
		batch.Queue(`SELECT tinycrm_identify($1, $2, $3, $4, $5, $6::jsonb, $7, $8)`,
			w.WorkspaceID, w.ProjectID, w.Email, w.Name, w.Status, params, w.At, nullable(w.MessageID))
		k := activityKey{w.WorkspaceID, w.ProjectID}
		activity[k]++
		if w.At.After(latest[k]) {
			latest[k] = w.At
		}
	}
	// Activity rows are shared by every batch of a project, so they are
	// touched last, in project order: a batch waits for them only after it
	// holds all its customer locks, which keeps lock order global.
	keys := make([]activityKey, 0, len(activity))
	for k := range activity {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b activityKey) int {
		return cmp.Or(cmp.Compare(a.ws, b.ws), cmp.Compare(a.project, b.project))
	})
	for _, k := range keys {
		batch.Queue(`
			INSERT INTO project_activity (workspace_id, project_id, hour, identifies, last_at)
			VALUES ($1, $2, date_trunc('hour', now()), $3, now())
			ON CONFLICT (workspace_id, project_id, hour) DO UPDATE
			SET identifies = project_activity.identifies + EXCLUDED.identifies,
			    last_at = GREATEST(project_activity.last_at, EXCLUDED.last_at)`,
			k.ws, k.project, activity[k])
	}

	results := make([]Result, len(writes))
	br := tx.SendBatch(ctx, batch)
	for _, i := range order {
		var outcome string
		if err := br.QueryRow().Scan(&outcome); err != nil {
			_ = br.Close()
			return nil, err
		}
		switch outcome {
		case "ok":
			results[i] = Result{Outcome: Applied}
		case "duplicate":
			results[i] = Result{Outcome: Duplicate}
		case "suppressed":
			results[i] = Result{Outcome: Suppressed}
		default:
			_ = br.Close()
			return nil, fmt.Errorf("tinycrm_identify returned %q", outcome)
		}
	}
	for range keys {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return nil, err
		}
	}
	if err := br.Close(); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		// A failed COMMIT on a broken connection has an unknown outcome:
		// report it as unavailable so the client retries with its
		// message_id rather than trusting either answer.
		return nil, fmt.Errorf("%w: commit: %w", ErrUnavailable, err)
	}
	return results, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
