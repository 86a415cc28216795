package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/internal/render"
)

type exportOptions struct {
	app     *App
	filters filterFlags
	format  string
	output  string
}

func newExportCmd(app *App) *cobra.Command {
	o := &exportOptions{app: app}
	cmd := &cobra.Command{
		Use:   "export [filters] --format csv|jsonl [-o FILE]",
		Short: "Stream every matching customer as CSV or JSON Lines",
		Long: `Stream every customer that matches the filters, as the server writes them (any
number of customers in constant memory), to stdout or to a file.

With -o FILE, the export is written to a temporary file next to FILE and renamed
into place only when complete, so a failed export never leaves a half-written
FILE (through a symlink, the file it points to is replaced and the link kept).
Anything that is not a regular file (/dev/null, a FIFO, a device) is written
directly. -o - is stdout. --format defaults to the extension of FILE (.csv or
.jsonl), else csv.

Without --sort, customers come in the order they were first recorded (by id,
oldest first): the same order from one export to the next, and the fastest.
--sort gives any order of "tinycrm customers".

CSV columns: id,email,name,first_seen,last_seen,project_count,mrr_total,projects,statuses
(projects and statuses ";"-joined and aligned). JSON Lines: one customer object per line.`,
		Example: `  tinycrm export --format csv -o customers.csv
  tinycrm export --multi-project --format jsonl | jq .email`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.format == "" {
				switch strings.ToLower(filepath.Ext(o.output)) {
				case ".jsonl", ".ndjson":
					o.format = client.FormatJSONL
				default:
					o.format = client.FormatCSV
				}
			}
			if o.format != client.FormatCSV && o.format != client.FormatJSONL {
				return usagef("--format: must be csv or jsonl; got %q", o.format)
			}
			return runExport(cmd.Context(), o)
		},
	}
	addFilterFlags(cmd, &o.filters)
	cmd.Flags().Lookup("sort").Usage = "order: by id, oldest first, when not given; else as customers --sort: last_seen, first_seen (newest first), email, name (A-Z), projects (most first), mrr (biggest first); -KEY reverses"
	cmd.Flags().StringVar(&o.format, "format", "", "csv or jsonl (default: from -o's extension, else csv)")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "write to `FILE` instead of stdout (- is stdout)")
	return cmd
}

func runExport(ctx context.Context, o *exportOptions) error {
	f, err := o.filters.Filter()
	if err != nil {
		return err
	}
	c, err := o.app.Client()
	if err != nil {
		return err
	}
	out, err := openOutput(o.app, "export to", o.output)
	if err != nil {
		return err
	}
	defer out.Abort()
	body, err := c.Export(ctx, f, o.format)
	if err != nil {
		return err
	}
	defer body.Close()

	counter := &recordCounter{csv: o.format == client.FormatCSV}
	var prog *progress
	if !out.Stdout() {
		prog = newProgress(o.app)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			t := time.NewTicker(150 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					n := counter.records()
					prog.Update(fmt.Sprintf("exporting: %s customers · %s · %s", render.Count(n),
						byteSize(counter.bytes.Load()), prog.rate(n, "customers")), false)
				}
			}
		}()
	}
	dst := &errWriter{w: out.W}
	_, err = io.Copy(io.MultiWriter(dst, counter), body)
	if prog != nil {
		prog.Done()
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			return context.Canceled
		}
		if dst.err != nil {
			// Our side failed: stdout's reader went away (a quiet exit, see
			// stdoutWriter), or the file cannot be written (disk full).
			if out.Stdout() {
				return dst.err
			}
			return fmt.Errorf("export to %s: %w", out.Name(), dst.err)
		}
		n := render.Count(counter.records())
		switch {
		case out.Atomic():
			return fmt.Errorf("export broke off after %s customers (%v); nothing was written to %s: try again", n, err, out.Name())
		case out.Stdout():
			return fmt.Errorf("export broke off after %s customers (%v); what was printed is incomplete: try again", n, err)
		}
		return fmt.Errorf("export broke off after %s customers (%v); %s got only those: try again", n, err, out.Name())
	}
	if out.Stdout() {
		return nil
	}
	if err := out.Commit(); err != nil {
		return err
	}
	if o.app.ErrTTY {
		printf(o.app.ErrOut, "exported %s to %s\n", render.Plural(counter.records(), "customer", "customers"), o.output)
	}
	return nil
}

// errWriter remembers the first error of its writer, so a failed copy
// tells a write error (ours) from a read error (the server's stream).
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// recordCounter counts the records of a CSV (minus its header) or JSON
// Lines stream as it passes: a newline outside double quotes ends a
// record.
type recordCounter struct {
	csv     bool
	inQuote bool
	lines   atomic.Int64
	bytes   atomic.Int64
}

func (r *recordCounter) Write(p []byte) (int, error) {
	var n int64
	for _, c := range p {
		switch {
		case c == '"' && r.csv:
			r.inQuote = !r.inQuote
		case c == '\n' && !r.inQuote:
			n++
		}
	}
	r.lines.Add(n)
	r.bytes.Add(int64(len(p)))
	return len(p), nil
}

// records is how many customers passed so far.
func (r *recordCounter) records() int64 {
	n := r.lines.Load()
	if r.csv && n > 0 {
		n-- // the header
	}
	return n
}
