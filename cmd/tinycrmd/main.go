// Command tinycrmd is the TinyCRM daemon: the HTTP ingest and admin API over
// PostgreSQL. Without --database-url it runs a private PostgreSQL cluster in
// its data dir. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"tinycrm.dev/tinycrm/daemon"
)

func main() {
	// SIGHUP (the terminal it ran in closed) stops it as cleanly as the
	// others: killed outright, it left its PostgreSQL to crash recovery.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	go func() {
		// The first signal starts the drain; a second one ends the process
		// at once (the managed PostgreSQL gets SIGQUIT from its
		// parent-death signal and recovers on the next start).
		<-ctx.Done()
		stop()
	}()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "tinycrmd:", err)
		}
		os.Exit(1)
	}
}

// errUsage means the flags were wrong and usage has been printed.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, os.Geteuid(), stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	return daemon.Run(ctx, daemon.Config{
		Listen:        cfg.Listen,
		DatabaseURL:   cfg.DatabaseURL,
		DataDir:       cfg.DataDir,
		RateLimit:     cfg.RateLimit,
		NewAdminToken: cfg.NewAdminToken,
		Logger:        newLogger(cfg, stderr),
	})
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	format := cfg.LogFormat
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	opts.ReplaceAttr = millis
	return slog.New(slog.NewJSONHandler(w, opts))
}

// millis writes a duration in JSON logs as milliseconds under the key
// with "_ms" added ("duration_ms":2.162): slog would write nanoseconds
// under the bare key, which reads as noise ("took":429000000).
func millis(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.Float64(a.Key+"_ms", float64(a.Value.Duration().Microseconds())/1000)
	}
	return a
}
