package store

import (
	"fmt"
	"strconv"

	"tinycrm.dev/tinycrm/filter"
)

// condSQL renders one where-condition as SQL on the membership row m, with
// its key and value bound as arguments of b. The meaning is the filter
// package's: every comparison, != included, holds only where the key is
// present with a comparable value; !exists finds the absent.
func condSQL(b *selectBuilder, c filter.Cond) (string, error) {
	switch c.Field() {
	case filter.FieldStatus:
		return statusCond(b, c)
	case filter.FieldFirstSeen:
		return timeCond(b, "m.first_seen", c.Op, c.Value)
	case filter.FieldLastSeen:
		return timeCond(b, "m.last_seen", c.Op, c.Value)
	}
	return paramCond(b, c)
}

// statusCond compares the status column, where "" means no status given.
func statusCond(b *selectBuilder, c filter.Cond) (string, error) {
	switch c.Op {
	case filter.Exists:
		return "m.status <> ''", nil
	case filter.NotExists:
		return "m.status = ''", nil
	case filter.Eq:
		return "m.status = " + b.arg(c.Value.Text) + "::text", nil
	case filter.Ne:
		return "(m.status <> '' AND m.status <> " + b.arg(c.Value.Text) + "::text)", nil
	case filter.Contains:
		return "strpos(m.status, lower(" + b.arg(c.Value.Text) + "::text)) > 0", nil
	}
	return "", fmt.Errorf("where: status has no operator %s", c.Op)
}

// timeCond compares a time expression x (NULL when not a time) with a Date
// value; a date-only value stands for its whole UTC day.
func timeCond(b *selectBuilder, x string, op filter.Op, v filter.Value) (string, error) {
	if v.Kind != filter.Date {
		return "", fmt.Errorf("where: %s needs a date", x)
	}
	from, to := v.Span()
	if !v.DateOnly() {
		t := b.arg(from) + "::timestamptz"
		switch op {
		case filter.Eq:
			return x + " = " + t, nil
		case filter.Ne:
			return x + " <> " + t, nil
		case filter.Gt:
			return x + " > " + t, nil
		case filter.Ge:
			return x + " >= " + t, nil
		case filter.Lt:
			return x + " < " + t, nil
		case filter.Le:
			return x + " <= " + t, nil
		}
		return "", fmt.Errorf("where: no time operator %s", op)
	}
	f := func() string { return b.arg(from) + "::timestamptz" }
	t := func() string { return b.arg(to) + "::timestamptz" }
	switch op {
	case filter.Eq:
		// One mention of x, so tinycrm_time (PL/pgSQL) runs once per
		// membership instead of twice: f <= x < t.
		return x + " <@ tstzrange(" + f() + ", " + t() + ", '[)')", nil
	case filter.Ne:
		return "(" + x + " < " + f() + " OR " + x + " >= " + t() + ")", nil
	case filter.Gt:
		return x + " >= " + t(), nil
	case filter.Ge:
		return x + " >= " + f(), nil
	case filter.Lt:
		return x + " < " + f(), nil
	case filter.Le:
		return x + " < " + t(), nil
	}
	return "", fmt.Errorf("where: no time operator %s", op)
}

// paramCond tests a top-level params key.
func paramCond(b *selectBuilder, c filter.Cond) (string, error) {
	k := b.arg(c.Key) + "::text"
	text := "(m.params ->> " + k + ")"
	switch c.Op {
	case filter.Exists:
		return "m.params ? " + k, nil
	case filter.NotExists:
		return "NOT (m.params ? " + k + ")", nil
	case filter.Contains:
		return "strpos(lower" + text + ", lower(" + b.arg(c.Value.Text) + "::text)) > 0", nil
	}
	switch c.Value.Kind {
	case filter.Number:
		lit := c.Value.Text
		if lit == "" {
			lit = strconv.FormatFloat(c.Value.Num, 'g', -1, 64)
		}
		v := "(" + b.arg(lit) + "::text)::numeric"
		if c.Op == filter.Eq {
			// Containment compares JSON numbers numerically and can use
			// the jsonb_path_ops index of migration 002.
			return "m.params @> jsonb_build_object(" + k + ", " + v + ")", nil
		}
		num := "(CASE WHEN jsonb_typeof(m.params -> " + k + ") = 'number' THEN (m.params -> " + k + ")::numeric END)"
		return compare(num, c.Op, v)
	case filter.Date:
		return timeCond(b, "tinycrm_time"+text, c.Op, c.Value)
	case filter.Text:
		v := b.arg(c.Value.Text) + "::text"
		if c.Op == filter.Eq && onlyStringsPrintAs(c.Value.Text) {
			// No JSON value but the string prints as this text, so
			// containment is the same test, and index-assisted.
			return "m.params @> jsonb_build_object(" + k + ", " + v + ")", nil
		}
		return compare(text, c.Op, v)
	}
	return "", fmt.Errorf("where: %s: value of kind %s", c.Key, c.Value.Kind)
}

// compare renders x OP y for the ordering and (in)equality operators.
func compare(x string, op filter.Op, y string) (string, error) {
	sym := map[filter.Op]string{filter.Eq: "=", filter.Ne: "<>", filter.Gt: ">", filter.Ge: ">=", filter.Lt: "<", filter.Le: "<="}[op]
	if sym == "" {
		return "", fmt.Errorf("where: no comparison operator %s", op)
	}
	return x + " " + sym + " " + y, nil
}

// onlyStringsPrintAs reports whether s can be the ->> text of no JSON value
// other than the string s itself: not a number, boolean, null, array or
// object literal.
func onlyStringsPrintAs(s string) bool {
	switch s {
	case "true", "false", "null":
		return false
	}
	if s == "" {
		return true
	}
	if s[0] == '[' || s[0] == '{' {
		return false
	}
	// Anything a JSON number could print as starts with a digit or "-".
	return !(s[0] == '-' || s[0] >= '0' && s[0] <= '9')
}
