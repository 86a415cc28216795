package server

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/store"
)

// Query parameters of the paginated listings, besides the filter's.
const (
	paramLimit  = "limit"
	paramCursor = "cursor"
)

// customerPage is the reply of GET /v1/customers and of the list insights:
// next_cursor is null on the last page.
type customerPage[T any] struct {
	Customers  []T     `json:"customers"`
	NextCursor *string `json:"next_cursor"`
}

func newPage[T any](cs []T, next string) customerPage[T] {
	p := customerPage[T]{Customers: cs}
	if p.Customers == nil {
		p.Customers = []T{}
	}
	if next != "" {
		p.NextCursor = &next
	}
	return p
}

func (s *Server) listCustomers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f, err := filterFrom(q)
	if err != nil {
		return err
	}
	limit, cursor, err := pageParams(q)
	if err != nil {
		return err
	}
	page, err := s.store.ListCustomers(r.Context(), workspaceFrom(r.Context()),
		store.CustomerQuery{Filter: f, Limit: limit, Cursor: cursor, Now: s.now()})
	if err != nil {
		return queryError(err)
	}
	writeJSON(w, http.StatusOK, newPage(page.Customers, page.NextCursor))
	return nil
}

// checkQuery refuses a query string that does not parse and parameters
// other than known ones. url.Values drops a pair it cannot parse (a bad
// %-escape, a ';' separator) without a word, so ?project=a%zz would
// otherwise read as no project filter at all, and a DELETE meant for one
// project would erase the customer everywhere.
func checkQuery(raw string, known []string) error {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return badField("query", "the query string does not parse (%v): separate parameters with & and percent-encode %%, & and ; inside values (%%25, %%26, %%3B)", err)
	}
	return onlyParams(q, known...)
}

// onlyParams refuses query parameters other than known ones, so a typo
// (--stauts) is an error rather than a silently wider result.
func onlyParams(q url.Values, known ...string) error {
	var unknown []string
	for k := range q {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	if len(known) == 0 {
		return badField(unknown[0], "unknown query parameter %s; this endpoint takes none", quoteList(unknown))
	}
	known = slices.Sorted(slices.Values(known))
	return badField(unknown[0], "unknown query parameter %s; this endpoint takes %s",
		quoteList(unknown), strings.Join(known, ", "))
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(truncate(s))
	}
	return strings.Join(q, ", ")
}

// filterFrom reads the filter of SPEC §4; a bad parameter is a 400 naming
// it (and, for where, the position in the expression).
func filterFrom(q url.Values) (filter.Filter, error) {
	f, err := filter.FromQuery(q)
	var pe *filter.ParamError
	if errors.As(err, &pe) {
		return filter.Filter{}, badField(pe.Param, "%s", pe.Msg)
	}
	return f, err
}

// pageParams reads limit (default store.DefaultLimit, 1..store.MaxLimit)
// and cursor ("" = first page).
func pageParams(q url.Values) (int, string, error) {
	limit := store.DefaultLimit
	switch vs := q[paramLimit]; {
	case len(vs) > 1:
		return 0, "", badField(paramLimit, "given more than once")
	case len(vs) == 1:
		n, err := strconv.Atoi(vs[0])
		if err != nil || n < 1 || n > store.MaxLimit || !isDigits(vs[0]) {
			return 0, "", badField(paramLimit, "must be a whole number from 1 to %d; got %q", store.MaxLimit, truncate(vs[0]))
		}
		limit = n
	}
	if vs := q[paramCursor]; len(vs) > 1 {
		return 0, "", badField(paramCursor, "given more than once")
	}
	return limit, q.Get(paramCursor), nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// queryError maps the store's query errors that are the caller's fault to
// 400s naming the parameter; everything else goes to writeError as is.
func queryError(err error) error {
	var up *store.UnknownProjectError
	switch {
	case errors.Is(err, store.ErrInvalidCursor):
		msg := err.Error()
		if _, after, ok := strings.Cut(msg, store.ErrInvalidCursor.Error()+": "); ok {
			msg = after
		}
		return badField(paramCursor, "%s", msg)
	case errors.As(err, &up):
		return badField(up.Param, "no project with slug %q; `tinycrm projects list` shows them", up.Slug)
	}
	return err
}
