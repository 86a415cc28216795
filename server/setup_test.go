package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"tinycrm.dev/tinycrm/pgtest"
	"tinycrm.dev/tinycrm/secret"
	"tinycrm.dev/tinycrm/server"
	"tinycrm.dev/tinycrm/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// env is one test's daemon: a fresh database, a real server over HTTP and
// the workspace's admin token.
type env struct {
	t     testing.TB
	url   string
	store *store.Store
	pool  *pgxpool.Pool
	admin string
	ws    int64
	http  *http.Client
}

type setupOption func(*server.Options)

func withRateLimit(perSecond float64) setupOption {
	return func(o *server.Options) { o.RateLimit = perSecond }
}

func setup(t testing.TB, opts ...setupOption) *env {
	t.Helper()
	pool := pgtest.NewPool(t)
	st := store.New(pool)
	admin, err := secret.New(secret.AdminToken)
	if err != nil {
		t.Fatal(err)
	}
	ws, created, err := st.Bootstrap(context.Background(), secret.Hash(admin))
	if err != nil || !created {
		t.Fatalf("bootstrap: created=%v err=%v", created, err)
	}
	o := server.Options{Store: st}
	for _, opt := range opts {
		opt(&o)
	}
	srv, err := server.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return &env{t: t, url: ts.URL, store: st, pool: pool, admin: admin, ws: ws, http: ts.Client()}
}

// response is a decoded reply.
type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// do sends one request with an optional bearer secret and JSON body.
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := response{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &r.Body); err != nil {
			e.t.Fatalf("%s %s: bad JSON %q: %v", method, path, raw, err)
		}
	}
	return r
}

// must fails the test unless the reply has the wanted status.
func (r response) must(t testing.TB, status int) response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Raw)
	}
	return r
}

// project creates a project and returns its slug and key.
func (e *env) project(name string) (slug, key string) {
	e.t.Helper()
	r := e.do("POST", "/v1/projects", e.admin, map[string]any{"name": name}).must(e.t, http.StatusCreated)
	return r.Body["slug"].(string), r.Body["key"].(string)
}

// identify sends one identify and requires a 200.
func (e *env) identify(key string, body map[string]any) response {
	e.t.Helper()
	return e.do("POST", "/v1/identify", key, body).must(e.t, http.StatusOK)
}

// customerJSON is the customer detail as the API returns it.
type customerJSON struct {
	ID           int64   `json:"id"`
	Email        string  `json:"email"`
	Name         string  `json:"name"`
	FirstSeen    string  `json:"first_seen"`
	LastSeen     string  `json:"last_seen"`
	ProjectCount int     `json:"project_count"`
	MRRTotal     float64 `json:"mrr_total"`
	Projects     []struct {
		Slug      string         `json:"slug"`
		Name      string         `json:"name"`
		Color     string         `json:"color"`
		Status    string         `json:"status"`
		Params    map[string]any `json:"params"`
		FirstSeen string         `json:"first_seen"`
		LastSeen  string         `json:"last_seen"`
	} `json:"projects"`
	Timeline []struct {
		At      string          `json:"at"`
		Project string          `json:"project"`
		Kind    string          `json:"kind"`
		Before  json.RawMessage `json:"before"`
		After   json.RawMessage `json:"after"`
	} `json:"timeline"`
}

func (e *env) customer(idOrEmail string) customerJSON {
	e.t.Helper()
	r := e.do("GET", "/v1/customers/"+idOrEmail, e.admin, nil).must(e.t, http.StatusOK)
	var c customerJSON
	if err := json.Unmarshal(r.Raw, &c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// count runs a counting query scoped to the test's database.
func (e *env) count(table string) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func stringsReader(s string) io.Reader { return bytes.NewBufferString(s) }
