// Command bench measures TinyCRM's ingest path the way issue #2 asks: on one
// managed PostgreSQL cluster (fsync on) it runs `pgbench -N -c 16` as a
// baseline, then starts the real tinycrmd binary on the same cluster and
// drives it over HTTP from this process with 64 concurrent keep-alive
// clients (identify) and with 1,000-item batches (/v1/batch). It prints a
// Markdown report with absolute numbers and ratios to the pgbench baseline.
//
// Run from the repository root: go run ./bench (see docs/benchmarks.md).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"tinycrm.dev/tinycrm/bench/internal/benchkit"
	"tinycrm.dev/tinycrm/pgcluster"
)

type options struct {
	duration    time.Duration
	clients     int
	emails      int
	batchItems  int
	batchConc   int
	batchTotal  int
	pgbenchSecs int
	keep        bool
	statements  bool
	ceiling     time.Duration
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long the identify load runs")
	flag.IntVar(&o.clients, "clients", 64, "concurrent HTTP clients for identify")
	flag.IntVar(&o.emails, "emails", 100_000, "distinct emails in the identify load")
	flag.IntVar(&o.batchItems, "batch-items", 1000, "items per /v1/batch call")
	flag.IntVar(&o.batchConc, "batch-clients", 4, "concurrent /v1/batch clients")
	flag.IntVar(&o.batchTotal, "batch-total", 300_000, "customers sent through /v1/batch")
	flag.IntVar(&o.pgbenchSecs, "pgbench-seconds", 20, "pgbench -T")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary data dir")
	flag.BoolVar(&o.statements, "statements", false, "print the daemon's top SQL statements by total time (pg_stat_statements)")
	flag.DurationVar(&o.ceiling, "ceiling", 5*time.Second, "how long to measure the HTTP ceiling: identifies the daemon rejects before any database work (0 skips it)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	dir, err := os.MkdirTemp("", "tinycrm-bench-")
	if err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	settings := map[string]string{"max_connections": "200", "shared_buffers": "512MB"}
	if o.statements {
		settings["shared_preload_libraries"] = "pg_stat_statements"
	}
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(dir, "pg"), Logger: log, Settings: settings})
	if err != nil {
		return err
	}
	defer cluster.Stop(context.WithoutCancel(ctx))
	for _, db := range []string{"pgbench", "tinycrm"} {
		if err := psql(ctx, cluster, "postgres", "CREATE DATABASE "+db); err != nil {
			return err
		}
	}

	log.Info("pgbench baseline", "clients", 16, "seconds", o.pgbenchSecs)
	pgTPS, err := pgbench(ctx, cluster, o.pgbenchSecs)
	if err != nil {
		return err
	}
	log.Info("pgbench done", "tps", pgTPS)

	bin := filepath.Join(dir, "tinycrmd")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/tinycrmd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build tinycrmd (run from the repository root): %w", err)
	}
	addr, err := benchkit.FreeAddr()
	if err != nil {
		return err
	}
	daemon := exec.CommandContext(ctx, bin, "--database-url", cluster.ConnString("tinycrm"),
		"--data-dir", filepath.Join(dir, "data"), "--listen", addr, "--rate-limit", "0", "--log-level", "warn")
	daemon.Stderr = os.Stderr
	if err := daemon.Start(); err != nil {
		return err
	}
	defer func() {
		_ = daemon.Process.Signal(syscall.SIGTERM)
		_ = daemon.Wait()
	}()
	base := "http://" + addr
	if err := benchkit.WaitReady(ctx, base); err != nil {
		return err
	}
	token, err := os.ReadFile(filepath.Join(dir, "data", "admin.token"))
	if err != nil {
		return err
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 30 * time.Second}
	var keys []string
	for _, name := range []string{"Newsletter", "Linkbio", "Analytics"} {
		var p struct{ Key string }
		if err := call(ctx, hc, base+"/v1/projects", strings.TrimSpace(string(token)), map[string]string{"name": name}, &p); err != nil {
			return err
		}
		keys = append(keys, p.Key)
	}

	var ceiling loadResult
	if o.ceiling > 0 {
		log.Info("HTTP ceiling", "clients", o.clients, "duration", o.ceiling)
		if ceiling, err = identifyLoad(ctx, hc, base, keys, o.clients, o.ceiling, o.emails, true); err != nil {
			return err
		}
	}
	log.Info("identify load", "clients", o.clients, "duration", o.duration, "emails", o.emails)
	id, err := identifyLoad(ctx, hc, base, keys, o.clients, o.duration, o.emails, false)
	if err != nil {
		return err
	}
	commits, err := groupCommits(ctx, hc, base)
	if err != nil {
		return err
	}
	log.Info("batch load", "items", o.batchTotal)
	bt, err := batchLoad(ctx, hc, base, keys, o)
	if err != nil {
		return err
	}
	rss, err := benchkit.ProcMemory(daemon.Process.Pid, "VmHWM")
	if err != nil {
		return err
	}

	if o.statements {
		if err := topStatements(ctx, cluster); err != nil {
			return err
		}
	}
	fmt.Printf("| measure | value | ratio to pgbench -N -c 16 |\n|---|---|---|\n")
	fmt.Printf("| pgbench -N -c 16 -j 2 (TPS) | %.0f | 1.00 |\n", pgTPS)
	fmt.Printf("| identify/s, %d clients | %.0f | %.2f |\n", o.clients, id.rate, id.rate/pgTPS)
	fmt.Printf("| identify latency p50 / p99 | %.1f ms / %.1f ms | |\n", ms(id.p50), ms(id.p99))
	fmt.Printf("| identify errors | %d of %d | |\n", id.errors, id.count)
	fmt.Printf("| identifies per group commit (mean) | %.1f | |\n", commits.meanBatch)
	fmt.Printf("| group commit duration (mean); commits over 50 ms | %.1f ms; %.0f of %.0f | |\n", commits.meanMillis, commits.over50ms, commits.commits)
	fmt.Printf("| /v1/batch customers/s (%d-item batches, %d clients) | %.0f | %.2f |\n", o.batchItems, o.batchConc, bt.rate, bt.rate/pgTPS)
	fmt.Printf("| tinycrmd peak RSS | %.0f MB | |\n", float64(rss)/(1<<20))
	if o.ceiling > 0 {
		fmt.Printf("| HTTP ceiling: identifies rejected before the database (400), %d clients | %.0f/s | %.2f |\n", o.clients, ceiling.rate, ceiling.rate/pgTPS)
	}
	fmt.Printf("\nmachine: %d CPUs, %s/%s, %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func psql(ctx context.Context, c *pgcluster.Cluster, db, sql string) error {
	cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", c.ConnString(db), "-c", sql)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("psql %q: %w: %s", sql, err, out)
	}
	return nil
}

// pgbench initialises scale 10 and runs the simple-update (-N) script with
// 16 clients, returning its TPS.
func pgbench(ctx context.Context, c *pgcluster.Cluster, secs int) (float64, error) {
	u, err := url.Parse(c.ConnString("pgbench"))
	if err != nil {
		return 0, err
	}
	host, port, user := u.Query().Get("host"), u.Query().Get("port"), u.User.Username()
	args := []string{"-h", host, "-p", port, "-U", user}
	init := exec.CommandContext(ctx, "pgbench", append(args, "-i", "-q", "-s", "10", "pgbench")...)
	if out, err := init.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("pgbench -i: %w: %s", err, out)
	}
	runCmd := exec.CommandContext(ctx, "pgbench", append(args, "-N", "-c", "16", "-j", "2", "-T", strconv.Itoa(secs), "pgbench")...)
	out, err := runCmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %w: %s", err, out)
	}
	m := regexp.MustCompile(`tps = ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no tps in pgbench output: %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

func call(ctx context.Context, hc *http.Client, u, token string, body, out any) error {
	return callStatus(ctx, hc, u, token, body, out, http.StatusOK)
}

// callStatus POSTs body as JSON and expects the answer want (any 2xx when
// want is 200), decoding it into out when out is not nil.
func callStatus(ctx context.Context, hc *http.Client, u, token string, body, out any, want int) error {
	buf, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(buf))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != want && (want != http.StatusOK || res.StatusCode/100 != 2) {
		return fmt.Errorf("POST %s: %d %s", u, res.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

type loadResult struct {
	count, errors int64
	rate          float64
	p50, p99      time.Duration
}

// identifyLoad sends single identifies from clients goroutines for
// duration. Emails are drawn from emails distinct addresses, so early calls
// create customers and later ones mostly update them (mixed new and repeat),
// across the three projects. With rejected, every email is invalid: the
// daemon authenticates and decodes each call and answers 400 without
// touching the database, which measures what HTTP alone costs on this
// machine (the load generator included).
func identifyLoad(ctx context.Context, hc *http.Client, base string, keys []string, clients int, duration time.Duration, emails int, rejected bool) (loadResult, error) {
	var (
		count, errs atomic.Int64
		mu          sync.Mutex
		lat         []time.Duration
		wg          sync.WaitGroup
	)
	end := time.Now().Add(duration)
	start := time.Now()
	statuses := []string{"free", "trialing", "paid", "churned"}
	domain, want := "@example.com", http.StatusOK
	if rejected {
		domain, want = "@", http.StatusBadRequest
	}
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 42))
			local := make([]time.Duration, 0, 4096)
			for time.Now().Before(end) && ctx.Err() == nil {
				key := keys[rng.IntN(len(keys))]
				body := map[string]any{
					"email":      fmt.Sprintf("user%d%s", rng.IntN(emails), domain),
					"status":     statuses[rng.IntN(len(statuses))],
					"params":     map[string]any{"plan": "pro", "mrr": rng.IntN(50)},
					"message_id": fmt.Sprintf("c%d-%d", c, rng.Uint64()),
				}
				t0 := time.Now()
				if err := callStatus(ctx, hc, base+"/v1/identify", key, body, nil, want); err != nil {
					errs.Add(1)
					continue
				}
				local = append(local, time.Since(t0))
				count.Add(1)
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(lat) == 0 {
		return loadResult{}, errors.New("no identify succeeded")
	}
	slices.Sort(lat)
	return loadResult{
		count: count.Load() + errs.Load(), errors: errs.Load(),
		rate: float64(count.Load()) / elapsed.Seconds(),
		p50:  lat[len(lat)/2], p99: lat[len(lat)*99/100],
	}, nil
}

// batchLoad sends o.batchTotal new customers through /v1/batch from
// o.batchConc concurrent clients.
func batchLoad(ctx context.Context, hc *http.Client, base string, keys []string, o options) (loadResult, error) {
	var (
		next, done atomic.Int64
		wg         sync.WaitGroup
		firstErr   error
		errOnce    sync.Once
	)
	batches := int64(o.batchTotal / o.batchItems)
	start := time.Now()
	for range o.batchConc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := next.Add(1) - 1
				if b >= batches || ctx.Err() != nil {
					return
				}
				items := make([]map[string]any, o.batchItems)
				for i := range items {
					items[i] = map[string]any{
						"email":  fmt.Sprintf("batch%d-%d@example.org", b, i),
						"name":   fmt.Sprintf("Batch Person %d", i),
						"status": "paid",
						"params": map[string]any{"plan": "team", "mrr": i % 100},
					}
				}
				var reply struct{ Accepted int }
				if err := call(ctx, hc, base+"/v1/batch", keys[b%int64(len(keys))], map[string]any{"items": items}, &reply); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				done.Add(int64(reply.Accepted))
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return loadResult{}, firstErr
	}
	elapsed := time.Since(start)
	return loadResult{count: done.Load(), rate: float64(done.Load()) / elapsed.Seconds()}, nil
}

// topStatements prints the daemon's most expensive statements.
func topStatements(ctx context.Context, c *pgcluster.Cluster) error {
	cmd := exec.CommandContext(ctx, "psql", "-X", c.ConnString("tinycrm"), "-c", `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`,
		"-c", `SELECT round(total_exec_time) AS total_ms, calls, round((total_exec_time/calls)::numeric, 3) AS mean_ms,
			rows, left(regexp_replace(query, '\s+', ' ', 'g'), 90) AS query
		FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15`)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// commitStats is what /metrics says of the identify phase's group commits.
type commitStats struct {
	meanBatch  float64 // writes per group commit
	meanMillis float64 // time to apply and commit one
	over50ms   float64 // commits that took longer than 50 ms
	commits    float64
}

// groupCommits reads the group-commit series from /metrics.
func groupCommits(ctx context.Context, hc *http.Client, base string) (commitStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return commitStats{}, err
	}
	res, err := hc.Do(req)
	if err != nil {
		return commitStats{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return commitStats{}, err
	}
	series := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if name, v, ok := strings.Cut(line, " "); ok && strings.HasPrefix(name, "tinycrm_ingest_commit_") {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				series[name] = f
			}
		}
	}
	batches, commits := series["tinycrm_ingest_commit_batch_size_count"], series["tinycrm_ingest_commit_duration_seconds_count"]
	if batches == 0 || commits == 0 {
		return commitStats{}, errors.New("no group commits in /metrics")
	}
	return commitStats{
		meanBatch:  series["tinycrm_ingest_commit_batch_size_sum"] / batches,
		meanMillis: 1000 * series["tinycrm_ingest_commit_duration_seconds_sum"] / commits,
		over50ms:   commits - series[`tinycrm_ingest_commit_duration_seconds_bucket{le="0.05"}`],
		commits:    commits,
	}, nil
}
