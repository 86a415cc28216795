package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

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
	case json.Number: // how the client decodes numbers: every digit kept
		return v.String()
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
	v, err := decodeJSON(r)
	if err != nil {
		return string(r)
	}
	return formatValue(v)
}

// decodeJSON decodes a raw JSON value with numbers as json.Number, so a
// long number keeps every digit, as the client decodes params.
func decodeJSON(r json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(r))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// fitMoney renders an amount in at most width cells: exactly when it
// fits, else rounded to whole dollars, else to thousands ("$12k",
// "$1.2M"). Money is never cut.
func fitMoney(v float64, width int) string {
	if s := render.Money(v); ansi.StringWidth(s) <= width {
		return s
	}
	if s := render.Money(math.Round(v)); ansi.StringWidth(s) <= width {
		return s
	}
	sign, a := "", v
	if a < 0 {
		sign, a = "-", -a
	}
	for _, u := range []struct {
		div  float64
		unit string
	}{{1e3, "k"}, {1e6, "M"}, {1e9, "B"}} {
		n := a / u.div
		s := ""
		if n < 9.95 {
			s = strconv.FormatFloat(n, 'f', 1, 64)
			s = strings.TrimSuffix(s, ".0")
		} else {
			s = render.Count(int64(math.Round(n)))
		}
		if out := sign + "$" + s + u.unit; ansi.StringWidth(out) <= width || u.unit == "B" {
			return out
		}
	}
	return render.Money(v)
}

// decodeObject decodes a raw JSON object as decodeJSON does.
func decodeObject(r json.RawMessage) (map[string]any, error) {
	v, err := decodeJSON(r)
	m, _ := v.(map[string]any)
	return m, err
}

// paramsChange describes a params event: each changed key with its old
// and new value.
func paramsChange(before, after json.RawMessage) string {
	b, _ := decodeObject(before) // null or absent: no keys
	a, _ := decodeObject(after)
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
