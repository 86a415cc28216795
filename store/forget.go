package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"tinycrm.dev/tinycrm/filter"
)

// ForgetOptions narrow or widen ForgetCustomer.
type ForgetOptions struct {
	// Project, when set, unlinks the customer from that project only (by
	// slug): the membership and its events go, the totals are recomputed,
	// and the customer goes too if no membership is left.
	Project string
	// Suppress keeps a keyed hash of the email so later identifies of it
	// are dropped, in every project of the workspace. The caller must not
	// combine it with Project.
	Suppress bool
}

// ForgetResult says what ForgetCustomer did.
type ForgetResult struct {
	// Deleted: something was erased (the customer or one membership).
	Deleted bool `json:"deleted"`
	// CustomerDeleted: the person is gone from the workspace entirely.
	CustomerDeleted bool `json:"customer_deleted"`
	// Suppressed: the email is (now) on the suppression list.
	Suppressed bool `json:"suppressed"`
}

// ForgetCustomer erases a customer, found by id or normalized email, with
// their memberships and events (SPEC §3, DELETE /v1/customers/{id}). An
// unknown customer is ErrNotFound, except that an email can be suppressed
// without ever having been seen; an unknown project is an
// *UnknownProjectError, and a customer outside that project ErrNotFound.
//
// It locks the customer row before touching memberships, the order ingest
// uses, so the two never deadlock.
func (s *Store) ForgetCustomer(ctx context.Context, workspaceID int64, idOrEmail string, o ForgetOptions) (ForgetResult, error) {
	var (
		res ForgetResult
		err error
	)
	// A forget queued for a customer row behind two ingest batches can be
	// picked as the victim of their deadlock; it has changed nothing then,
	// so it simply runs again.
	for attempt := 1; ; attempt++ {
		res, err = s.forget(ctx, workspaceID, idOrEmail, o)
		if err == nil || attempt == maxAttempts || !isRetryable(err) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		var up *UnknownProjectError
		if errors.As(err, &up) {
			return ForgetResult{}, err
		}
		return ForgetResult{}, translate("forget customer", err)
	}
	return res, nil
}

// forget is one attempt of ForgetCustomer, in one transaction.
func (s *Store) forget(ctx context.Context, workspaceID int64, idOrEmail string, o ForgetOptions) (ForgetResult, error) {
	var res ForgetResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		res = ForgetResult{}
		var (
			id    int64
			email string
		)
		byID, isID := customerID(idOrEmail)
		q := `SELECT id, email FROM customers WHERE workspace_id = $1 AND email = $2 FOR UPDATE`
		var arg any = idOrEmail
		if isID {
			q = `SELECT id, email FROM customers WHERE workspace_id = $1 AND id = $2 FOR UPDATE`
			arg = byID
		}
		err := tx.QueryRow(ctx, q, workspaceID, arg).Scan(&id, &email)
		switch {
		case errors.Is(err, pgx.ErrNoRows) && o.Suppress && !isID && o.Project == "":
			// Nothing to erase, but the email can still be kept out.
			email = idOrEmail
		case err != nil:
			return err
		case o.Project != "":
			if err := forgetMembership(ctx, tx, workspaceID, id, email, o.Project, &res); err != nil {
				return err
			}
		default:
			if err := deleteCustomers(ctx, tx, workspaceID, []int64{id}); err != nil {
				return err
			}
			res.Deleted, res.CustomerDeleted = true, true
		}
		if o.Suppress {
			if _, err := tx.Exec(ctx, `
				INSERT INTO suppressions (workspace_id, email_hash)
				VALUES ($1, tinycrm_email_hash($1, $2))
				ON CONFLICT DO NOTHING`, workspaceID, email); err != nil {
				return err
			}
			res.Suppressed = true
		}
		return nil
	})
	return res, err
}

// forgetMembership removes one membership and its events; the customer row
// is already locked.
func forgetMembership(ctx context.Context, tx pgx.Tx, workspaceID, customerID int64, email, slug string, res *ForgetResult) error {
	var projectID int64
	err := tx.QueryRow(ctx, `SELECT id FROM projects WHERE workspace_id = $1 AND slug = $2`, workspaceID, slug).Scan(&projectID)
	if errors.Is(err, pgx.ErrNoRows) {
		return &UnknownProjectError{Param: filter.ParamProject, Slug: slug}
	}
	if err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `DELETE FROM memberships WHERE workspace_id = $1 AND customer_id = $2 AND project_id = $3`,
		workspaceID, customerID, projectID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s is not in project %q: %w", email, slug, ErrNotFound)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM events WHERE workspace_id = $1 AND customer_id = $2 AND project_id = $3`,
		workspaceID, customerID, projectID); err != nil {
		return err
	}
	res.Deleted = true
	var left bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM memberships WHERE workspace_id = $1 AND customer_id = $2)`,
		workspaceID, customerID).Scan(&left); err != nil {
		return err
	}
	if !left {
		res.CustomerDeleted = true
		return deleteCustomers(ctx, tx, workspaceID, []int64{customerID})
	}
	return recomputeTotals(ctx, tx, workspaceID, `SELECT $2::bigint`, customerID)
}

// customerID reads a path key as a customer id: digits and no "@", as
// GetCustomer does.
func customerID(key string) (int64, bool) {
	if strings.Contains(key, "@") {
		return 0, false
	}
	id, err := strconv.ParseInt(key, 10, 64)
	return id, err == nil
}
