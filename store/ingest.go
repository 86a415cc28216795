package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
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

// ApplyWrites applies writes and returns one Result per write, in input
// order, once they are committed: the identifies in one transaction, the
// pings (if any) in a second one.
//
// The work is set-based: a handful of statements per batch, whatever its
// size. Rows are locked in one global order — projects (shared), message
// ids, then customers by (workspace, email), then their memberships, then
// activity rows by project — so concurrent batches cannot deadlock.
// Several calls for one person in a batch are merged in input order.
//
// If a transaction fails for a reason that belongs to one write (its project
// was deleted meanwhile, say), each write is retried alone so the others
// still land and only the culprit is Failed. An error return means nothing
// is known to be committed: ErrUnavailable when the database is unreachable
// or the commit's outcome is unknown.
func (s *Store) ApplyWrites(ctx context.Context, writes []Write) ([]Result, error) {
	return s.applyWrites(ctx, writes, true)
}

// CheckWrites is ApplyWrites rolled back: each write's outcome is the one
// ApplyWrites would report now (a message id seen before is a Duplicate, a
// suppressed email Suppressed, params that would merge past a
// membership's bounds Failed), and nothing is stored. It takes the same
// row locks for the length of its transaction.
func (s *Store) CheckWrites(ctx context.Context, writes []Write) ([]Result, error) {
	return s.applyWrites(ctx, writes, false)
}

// applyWrites applies writes, and commits them when commit is set.
func (s *Store) applyWrites(ctx context.Context, writes []Write, commit bool) ([]Result, error) {
	results := make([]Result, len(writes))
	var identifies, pings []int
	for i, w := range writes {
		if w.Ping {
			pings = append(pings, i)
		} else {
			identifies = append(identifies, i)
		}
	}
	for _, group := range []struct {
		idx   []int
		apply func(context.Context, pgx.Tx, []Write, []int, []Result) error
	}{{identifies, applyIdentifies}, {pings, applyPings}} {
		if len(group.idx) == 0 {
			continue
		}
		if err := s.applyIsolating(ctx, writes, group.idx, results, group.apply, commit); err != nil {
			return nil, err
		}
	}
	return results, nil
}

type applyFunc func(context.Context, pgx.Tx, []Write, []int, []Result) error

// applyIsolating runs apply on idx in one transaction; if that fails for a
// reason other than the database being unavailable, it runs each write alone
// and marks the ones that still fail.
func (s *Store) applyIsolating(ctx context.Context, writes []Write, idx []int, results []Result, apply applyFunc, commit bool) error {
	err := s.inTx(ctx, writes, idx, results, apply, commit)
	if err == nil {
		return nil
	}
	if isUnavailable(err) || ctx.Err() != nil {
		return translate("apply writes", err)
	}
	for _, i := range idx {
		err := s.inTx(ctx, writes, []int{i}, results, apply, commit)
		switch {
		case err == nil:
		case isUnavailable(err) || ctx.Err() != nil:
			return translate("apply writes", err)
		default:
			results[i] = Result{Outcome: Failed, Err: translate("apply write", err)}
		}
	}
	return nil
}

// inTx runs apply in a transaction, retrying lost lock races, and commits
// it when commit is set (else rolls it back).
func (s *Store) inTx(ctx context.Context, writes []Write, idx []int, results []Result, apply applyFunc, commit bool) error {
	var err error
	for range maxAttempts {
		err = s.inTxOnce(ctx, writes, idx, results, apply, commit)
		if err == nil || !isRetryable(err) {
			return err
		}
	}
	return err
}

// ingestBegin starts an ingest transaction whose statements may only be
// planned as nested loops over index look-ups. Every ingest statement
// touches a handful of rows by key; letting the planner choose otherwise
// went badly: a daemon prepares these statements on its first calls, while
// the tables are nearly empty, and PostgreSQL keeps those plans until
// autovacuum analyzes the tables, which during a burst can be minutes
// away. Plans made then scanned whole tables once the tables had grown (a
// 1,000-item batch took over 30 s after a 20-second burst). Even freshly
// analyzed, the cost model (random_page_cost = 4) prefers a hash join
// over a full table to 1,000 index probes of cached pages. Turning the
// other strategies off for these transactions leaves the plans that stay
// fast at any size, cached or not; the SET LOCALs ride in BEGIN's round
// trip and end with the transaction.
//
// Unlike the rest of the store (see ConfigurePool), ingest uses generic
// plans, made once per connection, even on empty tables: its statements
// are key look-ups whose indexes cannot be mistaken for one another
// (migration 009; the ping update's last_seen test is kept out of index
// conditions with IS TRUE). store/plans_test.go checks it. Measured
// against custom plans: 3,521 and 3,656 identifies/s against 3,211 and
// 3,493 (go run ./bench, alternated); BenchmarkApplyWrites 224-253 µs
// against 251-275.
const ingestBegin = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"

func (s *Store) inTxOnce(ctx context.Context, writes []Write, idx []int, results []Result, apply applyFunc, commit bool) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: ingestBegin})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := apply(ctx, tx, writes, idx, results); err != nil {
		return err
	}
	if !commit {
		return nil
	}
	if err := tx.Commit(ctx); err != nil {
		// A failed COMMIT on a broken connection has an unknown outcome:
		// report it as unavailable so the client retries with its
		// message_id rather than trusting either answer.
		return fmt.Errorf("%w: commit: %w", ErrUnavailable, err)
	}
	return nil
}

type emailKey struct {
	ws    int64
	email string
}

// memberKey names a membership by its customer's email, since customers
// created by this batch have no id until the end of it.
type memberKey struct {
	ws      int64
	email   string
	project int64
}

// applyIdentifies is the set-based identify. One round trip share-locks
// the projects, records the message ids, locks the existing customers in
// (workspace, email) order, checks suppressions and reads the memberships,
// as five statements of one pipeline; the merge happens in memory; then
// new customers are inserted with their final state and everything else is
// written back in a second pipeline, every row once.
func applyIdentifies(ctx context.Context, tx pgx.Tx, writes []Write, idx []int, results []Result) error {
	for _, i := range idx {
		results[i] = Result{Outcome: Applied}
	}
	r := newIdentifyRead(writes, idx, results)
	if err := r.run(ctx, tx); err != nil {
		return err
	}
	live := make([]int, 0, len(idx))
	for _, i := range idx {
		w := writes[i]
		switch {
		case !r.projects[projectKey{w.WorkspaceID, w.ProjectID}]:
			// Its key was still cached, but the project is gone; nothing
			// of this write was recorded, not even its message id.
			results[i] = Result{Outcome: Failed, Err: fmt.Errorf("project %d was deleted: %w", w.ProjectID, ErrNotFound)}
		case results[i].Outcome == Duplicate:
		case w.MessageID != "" && !r.fresh[msgKey{w.WorkspaceID, w.ProjectID, w.MessageID}]:
			results[i] = Result{Outcome: Duplicate}
		case r.suppressed[emailKey{w.WorkspaceID, w.Email}]:
			results[i] = Result{Outcome: Suppressed}
		default:
			live = append(live, i)
		}
	}
	if len(live) == 0 {
		return nil
	}
	customers := r.customers
	members := map[memberKey]*memberState{}
	var (
		events  []event
		refused []int // writes the merge refused: nothing of them may stay
	)
	for _, i := range live {
		w := writes[i]
		c := customers[emailKey{w.WorkspaceID, w.Email}]
		k := memberKey{w.WorkspaceID, w.Email, w.ProjectID}
		m, ok := members[k]
		if !ok {
			m = &memberState{}
			if stored, found := r.members[k]; found {
				*m = *stored
			}
			members[k] = m
		}
		var params map[string]json.RawMessage
		if w.Params != nil {
			var err error
			if params, err = decodeParams(w.Params); err != nil {
				return err
			}
		}
		if err := paramsOverflow(w, m, params); err != nil {
			results[i] = Result{Outcome: Failed, Err: err}
			refused = append(refused, i)
			if !m.exists && !m.dirty {
				delete(members, k)
			}
			continue
		}
		var err error
		if events, err = applyIdentify(w, c, m, params, events); err != nil {
			return err
		}
	}
	if err := insertNewCustomers(ctx, tx, customers, members); err != nil {
		return err
	}
	// The remaining writes depend on nothing but the merge, so they travel
	// together in one round trip.
	out := &pgx.Batch{}
	forgetMessageIDs(out, writes, refused)
	if err := writeMemberships(out, members, customers); err != nil {
		return err
	}
	insertEvents(out, events)
	insertSearchDocs(out, customers)
	updateCustomers(out, customers)
	if out.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, out).Close()
}

type msgKey struct {
	ws, project int64
	id          string
}

type projectKey struct{ ws, id int64 }

// identifyRead is the first round trip of a batch: what the merge needs to
// know, read with the customers locked.
type identifyRead struct {
	projectIDs []projectKey // sorted, unique
	msgs       []msgKey     // sorted, unique
	emails     []emailKey   // sorted, unique
	memberIDs  []memberKey

	projects   map[projectKey]bool // the batch's projects that exist, share-locked
	fresh      map[msgKey]bool     // message ids recorded now (not seen before)
	customers  map[emailKey]*customerState
	suppressed map[emailKey]bool
	members    map[memberKey]*memberState
}

// newIdentifyRead collects the batch's keys; a message id repeated within
// the batch marks the later writes Duplicate at once.
func newIdentifyRead(writes []Write, idx []int, results []Result) *identifyRead {
	r := &identifyRead{projects: map[projectKey]bool{}, fresh: map[msgKey]bool{},
		customers: map[emailKey]*customerState{}, suppressed: map[emailKey]bool{}, members: map[memberKey]*memberState{}}
	seenProject := map[projectKey]bool{}
	seenMsg := map[msgKey]bool{}
	seenEmail := map[emailKey]bool{}
	seenMember := map[memberKey]bool{}
	for _, i := range idx {
		w := writes[i]
		if pk := (projectKey{w.WorkspaceID, w.ProjectID}); !seenProject[pk] {
			seenProject[pk] = true
			r.projectIDs = append(r.projectIDs, pk)
		}
		if w.MessageID != "" {
			k := msgKey{w.WorkspaceID, w.ProjectID, w.MessageID}
			if seenMsg[k] {
				results[i] = Result{Outcome: Duplicate}
				continue
			}
			seenMsg[k] = true
			r.msgs = append(r.msgs, k)
		}
		if ek := (emailKey{w.WorkspaceID, w.Email}); !seenEmail[ek] {
			seenEmail[ek] = true
			r.emails = append(r.emails, ek)
		}
		if mk := (memberKey{w.WorkspaceID, w.Email, w.ProjectID}); !seenMember[mk] {
			seenMember[mk] = true
			r.memberIDs = append(r.memberIDs, mk)
		}
	}
	slices.SortFunc(r.projectIDs, func(a, b projectKey) int { return cmp.Or(cmp.Compare(a.ws, b.ws), cmp.Compare(a.id, b.id)) })
	slices.SortFunc(r.msgs, func(a, b msgKey) int {
		return cmp.Or(cmp.Compare(a.ws, b.ws), cmp.Compare(a.project, b.project), cmp.Compare(a.id, b.id))
	})
	slices.SortFunc(r.emails, func(a, b emailKey) int { return cmp.Or(cmp.Compare(a.ws, b.ws), cmp.Compare(a.email, b.email)) })
	return r
}

// run sends the five reads as one pipeline. Each is its own statement, so
// each sees what committed before it started: in particular the suppression
// check runs after the customer locks are held, so a concurrent forget with
// suppress that held one of them has committed its suppression by then.
//
// The first locks the batch's projects FOR KEY SHARE, which is what the
// foreign keys to projects did row by row before migration 006:
// DeleteProject's lock waits for this batch to commit, and a project
// deleted before it is not found. DeleteProject locks the project before
// its customers, so this lock comes before the customer locks too.
func (r *identifyRead) run(ctx context.Context, tx pgx.Tx) error {
	b := &pgx.Batch{}
	pws, pids := make([]int64, len(r.projectIDs)), make([]int64, len(r.projectIDs))
	for j, k := range r.projectIDs {
		pws[j], pids[j] = k.ws, k.id
	}
	b.Queue(`
		SELECT p.workspace_id, p.id
		FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS u(w, p, n)
		CROSS JOIN LATERAL (
			SELECT p.workspace_id, p.id FROM projects p WHERE p.workspace_id = u.w AND p.id = u.p FOR KEY SHARE) p
		ORDER BY u.n`, pws, pids)
	if len(r.msgs) > 0 {
		ws, ps, ids := make([]int64, len(r.msgs)), make([]int64, len(r.msgs)), make([]string, len(r.msgs))
		for j, k := range r.msgs {
			ws[j], ps[j], ids[j] = k.ws, k.project, k.id
		}
		// A deleted project's message ids are not recorded: its writes
		// fail, and a retry must not be taken for a duplicate.
		b.Queue(`
			INSERT INTO message_ids (workspace_id, project_id, message_id)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS u(w, p, m)
			WHERE EXISTS (SELECT 1 FROM projects p WHERE p.workspace_id = u.w AND p.id = u.p)
			ON CONFLICT DO NOTHING
			RETURNING workspace_id, project_id, message_id`, ws, ps, ids)
	}
	ws, emails := make([]int64, len(r.emails)), make([]string, len(r.emails))
	for j, k := range r.emails {
		ws[j], emails[j] = k.ws, k.email
	}
	// The arrays are sorted and the lateral look-up locks row by row in
	// that order; it also pins the plan to index look-ups.
	b.Queue(`
		SELECT c.workspace_id, c.email, c.id, c.name, c.name_at, c.first_seen, c.last_seen
		FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS u(w, e, n)
		CROSS JOIN LATERAL (
			SELECT * FROM customers c WHERE c.workspace_id = u.w AND c.email = u.e FOR UPDATE) c
		ORDER BY u.n`, ws, emails)
	b.Queue(`
		SELECT u.w, u.e FROM unnest($1::bigint[], $2::text[]) AS u(w, e)
		WHERE EXISTS (SELECT 1 FROM suppressions s WHERE s.workspace_id = u.w)
		  AND EXISTS (SELECT 1 FROM suppressions s
		              WHERE s.workspace_id = u.w AND s.email_hash = tinycrm_email_hash(u.w, u.e))`, ws, emails)
	mws, mes, mps := make([]int64, len(r.memberIDs)), make([]string, len(r.memberIDs)), make([]int64, len(r.memberIDs))
	for j, k := range r.memberIDs {
		mws[j], mes[j], mps[j] = k.ws, k.email, k.project
	}
	// OFFSET 0 keeps each look-up a subquery of its own (see ingestBegin):
	// joined freely, the planner may start from memberships by project and
	// read a whole project to find a few people.
	b.Queue(`
		SELECT u.w, u.e, u.p, m.status, m.params, m.first_seen, m.last_seen, m.state_at
		FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(w, e, p)
		CROSS JOIN LATERAL (SELECT c.id FROM customers c WHERE c.workspace_id = u.w AND c.email = u.e OFFSET 0) c
		CROSS JOIN LATERAL (
			SELECT * FROM memberships m
			WHERE m.workspace_id = u.w AND m.customer_id = c.id AND m.project_id = u.p OFFSET 0) m`, mws, mes, mps)

	br := tx.SendBatch(ctx, b)
	if err := r.read(br); err != nil {
		_ = br.Close()
		return err
	}
	return br.Close()
}

func (r *identifyRead) read(br pgx.BatchResults) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	var pk projectKey
	if _, err := pgx.ForEachRow(rows, []any{&pk.ws, &pk.id}, func() error {
		r.projects[pk] = true
		return nil
	}); err != nil {
		return err
	}
	if len(r.msgs) > 0 {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		var k msgKey
		if _, err := pgx.ForEachRow(rows, []any{&k.ws, &k.project, &k.id}, func() error {
			r.fresh[k] = true
			return nil
		}); err != nil {
			return err
		}
	}
	if rows, err = br.Query(); err != nil {
		return err
	}
	var (
		ek emailKey
		st customerState
	)
	if _, err := pgx.ForEachRow(rows, []any{&ek.ws, &ek.email, &st.id, &st.name, &st.nameAt, &st.firstSeen, &st.lastSeen}, func() error {
		c := st
		r.customers[ek] = &c
		return nil
	}); err != nil {
		return err
	}
	for _, k := range r.emails {
		if _, ok := r.customers[k]; !ok {
			// Times are set by the first call merged (customerState.see).
			r.customers[k] = &customerState{isNew: true}
		}
	}
	if rows, err = br.Query(); err != nil {
		return err
	}
	if _, err := pgx.ForEachRow(rows, []any{&ek.ws, &ek.email}, func() error {
		r.suppressed[ek] = true
		return nil
	}); err != nil {
		return err
	}
	if rows, err = br.Query(); err != nil {
		return err
	}
	var (
		mk     memberKey
		ms     memberState
		params []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&mk.ws, &mk.email, &mk.project, &ms.status, &params, &ms.firstSeen, &ms.lastSeen, &ms.stateAt}, func() error {
		m := ms
		m.exists = true
		var err error
		if m.params, err = decodeParams(params); err != nil {
			return err
		}
		r.members[mk] = &m
		return nil
	})
	return err
}

// errLostRace means a concurrent batch created a customer this batch was
// about to create; the transaction is simply run again.
var errLostRace = errors.New("customer created concurrently")

// insertNewCustomers creates the batch's new customers with their final
// state, in email order, and sets their ids.
func insertNewCustomers(ctx context.Context, tx pgx.Tx, customers map[emailKey]*customerState, members map[memberKey]*memberState) error {
	type agg struct {
		count int
		mrr   []json.RawMessage
	}
	totals := map[emailKey]*agg{}
	for k, m := range members {
		ek := emailKey{k.ws, k.email}
		if !customers[ek].isNew {
			continue
		}
		a := totals[ek]
		if a == nil {
			a = &agg{}
			totals[ek] = a
		}
		a.count++
		a.mrr = append(a.mrr, m.params["mrr"])
	}
	keys := make([]emailKey, 0, len(totals))
	for k := range totals {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil
	}
	slices.SortFunc(keys, func(a, b emailKey) int { return cmp.Or(cmp.Compare(a.ws, b.ws), cmp.Compare(a.email, b.email)) })
	n := len(keys)
	ws, emails, names, mrrs := make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
	nameAts := make([]*time.Time, n)
	firsts, lasts, counts := make([]time.Time, n), make([]time.Time, n), make([]int32, n)
	for j, k := range keys {
		c := customers[k]
		mrr, err := sumMRR(totals[k].mrr)
		if err != nil {
			return err
		}
		ws[j], emails[j], names[j], nameAts[j] = k.ws, k.email, c.name, c.nameAt
		firsts[j], lasts[j], counts[j], mrrs[j] = c.firstSeen, c.lastSeen, int32(totals[k].count), mrr
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO customers (workspace_id, email, name, name_at, first_seen, last_seen, project_count, mrr_total)
		SELECT w, e, nm, na, f, l, pc, m::numeric
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[],
		            $7::int[], $8::text[]) AS u(w, e, nm, na, f, l, pc, m)
		ORDER BY 1, 2
		ON CONFLICT (workspace_id, email) DO NOTHING
		RETURNING workspace_id, email, id`, ws, emails, names, nameAts, firsts, lasts, counts, mrrs)
	if err != nil {
		return err
	}
	var (
		k  emailKey
		id int64
	)
	got := 0
	if _, err := pgx.ForEachRow(rows, []any{&k.ws, &k.email, &id}, func() error {
		customers[k].id = id
		got++
		return nil
	}); err != nil {
		return err
	}
	if got != n {
		return errLostRace
	}
	return nil
}

// sumMRR adds the numeric mrr values of a new customer's memberships
// exactly, as PostgreSQL's numeric sum would. Like tinycrm_mrr, only a
// JSON number counts: an absent value or any other kind (a string such as
// "9" included) counts as 0.
func sumMRR(values []json.RawMessage) (string, error) {
	total := new(big.Rat)
	for _, v := range values {
		v = bytes.TrimSpace(v)
		if len(v) == 0 || !(v[0] == '-' || v[0] >= '0' && v[0] <= '9') {
			continue // not a number: counts as 0 (SPEC §2)
		}
		r, ok := new(big.Rat).SetString(string(v))
		if !ok {
			return "", fmt.Errorf("sum mrr: bad number %s", v)
		}
		total.Add(total, r)
	}
	if total.IsInt() {
		return total.Num().String(), nil
	}
	prec, exact := total.FloatPrec()
	if !exact {
		prec = 20
	}
	return total.FloatString(prec), nil
}

// writeMemberships inserts new memberships and updates changed ones.
func writeMemberships(b *pgx.Batch, members map[memberKey]*memberState, customers map[emailKey]*customerState) error {
	keys := make([]memberKey, 0, len(members))
	for k, m := range members {
		if m.dirty {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.SortFunc(keys, func(a, b memberKey) int {
		return cmp.Or(cmp.Compare(a.ws, b.ws), cmp.Compare(a.email, b.email), cmp.Compare(a.project, b.project))
	})
	n := len(keys)
	ws, cs, ps := make([]int64, n), make([]int64, n), make([]int64, n)
	statuses, params := make([]string, n), make([]string, n)
	firsts, lasts, states := make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
	for j, k := range keys {
		m := members[k]
		p, err := json.Marshal(m.params)
		if err != nil {
			return fmt.Errorf("encode params: %w", err)
		}
		ws[j], cs[j], ps[j] = k.ws, customers[emailKey{k.ws, k.email}].id, k.project
		statuses[j], params[j] = m.status, string(p)
		firsts[j], lasts[j], states[j] = m.firstSeen, m.lastSeen, m.stateAt
	}
	b.Queue(`
		INSERT INTO memberships AS m (workspace_id, customer_id, project_id, status, params, first_seen, last_seen, state_at)
		SELECT w, c, p, s, j::jsonb, f, l, a
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
		            $6::timestamptz[], $7::timestamptz[], $8::timestamptz[]) AS u(w, c, p, s, j, f, l, a)
		ON CONFLICT (workspace_id, customer_id, project_id) DO UPDATE
		SET status = EXCLUDED.status, params = EXCLUDED.params, first_seen = EXCLUDED.first_seen,
		    last_seen = EXCLUDED.last_seen, state_at = EXCLUDED.state_at`,
		ws, cs, ps, statuses, params, firsts, lasts, states)
	return nil
}

// insertEvents appends timeline rows in the order they happened, so ids
// order events of equal time.
// forgetMessageIDs removes the message ids the first round trip recorded
// for writes the merge then refused, so that a refused write leaves
// nothing behind and its message id is not taken for a duplicate later.
func forgetMessageIDs(b *pgx.Batch, writes []Write, refused []int) {
	var ws, ps []int64
	var ids []string
	for _, i := range refused {
		if w := writes[i]; w.MessageID != "" {
			ws, ps, ids = append(ws, w.WorkspaceID), append(ps, w.ProjectID), append(ids, w.MessageID)
		}
	}
	if len(ids) == 0 {
		return
	}
	b.Queue(`
		DELETE FROM message_ids m USING unnest($1::bigint[], $2::bigint[], $3::text[]) AS u(w, p, id)
		WHERE m.workspace_id = u.w AND m.project_id = u.p AND m.message_id = u.id`, ws, ps, ids)
}

func insertEvents(b *pgx.Batch, events []event) {
	if len(events) == 0 {
		return
	}
	n := len(events)
	ws, cs, ps := make([]int64, n), make([]int64, n), make([]int64, n)
	ats, kinds := make([]time.Time, n), make([]string, n)
	befores, afters := make([]*string, n), make([]*string, n)
	for j, e := range events {
		ws[j], cs[j], ps[j], ats[j], kinds[j] = e.workspaceID, e.customer.id, e.projectID, e.at, e.kind
		befores[j], afters[j] = jsonText(e.before), jsonText(e.after)
	}
	b.Queue(`
		INSERT INTO events (workspace_id, customer_id, project_id, at, kind, before, after)
		SELECT w, c, p, a, k, b::jsonb, f::jsonb
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::timestamptz[], $5::text[], $6::text[], $7::text[])
		     WITH ORDINALITY AS u(w, c, p, a, k, b, f, n)
		ORDER BY n`, ws, cs, ps, ats, kinds, befores, afters)
}

func jsonText(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

// insertSearchDocs adds the searched text of new customers (migration 002's
// customer_search; renames are kept up to date by a trigger).
func insertSearchDocs(b *pgx.Batch, customers map[emailKey]*customerState) {
	var (
		ws, ids []int64
		docs    []string
	)
	for k, c := range customers {
		if c.isNew && c.id != 0 {
			ws, ids, docs = append(ws, k.ws), append(ids, c.id), append(docs, k.email+"\x01"+c.name)
		}
	}
	if len(ids) == 0 {
		return
	}
	b.Queue(`
		INSERT INTO customer_search (workspace_id, customer_id, doc)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[])`, ws, ids, docs)
}

// updateCustomers writes each changed customer once: first_seen/last_seen,
// a new name, and project_count/mrr_total recomputed from the memberships
// where they may have changed.
func updateCustomers(b *pgx.Batch, customers map[emailKey]*customerState) {
	var (
		ws, ids       []int64
		firsts, lasts []time.Time
		names         []string
		nameAts       []*time.Time
		recounts      []bool
	)
	for k, c := range customers {
		if c.isNew || (!c.moved && !c.dirty && !c.recount) {
			continue
		}
		ws, ids = append(ws, k.ws), append(ids, c.id)
		firsts, lasts = append(firsts, c.firstSeen), append(lasts, c.lastSeen)
		names, nameAts = append(names, c.name), append(nameAts, c.nameAt)
		recounts = append(recounts, c.recount)
	}
	if len(ids) == 0 {
		return
	}
	b.Queue(`
		UPDATE customers c SET
			first_seen    = u.first_seen,
			last_seen     = u.last_seen,
			name          = u.name,
			name_at       = u.name_at,
			project_count = CASE WHEN u.recount THEN t.n ELSE c.project_count END,
			mrr_total     = CASE WHEN u.recount THEN t.mrr ELSE c.mrr_total END
		FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::timestamptz[], $7::bool[])
		     AS u(w, id, first_seen, last_seen, name, name_at, recount)
		CROSS JOIN LATERAL (
			SELECT count(*)::int AS n, COALESCE(sum(tinycrm_mrr(m.params)), 0) AS mrr
			FROM memberships m WHERE m.workspace_id = u.w AND m.customer_id = u.id AND u.recount) t
		WHERE c.workspace_id = u.w AND c.id = u.id`, ws, ids, firsts, lasts, names, nameAts, recounts)
}

// ActivityKey names one project's hourly identify counter.
type ActivityKey struct {
	WorkspaceID int64
	ProjectID   int64
	Hour        time.Time
}

// ActivityCount is identifies counted for one key, and the newest call.
type ActivityCount struct {
	Identifies int64
	LastAt     time.Time
}

// AddActivity adds identify counts to the per-project hourly counters that
// the project list shows. The server batches these in memory and flushes
// them every few seconds, outside the ingest transactions, because every
// batch of a project would otherwise wait on the same counter row.
func (s *Store) AddActivity(ctx context.Context, counts map[ActivityKey]ActivityCount) error {
	if len(counts) == 0 {
		return nil
	}
	keys := make([]ActivityKey, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b ActivityKey) int {
		return cmp.Or(cmp.Compare(a.WorkspaceID, b.WorkspaceID), cmp.Compare(a.ProjectID, b.ProjectID), a.Hour.Compare(b.Hour))
	})
	n := len(keys)
	ws, ps, ns := make([]int64, n), make([]int64, n), make([]int64, n)
	hours, lasts := make([]time.Time, n), make([]time.Time, n)
	for j, k := range keys {
		ws[j], ps[j], hours[j], ns[j], lasts[j] = k.WorkspaceID, k.ProjectID, k.Hour, counts[k].Identifies, counts[k].LastAt
	}
	// Projects deleted meanwhile are skipped by the join.
	_, err := s.pool.Exec(ctx, `
		INSERT INTO project_activity AS a (workspace_id, project_id, hour, identifies, last_at)
		SELECT u.w, u.p, u.h, u.n, u.l
		FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::bigint[], $5::timestamptz[]) AS u(w, p, h, n, l)
		JOIN projects p ON p.workspace_id = u.w AND p.id = u.p
		ORDER BY 1, 2, 3
		ON CONFLICT (workspace_id, project_id, hour) DO UPDATE
		SET identifies = a.identifies + EXCLUDED.identifies, last_at = GREATEST(a.last_at, EXCLUDED.last_at)`,
		ws, ps, hours, ns, lasts)
	return translate("add project activity", err)
}

// applyPings moves last_seen of existing memberships (and their customers).
// Customers are locked first, in (workspace, email) order, like identifies;
// every look-up is by primary key, whatever the size of the project.
func applyPings(ctx context.Context, tx pgx.Tx, writes []Write, idx []int, results []Result) error {
	type pingKey struct {
		ws      int64
		email   string
		project int64
	}
	latest := map[pingKey]time.Time{}
	for _, i := range idx {
		w := writes[i]
		k := pingKey{w.WorkspaceID, w.Email, w.ProjectID}
		if w.At.After(latest[k]) {
			latest[k] = w.At
		}
		results[i] = Result{Outcome: Applied}
	}
	keys := make([]pingKey, 0, len(latest))
	for k := range latest {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b pingKey) int {
		return cmp.Or(cmp.Compare(a.ws, b.ws), cmp.Compare(a.email, b.email), cmp.Compare(a.project, b.project))
	})
	n := len(keys)
	ws, ps, emails, ats := make([]int64, n), make([]int64, n), make([]string, n), make([]time.Time, n)
	for j, k := range keys {
		ws[j], emails[j], ps[j], ats[j] = k.ws, k.email, k.project, latest[k]
	}
	rows, err := tx.Query(ctx, `
		SELECT c.workspace_id, c.id, u.p, u.a
		FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::timestamptz[]) WITH ORDINALITY AS u(w, e, p, a, n)
		CROSS JOIN LATERAL (
			SELECT c.workspace_id, c.id FROM customers c WHERE c.workspace_id = u.w AND c.email = u.e FOR UPDATE) c
		CROSS JOIN LATERAL (
			SELECT 1 FROM memberships m
			WHERE m.workspace_id = u.w AND m.customer_id = c.id AND m.project_id = u.p OFFSET 0) m
		ORDER BY u.n`, ws, emails, ps, ats)
	if err != nil {
		return err
	}
	var (
		mws, mcs, mps []int64
		mats          []time.Time
		w, c, p       int64
		a             time.Time
	)
	if _, err := pgx.ForEachRow(rows, []any{&w, &c, &p, &a}, func() error {
		mws, mcs, mps, mats = append(mws, w), append(mcs, c), append(mps, p), append(mats, a)
		return nil
	}); err != nil {
		return err
	}
	if len(mcs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	b.Queue(`
		UPDATE memberships m SET last_seen = GREATEST(m.last_seen, u.a)
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::timestamptz[]) AS u(w, c, p, a)
		WHERE m.workspace_id = u.w AND m.customer_id = u.c AND m.project_id = u.p`, mws, mcs, mps, mats)
	// IS TRUE keeps the last_seen test out of the index conditions: a
	// generic plan made on empty tables would otherwise walk
	// customers_last_seen over every older customer instead of the key.
	b.Queue(`
		UPDATE customers c SET last_seen = GREATEST(c.last_seen, u.a)
		FROM (SELECT w, c, max(a) AS a FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS u(w, c, a) GROUP BY w, c) u
		WHERE c.workspace_id = u.w AND c.id = u.c AND (c.last_seen < u.a) IS TRUE`, mws, mcs, mats)
	return tx.SendBatch(ctx, b).Close()
}

// PruneMessageIDs forgets message ids received before cutoff, so the dedupe
// table does not grow without bound; SPEC §2 keeps them at least 7 days.
func (s *Store) PruneMessageIDs(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM message_ids WHERE received_at < $1`, cutoff)
	if err != nil {
		return 0, translate("prune message ids", err)
	}
	return tag.RowsAffected(), nil
}
