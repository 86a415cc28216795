package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/internal/render"
)

type customerOptions struct {
	app *App
	key string // email or id
	out outputFlags
}

func newCustomerCmd(app *App) *cobra.Command {
	o := &customerOptions{app: app}
	cmd := &cobra.Command{
		Use:   "customer EMAIL|ID",
		Short: "Show one customer: per-project cards and the timeline",
		Long: `Show one customer, found by email (any case) or id: their projects with status,
params and first/last seen, and the timeline of changes, newest first.`,
		Example: `  tinycrm customer alice@example.com
  tinycrm customer 42 --json`,
		Args: exactArgs("EMAIL|ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.key = args[0]
			return runCustomer(cmd.Context(), o)
		},
	}
	addOutputFlags(cmd, &o.out, false)
	return cmd
}

func runCustomer(ctx context.Context, o *customerOptions) error {
	if strings.TrimSpace(o.key) == "" {
		return usagef("customer: the email or id is empty")
	}
	c, err := o.app.Client()
	if err != nil {
		return err
	}
	d, err := c.Customer(ctx, o.key)
	if client.IsNotFound(err) {
		return fmt.Errorf("no customer %q; look for them with \"tinycrm customers --search %s\"", clip(o.key), shellQuote(clip(o.key)))
	}
	if err != nil {
		return err
	}
	switch {
	case o.out.json:
		return printCustomerJSON(o.app, d)
	case o.app.OutTTY:
		printCustomerCard(o.app, d)
	default:
		printCustomerTSV(o.app, d)
	}
	return nil
}

// printCustomerJSON prints the API's customer object, indented.
func printCustomerJSON(app *App, d client.CustomerDetail) error {
	d.Customer = customerJSON(d.Customer)
	if d.Timeline == nil {
		d.Timeline = []client.Event{}
	}
	for i := range d.Timeline {
		d.Timeline[i].At = d.Timeline[i].At.UTC()
	}
	return printJSON(app, d)
}

// printCustomerCard prints the human view: a header, one card per
// project and the timeline.
func printCustomerCard(app *App, d client.CustomerDetail) {
	th := app.Theme
	var b strings.Builder
	name := render.Sanitize(d.Name)
	if name == "" {
		name = th.Dim("(no name)")
	}
	fmt.Fprintf(&b, "%s  %s\n", th.Bold(name), render.Sanitize(d.Email))
	fmt.Fprintf(&b, "%s\n", th.Dim(fmt.Sprintf("id %d · %s · MRR %s · first seen %s · last active %s",
		d.ID, render.Plural(d.ProjectCount, "project", "projects"), render.Money(d.MRRTotal),
		th.Since(d.FirstSeen), th.Since(d.LastSeen))))

	slugNames := map[string]client.Membership{}
	for _, m := range d.Projects {
		slugNames[m.Slug] = m
		b.WriteByte('\n')
		fmt.Fprintf(&b, "%s  %s  %s\n", th.Badge(render.Sanitize(m.Name), m.Color), th.Status(m.Status),
			th.Dim("first seen "+th.Since(m.FirstSeen)+" · last seen "+th.Since(m.LastSeen)))
		keys := slices.Sorted(maps.Keys(m.Params))
		width := 0
		for _, k := range keys {
			width = max(width, len(k))
		}
		for _, k := range keys {
			fmt.Fprintf(&b, "    %-*s  %s\n", width, render.Sanitize(k), render.Sanitize(paramText(m.Params[k])))
		}
		if len(keys) == 0 {
			fmt.Fprintf(&b, "    %s\n", th.Dim("no params"))
		}
	}
	if len(d.Timeline) > 0 {
		fmt.Fprintf(&b, "\n%s\n", th.Header("Timeline")+th.Dim(" (newest first)"))
		t := render.NewTable([]render.Column{{Title: "WHEN"}, {Title: "PROJECT"}, {Title: "CHANGE", Max: 100}})
		t.NoHeader = true
		for _, e := range d.Timeline {
			project := e.Project
			if m, ok := slugNames[e.Project]; ok {
				project = th.Badge(render.Sanitize(m.Name), m.Color)
			}
			t.AddRow([]string{"  " + th.Since(e.At), project, render.Sanitize(eventText(e))})
		}
		_ = t.Render(&b, th)
		if d.TimelineHasMore {
			fmt.Fprintf(&b, "  %s\n", th.Dim(fmt.Sprintf("… older events not shown (these are the newest %d)", len(d.Timeline))))
		}
	}
	printf(app.Out, "%s", b.String())
}

// printCustomerTSV prints the piped view: "key<TAB>value" lines, then one
// line per project and per timeline event.
func printCustomerTSV(app *App, d client.CustomerDetail) {
	var b strings.Builder
	b.WriteString(render.TSV("id", strconv.FormatInt(d.ID, 10)))
	b.WriteString(render.TSV("email", d.Email))
	b.WriteString(render.TSV("name", d.Name))
	b.WriteString(render.TSV("first_seen", rfc3339(d.FirstSeen)))
	b.WriteString(render.TSV("last_seen", rfc3339(d.LastSeen)))
	b.WriteString(render.TSV("project_count", strconv.Itoa(d.ProjectCount)))
	b.WriteString(render.TSV("mrr_total", strconv.FormatFloat(d.MRRTotal, 'f', -1, 64)))
	for _, m := range d.Projects {
		params, _ := marshal(orEmpty(m.Params))
		b.WriteString(render.TSV("project", m.Slug, m.Status, rfc3339(m.FirstSeen), rfc3339(m.LastSeen), string(params)))
	}
	for _, e := range d.Timeline {
		b.WriteString(render.TSV("event", rfc3339(e.At), e.Project, e.Kind, compactJSON(e.Before), compactJSON(e.After)))
	}
	if d.TimelineHasMore {
		b.WriteString(render.TSV("timeline_has_more", "true"))
	}
	printf(app.Out, "%s", b.String())
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// compactJSON renders raw JSON on one line; absent is "null".
func compactJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "null"
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// paramText renders a params value: strings bare, everything else as JSON.
func paramText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// eventText describes a timeline event in a few words: "joined as paid ·
// plan=pro, mrr=9", "status free → paid", "plan starter → pro", "name →
// Alice Chen".
func eventText(e client.Event) string {
	switch e.Kind {
	case "joined":
		var j struct {
			Status string         `json:"status"`
			Params map[string]any `json:"params"`
		}
		_ = unmarshalNumbers(e.After, &j)
		s := "joined"
		if j.Status != "" {
			s += " as " + j.Status
		}
		if len(j.Params) > 0 {
			var kv []string
			for _, k := range slices.Sorted(maps.Keys(j.Params)) {
				kv = append(kv, k+"="+paramText(j.Params[k]))
			}
			s += " · " + strings.Join(kv, ", ")
		}
		return s
	case "status":
		return "status " + jsonWord(e.Before) + " → " + jsonWord(e.After)
	case "name":
		if len(e.Before) == 0 || string(e.Before) == "null" {
			return "name → " + jsonWord(e.After)
		}
		return "name " + jsonWord(e.Before) + " → " + jsonWord(e.After)
	case "params":
		var before, after map[string]any
		_ = unmarshalNumbers(e.Before, &before)
		_ = unmarshalNumbers(e.After, &after)
		keys := slices.Collect(maps.Keys(before))
		for k := range after {
			if _, ok := before[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			b, inB := before[k]
			a, inA := after[k]
			switch {
			case inB && inA:
				parts = append(parts, k+" "+paramText(b)+" → "+paramText(a))
			case inA:
				parts = append(parts, k+"="+paramText(a))
			default:
				parts = append(parts, k+" removed")
			}
		}
		return strings.Join(parts, ", ")
	}
	return e.Kind + " " + compactJSON(e.Before) + " → " + compactJSON(e.After)
}

// unmarshalNumbers is json.Unmarshal with numbers kept as json.Number, so
// that they print with every digit the server stored
// (12345678901234567890 stays itself, not 12345678901234567000).
func unmarshalNumbers(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// jsonWord renders a JSON value as a word: a string bare, null as "none".
func jsonWord(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "none"
	}
	var v any
	if err := unmarshalNumbers(raw, &v); err != nil {
		return string(raw)
	}
	if s, ok := v.(string); ok {
		if s == "" {
			return "none"
		}
		return s
	}
	return paramText(v)
}

// shellQuote quotes s for a shell command line when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@._-+=:/,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
