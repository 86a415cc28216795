package filter

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Filter is the set of conditions of SPEC §4, all of which must hold. The
// zero value matches everyone, in the default order.
type Filter struct {
	// Projects: a member of every listed project (slugs, no duplicates).
	// They also scope Statuses and Where.
	Projects []string
	// NotProjects: a member of none of these (slugs, no duplicates).
	NotProjects []string
	// MinProjects: in at least this many projects; 0 means no condition.
	// The CLI's --multi-project is 2.
	MinProjects int
	// Statuses: some membership in scope has one of these statuses.
	Statuses []string
	// Where: for each Expr, some membership in scope satisfies all its
	// conditions (each Expr may be met by a different membership).
	Where []Expr
	// Search: a case-insensitive substring of the email or the name. It is
	// raw text: the store must escape LIKE wildcards or use strpos.
	Search string
	// ActiveWithin: last_seen >= now - ActiveWithin; 0 means no condition.
	ActiveWithin time.Duration
	// InactiveFor: last_seen < now - InactiveFor; 0 means no condition.
	InactiveFor time.Duration
	// Sort is the order of the result.
	Sort Sort
}

// The query parameters of a filter (SPEC §4).
const (
	ParamProject      = "project"
	ParamNotProject   = "not_project"
	ParamMinProjects  = "min_projects"
	ParamStatus       = "status"
	ParamWhere        = "where"
	ParamSearch       = "q"
	ParamActiveWithin = "active_within"
	ParamInactiveFor  = "inactive_for"
	ParamSort         = "sort"
)

// Limits of a filter.
const (
	MaxProjects    = 50   // values of project, and of not_project
	MaxStatuses    = 50   // values of status
	MaxWheres      = 10   // where parameters
	MaxSearchLen   = 256  // characters of q
	MaxMinProjects = 1000 // largest min_projects
	MaxSlugLen     = 40   // bytes of a project slug
)

// KnownParams returns the names of the query parameters FromQuery reads, so
// that a server can reject the others after taking out its own (limit,
// cursor, format).
func KnownParams() []string {
	return []string{
		ParamProject, ParamNotProject, ParamMinProjects, ParamStatus, ParamWhere,
		ParamSearch, ParamActiveWithin, ParamInactiveFor, ParamSort,
	}
}

// ParamError is an invalid query parameter.
type ParamError struct {
	Param string // the parameter's name, such as "min_projects"
	Msg   string // what is wrong with it
	Err   error  // the underlying error, such as a *SyntaxError for where
}

// Error returns "PARAM: " and the message.
func (e *ParamError) Error() string { return e.Param + ": " + e.Msg }

// Unwrap returns the underlying error, if any.
func (e *ParamError) Unwrap() error { return e.Err }

// FromQuery reads a filter from query parameters (see the Param constants).
// project, not_project and status may repeat and may hold comma-separated
// lists; duplicates are dropped. where may repeat; the others may appear
// once. An empty q is no search. Parameters it does not know are ignored:
// compare with [KnownParams] to reject them. Errors are [*ParamError]s; a
// malformed where wraps a [*SyntaxError].
func FromQuery(q url.Values) (Filter, error) {
	var f Filter
	var err error
	if f.Projects, err = slugList(q, ParamProject); err != nil {
		return Filter{}, err
	}
	if f.NotProjects, err = slugList(q, ParamNotProject); err != nil {
		return Filter{}, err
	}
	for _, s := range f.NotProjects {
		if slices.Contains(f.Projects, s) {
			return Filter{}, &ParamError{Param: ParamNotProject, Msg: fmt.Sprintf("%q is also in project; a customer cannot be both in and not in it", s)}
		}
	}

	if s, ok, err := single(q, ParamMinProjects); err != nil {
		return Filter{}, err
	} else if ok {
		if !allDigits(s) {
			return Filter{}, &ParamError{Param: ParamMinProjects, Msg: "must be a whole number ≥ 0"}
		}
		n, err := strconv.Atoi(s)
		if err != nil || n > MaxMinProjects {
			return Filter{}, &ParamError{Param: ParamMinProjects, Msg: fmt.Sprintf("must be at most %d", MaxMinProjects)}
		}
		f.MinProjects = n
	}

	for _, v := range splitList(q[ParamStatus]) {
		if !IsStatus(v) {
			return Filter{}, &ParamError{Param: ParamStatus, Msg: fmt.Sprintf("%q is not a status token (lowercase letters, digits, \"_\" and \"-\", at most %d)", v, MaxTokenLen)}
		}
		if !slices.Contains(f.Statuses, v) {
			f.Statuses = append(f.Statuses, v)
		}
	}
	if len(f.Statuses) > MaxStatuses {
		return Filter{}, &ParamError{Param: ParamStatus, Msg: fmt.Sprintf("at most %d statuses", MaxStatuses)}
	}

	wheres := q[ParamWhere]
	if len(wheres) > MaxWheres {
		return Filter{}, &ParamError{Param: ParamWhere, Msg: fmt.Sprintf("at most %d expressions", MaxWheres)}
	}
	for i, src := range wheres {
		e, err := ParseWhere(src)
		if err != nil {
			var se *SyntaxError
			errors.As(err, &se)
			msg := fmt.Sprintf("position %d: %s", se.Pos, se.Msg)
			if len(wheres) > 1 {
				msg = fmt.Sprintf("expression %d, %s", i+1, msg)
			}
			return Filter{}, &ParamError{Param: ParamWhere, Msg: msg, Err: err}
		}
		f.Where = append(f.Where, e)
	}

	if s, _, err := single(q, ParamSearch); err != nil {
		return Filter{}, err
	} else if msg := checkSearch(s); msg != "" {
		return Filter{}, &ParamError{Param: ParamSearch, Msg: msg}
	} else {
		f.Search = s
	}

	if f.ActiveWithin, err = age(q, ParamActiveWithin); err != nil {
		return Filter{}, err
	}
	if f.InactiveFor, err = age(q, ParamInactiveFor); err != nil {
		return Filter{}, err
	}
	if f.ActiveWithin > 0 && f.InactiveFor >= f.ActiveWithin {
		return Filter{}, &ParamError{Param: ParamInactiveFor, Msg: "must be shorter than active_within when both are given (seen between active_within and inactive_for ago)"}
	}

	if s, ok, err := single(q, ParamSort); err != nil {
		return Filter{}, err
	} else if ok {
		if f.Sort, err = ParseSort(s); err != nil {
			return Filter{}, &ParamError{Param: ParamSort, Msg: err.Error(), Err: err}
		}
	}
	return f, nil
}

// single returns the one value of a parameter that may appear once.
func single(q url.Values, name string) (string, bool, error) {
	switch vs := q[name]; len(vs) {
	case 0:
		return "", false, nil
	case 1:
		return vs[0], true, nil
	}
	return "", false, &ParamError{Param: name, Msg: "given more than once"}
}

// splitList flattens repeated and comma-separated values.
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		out = append(out, strings.Split(v, ",")...)
	}
	return out
}

func slugList(q url.Values, name string) ([]string, error) {
	var out []string
	for _, v := range splitList(q[name]) {
		if !IsSlug(v) {
			return nil, &ParamError{Param: name, Msg: fmt.Sprintf("%q is not a project slug (lowercase letters, digits and \"-\", at most %d)", v, MaxSlugLen)}
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if len(out) > MaxProjects {
		return nil, &ParamError{Param: name, Msg: fmt.Sprintf("at most %d projects", MaxProjects)}
	}
	return out, nil
}

func checkSearch(s string) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if utf8.RuneCountInString(s) > MaxSearchLen {
		return fmt.Sprintf("must be at most %d characters", MaxSearchLen)
	}
	if strings.ContainsFunc(s, isControl) {
		return "must not contain control characters"
	}
	return ""
}

func age(q url.Values, name string) (time.Duration, error) {
	s, ok, err := single(q, name)
	if err != nil || !ok {
		return 0, err
	}
	d, err := ParseAge(s)
	if err != nil {
		return 0, &ParamError{Param: name, Msg: err.Error(), Err: err}
	}
	return d, nil
}

// Query returns f as query parameters, the inverse of FromQuery:
// FromQuery(f.Query()) gives f back for every f that FromQuery can return.
// Zero fields are left out, so the zero Filter gives no parameters. A where
// expression is sent as its Source when it has one, else as its String.
func (f Filter) Query() url.Values {
	q := url.Values{}
	for _, s := range f.Projects {
		q.Add(ParamProject, s)
	}
	for _, s := range f.NotProjects {
		q.Add(ParamNotProject, s)
	}
	if f.MinProjects != 0 {
		q.Set(ParamMinProjects, strconv.Itoa(f.MinProjects))
	}
	for _, s := range f.Statuses {
		q.Add(ParamStatus, s)
	}
	for _, e := range f.Where {
		src := e.Source
		if src == "" {
			src = e.String()
		}
		q.Add(ParamWhere, src)
	}
	if f.Search != "" {
		q.Set(ParamSearch, f.Search)
	}
	if f.ActiveWithin != 0 {
		q.Set(ParamActiveWithin, FormatAge(f.ActiveWithin))
	}
	if f.InactiveFor != 0 {
		q.Set(ParamInactiveFor, FormatAge(f.InactiveFor))
	}
	if f.Sort != (Sort{}) {
		q.Set(ParamSort, f.Sort.String())
	}
	return q
}

// Validate reports whether the server would accept f, with the error
// FromQuery would give for f.Query(), so the CLI and the TUI can refuse a
// bad filter before sending it.
func (f Filter) Validate() error {
	_, err := FromQuery(f.Query())
	return err
}

// Describe returns a short human summary of f for the TUI's filter line and
// the CLI, such as
//
//	project:app-a · -project:app-c · 2+ projects · status:paid,trialing · mrr>=9, plan=pro · "alice" · active within 7d · sort:-mrr
//
// Conditions appear in field order, where-expressions in canonical form,
// statuses comma-separated (any of them), each project on its own (all of
// them). The sort shows only when it is not the default. The zero Filter
// gives "".
func (f Filter) Describe() string {
	var parts []string
	for _, s := range f.Projects {
		parts = append(parts, "project:"+s)
	}
	for _, s := range f.NotProjects {
		parts = append(parts, "-project:"+s)
	}
	if f.MinProjects > 0 {
		parts = append(parts, strconv.Itoa(f.MinProjects)+"+ projects")
	}
	if len(f.Statuses) > 0 {
		parts = append(parts, "status:"+strings.Join(f.Statuses, ","))
	}
	for _, e := range f.Where {
		parts = append(parts, e.String())
	}
	if f.Search != "" {
		parts = append(parts, strconv.Quote(f.Search))
	}
	if f.ActiveWithin > 0 {
		parts = append(parts, "active within "+FormatAge(f.ActiveWithin))
	}
	if f.InactiveFor > 0 {
		parts = append(parts, "inactive for "+FormatAge(f.InactiveFor))
	}
	if f.Sort.Column() != SortLastSeen || f.Sort.Reverse {
		parts = append(parts, "sort:"+f.Sort.String())
	}
	return strings.Join(parts, " · ")
}

// SortKey is a column the customer list can be sorted by.
type SortKey string

// The sort keys. Each has a natural direction, the one a plain sort=KEY
// gives: newest, most or biggest first for the time and count keys, A to Z
// for the text keys.
const (
	SortLastSeen  SortKey = "last_seen"  // natural: newest first (descending); the default
	SortFirstSeen SortKey = "first_seen" // natural: newest first (descending)
	SortProjects  SortKey = "projects"   // project_count; natural: most first (descending)
	SortMRR       SortKey = "mrr"        // mrr_total; natural: biggest first (descending)
	SortEmail     SortKey = "email"      // natural: A to Z (ascending)
	SortName      SortKey = "name"       // natural: A to Z (ascending)
)

// SortKeys returns the valid sort keys, the default first.
func SortKeys() []SortKey {
	return []SortKey{SortLastSeen, SortEmail, SortName, SortProjects, SortMRR, SortFirstSeen}
}

// naturalDesc reports whether k's natural direction is descending.
func (k SortKey) naturalDesc() bool {
	return k != SortEmail && k != SortName
}

// Sort is the order of the customer list: a key in its natural direction,
// or reversed. The parameter sort=KEY gives the natural direction and
// sort=-KEY reverses it, so sort=-email is Z to A (descending), sort=mrr is
// biggest first and sort=-mrr smallest first, and sort=-last_seen is oldest
// first. The zero Sort is last_seen, newest first. The store should break
// ties by customer id in the same direction, so keyset pages are stable.
type Sort struct {
	Key     SortKey // "" means SortLastSeen
	Reverse bool    // the opposite of Key's natural direction
}

// Column returns the key to sort by, with "" resolved to SortLastSeen.
func (s Sort) Column() SortKey {
	if s.Key == "" {
		return SortLastSeen
	}
	return s.Key
}

// Desc reports whether the effective order is descending.
func (s Sort) Desc() bool {
	return s.Column().naturalDesc() != s.Reverse
}

// String returns the sort parameter's form, such as "mrr" or "-email"; ""
// for the zero Sort.
func (s Sort) String() string {
	if s == (Sort{}) {
		return ""
	}
	if s.Reverse {
		return "-" + string(s.Column())
	}
	return string(s.Column())
}

// ParseSort parses the sort parameter: a key from [SortKeys], optionally
// with "-" in front to reverse its natural direction.
func ParseSort(s string) (Sort, error) {
	var out Sort
	key, rev := strings.CutPrefix(s, "-")
	out.Reverse = rev
	for _, k := range SortKeys() {
		if string(k) == key {
			out.Key = k
			return out, nil
		}
	}
	names := make([]string, 0, 6)
	for _, k := range SortKeys() {
		names = append(names, string(k))
	}
	return Sort{}, fmt.Errorf("%q is not a sort key; use one of %s, with \"-\" in front to reverse", s, strings.Join(names, ", "))
}
