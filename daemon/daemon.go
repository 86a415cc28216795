// Package daemon assembles a running TinyCRM daemon: the database (a managed
// cluster or a URL), migrations, first-start bootstrap, the API server and
// its HTTP listener, and the orderly shutdown of all of them. cmd/tinycrmd
// runs it until a signal; `tinycrm demo` runs one in-process.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"tinycrm.dev/tinycrm/internal/dirs"
	"tinycrm.dev/tinycrm/migrations"
	"tinycrm.dev/tinycrm/pgcluster"
	"tinycrm.dev/tinycrm/secret"
	"tinycrm.dev/tinycrm/server"
	"tinycrm.dev/tinycrm/store"
)

// Config is what a daemon needs; cmd/tinycrmd fills it from flags and env.
type Config struct {
	Listen      string // host:port; port 0 picks a free one
	DatabaseURL string // empty: managed cluster under DataDir/postgres
	DataDir     string
	RateLimit   float64 // per project key, requests/s; 0 = off
	// NewAdminToken replaces the admin token at start: a new one is written
	// to the token file and every older one stops working.
	NewAdminToken bool
	Logger        *slog.Logger
	// PostgresSettings are extra settings for the managed cluster.
	PostgresSettings map[string]string
}

// Daemon is a started daemon. Stop it with Shutdown.
type Daemon struct {
	// URL is the base URL the API listens on, e.g. http://127.0.0.1:7070.
	URL string
	// TokenFile is where the first start wrote the admin token.
	TokenFile string

	log     *slog.Logger
	cluster *pgcluster.Cluster
	pool    *pgxpool.Pool
	srv     *server.Server
	http    *http.Server
	served  chan error
}

// Start brings a daemon up and returns once it accepts HTTP requests. On
// error everything it started is stopped again.
func Start(ctx context.Context, cfg Config) (_ *Daemon, err error) {
	d := &Daemon{log: cfg.Logger, TokenFile: dirs.TokenFile(cfg.DataDir), served: make(chan error, 1)}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			d.release(context.WithoutCancel(ctx))
		}
	}()
	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		clusterDir := filepath.Join(cfg.DataDir, "postgres")
		if d.cluster, err = pgcluster.Start(ctx, pgcluster.Options{Dir: clusterDir, Logger: d.log, Settings: cfg.PostgresSettings}); err != nil {
			return nil, fmt.Errorf("start managed PostgreSQL: %w", err)
		}
		if err := ensureDatabase(ctx, d.cluster.ConnString("postgres"), "tinycrm"); err != nil {
			return nil, err
		}
		dbURL = d.cluster.ConnString("tinycrm")
		d.log.Info("managed PostgreSQL running", "dir", clusterDir)
	}
	if d.pool, err = openPool(ctx, dbURL); err != nil {
		return nil, err
	}
	if err := d.pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error { return migrations.Apply(ctx, c.Conn()) }); err != nil {
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	st := store.New(d.pool)
	if err := bootstrap(ctx, st, cfg.DataDir, cfg.NewAdminToken, d.log); err != nil {
		return nil, err
	}
	if d.srv, err = server.New(server.Options{Store: st, Logger: d.log, RateLimit: cfg.RateLimit}); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	d.URL = "http://" + ln.Addr().String()
	d.http = &http.Server{
		Handler:           d.srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
	}
	go func() { d.served <- d.http.Serve(ln) }()
	d.log.Info("tinycrmd listening", "addr", d.URL)
	return d, nil
}

// Done reports a failure of the HTTP server while it runs.
func (d *Daemon) Done() <-chan error { return d.served }

// Shutdown drains in-flight requests until ctx ends, cuts off those still
// running then (a client that stopped reading an export would otherwise
// hold the daemon up for as long as it likes), commits queued writes,
// closes the pool and stops the managed cluster, in that order. The
// cluster gets a stop budget of its own, so that it stops cleanly even
// when the drain used all of ctx.
func (d *Daemon) Shutdown(ctx context.Context) error {
	var errs []error
	if d.http != nil {
		if err := d.http.Shutdown(ctx); err != nil {
			_ = d.http.Close()
			errs = append(errs, fmt.Errorf("shut down HTTP server: requests still running when the drain ended were cut off: %w", err))
		}
		d.http = nil
	}
	d.release(context.WithoutCancel(ctx))
	return errors.Join(errs...)
}

// clusterStopTimeout bounds a clean stop of the managed cluster (a fast
// shutdown: it writes a checkpoint); past it, the cluster is stopped at
// once and recovers on its next start.
const clusterStopTimeout = 30 * time.Second

// release stops what Start started, except the HTTP server.
func (d *Daemon) release(ctx context.Context) {
	if d.srv != nil {
		d.srv.Close()
		d.srv = nil
	}
	if d.pool != nil {
		d.pool.Close()
		d.pool = nil
	}
	if d.cluster != nil {
		ctx, cancel := context.WithTimeout(ctx, clusterStopTimeout)
		defer cancel()
		if err := d.cluster.Stop(ctx); err != nil {
			d.log.Error("stop managed PostgreSQL", "err", err)
		}
		d.cluster = nil
	}
}

// Run starts a daemon and serves until ctx ends, then shuts down within 20s.
func Run(ctx context.Context, cfg Config) error {
	d, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	select {
	case err := <-d.Done():
		_ = d.Shutdown(context.WithoutCancel(ctx))
		return fmt.Errorf("serve HTTP: %w", err)
	case <-ctx.Done():
	}
	d.log.Info("shutting down: draining in-flight requests")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	return d.Shutdown(shutCtx)
}

// AdminToken reads the admin token the first start wrote.
func (d *Daemon) AdminToken() (string, error) {
	b, err := os.ReadFile(d.TokenFile)
	if err != nil {
		return "", fmt.Errorf("read admin token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// openPool connects and checks that the database answers.
func openPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	pc.MaxConns = 16
	pc.ConnConfig.ConnectTimeout = 5 * time.Second
	store.ConfigurePool(pc)
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", oneLine(err))
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
// the workspace commits and renamed into place only if this daemon created
// it, so a committed token is never lost and a losing racer leaves no file.
func bootstrap(ctx context.Context, st *store.Store, dataDir string, replace bool, log *slog.Logger) error {
	token, err := secret.New(secret.AdminToken)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	path := dirs.TokenFile(dataDir)
	tmp, err := os.CreateTemp(dataDir, "admin.token.*")
	if err != nil {
		return fmt.Errorf("write admin token: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(token + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("write admin token: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write admin token: %w", err)
	}
	_, created, err := st.Bootstrap(ctx, secret.Hash(token))
	if err != nil {
		return err
	}
	switch {
	case created:
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("save admin token (it is %s; keep it): %w", token, err)
		}
		log.Info("created the workspace and its admin token", "token_file", path)
	case replace:
		// The file first: a token stored but never saved would lock the
		// owner out.
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("save the new admin token: %w", err)
		}
		if err := st.ReplaceAdminToken(ctx, secret.Hash(token)); err != nil {
			return fmt.Errorf("%w (%s now holds a token that does not work yet; start again with --new-admin-token)", err, path)
		}
		log.Info("replaced the admin token: older ones no longer work", "token_file", path)
	}
	return nil
}

// oneLine folds pgx's multi-line connect errors (one line per address
// tried, often repeated) into one line for the terminal and the log.
func oneLine(err error) error {
	lines := strings.Split(err.Error(), "\n")
	var parts []string
	for _, l := range lines {
		l = strings.TrimSuffix(strings.TrimSpace(l), ":")
		if l != "" && !slices.Contains(parts, l) {
			parts = append(parts, l)
		}
	}
	if len(parts) <= 1 {
		return err
	}
	return &foldedError{msg: strings.Join(parts, ": "), err: err}
}

// foldedError is an error with a shorter text; errors.Is and errors.As
// still see the original.
type foldedError struct {
	msg string
	err error
}

func (e *foldedError) Error() string { return e.msg }
func (e *foldedError) Unwrap() error { return e.err }
