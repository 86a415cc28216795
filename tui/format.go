package tui

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Presentation helpers shared by the table and the detail view. They match
// what the CLI prints on a terminal (SPEC §5: "just now", "3d ago").

// relTime says how long ago t was, relative to now.
func relTime(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m ago"
	case d < 24*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h ago"
	case d < 30*24*time.Hour:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d ago"
	case d < 365*24*time.Hour:
		return strconv.Itoa(int(d/(30*24*time.Hour))) + "mo ago"
	}
	return strconv.Itoa(int(d/(365*24*time.Hour))) + "y ago"
}

// compactTime shortens a relTime for narrow columns: "3d", "now".
func compactTime(s string) string {
	if s == "just now" {
		return "now"
	}
	return strings.TrimSuffix(s, " ago")
}

// money formats a monthly amount: $9, $1,204, $9.50; "–" for none.
func money(v float64) string {
	if v == 0 {
		return "–"
	}
	neg := v < 0
	v = math.Abs(v)
	whole := math.Floor(v)
	s := "$" + commas(int64(whole))
	if cents := math.Round((v - whole) * 100); cents > 0 && cents < 100 {
		s += fmt.Sprintf(".%02d", int(cents))
	}
	if neg {
		s = "-" + s
	}
	return s
}

// commas writes n with thousands separators: 1,204.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// plural writes "1 customer" or "2 customers".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return commas(n) + " " + many
}

// shortStatus abbreviates the well-known statuses for narrow columns.
func shortStatus(s string) string {
	switch s {
	case "trialing":
		return "trial"
	case "churned":
		return "churn"
	}
	return s
}

// formatParams renders params as key=value pairs, sorted by key.
func formatParams(p map[string]any) []string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+formatValue(p[k]))
	}
	return out
}

// formatValue renders one JSON value compactly; strings unquoted.
func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// formatRaw renders a raw JSON value from the timeline.
func formatRaw(r json.RawMessage) string {
	if len(r) == 0 || string(r) == "null" {
		return "–"
	}
	var v any
	if err := json.Unmarshal(r, &v); err != nil {
		return string(r)
	}
	return formatValue(v)
}

// paramsChange describes a params event: each changed key with its old
// and new value.
func paramsChange(before, after json.RawMessage) string {
	var b, a map[string]any
	_ = json.Unmarshal(before, &b) // null or absent: no keys
	_ = json.Unmarshal(after, &a)
	keys := map[string]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, k := range names {
		old, new := "–", "–"
		if v, ok := b[k]; ok {
			old = formatValue(v)
		}
		if v, ok := a[k]; ok {
			new = formatValue(v)
		}
		parts = append(parts, k+": "+old+" → "+new)
	}
	return strings.Join(parts, ", ")
}
