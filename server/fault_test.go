package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"tinycrm.dev/tinycrm/migrations"
	"tinycrm.dev/tinycrm/pgtest"
	"tinycrm.dev/tinycrm/secret"
	"tinycrm.dev/tinycrm/server"
	"tinycrm.dev/tinycrm/store"
)

// TestNoAcknowledgedWriteLostAcrossPostgresRestart restarts PostgreSQL in
// immediate mode (a crash, as far as clients can tell) in the middle of a
// bounded load. Every identify that got a 200 must be in the database
// afterwards, calls during the outage must get 503 with Retry-After (never a
// 200 for an unknown outcome), and the same daemon must accept writes again
// once PostgreSQL is back.
func TestNoAcknowledgedWriteLostAcrossPostgresRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cluster := pgtest.NewCluster(t)
	conn, err := pgx.Connect(ctx, cluster.ConnString("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrations.Apply(ctx, conn); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	pc, err := pgxpool.ParseConfig(cluster.ConnString("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	pc.ConnConfig.ConnectTimeout = 2 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	st := store.New(pool)
	admin, _ := secret.New(secret.AdminToken)
	if _, _, err := st.Bootstrap(ctx, secret.Hash(admin)); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Store: st, TxTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer srv.Close()
	defer hs.Close()
	e := &env{t: t, url: hs.URL, store: st, pool: pool, admin: admin, ws: 0, http: hs.Client()}
	_, key := e.project("App")

	var (
		acked    sync.Map // email → true
		nAcked   atomic.Int64
		n503     atomic.Int64
		nOther   atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		sequence atomic.Int64
	)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; i < 5000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				email := fmt.Sprintf("w%d-%d-%d@x.io", w, i, sequence.Add(1))
				req, _ := http.NewRequest("POST", hs.URL+"/v1/identify",
					stringsReader(fmt.Sprintf(`{"email":%q,"status":"paid"}`, email)))
				req.Header.Set("Authorization", "Bearer "+key)
				res, err := client.Do(req)
				if err != nil {
					nOther.Add(1)
					continue
				}
				res.Body.Close()
				switch res.StatusCode {
				case http.StatusOK:
					acked.Store(email, true)
					nAcked.Add(1)
				case http.StatusServiceUnavailable:
					if res.Header.Get("Retry-After") == "" {
						t.Errorf("503 without Retry-After")
					}
					n503.Add(1)
					time.Sleep(20 * time.Millisecond)
				default:
					nOther.Add(1)
					t.Errorf("unexpected status %d", res.StatusCode)
				}
			}
		}()
	}
	waitFor(t, func() bool { return nAcked.Load() > 200 })
	if err := cluster.Restart(ctx, "immediate"); err != nil {
		t.Fatalf("restart postgres: %v", err)
	}
	before := nAcked.Load()
	waitFor(t, func() bool { return nAcked.Load() > before+200 })
	close(stop)
	wg.Wait()

	var missing []string
	acked.Range(func(k, _ any) bool {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM customers WHERE email = $1", k).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			missing = append(missing, k.(string))
		}
		return true
	})
	t.Logf("acknowledged %d, 503s %d, other %d", nAcked.Load(), n503.Load(), nOther.Load())
	if len(missing) > 0 {
		t.Fatalf("%d acknowledged identifies are missing after the restart, e.g. %v", len(missing), missing[:min(5, len(missing))])
	}
	if nOther.Load() != 0 {
		t.Fatalf("%d requests failed in another way than 503", nOther.Load())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 60s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
