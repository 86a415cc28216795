// Command tinycrm is TinyCRM's command line: it manages projects and keys,
// lists, filters, imports and exports customers, shows insights, and runs a
// demo, all over the HTTP API of a tinycrmd (SPEC §5). It never talks to
// the database and never logs to stdout.
//
// Layout (after gh): one file per noun and verb, each command with an
// options struct and a run function; errors become exit codes and the one
// line on stderr in errors.go only.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/term"

	"tinycrm.dev/tinycrm/internal/render"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	// A closed pipe (tinycrm customers --all | head) must not kill the
	// process outright: writes fail with EPIPE instead, the command stops,
	// and the demo still stops its PostgreSQL and deletes its data.
	signal.Ignore(syscall.SIGPIPE)
	app := newApp(os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	// Commands defined in other files of this package register here as
	// Extensions: tui.go's tuiExtension adds `tinycrm tui` and sets
	// app.OpenTUI, which `tinycrm demo` uses.
	root := newRootCmd(app, tuiExtension)
	code := execute(ctx, app, root, os.Args[1:])
	stop()
	os.Exit(code)
}

// newApp builds the App of one run from the process's streams and
// environment.
func newApp(in io.Reader, out, errOut io.Writer, getenv func(string) string) *App {
	a := &App{In: in, Out: out, ErrOut: errOut, Getenv: getenv, Euid: os.Geteuid(), ReadFile: os.ReadFile, Now: time.Now}
	a.InTTY = isTerminal(in)
	a.OutTTY = isTerminal(out)
	a.ErrTTY = isTerminal(errOut)
	if f, ok := out.(*os.File); ok && a.OutTTY {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil {
			a.TermWidth = w
		}
	}
	if f, ok := errOut.(*os.File); ok && a.ErrTTY {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil {
			a.ErrWidth = w
		}
	}
	outColor := render.ColorEnabled(getenv, a.OutTTY)
	a.Theme = render.New(render.Options{Color: outColor, Now: a.Now})
	a.ErrTheme = render.New(render.Options{Color: render.ColorEnabled(getenv, a.ErrTTY), Now: a.Now})
	w := out
	if outColor && a.OutTTY {
		w = colorWriter{w: out}
	}
	a.rawOut = out
	a.Out = stdoutWriter{w: w, closed: &a.outClosed, failed: &a.outFailed}
	return a
}

// isTerminal reports whether v is an *os.File on a terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// execute runs the command line and returns the exit code, printing the
// error, if any, on stderr as one line.
func execute(ctx context.Context, app *App, root interface {
	SetArgs([]string)
	ExecuteContext(context.Context) error
}, args []string) int {
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && ctx.Err() != nil {
		// Ctrl-C: whatever failed, it failed because we were stopped.
		err = context.Canceled
	}
	if app.outClosed.Load() {
		// The reader of our output went away (| head): whatever the
		// command made of that, it is a quiet success, as for git and gh.
		return exitOK
	}
	if failed := app.outFailed.Load(); failed != nil && err == nil {
		// The command ignored it, but its output (maybe a key shown only
		// once) is lost.
		err = failed
	}
	code, msg := exitCode(err, app.ServerURL(), app.TokenFrom())
	if msg != "" {
		fmt.Fprintln(app.ErrOut, "tinycrm: "+msg)
	}
	return code
}
