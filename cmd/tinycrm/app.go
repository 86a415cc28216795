package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"sync/atomic"
	"syscall"
	"time"

	"charm.land/lipgloss/v2"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/internal/render"
)

// App is what every command shares: the streams and whether they are
// terminals, the environment, the themes and the way to the server. It is
// built once in main and passed to every command constructor; nothing in
// this package is global.
type App struct {
	In     io.Reader
	Out    io.Writer // stdout; downsamples colours to the terminal's profile
	ErrOut io.Writer // stderr
	// InTTY, OutTTY and ErrTTY: the stream is a terminal.
	InTTY, OutTTY, ErrTTY bool
	// TermWidth is stdout's width in cells, 0 when unknown.
	TermWidth int
	// ErrWidth is stderr's width in cells (where progress lines go), 0
	// when unknown.
	ErrWidth int

	Getenv   func(string) string
	Euid     int
	ReadFile func(string) ([]byte, error)
	Now      func() time.Time

	// Theme renders for stdout, ErrTheme for stderr.
	Theme, ErrTheme render.Theme

	// OpenTUI opens the interactive TUI on a server's customers with an
	// initial filter, and returns when the user quits. It is nil until
	// tui.go's extension sets it (see newRootCmd); `tinycrm demo` uses it
	// when stdout is a terminal.
	OpenTUI func(ctx context.Context, c *client.Client, f filter.Filter) error

	// rawOut is the process's stdout itself (the TUI draws on it), when
	// Out wraps it.
	rawOut io.Writer
	// outClosed is set once a write to stdout failed because its reader
	// went away (EPIPE: tinycrm … | head).
	outClosed atomic.Bool
	// outFailed is the first write to stdout that failed for another
	// reason (a full disk, a closed descriptor): the output is lost, and
	// the run fails even if the command ignored the error.
	outFailed atomic.Pointer[stdoutError]

	// Global flags.
	serverFlag, tokenFlag string
	// resolved is the target of this run, once a command asked for it.
	resolved *target
}

// Target resolves the server and token (see resolveTarget); it does not
// require a token.
func (a *App) Target() (target, error) {
	if a.resolved != nil {
		return *a.resolved, nil
	}
	t, err := resolveTarget(sources{ServerFlag: a.serverFlag, TokenFlag: a.tokenFlag, Getenv: a.Getenv, Euid: a.Euid, ReadFile: a.ReadFile})
	if err != nil {
		return target{}, err
	}
	a.resolved = &t
	return t, nil
}

// ServerURL is the resolved server, or "" before resolution or when it
// failed; for error messages.
func (a *App) ServerURL() string {
	if a.resolved == nil {
		return ""
	}
	return a.resolved.Server
}

// TokenFrom is where the resolved token came from ("--token",
// "TINYCRM_TOKEN", "config file PATH" or the admin.token path), or "".
func (a *App) TokenFrom() string {
	if a.resolved == nil || a.resolved.Token == "" {
		return ""
	}
	return a.resolved.TokenFrom
}

// Client returns a client of the resolved server with the admin token.
func (a *App) Client() (*client.Client, error) {
	t, err := a.Target()
	if err != nil {
		return nil, err
	}
	if t.Token == "" {
		return nil, missingTokenError(t, a.Getenv, a.Euid)
	}
	return a.newClient(t.Server, t.Token), nil
}

// newClient builds a client with the CLI's settings: a couple of quick
// retries, so an unreachable server fails within a second or two.
func (a *App) newClient(server, key string, opts ...client.Option) *client.Client {
	base := []client.Option{
		client.WithBaseURL(server),
		client.WithUserAgent("tinycrm-cli/" + version),
		client.WithRetries(2),
		client.WithBackoff(100*time.Millisecond, time.Second),
	}
	return client.New(key, append(base, opts...)...)
}

// colorWriter downsamples the colours written through it to what the
// terminal supports (lipgloss detects the profile from the environment), so
// a badge's hex colour still reads on a 256- or 16-colour terminal.
type colorWriter struct{ w io.Writer }

func (c colorWriter) Write(p []byte) (int, error) {
	if _, err := lipgloss.Fprint(c.w, string(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// stdoutWriter is stdout as commands see it. A write that fails because
// the reader went away (EPIPE, as in "tinycrm export | head -1") is
// remembered, so the run ends quietly with exit 0 (like git and gh), and
// returned as errStdoutClosed, which no command mistakes for a failure of
// the server. Any other failed write is remembered too, so the run fails
// (see execute) even where a command ignores the error, and returned as a
// *stdoutError.
type stdoutWriter struct {
	w      io.Writer
	closed *atomic.Bool
	failed *atomic.Pointer[stdoutError]
}

// errStdoutClosed is the error of a write to a stdout whose reader is gone.
var errStdoutClosed = &stdoutClosedError{}

type stdoutClosedError struct{}

func (*stdoutClosedError) Error() string { return "stdout closed: write: broken pipe" }
func (*stdoutClosedError) Unwrap() error { return syscall.EPIPE }

func (s stdoutWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, syscall.EPIPE):
		s.closed.Store(true)
		return n, errStdoutClosed
	}
	se := &stdoutError{err: err}
	s.failed.CompareAndSwap(nil, se)
	return n, se
}

// stdoutError is a write to stdout that failed other than with EPIPE: what
// the command printed is lost or incomplete.
type stdoutError struct{ err error }

func (e *stdoutError) Error() string { return "write to stdout: " + e.err.Error() }
func (e *stdoutError) Unwrap() error { return e.err }

// reason is why the write failed, such as "no space left on device".
func (e *stdoutError) reason() string {
	var pe *fs.PathError
	if errors.As(e.err, &pe) {
		return pe.Err.Error()
	}
	return e.err.Error()
}
