package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"tinycrm.dev/tinycrm/filter"
)

// Page sizes of the customer list (SPEC §3).
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// ErrInvalidCursor means a cursor is malformed, was edited, or was made for
// another sort, filter or listing. Callers answer 400.
var ErrInvalidCursor = errors.New("invalid cursor")

// UnknownProjectError means a filter names a project slug the workspace does
// not have. Param is the filter parameter it came from (project or
// not_project), so the caller can name it.
type UnknownProjectError struct {
	Param string
	Slug  string
}

func (e *UnknownProjectError) Error() string {
	return fmt.Sprintf("%s: no project with slug %q in this workspace", e.Param, e.Slug)
}

// CustomerQuery asks for one page of customers.
type CustomerQuery struct {
	Filter filter.Filter
	// Limit is the page size, 1..MaxLimit; 0 means DefaultLimit.
	Limit int
	// Cursor is a NextCursor from the previous page, "" for the first.
	Cursor string
	// Now anchors active_within and inactive_for.
	Now time.Time
}

// CustomerPage is one page of customers and the cursor of the next one
// ("" when this is the last page).
type CustomerPage struct {
	Customers  []Customer
	NextCursor string
}

// ListCustomers returns one page of the customers that match q.Filter, in
// its sort order, using keyset pagination on (sort value, id): pages never
// repeat or skip a customer because others were added meanwhile.
func (s *Store) ListCustomers(ctx context.Context, workspaceID int64, q CustomerQuery) (CustomerPage, error) {
	return s.listCustomers(ctx, workspaceID, q, defaultNarrowing)
}

// listCustomers is ListCustomers with the bounds of narrowing as a
// parameter, so tests can compare the narrowed and the plain query.
func (s *Store) listCustomers(ctx context.Context, workspaceID int64, q CustomerQuery, n narrowing) (CustomerPage, error) {
	rows, next, err := s.pageWith(ctx, pageSpec{
		sort: q.Filter.Sort, limit: q.Limit, cursor: q.Cursor,
		scope: "customers\x00" + filterFingerprint(q.Filter),
	}, func(tx pgx.Tx) (*selectBuilder, error) {
		b := newSelect(workspaceID)
		return b, applyFilter(ctx, tx, b, workspaceID, q.Filter, q.Now, n)
	})
	if err != nil {
		return CustomerPage{}, translate("list customers", err)
	}
	out := CustomerPage{Customers: make([]Customer, len(rows)), NextCursor: next}
	for i, r := range rows {
		out.Customers[i] = r.Customer
	}
	return out, nil
}

// ExportCustomers calls fn with every customer that matches f, in constant
// memory: in f's sort order when it has one, else in the order customers
// were first recorded (id, oldest first). That order is stable from one
// export to the next, and it is the cheapest walk: customers come from a
// range of the primary key and their memberships sit together in theirs,
// where the list's default, last_seen, visits both at random (three times
// the database time at 1M customers; docs/benchmarks-query.md).
//
// It reads keyset batches of customers without their memberships, then
// each batch's memberships in one statement, with project names and colours
// from one look-up: building the memberships as JSON per customer in SQL
// made the export three times slower. Everything runs in one
// repeatable-read transaction, so the export is one consistent snapshot.
// The next batch is read while fn handles the current one, so the database
// and the caller's encoding overlap; two batches are held at most. An error
// from fn stops the export and is returned as is.
func (s *Store) ExportCustomers(ctx context.Context, workspaceID int64, f filter.Filter, now time.Time, fn func(Customer) error) error {
	var fnErr error
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{BeginQuery: readBegin}, func(tx pgx.Tx) error {
		b := newSelect(workspaceID)
		if err := applyFilter(ctx, tx, b, workspaceID, f, now, defaultNarrowing); err != nil {
			return err
		}
		b.bare = true
		projects, err := projectLabels(ctx, tx, workspaceID)
		if err != nil {
			return err
		}
		rctx, stop := context.WithCancel(ctx)
		defer stop()
		col, desc := sortColumn(f.Sort), f.Sort.Desc()
		if f.Sort == (filter.Sort{}) {
			col, desc = idOrder, false
		}
		r := &exportReader{tx: tx, b: b, base: len(b.args), col: col, desc: desc,
			workspaceID: workspaceID, projects: projects}
		batches := make(chan exportBatchResult)
		free := make(chan []Customer, 2)
		free <- make([]Customer, 0, exportBatch)
		free <- make([]Customer, 0, exportBatch)
		go r.run(rctx, batches, free)
		// The reader must be done with tx before it ends: on every way
		// out, stop it and wait for it to close batches.
		defer func() {
			stop()
			for range batches {
			}
		}()
		for res := range batches {
			if res.err != nil {
				return res.err
			}
			for i := range res.batch {
				if err := fn(res.batch[i]); err != nil {
					fnErr = err
					return err
				}
			}
			free <- res.batch[:0]
		}
		return ctx.Err()
	})
	if fnErr != nil {
		return fnErr
	}
	return translate("export customers", err)
}

// exportBatch is how many customers ExportCustomers reads per statement.
const exportBatch = 2000

// exportBatchResult is one batch of an export, or the error that ended it.
type exportBatchResult struct {
	batch []Customer
	err   error
}

// exportReader reads the keyset batches of one export in its transaction.
type exportReader struct {
	tx          pgx.Tx
	b           *selectBuilder
	base        int // b's arguments before a batch's own
	col         sortCol
	desc        bool
	workspaceID int64
	projects    map[int64]projectLabel
}

// run sends each batch, filled into a slice from free, on out until the
// last one, an error or ctx's end, then closes out.
func (r *exportReader) run(ctx context.Context, out chan<- exportBatchResult, free <-chan []Customer) {
	defer close(out)
	var after *cursor
	mrrs := make([]string, 0, exportBatch)
	for {
		var batch []Customer
		select {
		case batch = <-free:
		case <-ctx.Done():
			return
		}
		var err error
		batch, mrrs, err = r.read(ctx, after, batch, mrrs[:0])
		if err == nil && len(batch) == 0 {
			return
		}
		select {
		case out <- exportBatchResult{batch: batch, err: err}:
		case <-ctx.Done():
			return
		}
		if err != nil || len(batch) < exportBatch {
			return
		}
		last := len(batch) - 1
		after = &cursor{Key: cursorKey(&batch[last], r.col.expr, mrrs[last]), ID: batch[last].ID}
	}
}

// read appends the batch after the keyset position (nil: the first) to
// batch, with their memberships, and each one's exact mrr_total to mrrs.
func (r *exportReader) read(ctx context.Context, after *cursor, batch []Customer, mrrs []string) ([]Customer, []string, error) {
	r.b.args = r.b.args[:r.base]
	sql, args := r.b.sql(r.col, r.desc, after, exportBatch)
	rows, err := r.tx.Query(ctx, sql, args...)
	if err != nil {
		return batch, mrrs, err
	}
	var (
		c   Customer
		mrr string
	)
	if _, err := pgx.ForEachRow(rows, []any{&c.ID, &c.Email, &c.Name, &c.FirstSeen, &c.LastSeen, &c.ProjectCount, &c.MRRTotal, &mrr}, func() error {
		c.FirstSeen, c.LastSeen = utc(c.FirstSeen), utc(c.LastSeen)
		c.Projects = nil
		batch, mrrs = append(batch, c), append(mrrs, mrr)
		return nil
	}); err != nil {
		return batch, mrrs, err
	}
	if len(batch) == 0 {
		return batch, mrrs, nil
	}
	return batch, mrrs, attachMemberships(ctx, r.tx, r.workspaceID, batch, r.projects)
}

// projectLabel is what a membership shows of its project.
type projectLabel struct{ slug, name, color string }

func projectLabels(ctx context.Context, tx pgx.Tx, workspaceID int64) (map[int64]projectLabel, error) {
	rows, err := tx.Query(ctx, `SELECT id, slug, name, color FROM projects WHERE workspace_id = $1`, workspaceID)
	if err != nil {
		return nil, err
	}
	out := map[int64]projectLabel{}
	var (
		id int64
		l  projectLabel
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &l.slug, &l.name, &l.color}, func() error {
		out[id] = l
		return nil
	})
	return out, err
}

// attachMemberships reads the memberships of a batch of customers in one
// statement, in project order like customerColumns.
func attachMemberships(ctx context.Context, tx pgx.Tx, workspaceID int64, batch []Customer, projects map[int64]projectLabel) error {
	index := make(map[int64]int, len(batch))
	ids := make([]int64, len(batch))
	for i, c := range batch {
		index[c.ID], ids[i] = i, c.ID
	}
	rows, err := tx.Query(ctx, `
		SELECT customer_id, project_id, status, params, first_seen, last_seen FROM memberships
		WHERE workspace_id = $1 AND customer_id = ANY($2::bigint[])
		ORDER BY customer_id, project_id`, workspaceID, ids)
	if err != nil {
		return err
	}
	var (
		cid, pid int64
		m        Membership
		params   []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&cid, &pid, &m.Status, &params, &m.FirstSeen, &m.LastSeen}, func() error {
		l := projects[pid]
		m.Slug, m.Name, m.Color = l.slug, l.name, l.color
		m.Params = append(json.RawMessage(nil), params...)
		m.FirstSeen, m.LastSeen = utc(m.FirstSeen), utc(m.LastSeen)
		c := &batch[index[cid]]
		c.Projects = append(c.Projects, m)
		return nil
	})
	if err != nil {
		return err
	}
	for i := range batch {
		if batch[i].Projects == nil {
			batch[i].Projects = []Membership{}
		}
	}
	return nil
}

// selectBuilder collects the conditions and bound arguments of one customer
// query. User input only ever enters as arguments ($n); the SQL text is
// built from constants.
type selectBuilder struct {
	args  []any
	conds []string
	// extra is one more selected expression (last), or "".
	extra string
	// bare selects the customer columns without their memberships.
	bare bool
	// from is the customers relation, aliased c; "" is the whole table.
	from string
}

func newSelect(workspaceID int64) *selectBuilder {
	b := &selectBuilder{}
	b.arg(workspaceID) // $1, used by every condition below
	b.where("c.workspace_id = $1")
	return b
}

// arg binds v and returns its placeholder.
func (b *selectBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *selectBuilder) where(cond string) { b.conds = append(b.conds, cond) }

// sortColumn is the customers column a sort key orders by.
func sortColumn(s filter.Sort) sortCol {
	switch s.Column() {
	case filter.SortFirstSeen:
		return sortCol{expr: "c.first_seen", kind: "time"}
	case filter.SortProjects:
		return sortCol{expr: "c.project_count", kind: "int"}
	case filter.SortMRR:
		return sortCol{expr: "c.mrr_total", kind: "numeric"}
	case filter.SortEmail:
		// Emails are unique in a workspace, so the email alone is the key
		// and the unique index serves the order.
		return sortCol{expr: "c.email", kind: "text", unique: true}
	case filter.SortName:
		return sortCol{expr: "c.name", kind: "text"}
	}
	return sortCol{expr: "c.last_seen", kind: "time"}
}

// idOrder is the order of an export given no sort: by id, oldest first.
var idOrder = sortCol{expr: "c.id", kind: "id", unique: true}

type sortCol struct {
	expr   string // the column
	kind   string // time, int, id, numeric or text: how a cursor key binds
	unique bool   // no tie-break on id needed
}

// bind binds a cursor key validated by validKey as the column's type.
func (col sortCol) bind(b *selectBuilder, key string) string {
	switch col.kind {
	case "time":
		t, _ := time.Parse(time.RFC3339Nano, key)
		return b.arg(t) + "::timestamptz"
	case "int":
		n, _ := strconv.ParseInt(key, 10, 32)
		return b.arg(int32(n)) + "::integer"
	case "id":
		n, _ := strconv.ParseInt(key, 10, 64)
		return b.arg(n) + "::bigint"
	case "numeric":
		return "(" + b.arg(key) + "::text)::numeric"
	}
	return b.arg(key) + "::text"
}

// sql returns the statement: customers matching the conditions, after the
// keyset position when after is non-nil, in order, at most limit rows (0 =
// all). The selected columns are customerColumns, mrr_total as exact text
// (for cursors), then extra if set.
func (b *selectBuilder) sql(col sortCol, desc bool, after *cursor, limit int) (string, []any) {
	conds := b.conds
	dir, cmp := "ASC", ">"
	if desc {
		dir, cmp = "DESC", "<"
	}
	if after != nil {
		k := col.bind(b, after.Key)
		if col.unique {
			conds = append(conds, fmt.Sprintf("%s %s %s", col.expr, cmp, k))
		} else {
			conds = append(conds, fmt.Sprintf("(%s, c.id) %s (%s, %s::bigint)", col.expr, cmp, k, b.arg(after.ID)))
		}
	}
	var sb strings.Builder
	sb.WriteString("SELECT ")
	if b.bare {
		sb.WriteString(bareCustomerColumns)
	} else {
		sb.WriteString(customerColumns)
	}
	sb.WriteString(", c.mrr_total::text")
	if b.extra != "" {
		sb.WriteString(", ")
		sb.WriteString(b.extra)
	}
	sb.WriteString("\nFROM ")
	if b.from != "" {
		sb.WriteString(b.from)
	} else {
		sb.WriteString("customers c")
	}
	sb.WriteString("\nWHERE ")
	sb.WriteString(strings.Join(conds, "\n  AND "))
	sb.WriteString("\nORDER BY ")
	sb.WriteString(col.expr + " " + dir)
	if !col.unique {
		sb.WriteString(", c.id " + dir)
	}
	if limit > 0 {
		sb.WriteString("\nLIMIT ")
		sb.WriteString(b.arg(limit))
	}
	return sb.String(), b.args
}

// readBegin begins the transaction of a page or an export: one
// repeatable-read snapshot for everything they read, and no parallel
// workers, in BEGIN's round trip. A page needs limit+1 rows from a walk in
// sort order; when the planner expects matches to be sparse it picks a
// Gather Merge, whose workers each produce rows the leader mostly throws
// away and whose start costs milliseconds: at 1M customers the last pages
// of plan=enterprise and of q=garcia&min_projects=2 took 50 and 80 ms in
// parallel plans and 16 and 11 ms serially.
const readBegin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL max_parallel_workers_per_gather = 0"

// pageSpec is what page needs besides the conditions.
type pageSpec struct {
	sort   filter.Sort
	limit  int
	cursor string
	// scope names the listing and its conditions; a cursor is only valid
	// for the scope it was made in.
	scope string
}

// pageRow is a customer and the raw extra column, if any.
type pageRow struct {
	Customer
	extra []byte
}

// page runs the keyset query and returns its rows and the next cursor.
func (s *Store) page(ctx context.Context, b *selectBuilder, p pageSpec) ([]pageRow, string, error) {
	return s.pageWith(ctx, p, func(pgx.Tx) (*selectBuilder, error) { return b, nil })
}

// pageWith is page with the conditions built by build inside the page's
// transaction, so that what they read first (project ids, the customers a
// rare value narrows to) comes from the same snapshot as the page.
func (s *Store) pageWith(ctx context.Context, p pageSpec, build func(tx pgx.Tx) (*selectBuilder, error)) ([]pageRow, string, error) {
	if p.limit <= 0 {
		p.limit = DefaultLimit
	}
	if p.limit > MaxLimit {
		p.limit = MaxLimit
	}
	col := sortColumn(p.sort)
	var (
		out  []pageRow
		next string
	)
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{BeginQuery: readBegin}, func(tx pgx.Tx) error {
		b, err := build(tx)
		if err != nil {
			return err
		}
		var after *cursor
		if p.cursor != "" {
			c, err := decodeCursor(p.cursor, p.sort, p.scope, col)
			if err != nil {
				return err
			}
			after = &c
		}
		sql, args := b.sql(col, p.sort.Desc(), after, p.limit+1)
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		lastKey := ""
		for rows.Next() {
			r, mrr, err := scanRow(rows, b.extra != "")
			if err != nil {
				return err
			}
			if len(out) == p.limit {
				next = encodeCursor(cursor{Sort: p.sort.String(), Key: lastKey, ID: out[len(out)-1].ID}, p.scope)
				return nil
			}
			out = append(out, r)
			lastKey = cursorKey(&r.Customer, col.expr, mrr)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// scanRow reads one row of selectBuilder.sql: the customer, its exact
// mrr_total text, and the extra column when there is one.
func scanRow(rows pgx.Rows, extra bool) (pageRow, string, error) {
	var (
		r        pageRow
		projects []byte
		mrr      string
	)
	dest := []any{&r.ID, &r.Email, &r.Name, &r.FirstSeen, &r.LastSeen, &r.ProjectCount, &r.MRRTotal, &projects, &mrr}
	if extra {
		dest = append(dest, &r.extra)
	}
	if err := rows.Scan(dest...); err != nil {
		return pageRow{}, "", err
	}
	r.FirstSeen, r.LastSeen = utc(r.FirstSeen), utc(r.LastSeen)
	if err := json.Unmarshal(projects, &r.Projects); err != nil {
		return pageRow{}, "", fmt.Errorf("decode memberships: %w", err)
	}
	for i := range r.Projects {
		m := &r.Projects[i]
		m.FirstSeen, m.LastSeen = utc(m.FirstSeen), utc(m.LastSeen)
	}
	return r, mrr, nil
}

// applyFilter turns f into conditions on b (SPEC §4; semantics in the
// filter package documentation). Project slugs are resolved to ids first,
// so an unknown slug is reported rather than silently matching nobody. A
// rare where-equality may narrow the customers read first, within n.
func applyFilter(ctx context.Context, tx pgx.Tx, b *selectBuilder, workspaceID int64, f filter.Filter, now time.Time, n narrowing) error {
	ids, err := projectIDs(ctx, tx, workspaceID, f.Projects, f.NotProjects)
	if err != nil {
		return err
	}
	var scope []int64
	for _, slug := range f.Projects {
		scope = append(scope, ids[slug])
		b.where("EXISTS (SELECT 1 FROM memberships m WHERE m.workspace_id = $1 AND m.customer_id = c.id AND m.project_id = " + b.arg(ids[slug]) + "::bigint)")
	}
	if len(f.NotProjects) > 0 {
		not := make([]int64, 0, len(f.NotProjects))
		for _, slug := range f.NotProjects {
			not = append(not, ids[slug])
		}
		b.where("NOT EXISTS (SELECT 1 FROM memberships m WHERE m.workspace_id = $1 AND m.customer_id = c.id AND m.project_id = ANY(" + b.arg(not) + "::bigint[]))")
	}
	if f.MinProjects > 0 {
		b.where("c.project_count >= " + b.arg(f.MinProjects) + "::integer")
	}
	// inScope restricts a membership subquery to the filter's projects
	// (bound once, and only when some condition uses it).
	inScope := ""
	if len(scope) > 0 && (len(f.Statuses) > 0 || len(f.Where) > 0) {
		inScope = " AND m.project_id = ANY(" + b.arg(scope) + "::bigint[])"
	}
	if len(f.Statuses) > 0 {
		b.where("EXISTS (SELECT 1 FROM memberships m WHERE m.workspace_id = $1 AND m.customer_id = c.id" + inScope +
			" AND m.status = ANY(" + b.arg(f.Statuses) + "::text[]))")
	}
	_, exact, err := narrow(ctx, tx, b, workspaceID, f, n)
	if err != nil {
		return err
	}
	for i, e := range f.Where {
		if i == exact {
			continue // the narrowed customers are exactly its matches
		}
		conds := make([]string, 0, len(e.Conds))
		for _, c := range e.Conds {
			sql, err := condSQL(b, c)
			if err != nil {
				return err
			}
			conds = append(conds, sql)
		}
		b.where("EXISTS (SELECT 1 FROM memberships m WHERE m.workspace_id = $1 AND m.customer_id = c.id" + inScope +
			" AND " + strings.Join(conds, " AND ") + ")")
	}
	if f.Search != "" {
		// customer_search.doc is email || chr(1) || name (migration 002,
		// kept by a trigger); the separator cannot occur in a search (no
		// control characters), so a match never spans the email and name.
		// Emails and names are stored NFC, so the search is too.
		b.where("c.id IN (SELECT s.customer_id FROM customer_search s WHERE s.workspace_id = $1 AND s.doc ILIKE " +
			b.arg("%"+escapeLike(norm.NFC.String(f.Search))+"%") + "::text)")
	}
	if f.ActiveWithin > 0 {
		b.where("c.last_seen >= " + b.arg(now.Add(-f.ActiveWithin)) + "::timestamptz")
	}
	if f.InactiveFor > 0 {
		b.where("c.last_seen < " + b.arg(now.Add(-f.InactiveFor)) + "::timestamptz")
	}
	return nil
}

// projectIDs resolves the slugs of a filter; an unknown one is an
// *UnknownProjectError.
func projectIDs(ctx context.Context, tx pgx.Tx, workspaceID int64, in, notIn []string) (map[string]int64, error) {
	if len(in)+len(notIn) == 0 {
		return nil, nil
	}
	all := append(append([]string{}, in...), notIn...)
	rows, err := tx.Query(ctx, `SELECT slug, id FROM projects WHERE workspace_id = $1 AND slug = ANY($2::text[])`, workspaceID, all)
	if err != nil {
		return nil, err
	}
	ids := map[string]int64{}
	for rows.Next() {
		var (
			slug string
			id   int64
		)
		if err := rows.Scan(&slug, &id); err != nil {
			rows.Close()
			return nil, err
		}
		ids[slug] = id
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, slug := range in {
		if _, ok := ids[slug]; !ok {
			return nil, &UnknownProjectError{Param: filter.ParamProject, Slug: slug}
		}
	}
	for _, slug := range notIn {
		if _, ok := ids[slug]; !ok {
			return nil, &UnknownProjectError{Param: filter.ParamNotProject, Slug: slug}
		}
	}
	return ids, nil
}

// escapeLike makes s a literal inside a LIKE pattern (backslash escapes).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
