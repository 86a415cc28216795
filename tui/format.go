package tui

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"tinycrm.dev/tinycrm/internal/render"
)

// Presentation helpers of the TUI's own. Relative times, money, counts,
// badges and statuses come from internal/render, shared with the CLI.

// compactTime shortens a render.RelTime for narrow columns: "3d", "now".
func compactTime(s string) string {
	if s == "just now" {
		return "now"
	}
	return strings.TrimSuffix(s, " ago")
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
		out = append(out, render.Sanitize(k+"="+formatValue(p[k])))
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
