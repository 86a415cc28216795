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
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/term"

	"tinycrm.dev/tinycrm/internal/dirs"
	"tinycrm.dev/tinycrm/migrations"
	"tinycrm.dev/tinycrm/pgcluster"
	"tinycrm.dev/tinycrm/secret"
	"tinycrm.dev/tinycrm/server"
	"tinycrm.dev/tinycrm/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
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
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	log := newLogger(cfg, stderr)

	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(cfg.DataDir, "postgres"), Logger: log})
		if err != nil {
			return fmt.Errorf("start managed PostgreSQL: %w", err)
		}
		defer func() {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := cluster.Stop(stopCtx); err != nil {
				log.Error("stop managed PostgreSQL", "err", err)
			}
		}()
		if err := ensureDatabase(ctx, cluster.ConnString("postgres"), "tinycrm"); err != nil {
			return err
		}
		dbURL = cluster.ConnString("tinycrm")
		log.Info("managed PostgreSQL running", "dir", filepath.Join(cfg.DataDir, "postgres"))
	}

	pool, err := openPool(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error { return migrations.Apply(ctx, c.Conn()) }); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	st := store.New(pool)
	if err := bootstrap(ctx, st, cfg.DataDir, log); err != nil {
		return err
	}

	srv, err := server.New(server.Options{Store: st, Logger: log, RateLimit: cfg.RateLimit})
	if err != nil {
		return err
	}
	defer srv.Close()
	httpSrv := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	log.Info("tinycrmd listening", "addr", "http://"+ln.Addr().String())
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve HTTP: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shut down HTTP server: %w", err)
	}
	return nil
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
	return slog.New(slog.NewJSONHandler(w, opts))
}

// openPool connects and waits (briefly) until the database answers.
func openPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	pc.MaxConns = 16
	pc.ConnConfig.ConnectTimeout = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

// ensureDatabase creates the named database on first start.
func ensureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to managed PostgreSQL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("check database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// bootstrap creates the default workspace on first start and writes its
// admin token to <data-dir>/admin.token (0600). The file is written before
// the workspace commits and removed if another daemon won the race, so a
// committed token is never lost.
func bootstrap(ctx context.Context, st *store.Store, dataDir string, log *slog.Logger) error {
	token, err := secret.New(secret.AdminToken)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	path := dirs.TokenFile(dataDir)
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(token+"\n"), 0o600); err != nil {
		return fmt.Errorf("write admin token: %w", err)
	}
	defer os.Remove(tmp)
	_, created, err := st.Bootstrap(ctx, secret.Hash(token))
	if err != nil {
		return err
	}
	if !created {
		return nil
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save admin token (it is %s; keep it): %w", token, err)
	}
	log.Info("created the workspace and its admin token", "token_file", path)
	return nil
}
