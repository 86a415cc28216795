package server

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"tinycrm.dev/tinycrm/store"
)

const paramFormat = "format"

// exportFlushRows is how many rows an export buffers before it flushes them
// to the client, so memory stays constant and progress is visible.
const exportFlushRows = 500

// csvHeader is the export's CSV header. projects and statuses are
// ";"-joined and aligned: the n-th status is the status in the n-th project
// ("" when the project was given none).
var csvHeader = []string{"id", "email", "name", "first_seen", "last_seen", "project_count", "mrr_total", "projects", "statuses"}

// export streams every customer matching the filter as CSV or JSON Lines.
// Rows are read from one statement and written as they come, so an export
// of millions of customers holds a few rows in memory. If the database
// fails after the first bytes went out, the connection is cut rather than
// finished cleanly, so the client sees a broken transfer instead of a
// truncated file that looks complete.
func (s *Server) export(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	format := q.Get(paramFormat)
	if len(q[paramFormat]) > 1 {
		return badField(paramFormat, "given more than once")
	}
	var contentType, ext string
	switch format {
	case "csv":
		contentType, ext = "text/csv; charset=utf-8", "csv"
	case "jsonl":
		contentType, ext = "application/x-ndjson", "jsonl"
	case "":
		return badField(paramFormat, "is required: csv or jsonl")
	default:
		return badField(paramFormat, "must be csv or jsonl; got %q", truncate(format))
	}
	f, err := filterFrom(q)
	if err != nil {
		return err
	}

	rc := http.NewResponseController(w)
	// The server's write timeout is for ordinary replies; an export of a
	// large workspace may take minutes. The request context still ends it
	// when the client goes away.
	_ = rc.SetWriteDeadline(time.Time{})

	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var line []byte // one JSON Lines row, reused
	started, rows := false, 0
	start := func() error {
		started = true
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Content-Disposition", `attachment; filename="tinycrm-customers-`+s.now().UTC().Format("20060102-150405")+`.`+ext+`"`)
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		if format == "csv" {
			return cw.Write(csvHeader)
		}
		return nil
	}
	errWrite := errors.New("write export")
	err = s.store.ExportCustomers(r.Context(), workspaceFrom(r.Context()), f, s.now(), func(c store.Customer) error {
		if !started {
			if err := start(); err != nil {
				return errors.Join(errWrite, err)
			}
		}
		var err error
		if format == "csv" {
			err = cw.Write(csvRecord(c))
		} else {
			var ok bool
			if line, ok = appendCustomerJSON(line[:0], c); ok {
				_, err = bw.Write(line)
			} else {
				err = enc.Encode(c) // encoding/json's own error for what it rejects
			}
		}
		if err != nil {
			return errors.Join(errWrite, err)
		}
		if rows++; rows%exportFlushRows == 0 {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return errors.Join(errWrite, err)
			}
			if err := bw.Flush(); err != nil {
				return errors.Join(errWrite, err)
			}
			if err := rc.Flush(); err != nil {
				return errors.Join(errWrite, err)
			}
		}
		return nil
	})
	if err != nil && !started {
		return queryError(err)
	}
	if err == nil && !started {
		err = start()
	}
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		if !errors.Is(err, errWrite) && r.Context().Err() == nil {
			s.log.ErrorContext(r.Context(), "export failed mid-stream", "rows", rows, "err", err)
		}
		// Cut the connection so the client cannot mistake what it got for
		// the whole export (HTTP/1.1; nothing more can be done otherwise).
		if conn, _, herr := rc.Hijack(); herr == nil {
			_ = conn.Close()
		}
	}
	return nil
}

// csvRecord is one customer as a CSV row (see csvHeader).
func csvRecord(c store.Customer) []string {
	slugs := make([]string, len(c.Projects))
	statuses := make([]string, len(c.Projects))
	for i, m := range c.Projects {
		slugs[i], statuses[i] = m.Slug, m.Status
	}
	return []string{
		strconv.FormatInt(c.ID, 10),
		csvSafe(c.Email),
		csvSafe(c.Name),
		c.FirstSeen.UTC().Format(time.RFC3339Nano),
		c.LastSeen.UTC().Format(time.RFC3339Nano),
		strconv.Itoa(c.ProjectCount),
		strconv.FormatFloat(c.MRRTotal, 'f', -1, 64),
		strings.Join(slugs, ";"),
		strings.Join(statuses, ";"),
	}
}

// csvSafe defuses spreadsheet formulas: names (and even emails) come from
// the people who sign up to the apps, and a cell like =HYPERLINK(...) would
// run when the owner opens the export in a spreadsheet. Such a cell gets a
// leading apostrophe, the OWASP advice; JSON Lines exports stay verbatim.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
