// Package pgtest gives TinyCRM's tests a real PostgreSQL.
//
// Every test package that needs a database declares
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// and then calls NewDB, NewPool or NewEmptyDB in its tests. The first such call in a test
// binary starts one throwaway cluster (pgcluster, under a fresh temporary
// directory) and creates a template database with all migrations applied;
// each NewDB is a cheap clone of that template, dropped when its test ends,
// so tests may commit freely and run with t.Parallel(). Main stops the
// cluster and deletes its directory when the tests are done.
//
// With TINYCRM_TEST_DATABASE_URL set (a role allowed to CREATE DATABASE),
// that server is used instead: pgtest creates and drops its own uniquely
// named databases there and touches nothing else.
//
// A database that cannot be had is a test failure, never a skip: a green run
// must mean the database tests ran.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"tinycrm.dev/tinycrm/migrations"
	"tinycrm.dev/tinycrm/pgcluster"
)

// EnvURL names the environment variable that points the tests at an
// existing PostgreSQL server instead of a throwaway cluster.
const EnvURL = "TINYCRM_TEST_DATABASE_URL"

// Settings are the server settings of test clusters: no fsync and no full
// page writes, which only matter if the machine itself crashes. Commits stay
// synchronous so that fault tests (Restart "immediate") see committed data
// survive, as in production.
func Settings() map[string]string {
	return map[string]string{
		"fsync":            "off",
		"full_page_writes": "off",
		"max_connections":  "300", // parallel tests, each with a pool
	}
}

// harness is one test binary's database setup.
type harness struct {
	once sync.Once
	err  error // why the setup failed; sticky

	dir        string             // temporary cluster dir, "" with EnvURL
	cluster    *pgcluster.Cluster // nil with EnvURL
	admin      *pgxpool.Pool      // maintenance connections for CREATE/DROP DATABASE
	connString func(database string) string
	prefix     string // of every database this binary creates
	template   string
	created    bool // some database exists, so close must sweep
	seq        atomic.Int64
}

// current is the harness of this test binary. It is package-level state,
// which TinyCRM otherwise avoids, because testing.M gives TestMain no way to
// hand a value to the tests: Main sets it before m.Run and tests only read
// it (its fields are guarded by once and atomics).
var current atomic.Pointer[harness]

// Main runs the tests of a package that uses NewDB or NewPool, then stops
// the cluster and removes what the harness created, and exits with the
// tests' status. It must be called from TestMain.
//
// The cluster is started by the first NewDB or NewPool, not by Main, so
// that running only tests that need no database (go test -run, -list)
// costs nothing.
func Main(m *testing.M) {
	h := &harness{}
	current.Store(h)
	code := m.Run()
	if err := h.close(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// NewDB creates a fresh database with all migrations applied, drops it when
// t ends, and returns its connection string (pgx URL or key/value DSN; both
// pgx.Connect and pgxpool.New accept it). Safe for parallel tests.
func NewDB(t testing.TB) string {
	t.Helper()
	h := ready(t)
	return h.newDB(t, " TEMPLATE "+ident(h.template))
}

// NewEmptyDB is NewDB without the migrations: an empty database, for tests
// of the migration run itself (such as two daemons starting at once).
func NewEmptyDB(t testing.TB) string {
	t.Helper()
	return ready(t).newDB(t, "")
}

func (h *harness) newDB(t testing.TB, options string) string {
	t.Helper()
	name := fmt.Sprintf("%s_%d", h.prefix, h.seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := h.admin.Exec(ctx, "CREATE DATABASE "+ident(name)+options); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := h.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return h.connString(name)
}

// NewPool is NewDB plus a pgxpool connected to it, closed when t ends
// (before the database is dropped). Each configure function may change the
// pool's config first (store.ConfigurePool, say).
func NewPool(t testing.TB, configure ...func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	conn := NewDB(t)
	cfg, err := pgxpool.ParseConfig(conn)
	if err != nil {
		t.Fatalf("pgtest: parse %s: %v", conn, err)
	}
	for _, c := range configure {
		c(cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NewCluster starts a private cluster for t alone, for tests that stop,
// restart or crash PostgreSQL, and stops it and deletes its directory when t
// ends. It runs with Settings(); no migrations are applied (connect to
// ConnString("postgres") and call migrations.Apply, or CREATE DATABASE
// first). It needs the PostgreSQL binaries even when EnvURL is set, and
// does not need Main.
func NewCluster(t testing.TB) *pgcluster.Cluster {
	t.Helper()
	dir, err := tempClusterDir()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgcluster.Start(ctx, clusterOptions(dir))
	if err != nil {
		t.Fatalf("pgtest: start PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return c
}

// ready returns the binary's harness, set up, or fails t.
func ready(t testing.TB) *harness {
	t.Helper()
	h := current.Load()
	if h == nil {
		t.Fatal("pgtest: this package's TestMain must call pgtest.Main(m)")
	}
	h.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		h.err = h.setup(ctx)
	})
	if h.err != nil {
		t.Fatalf("pgtest: %v", h.err)
	}
	return h
}

func (h *harness) setup(ctx context.Context) error {
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	// Unique per test binary, so that binaries sharing one server
	// (go test ./... with EnvURL) never collide.
	h.prefix = fmt.Sprintf("tcrm_test_%d_%s", os.Getpid(), hex.EncodeToString(suffix))
	h.template = h.prefix + "_template"

	source := EnvURL
	adminURL := os.Getenv(EnvURL)
	if adminURL != "" {
		base := adminURL
		h.connString = func(db string) string { return withDatabase(base, db) }
	} else {
		source = "the test cluster"
		dir, err := tempClusterDir()
		if err != nil {
			return err
		}
		h.dir = dir
		c, err := pgcluster.Start(ctx, clusterOptions(dir))
		if err != nil {
			return fmt.Errorf("start PostgreSQL (or set %s to use an existing server): %w", EnvURL, err)
		}
		h.cluster = c
		h.connString = c.ConnString
		adminURL = c.ConnString("postgres")
	}
	cfg, err := pgxpool.ParseConfig(adminURL)
	if err != nil {
		return fmt.Errorf("parse %s: %w", EnvURL, err)
	}
	cfg.MaxConns = 4
	if h.admin, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return fmt.Errorf("connect to %s: %w", source, err)
	}
	if err := h.admin.Ping(ctx); err != nil {
		return fmt.Errorf("connect to %s: %w", source, err)
	}
	if _, err := h.admin.Exec(ctx, "CREATE DATABASE "+ident(h.template)); err != nil {
		return fmt.Errorf("create template database (the role needs CREATEDB): %w", err)
	}
	h.created = true
	if err := migrate(ctx, h.connString(h.template)); err != nil {
		return err
	}
	// A stray session on the template would make every clone fail.
	if _, err := h.admin.Exec(ctx, "ALTER DATABASE "+ident(h.template)+" ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("lock template database: %w", err)
	}
	return nil
}

func migrate(ctx context.Context, connString string) error {
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		return fmt.Errorf("connect to template database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := migrations.Apply(ctx, conn); err != nil {
		return fmt.Errorf("migrate template database: %w", err)
	}
	return nil
}

// close undoes setup: on a shared server it drops every database this
// binary created (tests that crashed leave theirs behind); a throwaway
// cluster is simply stopped and deleted.
func (h *harness) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	if h.created && h.cluster == nil {
		rows, err := h.admin.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", h.prefix+"_")
		var names []string
		if err == nil {
			names, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("list test databases: %w", err))
		}
		for _, name := range names {
			if _, err := h.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
				errs = append(errs, fmt.Errorf("drop database %s: %w", name, err))
			}
		}
	}
	if h.admin != nil {
		h.admin.Close()
	}
	if h.cluster != nil {
		if err := h.cluster.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if h.dir != "" {
		if err := os.RemoveAll(h.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove cluster dir: %w", err))
		}
	}
	return errors.Join(errs...)
}

// tempClusterDir makes a fresh directory for a cluster. It is 0755 because
// as root the server runs as another user, who must be able to reach it.
func tempClusterDir() (string, error) {
	dir, err := os.MkdirTemp("", "tinycrm-pgtest-")
	if err != nil {
		return "", fmt.Errorf("create cluster dir: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("create cluster dir: %w", err)
	}
	return dir, nil
}

func clusterOptions(dir string) pgcluster.Options {
	opts := pgcluster.Options{
		Dir:      dir,
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Settings: Settings(),
	}
	// initdb takes seconds; a copy of an earlier result a fraction of one.
	if cache, err := os.UserCacheDir(); err == nil {
		opts.InitCache = filepath.Join(cache, "tinycrm", "pgtest-initdb")
	}
	return opts
}

// withDatabase returns connString (a URL or a key/value DSN) pointed at
// another database.
func withDatabase(connString, db string) string {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		u, err := url.Parse(connString)
		if err == nil {
			u.Path = "/" + db
			u.RawPath = ""
			q := u.Query()
			q.Del("dbname")
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	// In a key/value DSN a later key overrides an earlier one.
	return connString + " dbname='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(db) + "'"
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
