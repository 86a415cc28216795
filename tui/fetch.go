package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/internal/render"
)

// Every fetch is a tea.Cmd that makes its own timeout and returns one of the
// typed messages below, tagged so the model can drop replies it no longer
// wants.

// fetchTimeout bounds one read from the server.
const fetchTimeout = 15 * time.Second

// pageMsg is one page of the customer list.
type pageMsg struct {
	gen  uint64 // pager generation the request was made for
	page int
	res  client.CustomerPage
	err  error
}

// statsMsg carries the header's counts.
type statsMsg struct {
	seq   uint64
	stats client.Stats
	err   error
}

// projectsMsg carries the workspace's projects, for the picker and badges.
type projectsMsg struct {
	seq      uint64
	projects []client.Project
	err      error
}

// detailMsg carries one customer with their timeline.
type detailMsg struct {
	seq    uint64
	detail client.CustomerDetail
	err    error
}

// exportMsg reports a finished (or failed) export.
type exportMsg struct {
	path string
	rows int64
	err  error
}

// searchMsg fires when the search input has been still for the debounce
// time; seq says which keystroke it belongs to.
type searchMsg struct{ seq uint64 }

// tickMsg is the automatic refresh timer.
type tickMsg struct{}

func fetchPage(src Source, f filter.Filter, gen uint64, n, size int, cursor string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
		defer cancel()
		res, err := src.Customers(ctx, f, size, cursor)
		return pageMsg{gen: gen, page: n, res: res, err: err}
	}
}

func fetchStats(src Source, seq uint64) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
		defer cancel()
		s, err := src.Stats(ctx)
		return statsMsg{seq: seq, stats: s, err: err}
	}
}

func fetchProjects(src Source, seq uint64) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
		defer cancel()
		ps, err := src.Projects(ctx)
		return projectsMsg{seq: seq, projects: ps, err: err}
	}
}

func fetchDetail(src Source, seq uint64, id int64) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
		defer cancel()
		d, err := src.Customer(ctx, strconv.FormatInt(id, 10))
		return detailMsg{seq: seq, detail: d, err: err}
	}
}

// exportTo streams the customers that match f to a new file at path. It
// refuses to overwrite a file, and removes a partial file on failure.
func exportTo(ctx context.Context, src Source, f filter.Filter, format, path string) tea.Cmd {
	return func() tea.Msg {
		n, err := export(ctx, src, f, format, path)
		return exportMsg{path: path, rows: n, err: err}
	}
}

// existsError is an export to a file that is already there.
type existsError struct{}

func (existsError) Error() string { return "file already exists" }

// export writes the file. Its errors do not repeat the path, which the
// caller shows once.
func export(ctx context.Context, src Source, f filter.Filter, format, path string) (int64, error) {
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return 0, &existsError{}
		}
		return 0, withoutPath(err)
	}
	ok := false
	defer func() {
		if !ok {
			out.Close()
			os.Remove(path)
		}
	}()
	body, err := src.Export(ctx, f, format)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	lc := &lineCounter{w: out}
	if _, err := io.Copy(lc, body); err != nil {
		return 0, fmt.Errorf("export customers: %w", withoutPath(err))
	}
	if err := out.Close(); err != nil {
		return 0, fmt.Errorf("write: %w", withoutPath(err))
	}
	ok = true
	n := lc.lines
	if format == client.FormatCSV && n > 0 {
		n-- // the header row
	}
	return n, nil
}

// withoutPath drops the path an *os.PathError repeats ("open /x/y.csv:
// no such file or directory" becomes "no such file or directory").
func withoutPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// exportPath resolves what was typed in the export prompt: a leading "~/"
// is the home directory, and a relative path is made absolute against the
// working directory, so the note says exactly where the file went.
func (sh *shared) exportPath(typed string) string {
	p := typed
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := sh.home(); err == nil {
			p = filepath.Join(home, p[1:])
		}
	}
	if !filepath.IsAbs(p) {
		if wd, err := sh.getwd(); err == nil {
			p = filepath.Join(wd, p)
		}
	}
	return filepath.Clean(p)
}

// lineCounter counts the lines it passes on.
type lineCounter struct {
	w     io.Writer
	lines int64
}

func (c *lineCounter) Write(b []byte) (int, error) {
	for _, x := range b {
		if x == '\n' {
			c.lines++
		}
	}
	return c.w.Write(b)
}

// problem is what a failed read means to the person at the keyboard.
type problem struct {
	title  string // short: what went wrong
	detail string // the error itself
	hint   string // what to do about it
}

// explain turns a Source error into a problem, naming server.
func explain(err error, server string) problem {
	where := "the TinyCRM server"
	if server != "" {
		where = server
	}
	p := problem{detail: render.Sanitize(err.Error())}
	var api *client.APIError
	var nerr net.Error
	switch {
	case client.IsUnauthorized(err) || client.IsForbidden(err):
		p.title = where + " rejected the token"
		p.hint = "Set TINYCRM_TOKEN or run `tinycrm login --server URL --token TOKEN` with an admin token (tcrm_at_…)."
	case errors.As(err, &api):
		p.title = where + " answered " + strconv.Itoa(api.Status) + " " + api.Title
		p.hint = "If it keeps failing, check the tinycrmd logs."
	case errors.Is(err, context.DeadlineExceeded):
		p.title = where + " did not answer in time"
		p.hint = "Is it overloaded or stuck? Check the tinycrmd logs."
	case errors.As(err, &nerr):
		p.title = "cannot reach " + where
		p.hint = "Is tinycrmd running? Start it, or point --server / TINYCRM_URL at it."
	default:
		p.title = "reading customers failed"
		p.hint = "Check that tinycrmd is running and reachable."
	}
	return p
}
