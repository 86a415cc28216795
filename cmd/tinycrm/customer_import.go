package main

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/internal/render"
)

// Import tuning: rows per request and requests in flight.
const (
	importBatch    = 1000
	importWorkers  = 3
	importShowMax  = 20   // rejected rows listed on stderr
	importKeepMax  = 1000 // rejected rows remembered (the rest are counted)
	importTimeout  = 2 * time.Minute
	maxParamKeyLen = 64
)

type importOptions struct {
	app     *App
	file    string
	project string
	maps    []string
	dryRun  bool
}

func newImportCmd(app *App) *cobra.Command {
	o := &importOptions{app: app}
	cmd := &cobra.Command{
		Use:   "import FILE.csv --project SLUG [--map col=field]... [--dry-run]",
		Short: "Import customers of one project from a CSV file",
		Long: `Import customers of one project from a CSV file with a header row ("-" reads stdin).

Columns: email (required), name, status, timestamp or created_at (RFC 3339,
2026-03-29, "2026-03-29 10:00:00" in UTC, or Unix seconds); every other column
becomes a param: numbers as numbers, true/false as booleans, anything else as
text; empty cells are left out. --map COLUMN=FIELD renames a column, where FIELD
is email, name, status, timestamp, param:NAME, or - to skip the column. The
columns of the header need distinct names; a column with no name (such as after
a trailing comma) is ignored, and a row with a value in it is rejected.

The file is streamed (any size, constant memory) and sent in batches of up to
1,000 rows and 4 MiB. A row longer than 1 MiB, or whose identify call would pass
the server's 32 KiB, is rejected.
Each row's message id is derived from the project and the row's content, so
running the same import again changes nothing: its rows count as duplicates.
A rejected row is reported with its line number and the reason; the other rows
still land. The exit status is 0 when at least one row landed (or the file has
no rows), 1 when every row was rejected or the import stopped on an error.

--dry-run reads the file the same way, then has the server check every row by
exactly the rules of a real import, and reports the rows it would reject (by line
number), without storing anything. It needs the server, like a real import.`,
		Example: `  tinycrm import users.csv --project inkwell
  tinycrm import export.csv --project metricly --map "E-mail=email" --map "Plan Name=param:plan" --map notes=-
  tinycrm import users.csv --project inkwell --dry-run`,
		Args: exactArgs("FILE.csv"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.file = args[0]
			if o.project == "" {
				return usagef("import needs --project SLUG: the project the rows belong to (see \"tinycrm projects list\")")
			}
			return runImport(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVarP(&o.project, "project", "p", "", "the project to import into (slug; required)")
	cmd.Flags().StringArrayVar(&o.maps, "map", nil, "rename a column: `COLUMN=FIELD` (email, name, status, timestamp, param:NAME, or - to skip)")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "have the server check every row as a real import would, storing nothing")
	return cmd
}

// colKind is what a CSV column holds.
type colKind int

const (
	colSkip colKind = iota
	colEmail
	colName
	colStatus
	colTimestamp
	colParam
	// colUnnamed has no name in the header, such as after a trailing
	// comma: its cells must be empty. (Last, so that the kinds above keep
	// their numbers in message ids; see signature.)
	colUnnamed
)

// column is one CSV column's meaning.
type column struct {
	kind  colKind
	param string // for colParam
}

// parseField reads the FIELD of --map.
func parseField(s string) (column, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "email":
		return column{kind: colEmail}, true
	case "name":
		return column{kind: colName}, true
	case "status":
		return column{kind: colStatus}, true
	case "timestamp", "created_at":
		return column{kind: colTimestamp}, true
	case "-", "skip":
		return column{kind: colSkip}, true
	}
	if p, ok := strings.CutPrefix(strings.TrimSpace(s), "param:"); ok && filter.IsParamKey(p) {
		return column{kind: colParam, param: p}, true
	}
	return column{}, false
}

// buildColumns gives every header column its meaning, applying --map.
func buildColumns(header []string, maps []string, file string) ([]column, error) {
	mapped := map[string]column{}
	given := map[string]string{} // the --map of each mapped column
	var order []string
	for _, m := range maps {
		col, field, ok := strings.Cut(m, "=")
		if !ok || strings.TrimSpace(col) == "" {
			return nil, usagef("--map %q: use COLUMN=FIELD, such as \"E-mail=email\" or \"Plan=param:plan\"", clip(m))
		}
		c, ok := parseField(field)
		if !ok {
			return nil, usagef("--map %q: FIELD must be email, name, status, timestamp, param:NAME (NAME of letters, digits, _ . -) or -", clip(m))
		}
		key := strings.ToLower(strings.TrimSpace(col))
		if prev, dup := given[key]; dup {
			return nil, usagef("--map: column %q is mapped twice (%q and %q); give one --map per column", clip(strings.TrimSpace(col)), clip(prev), clip(m))
		}
		given[key] = m
		mapped[key] = c
		order = append(order, key)
	}
	// --map names columns by their header, so two columns of one name
	// could be neither mapped nor skipped apart.
	named := map[string]int{}
	for i, h := range header {
		key := strings.ToLower(strings.TrimSpace(h))
		if key == "" {
			continue
		}
		if j, dup := named[key]; dup {
			return nil, fmt.Errorf("%s: columns %d (%q) and %d (%q) of the header have the same name; rename one of them in the header row",
				file, j+1, clip(strings.TrimSpace(header[j])), i+1, clip(strings.TrimSpace(h)))
		}
		named[key] = i
	}
	cols := make([]column, len(header))
	used := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		key := strings.ToLower(h)
		if c, ok := mapped[key]; ok {
			cols[i] = c
			used[key] = true
			continue
		}
		switch key {
		case "email":
			cols[i] = column{kind: colEmail}
		case "name":
			cols[i] = column{kind: colName}
		case "status":
			cols[i] = column{kind: colStatus}
		case "timestamp", "created_at":
			cols[i] = column{kind: colTimestamp}
		case "":
			cols[i] = column{kind: colUnnamed}
		default:
			if !filter.IsParamKey(h) {
				return nil, fmt.Errorf("%s: column %q cannot be a param name (1-64 letters, digits, _ . -); rename it with --map %s or skip it with --map %s",
					file, h, shellQuote(h+"=param:"+suggestKey(h)), shellQuote(h+"=-"))
			}
			cols[i] = column{kind: colParam, param: h}
		}
	}
	for _, key := range order {
		if !used[key] {
			return nil, usagef("--map: no column %q in the header of %s (it has: %s)", clip(key), file, clipLong(strings.Join(header, ", ")))
		}
	}
	seen := map[string]string{}
	for i, c := range cols {
		var name string
		switch c.kind {
		case colSkip, colUnnamed:
			continue
		case colEmail:
			name = "email"
		case colName:
			name = "name"
		case colStatus:
			name = "status"
		case colTimestamp:
			name = "timestamp"
		case colParam:
			name = "param " + c.param
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("%s: columns %q and %q are both %s; skip one with --map %s", file, prev, header[i], name, shellQuote(header[i]+"=-"))
		}
		seen[name] = header[i]
	}
	if _, ok := seen["email"]; !ok {
		return nil, fmt.Errorf("%s: no email column in the header (it has: %s); name the column that holds emails with --map COLUMN=email",
			file, strings.Join(header, ", "))
	}
	return cols, nil
}

// suggestKey turns a header into a valid param key: "Plan Name" → "plan_name".
func suggestKey(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), "_")
	if s == "" {
		s = "param"
	}
	if len(s) > maxParamKeyLen {
		s = s[:maxParamKeyLen]
	}
	return s
}

// signature describes the column mapping, so that the same file imported
// with another mapping gets other message ids.
func signature(cols []column) string {
	var b strings.Builder
	for _, c := range cols {
		fmt.Fprintf(&b, "%d:%s,", c.kind, c.param)
	}
	return b.String()
}

// rowError is a row rejected before it was sent.
type rowError struct{ msg string }

func (e rowError) Error() string { return e.msg }

// notUTF8 explains a cell that is not UTF-8: a file saved as Latin-1 or
// Windows-1252 by a spreadsheet. Sent as is, its bad bytes would be stored
// as U+FFFD.
func notUTF8(c column, file string) string {
	field := map[colKind]string{colEmail: "email", colName: "name", colStatus: "status", colTimestamp: "timestamp"}[c.kind]
	if c.kind == colParam {
		field = "params." + c.param
	}
	conv := "iconv -f latin1 -t utf-8 FILE > FILE-utf8.csv"
	if file != "-" && file != "" {
		out := strings.TrimSuffix(file, filepath.Ext(file)) + "-utf8.csv"
		conv = "iconv -f latin1 -t utf-8 " + shellQuote(clip(file)) + " > " + shellQuote(clip(out))
	}
	return field + ": is not valid UTF-8 (is the file in Latin-1 or another encoding?); convert it first, such as with: " + conv
}

// parseTimestamp reads the timestamp formats an import accepts.
func parseTimestamp(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		switch {
		case n < 1e11: // seconds
			return time.Unix(n, 0).UTC(), nil
		case n < 1e14: // milliseconds
			return time.UnixMilli(n).UTC(), nil
		}
	}
	return time.Time{}, rowError{fmt.Sprintf("timestamp: %q is not a time; use RFC 3339 (2026-03-29T10:00:00Z), a date (2026-03-29) or Unix seconds", clip(s))}
}

// rowIdentify turns one CSV record into an identify. It checks only what
// the file itself can get wrong (its shape, timestamps in the formats an
// import reads, text that is not UTF-8); every other rule is the server's,
// applied alike to an import and to a dry run (client.CheckImport).
func rowIdentify(rec []string, cols []column, msgPrefix, file string) (client.Identify, error) {
	if len(rec) != len(cols) {
		return client.Identify{}, rowError{fmt.Sprintf("has %d fields; the header has %d", len(rec), len(cols))}
	}
	var id client.Identify
	for i, c := range cols {
		if c.kind == colUnnamed && strings.TrimSpace(rec[i]) != "" {
			return client.Identify{}, rowError{fmt.Sprintf("has a value in column %d, which has no name in the header; name the column in the header row (or empty its cells)", i+1)}
		}
		if c.kind != colSkip && !utf8.ValidString(rec[i]) {
			return client.Identify{}, rowError{notUTF8(c, file)}
		}
		v := strings.TrimSpace(rec[i])
		switch c.kind {
		case colEmail:
			id.Email = v
		case colName:
			id.Name = v
		case colStatus:
			id.Status = v
		case colTimestamp:
			if v != "" {
				t, err := parseTimestamp(v)
				if err != nil {
					return client.Identify{}, err
				}
				id.Timestamp = t
			}
		case colParam:
			if v != "" {
				if id.Params == nil {
					id.Params = map[string]any{}
				}
				id.Params[c.param] = scalar(v)
			}
		}
	}
	if id.Email == "" {
		return client.Identify{}, rowError{"email: is empty"}
	}
	// The message id hashes the project, the mapping and the row, so the
	// same row imported again is a duplicate, and nothing else is.
	h := sha256.New()
	io.WriteString(h, msgPrefix)
	for _, f := range rec {
		io.WriteString(h, f)
		h.Write([]byte{0x1f})
	}
	id.MessageID = "import-" + hex.EncodeToString(h.Sum(nil)[:16])
	return id, nil
}

// rejection is a row that did not land.
type rejection struct {
	line int
	msg  string
}

// importStats are the counts of an import, shared by its workers.
type importStats struct {
	rows       atomic.Int64 // data rows read
	accepted   atomic.Int64
	duplicates atomic.Int64
	suppressed atomic.Int64
	rejected   atomic.Int64
	mu         sync.Mutex
	kept       []rejection // the first importKeepMax, by arrival
}

func (s *importStats) reject(line int, msg string) {
	s.rejected.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.kept) < importKeepMax {
		s.kept = append(s.kept, rejection{line: line, msg: msg})
	}
}

// sorted returns the kept rejections by line.
func (s *importStats) sorted() []rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.kept)
	slices.SortFunc(out, func(a, b rejection) int { return a.line - b.line })
	return out
}

// importRow is one row on its way to the server.
type importRow struct {
	line int
	item client.Identify
}

// maxIdentifyBytes is the server's limit on one identify call (SPEC §3).
// A row whose call is longer cannot be valid, so it is refused here, and
// a batch is never refused whole for it.
const maxIdentifyBytes = 32 << 10

// checkSize returns a row error when id is longer in JSON than an
// identify call may be, naming the row's largest cell. (Requests are cut
// to the server's batch limits by the client.)
func checkSize(id client.Identify, rec, header []string, cols []column) error {
	// Most rows are far too short to reach the limit even with every byte
	// escaped (\u00XX, 6 bytes): those are not encoded twice (the client
	// encodes each row to send it).
	bound := 512 // braces, message_id, timestamp
	for i, c := range cols {
		if c.kind != colSkip {
			bound += 6 * (len(rec[i]) + len(header[i]) + 4)
		}
	}
	if bound <= maxIdentifyBytes {
		return nil
	}
	enc, err := json.Marshal(id)
	if err != nil {
		return rowError{"cannot be encoded as JSON: " + err.Error()}
	}
	if len(enc) <= maxIdentifyBytes {
		return nil
	}
	big := -1
	for i, c := range cols {
		if c.kind != colSkip && (big < 0 || len(rec[i]) > len(rec[big])) {
			big = i
		}
	}
	h := strings.TrimSpace(header[big])
	return rowError{fmt.Sprintf("is %s as an identify call, over the server's limit of %d KiB; its largest cell, in column %q, has %s: shorten it, or leave the column out with --map %s",
		byteSize(int64(len(enc))), maxIdentifyBytes>>10, clip(h), byteSize(int64(len(rec[big]))), shellQuote(clip(h)+"=-"))}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func runImport(ctx context.Context, o *importOptions) error {
	in, size, closeIn, err := openInput(o.app, o.file)
	if err != nil {
		return err
	}
	defer closeIn()
	counted := &countingReader{r: in}
	records := newRecordReader(counted, maxRecordBytes)
	r := csv.NewReader(records)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	headerTooLong := fmt.Errorf("%s: the header row is longer than %d MiB; is this a CSV file with a header row of column names?",
		o.file, maxRecordBytes>>20)
	switch {
	case errors.Is(err, io.EOF) && len(records.cut) == 0:
		return fmt.Errorf("%s is empty: expected a header row with an email column", o.file)
	case errors.Is(err, io.EOF):
		return headerTooLong
	case err != nil:
		return fmt.Errorf("%s: cannot read the header row: %w", o.file, err)
	}
	// A cut record before the first one csv returned was the header.
	if line, _ := r.FieldPos(0); len(records.cut) > 0 && records.cut[0].line < line {
		return headerTooLong
	}
	header = slices.Clone(header)
	cols, err := buildColumns(header, o.maps, o.file)
	if err != nil {
		return err
	}
	msgPrefix := o.project + "\x00" + signature(cols) + "\x00"

	// A dry run needs the server too: it checks the rows by the real
	// import's rules (client.CheckImport) and stores nothing.
	t, err := o.app.Target()
	if err != nil {
		return err
	}
	if t.Token == "" {
		return missingTokenError(t, o.app.Getenv, o.app.Euid)
	}
	// Imports are long and worth the patience: the usual retries, and
	// time for a batch of 1,000.
	c := o.app.newClient(t.Server, t.Token, client.WithRetries(client.DefaultRetries), client.WithTimeout(importTimeout),
		client.WithBackoff(client.DefaultBackoffBase, client.DefaultBackoffMax))
	if _, err := c.Project(ctx, o.project); err != nil {
		return projectError(o.project, err)
	}
	send := c.Import
	if o.dryRun {
		send = c.CheckImport
	}

	// A batch that fails stops the import: the reader and the workers take
	// no new rows, but requests already sent run to their end, so that
	// every row that landed is counted (cancelled, a request's outcome would
	// be unknown).
	stopped, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	stats := &importStats{}
	prog := newProgress(o.app)
	verb := "importing"
	if o.dryRun {
		verb = "checking"
	}
	showProgress := func(force bool) {
		line := fmt.Sprintf("%s %s: %s", verb, o.file, render.Plural(stats.rows.Load(), "row", "rows"))
		if size > 0 {
			line = progressBar(float64(counted.n.Load())/float64(size), 20) + " " + line
		}
		if rate := prog.rate(stats.rows.Load(), "rows"); rate != "" {
			line += " · " + rate
		}
		if n := stats.rejected.Load(); n > 0 {
			line += " · " + render.Count(n) + " rejected"
		}
		prog.Update(line, force)
	}

	// Rows of one person go to the same worker, in file order, so that a
	// later row about someone is applied after an earlier one.
	shards := make([]chan importRow, importWorkers)
	var wg sync.WaitGroup
	for i := range shards {
		shards[i] = make(chan importRow, importBatch)
		wg.Add(1)
		go func(rows <-chan importRow) {
			defer wg.Done()
			importWorker(ctx, stopped, stop, send, o.project, rows, stats)
		}(shards[i])
	}

	readErr := func() error {
		for {
			rec, err := r.Read()
			for _, c := range records.takeCut() {
				stats.rows.Add(1)
				stats.reject(c.line, fmt.Sprintf("is %s long, over the %d MiB a row may take; shorten it or remove it from the file (or close a quote left open there)",
					byteSize(c.size), maxRecordBytes>>20))
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				stats.rows.Add(1)
				stats.reject(pe.StartLine, "not valid CSV: "+pe.Err.Error())
				continue
			}
			if err != nil {
				return fmt.Errorf("read %s: %w", o.file, err)
			}
			stats.rows.Add(1)
			showProgress(false)
			line, _ := r.FieldPos(0)
			if blank(rec) {
				stats.rows.Add(-1)
				continue
			}
			id, err := rowIdentify(rec, cols, msgPrefix, o.file)
			if err == nil {
				err = checkSize(id, rec, header, cols)
			}
			if err != nil {
				stats.reject(line, err.Error())
				continue
			}
			h := fnv.New32a()
			h.Write([]byte(strings.ToLower(strings.TrimSpace(id.Email))))
			select {
			case shards[h.Sum32()%importWorkers] <- importRow{line: line, item: id}:
			case <-stopped.Done():
				return nil
			}
		}
	}()
	for _, s := range shards {
		close(s)
	}
	wg.Wait()
	showProgress(true)
	prog.Done()

	if readErr != nil {
		return readErr
	}
	if err := ctx.Err(); err != nil {
		return context.Canceled
	}
	if cause := context.Cause(stopped); cause != nil {
		landed := stats.accepted.Load() + stats.duplicates.Load() + stats.suppressed.Load()
		if o.dryRun {
			return &partialError{done: "dry run stopped after checking " + render.Plural(landed+stats.rejected.Load(), "row", "rows"),
				err: cause, advice: "run it again"}
		}
		return &partialError{done: "import stopped after " + render.Plural(landed, "row", "rows") + " landed",
			err: cause, advice: "run the same command again to finish (rows already imported count as duplicates)"}
	}
	return importSummary(o, stats)
}

// blank reports whether a record has only empty cells (a trailing empty
// line of a spreadsheet export).
func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// openInput opens the file to import ("-" is stdin) and returns its size
// when known.
func openInput(app *App, path string) (io.Reader, int64, func(), error) {
	if path == "-" {
		return app.In, 0, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, 0, nil, fmt.Errorf("no file %s", path)
		}
		return nil, 0, nil, fmt.Errorf("open %s: %w", path, err)
	}
	var size int64
	if st, err := f.Stat(); err == nil {
		if st.IsDir() {
			f.Close()
			return nil, 0, nil, fmt.Errorf("%s is a directory; import takes a CSV file", path)
		}
		size = st.Size()
	}
	return f, size, func() { f.Close() }, nil
}

// importWorker sends its rows in batches of importBatch (the client cuts
// a batch into requests within the server's limits), and counts the
// outcome. The first failure of a
// whole batch stops the import (stop, which ends stopped); requests are
// made with ctx, so those in flight run to their end.
// send is client.Import, or client.CheckImport for a dry run.
func importWorker(ctx, stopped context.Context, stop context.CancelCauseFunc, send func(context.Context, string, []client.Identify) (client.BatchResult, error),
	slug string, rows <-chan importRow, stats *importStats) {
	items := make([]client.Identify, 0, importBatch)
	lines := make([]int, 0, importBatch)
	flush := func() bool {
		if len(items) == 0 {
			return true
		}
		if stopped.Err() != nil {
			return false
		}
		res, err := send(ctx, slug, items)
		stats.accepted.Add(int64(res.Accepted))
		stats.duplicates.Add(int64(res.Duplicates))
		stats.suppressed.Add(int64(res.Suppressed))
		for _, rej := range res.Rejected {
			line := 0
			if rej.Index >= 0 && rej.Index < len(lines) {
				line = lines[rej.Index]
			}
			msg := rej.Error
			if rej.Field != "" && !strings.HasPrefix(msg, rej.Field) {
				msg = rej.Field + ": " + msg
			}
			stats.reject(line, msg)
		}
		items, lines = items[:0], lines[:0]
		if err != nil {
			stop(err)
			return false
		}
		return true
	}
	for row := range rows {
		if stopped.Err() != nil {
			continue // drain, so the reader is never stuck
		}
		items = append(items, row.item)
		lines = append(lines, row.line)
		if len(items) == importBatch {
			flush()
		}
	}
	flush()
}

// importSummary prints the outcome: rejected rows on stderr, the summary
// line on stdout. It fails (exit 1) when rows were rejected and none
// landed.
func importSummary(o *importOptions, s *importStats) error {
	app := o.app
	rejected := s.sorted()
	th := app.ErrTheme
	for i, r := range rejected {
		if i == importShowMax {
			more := s.rejected.Load() - int64(importShowMax)
			printf(app.ErrOut, "%s\n", th.Dim(fmt.Sprintf("… and %s more rejected rows", render.Count(more))))
			break
		}
		printf(app.ErrOut, "%s: %s\n", th.Bad(lineLabel(r.line)), render.Sanitize(r.msg))
	}
	landed := s.accepted.Load() + s.duplicates.Load() + s.suppressed.Load()
	var b strings.Builder
	if o.dryRun {
		fmt.Fprintf(&b, "would import %s (dry run: nothing stored)", render.Plural(landed, "row", "rows"))
	} else {
		fmt.Fprintf(&b, "imported %s", render.Plural(landed, "row", "rows"))
		var notes []string
		if d := s.duplicates.Load(); d > 0 {
			notes = append(notes, render.Plural(d, "duplicate", "duplicates"))
		}
		if d := s.suppressed.Load(); d > 0 {
			notes = append(notes, render.Count(d)+" suppressed")
		}
		if len(notes) > 0 {
			b.WriteString(" (" + strings.Join(notes, ", ") + ")")
		}
	}
	if n := s.rejected.Load(); n > 0 {
		fmt.Fprintf(&b, ", rejected %s", render.Count(n))
		var first []string
		for _, r := range rejected[:min(3, len(rejected))] {
			first = append(first, lineLabel(r.line)+": "+render.Sanitize(r.msg))
		}
		b.WriteString(": " + strings.Join(first, "; "))
		if n > 3 {
			b.WriteString("; …")
		}
	}
	printf(app.Out, "%s\n", b.String())
	if landed == 0 && s.rejected.Load() > 0 {
		return &silentError{code: exitError}
	}
	return nil
}

func lineLabel(line int) string {
	if line <= 0 {
		return "line ?"
	}
	return "line " + strconv.Itoa(line)
}
