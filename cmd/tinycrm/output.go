package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/internal/render"
)

// format is how a command prints customers.
type format int

const (
	formatHuman format = iota // aligned table on a TTY, tab-separated when piped
	formatJSON                // one JSON array
	formatJSONL               // one JSON object per line
	formatCSV                 // header row, one row per customer
)

// outputFlags are --json, --jsonl and --csv.
type outputFlags struct {
	json, jsonl, csv bool
}

// addOutputFlags registers --json, and --jsonl and --csv when lists is set.
func addOutputFlags(cmd *cobra.Command, of *outputFlags, lists bool) {
	cmd.Flags().BoolVar(&of.json, "json", false, "print JSON")
	if lists {
		cmd.Flags().BoolVar(&of.jsonl, "jsonl", false, "print one JSON object per line")
		cmd.Flags().BoolVar(&of.csv, "csv", false, "print CSV with a header row")
		markExclusive(cmd, "json", "jsonl", "csv")
	}
}

// format returns the chosen format.
func (of outputFlags) format() format {
	switch {
	case of.json:
		return formatJSON
	case of.jsonl:
		return formatJSONL
	case of.csv:
		return formatCSV
	}
	return formatHuman
}

// customerWriter prints customers one at a time, so a listing of any
// length streams.
type customerWriter interface {
	Write(c client.Customer) error
	// Flush writes what is buffered (a page of the table).
	Flush() error
	// Close ends the output (the JSON array's "]").
	Close() error
}

// newCustomerWriter returns the writer of format f for the app's stdout.
func newCustomerWriter(app *App, f format) customerWriter {
	bw := bufio.NewWriterSize(app.Out, 64<<10)
	switch f {
	case formatJSON:
		return &jsonWriter{w: bw}
	case formatJSONL:
		return &jsonlWriter{w: bw, enc: newEncoder(bw)}
	case formatCSV:
		return &csvWriter{w: bw, cw: csv.NewWriter(bw)}
	}
	if app.OutTTY {
		t := render.NewTable(render.CustomerColumns())
		t.Width = app.TermWidth
		return &tableWriter{w: bw, th: app.Theme, t: t}
	}
	return &tsvWriter{w: bw, plain: render.New(render.Options{})}
}

// newEncoder is a JSON encoder that leaves <, > and & alone.
func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// printJSON writes v as indented JSON to stdout: the --json output of every
// command that prints one object or array.
func printJSON(app *App, v any) error {
	enc := newEncoder(app.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// customerJSON is a customer in the JSON shape of SPEC §5: projects and
// params never null, times in UTC.
func customerJSON(c client.Customer) client.Customer {
	c.FirstSeen, c.LastSeen = c.FirstSeen.UTC(), c.LastSeen.UTC()
	ms := make([]client.Membership, len(c.Projects))
	for i, m := range c.Projects {
		if m.Params == nil {
			m.Params = map[string]any{}
		}
		m.FirstSeen, m.LastSeen = m.FirstSeen.UTC(), m.LastSeen.UTC()
		ms[i] = m
	}
	c.Projects = ms
	return c
}

// jsonWriter prints one JSON array, one customer per line.
type jsonWriter struct {
	w *bufio.Writer
	n int
}

func (j *jsonWriter) Write(c client.Customer) error {
	sep := ",\n"
	if j.n == 0 {
		sep = "[\n"
	}
	j.n++
	b, err := marshal(customerJSON(c))
	if err != nil {
		return err
	}
	j.w.WriteString(sep)
	_, err = j.w.Write(b)
	return err
}

func (j *jsonWriter) Flush() error { return j.w.Flush() }

func (j *jsonWriter) Close() error {
	if j.n == 0 {
		j.w.WriteString("[]\n")
	} else {
		j.w.WriteString("\n]\n")
	}
	return j.w.Flush()
}

// marshal encodes v compactly without HTML escaping.
func marshal(v any) ([]byte, error) {
	var b strings.Builder
	if err := newEncoder(&b).Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(b.String(), "\n")), nil
}

// jsonlWriter prints one customer object per line.
type jsonlWriter struct {
	w   *bufio.Writer
	enc *json.Encoder
}

func (j *jsonlWriter) Write(c client.Customer) error { return j.enc.Encode(customerJSON(c)) }
func (j *jsonlWriter) Flush() error                  { return j.w.Flush() }
func (j *jsonlWriter) Close() error                  { return j.w.Flush() }

// csvHeader is the header of --csv, the same as the server's CSV export:
// projects and statuses are ";"-joined and aligned.
var csvHeader = []string{"id", "email", "name", "first_seen", "last_seen", "project_count", "mrr_total", "projects", "statuses"}

// csvWriter prints a header and one row per customer.
type csvWriter struct {
	w      *bufio.Writer
	cw     *csv.Writer
	header bool
}

func (c *csvWriter) Write(cu client.Customer) error {
	if !c.header {
		c.header = true
		if err := c.cw.Write(csvHeader); err != nil {
			return err
		}
	}
	slugs := make([]string, len(cu.Projects))
	statuses := make([]string, len(cu.Projects))
	for i, m := range cu.Projects {
		slugs[i], statuses[i] = m.Slug, m.Status
	}
	return c.cw.Write([]string{
		strconv.FormatInt(cu.ID, 10),
		csvSafe(cu.Email),
		csvSafe(cu.Name),
		cu.FirstSeen.UTC().Format(time.RFC3339Nano),
		cu.LastSeen.UTC().Format(time.RFC3339Nano),
		strconv.Itoa(cu.ProjectCount),
		strconv.FormatFloat(cu.MRRTotal, 'f', -1, 64),
		strings.Join(slugs, ";"),
		strings.Join(statuses, ";"),
	})
}

func (c *csvWriter) Flush() error {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return err
	}
	return c.w.Flush()
}

func (c *csvWriter) Close() error {
	if !c.header {
		c.header = true
		if err := c.cw.Write(csvHeader); err != nil {
			return err
		}
	}
	return c.Flush()
}

// csvSafe defuses spreadsheet formulas in text that came from sign-ups, as
// the server's export does: a cell starting with = + - @ tab or CR gets a
// leading apostrophe.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// tableWriter prints the aligned, coloured table of a terminal, a page at
// a time.
type tableWriter struct {
	w  *bufio.Writer
	th render.Theme
	t  *render.Table
}

func (t *tableWriter) Write(c client.Customer) error {
	t.t.AddCells(t.th.CustomerCells(c))
	return nil
}

func (t *tableWriter) Flush() error {
	if t.t.Len() > 0 {
		if err := t.t.Render(t.w, t.th); err != nil {
			return err
		}
	}
	return t.w.Flush()
}

func (t *tableWriter) Close() error { return t.Flush() }

// tsvWriter prints tab-separated lines for scripts: email, name, badges,
// statuses (comma-separated, aligned with the badges), MRR as a plain
// number, last active in RFC 3339; no header, no colour.
type tsvWriter struct {
	w     *bufio.Writer
	plain render.Theme
}

func (t *tsvWriter) Write(c client.Customer) error {
	_, err := t.w.WriteString(customerTSV(t.plain, c))
	return err
}

func (t *tsvWriter) Flush() error { return t.w.Flush() }
func (t *tsvWriter) Close() error { return t.w.Flush() }

// customerTSV is one customer as a tab-separated line; plain is a theme
// without colour, so badges read [Name].
func customerTSV(plain render.Theme, c client.Customer) string {
	statuses := make([]string, len(c.Projects))
	for i, m := range c.Projects {
		statuses[i] = m.Status
	}
	return render.TSV(c.Email, c.Name, plain.Badges(c.Projects), strings.Join(statuses, ","),
		strconv.FormatFloat(c.MRRTotal, 'f', -1, 64), rfc3339(c.LastSeen))
}

// rfc3339 renders a time for piped output: RFC 3339 in UTC, "" for zero.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
