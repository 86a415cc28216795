package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"tinycrm.dev/tinycrm/filter"
)

// filterFlags are the customer filter flags of SPEC §4, shared by
// `customers`, `export` and `tui`: register them with addFilterFlags and
// turn them into a validated filter.Filter with (*filterFlags).Filter.
type filterFlags struct {
	projects     []string
	notProjects  []string
	multiProject bool
	minProjects  optionalInt
	statuses     []string
	wheres       []string
	search       string
	activeWithin string
	inactiveFor  string
	sort         string
}

// addFilterFlags registers the filter flags on cmd.
func addFilterFlags(cmd *cobra.Command, ff *filterFlags) {
	fl := cmd.Flags()
	fl.StringArrayVar(&ff.projects, "project", nil, "member of this project (slug); repeat for all of several")
	fl.StringArrayVar(&ff.notProjects, "not-project", nil, "member of none of these projects (slug); repeatable")
	fl.BoolVar(&ff.multiProject, "multi-project", false, "in 2 or more projects")
	fl.Var(&ff.minProjects, "min-projects", "in `N` or more projects")
	fl.StringArrayVar(&ff.statuses, "status", nil, "has this status (in the --project scope); repeat for any of several")
	fl.StringArrayVar(&ff.wheres, "where", nil, "params condition, such as 'mrr>=9' or 'plan=pro, trial_ends exists'; repeatable")
	fl.StringVar(&ff.search, "search", "", "substring of the email or name, case-insensitive")
	fl.StringVar(&ff.activeWithin, "active-within", "", "last active within this `age`, such as 7d, 12h, 2w")
	fl.StringVar(&ff.inactiveFor, "inactive-for", "", "not active for this `age`, such as 30d")
	fl.StringVar(&ff.sort, "sort", "", "order: last_seen (default; newest first), first_seen (newest first), email, name (A-Z), projects (most first), mrr (biggest first); -KEY reverses")
	_ = cmd.RegisterFlagCompletionFunc("sort", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var keys []cobra.Completion
		for _, k := range filter.SortKeys() {
			keys = append(keys, string(k), "-"+string(k))
		}
		return keys, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("status", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return []cobra.Completion{"paid", "trialing", "free", "churned"}, cobra.ShellCompDirectiveNoFileComp
	})
}

// Filter builds the filter the flags describe and validates it, as the
// server will. Every problem is a usage error naming the flag; a bad
// --where names the position in the expression.
func (ff *filterFlags) Filter() (filter.Filter, error) {
	var f filter.Filter
	var err error
	if f.Projects, err = slugFlag("--project", ff.projects); err != nil {
		return filter.Filter{}, err
	}
	if f.NotProjects, err = slugFlag("--not-project", ff.notProjects); err != nil {
		return filter.Filter{}, err
	}
	switch min := ff.minProjects; {
	case min.n < 0:
		return filter.Filter{}, usagef("--min-projects: must be a whole number ≥ 0; got %d", min.n)
	case min.set && ff.multiProject && min.n < 2:
		// Given together, they contradict each other unless N ≥ 2, whether
		// N is 1 or 0.
		return filter.Filter{}, usagef("--multi-project means --min-projects 2; drop one of them (--min-projects %d)", min.n)
	}
	f.MinProjects = ff.minProjects.n
	if ff.multiProject && f.MinProjects < 2 {
		f.MinProjects = 2
	}
	for _, s := range ff.statuses {
		for _, v := range strings.Split(s, ",") {
			if v = strings.TrimSpace(v); v != "" && !slices.Contains(f.Statuses, v) {
				f.Statuses = append(f.Statuses, v)
			}
		}
	}
	for i, src := range ff.wheres {
		e, err := filter.ParseWhere(src)
		if err != nil {
			return filter.Filter{}, whereError(src, i, len(ff.wheres), err)
		}
		f.Where = append(f.Where, e)
	}
	f.Search = ff.search
	if ff.activeWithin != "" {
		if f.ActiveWithin, err = filter.ParseAge(ff.activeWithin); err != nil {
			return filter.Filter{}, usagef("--active-within: %v", err)
		}
	}
	if ff.inactiveFor != "" {
		if f.InactiveFor, err = filter.ParseAge(ff.inactiveFor); err != nil {
			return filter.Filter{}, usagef("--inactive-for: %v", err)
		}
	}
	if ff.sort != "" {
		if f.Sort, err = filter.ParseSort(ff.sort); err != nil {
			return filter.Filter{}, usagef("--sort: %v", err)
		}
	}
	if err := f.Validate(); err != nil {
		return filter.Filter{}, usagef("%s", flagError(err))
	}
	return f, nil
}

// slugFlag splits comma-separated values and drops duplicates.
func slugFlag(name string, vals []string) ([]string, error) {
	var out []string
	for _, s := range vals {
		for _, v := range strings.Split(s, ",") {
			v = strings.TrimSpace(v)
			if v == "" {
				return nil, usagef("%s: empty project slug", name)
			}
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out, nil
}

// whereError shows a bad expression with a caret under the position.
func whereError(src string, i, n int, err error) error {
	var se *filter.SyntaxError
	if !errors.As(err, &se) {
		return usagef("--where: %v", err)
	}
	which := ""
	if n > 1 {
		which = fmt.Sprintf(" (expression %d)", i+1)
	}
	return usagef("--where%s: position %d: %s (in %q)", which, se.Pos, se.Msg, markPos(src, se.Pos))
}

// markPos inserts "⟨here⟩" before the 1-based byte position pos, so the
// error stays one line and still points at the spot.
func markPos(src string, pos int) string {
	i := min(max(pos-1, 0), len(src))
	return clipLeft(src[:i]) + "⟨here⟩" + clip(src[i:])
}

// clipLeft is clip from the other end: the last maxEcho characters.
func clipLeft(s string) string {
	n := 0
	for i := len(s); i > 0; {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
		if n++; n == maxEcho && i > 0 {
			return "…" + s[i:]
		}
	}
	return s
}

// flagError renames the API parameter in a filter error to its flag.
func flagError(err error) string {
	var pe *filter.ParamError
	if !errors.As(err, &pe) {
		return err.Error()
	}
	names := map[string]string{
		filter.ParamProject: "--project", filter.ParamNotProject: "--not-project", filter.ParamMinProjects: "--min-projects",
		filter.ParamStatus: "--status", filter.ParamWhere: "--where", filter.ParamSearch: "--search",
		filter.ParamActiveWithin: "--active-within", filter.ParamInactiveFor: "--inactive-for", filter.ParamSort: "--sort",
	}
	name, ok := names[pe.Param]
	if !ok {
		name = pe.Param
	}
	msg := pe.Msg
	for p, flag := range names {
		msg = strings.ReplaceAll(msg, "also in "+p, "also in "+flag)
	}
	return name + ": " + msg
}

// optionalInt is an int flag that knows whether it was given, so that
// "--min-projects 0" can be told from no --min-projects at all.
type optionalInt struct {
	n   int
	set bool
}

func (o *optionalInt) String() string { return strconv.Itoa(o.n) }
func (o *optionalInt) Type() string   { return "int" }

func (o *optionalInt) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("not a whole number")
	}
	o.n, o.set = n, true
	return nil
}
