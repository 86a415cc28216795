package client_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/pgtest"
	"tinycrm.dev/tinycrm/secret"
	"tinycrm.dev/tinycrm/server"
	"tinycrm.dev/tinycrm/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is one test's daemon: a fresh database behind a real server over
// HTTP, and a client holding the workspace's admin token.
type env struct {
	t     testing.TB
	url   string
	token string
	pool  *pgxpool.Pool
	admin *client.Client
}

// setup starts a server on its own database. Retries are fast, so that
// tests of failures stay quick.
func setup(t testing.TB) *env {
	t.Helper()
	pool := pgtest.NewPool(t)
	st := store.New(pool)
	token, err := secret.New(secret.AdminToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, created, err := st.Bootstrap(context.Background(), secret.Hash(token)); err != nil || !created {
		t.Fatalf("bootstrap: created=%v err=%v", created, err)
	}
	srv, err := server.New(server.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	e := &env{t: t, url: ts.URL, token: token, pool: pool}
	e.admin = e.client(token)
	return e
}

// client returns a client of the real server with fast retries.
func (e *env) client(key string, opts ...client.Option) *client.Client {
	base := []client.Option{client.WithBaseURL(e.url), client.WithBackoff(5*time.Millisecond, 50*time.Millisecond)}
	return client.New(key, append(base, opts...)...)
}

// project creates a project through the client and returns its slug and
// first key.
func (e *env) project(name string) (slug, key string) {
	e.t.Helper()
	p, err := e.admin.CreateProject(ctx(e.t), client.NewProject{Name: name})
	if err != nil {
		e.t.Fatalf("create project %q: %v", name, err)
	}
	return p.Slug, p.Key
}

// count runs a counting query against the test's database.
func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// ctx returns a context that ends with the test, or after a minute.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}
