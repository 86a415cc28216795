// Command query measures TinyCRM's read path the way the query issue's
// "Speed" section asks. On one managed PostgreSQL cluster (fsync on) it
// starts the real tinycrmd binary, loads N customers (default 1,000,000,
// about 1.7M memberships over 4 projects) through POST /v1/batch with the
// project keys, then times from a keep-alive HTTP client:
//
//   - every filter of SPEC §4 alone, a few combinations and every sort in
//     both directions: the first page and the page 1,000 pages deep (50-row
//     pages; the deep cursor is reached once by walking next_cursor);
//   - the export of every customer as JSON Lines and CSV, with the daemon's
//     RSS sampled every 100 ms;
//   - `tinycrm customers --multi-project --json` (the real CLI binary) end to
//     end against the same page over raw HTTP;
//   - the TUI's first screen: its start-up calls (stats, projects, the first
//     page), and the real `tinycrm tui` in a tmux pane until the table shows;
//
// then captures EXPLAIN (ANALYZE, BUFFERS) of the main statements with
// auto_explain and prints a Markdown report (and, with -doc, writes it into
// docs/benchmarks-query.md between its GENERATED markers).
//
// Loading a million customers takes minutes, so -reuse DIR keeps the cluster
// and the daemon's data dir in DIR; a later run with the same DIR and -n
// skips the load (or finishes an interrupted one).
//
// Run from the repository root: go run ./bench/query (see
// docs/benchmarks-query.md).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"tinycrm.dev/tinycrm/bench/internal/benchkit"
	"tinycrm.dev/tinycrm/pgcluster"
)

type options struct {
	customers  int
	seed       uint64
	reuse      string
	clients    int
	runs       int
	pageSize   int
	deepPages  int
	walkBudget time.Duration
	queryLimit time.Duration
	doc        string
	tmux       bool
	explain    bool
	only       string
	extras     bool
}

func main() {
	var o options
	flag.IntVar(&o.customers, "n", 1_000_000, "customers to load")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the generated data")
	flag.StringVar(&o.reuse, "reuse", "", "keep the cluster and daemon data in `DIR` and reuse them (skips loading when DIR already holds -n customers)")
	flag.IntVar(&o.clients, "clients", 6, "concurrent /v1/batch clients while loading")
	flag.IntVar(&o.runs, "runs", 30, "timed runs per query")
	flag.IntVar(&o.pageSize, "page", 50, "page size (limit) of the timed pages")
	flag.IntVar(&o.deepPages, "deep", 1000, "how many pages deep the deep page is")
	flag.DurationVar(&o.walkBudget, "walk-budget", 60*time.Second, "give up walking to the deep page of one query after this long")
	flag.DurationVar(&o.queryLimit, "query-budget", 20*time.Second, "stop timing a query (first or deep page) after this long, with at least 5 runs")
	flag.StringVar(&o.doc, "doc", "", "write the report into this Markdown `file` between its GENERATED markers (e.g. docs/benchmarks-query.md)")
	flag.BoolVar(&o.tmux, "tmux", true, "time the real `tinycrm tui` in a tmux pane (needs tmux)")
	flag.BoolVar(&o.explain, "explain", true, "capture EXPLAIN (ANALYZE, BUFFERS) plans with auto_explain")
	flag.StringVar(&o.only, "only", "", "time only the queries whose label contains this text")
	flag.BoolVar(&o.extras, "extras", true, "also time the exports, the CLI and the TUI start")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/query:", err)
		os.Exit(1)
	}
}

// projectNames are the four projects, biggest first (see membershipsOf).
var projectNames = []string{"Newsletter", "Linkbio", "Analytics", "Forms"}

// state is what -reuse keeps between runs in DIR/state.json.
type state struct {
	Customers int               `json:"customers"`
	Seed      uint64            `json:"seed"`
	Base      time.Time         `json:"base"` // "now" of the generated data
	Slugs     []string          `json:"slugs"`
	Keys      map[string]string `json:"keys"`
	Loaded    bool              `json:"loaded"`
	Vacuumed  bool              `json:"vacuumed"`
	LoadSecs  float64           `json:"load_seconds"`
	LoadItems int64             `json:"load_items"`
}

type bench struct {
	o       options
	log     *slog.Logger
	dir     string
	cluster *pgcluster.Cluster
	base    string // daemon URL
	token   string
	pid     int
	hc      *http.Client // one keep-alive connection for timings
	st      state
	binCLI  string
	rep     report
}

type report struct {
	machine []string
	data    []string
	load    []string
	queries []queryResult
	exports []exportResult
	cli     []string
	tui     []string
	plans   []plan
	loadAvg []string
	started time.Time
	notes   []string
}

func run(ctx context.Context, o options) error {
	b := &bench{o: o, log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	b.rep.started = time.Now()
	b.loadAvg("start")
	var err error
	if o.reuse != "" {
		if b.dir, err = filepath.Abs(o.reuse); err != nil {
			return err
		}
		if err := os.MkdirAll(b.dir, 0o755); err != nil {
			return err
		}
	} else {
		if b.dir, err = os.MkdirTemp("", "tinycrm-query-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(b.dir)
	}
	// As root the cluster runs as another user, who must reach Dir/pg.
	if err := os.Chmod(b.dir, 0o755); err != nil {
		return err
	}
	if err := b.readState(); err != nil {
		return err
	}

	settings := map[string]string{
		"max_connections": "100",
		"shared_buffers":  "1GB",
		"max_wal_size":    "4GB",
		// auto_explain stays off (-1) until the EXPLAIN pass turns it on
		// with ALTER SYSTEM, so it costs nothing while timing.
		"shared_preload_libraries":  "auto_explain",
		"auto_explain.log_analyze":  "on",
		"auto_explain.log_buffers":  "on",
		"auto_explain.log_timing":   "on",
		"auto_explain.log_triggers": "off",
	}
	b.cluster, err = pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(b.dir, "pg"), Logger: b.log, Settings: settings})
	if err != nil {
		return err
	}
	defer b.cluster.Stop(context.WithoutCancel(ctx))
	if out, err := b.psql(ctx, "postgres", "SELECT count(*) FROM pg_database WHERE datname = 'tinycrm'"); err != nil {
		return err
	} else if strings.TrimSpace(out) == "0" {
		if _, err := b.psql(ctx, "postgres", "CREATE DATABASE tinycrm"); err != nil {
			return err
		}
	}
	if err := b.autoExplain(ctx, false); err != nil {
		return err
	}

	binDir := filepath.Join(b.dir, "bin")
	for _, pkg := range []string{"tinycrmd", "tinycrm"} {
		build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(binDir, pkg), "./cmd/"+pkg)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build %s (run from the repository root): %w", pkg, err)
		}
	}
	b.binCLI = filepath.Join(binDir, "tinycrm")
	addr, err := benchkit.FreeAddr()
	if err != nil {
		return err
	}
	daemon := exec.CommandContext(ctx, filepath.Join(binDir, "tinycrmd"), "--database-url", b.cluster.ConnString("tinycrm"),
		"--data-dir", filepath.Join(b.dir, "data"), "--listen", addr, "--rate-limit", "0", "--log-level", "warn")
	daemon.Stderr = os.Stderr
	if err := daemon.Start(); err != nil {
		return err
	}
	defer func() {
		_ = daemon.Process.Signal(syscall.SIGTERM)
		_ = daemon.Wait()
	}()
	b.pid = daemon.Process.Pid
	b.base = "http://" + addr
	if err := benchkit.WaitReady(ctx, b.base); err != nil {
		return err
	}
	tok, err := os.ReadFile(filepath.Join(b.dir, "data", "admin.token"))
	if err != nil {
		return err
	}
	b.token = strings.TrimSpace(string(tok))
	b.hc = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}, Timeout: 5 * time.Minute}

	if err := b.setupProjects(ctx); err != nil {
		return err
	}
	if err := b.load(ctx); err != nil {
		return err
	}
	b.loadAvg("after load")
	if err := b.describeData(ctx); err != nil {
		return err
	}
	b.machine(ctx)

	qs := b.queries()
	for i := range qs {
		if o.only != "" && !strings.Contains(qs[i].label, o.only) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		b.rep.queries = append(b.rep.queries, b.timeQuery(ctx, qs[i]))
	}
	b.loadAvg("after queries")
	if o.extras {
		// The default order (by id) is what the target is for; the
		// list's order, last_seen, is timed too for what it costs.
		for _, e := range []struct{ format, sort string }{{"jsonl", ""}, {"csv", ""}, {"jsonl", "last_seen"}} {
			r, err := b.export(ctx, e.format, e.sort)
			if err != nil {
				return err
			}
			b.rep.exports = append(b.rep.exports, r)
		}
		if err := b.cliVsHTTP(ctx); err != nil {
			return err
		}
		if err := b.tuiStart(ctx); err != nil {
			return err
		}
		if o.tmux {
			if err := b.tuiTmux(ctx); err != nil {
				b.rep.tui = append(b.rep.tui, fmt.Sprintf("| real `tinycrm tui` in tmux | failed: %v | | |", err))
			}
		}
	}
	b.loadAvg("end")
	if o.explain {
		if err := b.explainPass(ctx); err != nil {
			return err
		}
	}
	text := b.markdown()
	fmt.Println(text)
	if o.doc != "" {
		return writeDoc(o.doc, text)
	}
	return nil
}

// ---- cluster and daemon helpers ----

func (b *bench) psql(ctx context.Context, db, sql string) (string, error) {
	cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", b.cluster.ConnString(db), "-c", sql)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("psql %q: %w: %s", sql, err, out)
	}
	return string(out), nil
}

// autoExplain turns auto_explain's logging of every statement on or off
// for all sessions (the daemon's pool included) and waits for the reload.
func (b *bench) autoExplain(ctx context.Context, on bool) error {
	sql := "ALTER SYSTEM RESET auto_explain.log_min_duration"
	if on {
		sql = "ALTER SYSTEM SET auto_explain.log_min_duration = 0"
	}
	if _, err := b.psql(ctx, "postgres", sql); err != nil {
		return err
	}
	if _, err := b.psql(ctx, "postgres", "SELECT pg_reload_conf()"); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond)
	return nil
}

// do sends one request and returns the status and body. A 429 or 503 is
// retried after its Retry-After, a few times.
func (b *bench) do(ctx context.Context, hc *http.Client, method, u, token string, body []byte) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := hc.Do(req)
		if err != nil {
			return 0, nil, err
		}
		data, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return 0, nil, err
		}
		if (res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable) && attempt < 5 {
			secs, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			select {
			case <-ctx.Done():
				return 0, nil, ctx.Err()
			case <-time.After(time.Duration(max(secs, 1)) * time.Second):
			}
			continue
		}
		return res.StatusCode, data, nil
	}
}

func (b *bench) readState() error {
	data, err := os.ReadFile(filepath.Join(b.dir, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		b.st = state{Customers: b.o.customers, Seed: b.o.seed, Base: time.Now().UTC().Truncate(time.Second), Keys: map[string]string{}}
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &b.st); err != nil {
		return fmt.Errorf("%s/state.json: %w", b.dir, err)
	}
	if b.st.Customers != b.o.customers || b.st.Seed != b.o.seed {
		return fmt.Errorf("-reuse %s holds %d customers with seed %d, not -n %d -seed %d; use another directory", b.dir, b.st.Customers, b.st.Seed, b.o.customers, b.o.seed)
	}
	return nil
}

func (b *bench) saveState() error {
	data, err := json.MarshalIndent(b.st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(b.dir, "state.json.tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(b.dir, "state.json"))
}

func (b *bench) setupProjects(ctx context.Context) error {
	if len(b.st.Slugs) == len(projectNames) {
		return nil
	}
	for _, name := range projectNames {
		body, _ := json.Marshal(map[string]string{"name": name})
		code, data, err := b.do(ctx, b.hc, http.MethodPost, b.base+"/v1/projects", b.token, body)
		if err != nil {
			return err
		}
		if code != http.StatusCreated {
			return fmt.Errorf("create project %s: %d %s", name, code, data)
		}
		var p struct{ Slug, Key string }
		if err := json.Unmarshal(data, &p); err != nil {
			return err
		}
		b.st.Slugs = append(b.st.Slugs, p.Slug)
		b.st.Keys[p.Slug] = p.Key
	}
	return b.saveState()
}

// ---- generated data ----

var (
	firstNames = []string{"Alice", "Bob", "Carla", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
		"Kemi", "Liam", "Maya", "Nikos", "Olga", "Pablo", "Qi", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wen",
		"Ximena", "Yusuf", "Zoe", "Amara", "Bruno", "Chloe", "Diego", "Emma", "Felix", "Greta", "Hugo", "Ivy", "Jack"}
	lastNames = []string{"Chen", "Garcia", "Smith", "Müller", "Rossi", "Kowalski", "Nguyen", "Okafor", "Silva", "Tanaka",
		"Dubois", "Jensen", "Ivanova", "Haddad", "Kim", "Lopez", "Novak", "Patel", "Quinn", "Schmidt", "Taylor",
		"Usman", "Varga", "Weber", "Yilmaz", "Zhang", "Andersson", "Brown", "Costa", "Dias"}
	domains   = []string{"gmail.com", "example.com", "fastmail.com", "proton.me", "outlook.com", "acme.io", "startup.dev", "mail.de"}
	countries = []weighted{{"US", 300}, {"GB", 100}, {"DE", 100}, {"FR", 80}, {"IN", 80}, {"BR", 60}, {"CA", 60},
		{"ES", 50}, {"NL", 40}, {"SE", 30}, {"JP", 30}, {"AU", 30}, {"PL", 20}, {"IT", 17}, {"IS", 3}}
	paidMRR = []weighted{{"9", 30}, {"19", 25}, {"29", 15}, {"49", 12}, {"99", 8}, {"199", 6}, {"499", 3}, {"14.99", 1}}
)

type weighted struct {
	v string
	w int
}

func pick(r *rand.Rand, ws []weighted) string {
	total := 0
	for _, w := range ws {
		total += w.w
	}
	n := r.IntN(total)
	for _, w := range ws {
		if n < w.w {
			return w.v
		}
		n -= w.w
	}
	return ws[len(ws)-1].v
}

type membership struct {
	project int
	item    map[string]any
}

// person generates customer i: the same for a given seed, every time.
// Memberships: 60 % in one project, 22 % in two, 8 % in three, 10 % in four
// (1.68 memberships per customer, 40 % in two or more), the projects drawn
// with weights 4:3:2:1. Each membership is one identify at a time spread
// over the 180 days before base.
func (b *bench) person(i int) []membership {
	r := rand.New(rand.NewPCG(b.st.Seed, uint64(i)))
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	email := fmt.Sprintf("%s.%s%d@%s", strings.ToLower(first), strings.ToLower(strings.ReplaceAll(last, "ü", "ue")), i, domains[r.IntN(len(domains))])
	name := first + " " + last
	k := 1
	switch x := r.Float64(); {
	case x < 0.60:
		k = 1
	case x < 0.82:
		k = 2
	case x < 0.90:
		k = 3
	default:
		k = 4
	}
	weights := []int{4, 3, 2, 1}
	var chosen []int
	for len(chosen) < k {
		total := 0
		for p, w := range weights {
			if !slices.Contains(chosen, p) {
				total += w
			}
		}
		n := r.IntN(total)
		for p, w := range weights {
			if slices.Contains(chosen, p) {
				continue
			}
			if n < w {
				chosen = append(chosen, p)
				break
			}
			n -= w
		}
	}
	slices.Sort(chosen)
	country := pick(r, countries)
	out := make([]membership, 0, k)
	for _, p := range chosen {
		params := map[string]any{"country": country}
		var status string
		switch x := r.IntN(100); {
		case x < 25:
			status = "paid"
			params["plan"] = pick(r, []weighted{{"starter", 35}, {"pro", 40}, {"team", 20}, {"enterprise", 5}})
			mrr, _ := strconv.ParseFloat(pick(r, paidMRR), 64)
			params["mrr"] = mrr
		case x < 65:
			status = "free"
			params["plan"] = "free"
			params["mrr"] = 0
		case x < 80:
			status = "trialing"
			params["plan"] = pick(r, []weighted{{"pro", 70}, {"team", 30}})
			params["mrr"] = 0
			params["trial_ends"] = b.st.Base.AddDate(0, 0, r.IntN(61)-30).Format("2006-01-02")
		default:
			status = "churned"
			params["plan"] = pick(r, []weighted{{"starter", 50}, {"pro", 50}})
			params["mrr"] = 0
		}
		if r.IntN(100) < 5 {
			params["coupon"] = "LAUNCH50"
		}
		at := b.st.Base.Add(-time.Duration(r.Int64N(int64(180 * 24 * time.Hour))))
		out = append(out, membership{project: p, item: map[string]any{
			"email": email, "name": name, "status": status, "params": params,
			"timestamp": at.Format(time.RFC3339Nano),
		}})
	}
	return out
}

// ---- loading through /v1/batch ----

type unit struct{ project, chunk int }

func (u unit) String() string { return fmt.Sprintf("%d %d", u.project, u.chunk) }

func (b *bench) load(ctx context.Context) error {
	if b.st.Loaded {
		b.rep.load = append(b.rep.load, fmt.Sprintf("| load | reused from -reuse %s (loaded earlier: %d items in %.0f s, %.0f customers/s, %.0f items/s) |",
			b.dir, b.st.LoadItems, b.st.LoadSecs, float64(b.st.Customers)/b.st.LoadSecs, float64(b.st.LoadItems)/b.st.LoadSecs))
		return b.vacuum(ctx)
	}
	const chunk = 1000
	// Which customers are in which project, in customer order.
	members := make([][]int32, len(projectNames))
	for i := range b.st.Customers {
		for _, m := range b.person(i) {
			members[m.project] = append(members[m.project], int32(i))
		}
	}
	progressPath := filepath.Join(b.dir, "load.progress")
	done := map[string]bool{}
	if f, err := os.Open(progressPath); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			done[sc.Text()] = true
		}
		f.Close()
	}
	// Round-robin over the projects, each project starting at another
	// quarter of the customers, so concurrent batches rarely touch the
	// same customer rows.
	var units []unit
	chunks := make([]int, len(members))
	for p := range members {
		chunks[p] = (len(members[p]) + chunk - 1) / chunk
	}
	for k := 0; ; k++ {
		found := false
		for p := range members {
			if k < chunks[p] {
				found = true
				u := unit{p, (k + p*chunks[p]/len(members)) % chunks[p]}
				if !done[u.String()] {
					units = append(units, u)
				}
			}
		}
		if !found {
			break
		}
	}
	progress, err := os.OpenFile(progressPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer progress.Close()
	total := 0
	for p := range members {
		total += len(members[p])
	}
	b.log.Info("loading through /v1/batch", "customers", b.st.Customers, "memberships", total, "batches_left", len(units), "clients", b.o.clients)

	var (
		next, items atomic.Int64
		mu          sync.Mutex
		wg          sync.WaitGroup
		firstErr    error
		errOnce     sync.Once
	)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-lctx.Done():
				return
			case <-t.C:
				n := items.Load()
				b.log.Info("load progress", "items", n, "of", total, "items_per_s", int(float64(n)/time.Since(start).Seconds()))
			}
		}
	}()
	for range b.o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := next.Add(1) - 1
				if k >= int64(len(units)) || lctx.Err() != nil {
					return
				}
				u := units[k]
				ids := members[u.project][u.chunk*chunk : min((u.chunk+1)*chunk, len(members[u.project]))]
				batch := make([]map[string]any, 0, len(ids))
				for _, id := range ids {
					for _, m := range b.person(int(id)) {
						if m.project == u.project {
							batch = append(batch, m.item)
						}
					}
				}
				body, _ := json.Marshal(map[string]any{"items": batch})
				code, data, err := b.do(lctx, b.hc, http.MethodPost, b.base+"/v1/batch", b.st.Keys[b.st.Slugs[u.project]], body)
				if err == nil && code != http.StatusOK {
					err = fmt.Errorf("POST /v1/batch: %d %s", code, data)
				}
				var reply struct {
					Accepted int
					Rejected []json.RawMessage
				}
				if err == nil {
					err = json.Unmarshal(data, &reply)
				}
				if err == nil && len(reply.Rejected) > 0 {
					err = fmt.Errorf("POST /v1/batch rejected items: %s", data)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				items.Add(int64(len(batch)))
				mu.Lock()
				fmt.Fprintln(progress, u.String())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	cancel()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	elapsed := time.Since(start)
	resumed := len(done) > 0
	b.st.Loaded = true
	b.st.LoadSecs = elapsed.Seconds()
	b.st.LoadItems = items.Load()
	if err := b.saveState(); err != nil {
		return err
	}
	note := ""
	if resumed {
		note = fmt.Sprintf(" (resumed: %d batches had been sent by an earlier run)", len(done))
	}
	b.rep.load = append(b.rep.load,
		fmt.Sprintf("| load through `POST /v1/batch` (%d-item batches, %d clients) | %d items (memberships) in %.0f s%s |", chunk, b.o.clients, items.Load(), elapsed.Seconds(), note),
		fmt.Sprintf("| load rate | %.0f items/s = %.0f customers/s |", float64(items.Load())/elapsed.Seconds(), float64(b.st.Customers)*float64(items.Load())/float64(total)/elapsed.Seconds()))
	return b.vacuum(ctx)
}

// vacuum runs VACUUM (ANALYZE) once after the load, as autovacuum would
// eventually, so plans and index-only scans see settled statistics.
func (b *bench) vacuum(ctx context.Context) error {
	if b.st.Vacuumed {
		return nil
	}
	b.log.Info("VACUUM (ANALYZE)")
	t0 := time.Now()
	if _, err := b.psql(ctx, "tinycrm", "VACUUM (ANALYZE)"); err != nil {
		return err
	}
	b.rep.load = append(b.rep.load, fmt.Sprintf("| `VACUUM (ANALYZE)` after the load | %.0f s |", time.Since(t0).Seconds()))
	b.st.Vacuumed = true
	return b.saveState()
}

func (b *bench) describeData(ctx context.Context) error {
	out, err := b.psql(ctx, "tinycrm", `SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM memberships),
		(SELECT count(*) FROM events), pg_size_pretty(pg_database_size('tinycrm')),
		(SELECT string_agg(n || ': ' || c, ', ' ORDER BY n) FROM (SELECT project_count AS n, count(*) AS c FROM customers GROUP BY 1) d),
		(SELECT string_agg(p.slug || ' ' || (SELECT count(*) FROM memberships m WHERE m.project_id = p.id), ', ' ORDER BY p.id) FROM projects p),
		(SELECT string_agg(status || ' ' || c, ', ' ORDER BY c DESC) FROM (SELECT status, count(*) c FROM memberships GROUP BY 1) s)`)
	if err != nil {
		return err
	}
	f := strings.Split(strings.TrimSpace(out), "|")
	if len(f) < 7 {
		return fmt.Errorf("unexpected psql output %q", out)
	}
	b.rep.data = append(b.rep.data,
		"| customers | "+f[0]+" |", "| memberships | "+f[1]+" |", "| events | "+f[2]+" |",
		"| customers by number of projects | "+f[4]+" |", "| memberships by project | "+f[5]+" |",
		"| memberships by status | "+f[6]+" |", "| database size | "+f[3]+" |",
		fmt.Sprintf("| data generated at (base of `timestamp`s, 180 days back) | %s |", b.st.Base.Format(time.RFC3339)))
	return nil
}

func (b *bench) machine(ctx context.Context) {
	model := "?"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := "?"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(data), "\n")
		f := strings.Fields(line)
		if len(f) >= 2 {
			kb, _ := strconv.ParseFloat(f[1], 64)
			mem = fmt.Sprintf("%.0f GiB", kb/(1<<20))
		}
	}
	pg, _ := b.psql(ctx, "postgres", "SHOW server_version")
	b.rep.machine = append(b.rep.machine,
		fmt.Sprintf("| CPU | %d × %s |", runtime.NumCPU(), model),
		"| RAM | "+mem+" |",
		"| PostgreSQL | "+strings.TrimSpace(pg)+" (managed cluster via pgcluster, fsync on, shared_buffers 1GB, max_wal_size 4GB, otherwise defaults) |",
		fmt.Sprintf("| Go | %s %s/%s |", runtime.Version(), runtime.GOOS, runtime.GOARCH))
}

func (b *bench) loadAvg(when string) {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return
	}
	f := strings.Fields(string(data))
	if len(f) >= 3 {
		b.rep.loadAvg = append(b.rep.loadAvg, fmt.Sprintf("%s: %s %s %s", when, f[0], f[1], f[2]))
	}
}

// ---- the queries ----

type query struct {
	label string
	kind  string // filter, combination, sort
	q     url.Values
}

type queryResult struct {
	query
	firstRows   int
	first, deep []time.Duration
	deepDepth   int // rows skipped before the deep page (0: not reached)
	deepNote    string
	deepCursor  string
	matched     int // rows seen while walking (a lower bound when the walk stopped at depth)
	walkedAll   bool
	walkTime    time.Duration
	err         string
}

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func (b *bench) queries() []query {
	s := b.st.Slugs
	soon := b.st.Base.AddDate(0, 0, 7).Format("2006-01-02")
	day := b.st.Base.AddDate(0, 0, 3).Format("2006-01-02")
	qs := []query{
		{"no filter (default sort -last_seen)", "filter", vals()},
		{"project=" + s[0] + " (biggest)", "filter", vals("project", s[0])},
		{"project=" + s[3] + " (smallest)", "filter", vals("project", s[3])},
		{"not_project=" + s[0], "filter", vals("not_project", s[0])},
		{"min_projects=2 (--multi-project)", "filter", vals("min_projects", "2")},
		{"min_projects=3", "filter", vals("min_projects", "3")},
		{"status=paid", "filter", vals("status", "paid")},
		{"status=trialing", "filter", vals("status", "trialing")},
		{"where plan=pro (text =, common)", "filter", vals("where", "plan=pro")},
		{"where country=IS (text =, rare)", "filter", vals("where", "country=IS")},
		{"where plan=enterprise (text =, rarer)", "filter", vals("where", "plan=enterprise")},
		{"where mrr=19 (number =)", "filter", vals("where", "mrr=19")},
		{"where mrr>=99 (number range)", "filter", vals("where", "mrr>=99")},
		{"where trial_ends<" + soon + " (date range)", "filter", vals("where", "trial_ends<"+soon)},
		{"where trial_ends=" + day + " (date =)", "filter", vals("where", "trial_ends="+day)},
		{"where coupon exists", "filter", vals("where", "coupon exists")},
		{"where plan~terp (substring)", "filter", vals("where", "plan~terp")},
		{"where status=churned (membership column)", "filter", vals("where", "status=churned")},
		{"q=garcia (search, common)", "filter", vals("q", "garcia")},
		{"q=4242@ (search, rare)", "filter", vals("q", "4242@")},
		{"active_within=7d", "filter", vals("active_within", "7d")},
		{"inactive_for=90d", "filter", vals("inactive_for", "90d")},

		{"project=" + s[0] + " & status=paid, sort=mrr", "combination", vals("project", s[0], "status", "paid", "sort", "mrr")},
		{"min_projects=2 & where plan=pro & active_within=30d", "combination", vals("min_projects", "2", "where", "plan=pro", "active_within", "30d")},
		{"project=" + s[0] + " & project=" + s[1] + " & not_project=" + s[3], "combination", vals("project", s[0], "project", s[1], "not_project", s[3])},
		{"status=trialing & where trial_ends<" + soon, "combination", vals("status", "trialing", "where", "trial_ends<"+soon)},
		{"project=" + s[2] + " & where 'plan=team, mrr>=49', sort=mrr", "combination", vals("project", s[2], "where", "plan=team, mrr>=49", "sort", "mrr")},
		{"q=garcia & min_projects=2", "combination", vals("q", "garcia", "min_projects", "2")},
		{"min_projects=2 & status=churned & inactive_for=30d", "combination", vals("min_projects", "2", "status", "churned", "inactive_for", "30d")},
	}
	for _, k := range []string{"last_seen", "first_seen", "email", "name", "projects", "mrr"} {
		for _, key := range []string{k, "-" + k} {
			qs = append(qs, query{"sort=" + key, "sort", vals("sort", key)})
		}
	}
	return qs
}

func (b *bench) customersURL(q url.Values, limit int, cursor string) string {
	v := url.Values{}
	for k, vs := range q {
		v[k] = slices.Clone(vs)
	}
	v.Set("limit", strconv.Itoa(limit))
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	return b.base + "/v1/customers?" + v.Encode()
}

type page struct {
	Customers  []json.RawMessage `json:"customers"`
	NextCursor *string           `json:"next_cursor"`
}

func (b *bench) getPage(ctx context.Context, u string) (page, time.Duration, error) {
	t0 := time.Now()
	code, data, err := b.do(ctx, b.hc, http.MethodGet, u, b.token, nil)
	d := time.Since(t0)
	if err != nil {
		return page{}, d, err
	}
	if code != http.StatusOK {
		return page{}, d, fmt.Errorf("GET %s: %d %s", u, code, data)
	}
	var p page
	if err := json.Unmarshal(data, &p); err != nil {
		return page{}, d, err
	}
	return p, d, nil
}

// timeGet times runs GETs of u (after one warm-up), stopping early (at
// least 5 runs) past the query budget.
func (b *bench) timeGet(ctx context.Context, u string) ([]time.Duration, error) {
	get := func() (time.Duration, error) {
		t0 := time.Now()
		code, data, err := b.do(ctx, b.hc, http.MethodGet, u, b.token, nil)
		d := time.Since(t0)
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("GET %s: %d %s", u, code, data)
		}
		return d, err
	}
	if _, err := get(); err != nil {
		return nil, err
	}
	var ds []time.Duration
	start := time.Now()
	for i := 0; i < b.o.runs; i++ {
		d, err := get()
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
		if i >= 4 && time.Since(start) > b.o.queryLimit {
			break
		}
	}
	return ds, nil
}

func (b *bench) timeQuery(ctx context.Context, q query) queryResult {
	r := queryResult{query: q}
	err := b.timeQueryErr(ctx, &r)
	if err != nil {
		r.err = strings.Join(strings.Fields(err.Error()), " ")
		b.log.Error("query failed", "query", q.label, "err", err)
		return r
	}
	b.log.Info("timed", "query", q.label, "rows", r.firstRows, "first_p50_ms", ms(pct(r.first, 50)), "first_p95_ms", ms(pct(r.first, 95)),
		"deep_rows", r.deepDepth, "deep_p50_ms", ms(pct(r.deep, 50)), "deep_p95_ms", ms(pct(r.deep, 95)), "walk", r.walkTime.Round(time.Millisecond), "note", r.deepNote)
	return r
}

func (b *bench) timeQueryErr(ctx context.Context, r *queryResult) error {
	q := r.query
	p, _, err := b.getPage(ctx, b.customersURL(q.q, b.o.pageSize, ""))
	if err != nil {
		return err
	}
	r.firstRows = len(p.Customers)
	if r.first, err = b.timeGet(ctx, b.customersURL(q.q, b.o.pageSize, "")); err != nil {
		return err
	}
	// Walk to the deep page with the largest pages the API gives; a cursor
	// depends on the position, not on the page size. When fewer rows
	// match, the deepest page reached (within 500 rows of the end) is
	// timed instead.
	depth := b.o.pageSize * b.o.deepPages
	cursor, seen, before := "", 0, 0
	start := time.Now()
	for seen < depth {
		lim := min(500, depth-seen)
		p, _, err := b.getPage(ctx, b.customersURL(q.q, lim, cursor))
		if err != nil {
			return err
		}
		if p.NextCursor == nil {
			r.walkedAll = true
			seen += len(p.Customers)
			break
		}
		seen += len(p.Customers)
		before = seen
		cursor = *p.NextCursor
		if time.Since(start) > b.o.walkBudget {
			r.deepNote = fmt.Sprintf("walk stopped after %s", b.o.walkBudget)
			break
		}
	}
	r.walkTime = time.Since(start)
	r.matched = seen
	if r.walkedAll {
		r.deepNote = fmt.Sprintf("%d matches, %d pages", seen, (seen+b.o.pageSize-1)/b.o.pageSize)
	}
	if cursor == "" || before < 10*b.o.pageSize {
		return nil // too few rows for a deep page to mean anything
	}
	r.deepDepth = before
	r.deepCursor = cursor
	r.deep, err = b.timeGet(ctx, b.customersURL(q.q, b.o.pageSize, cursor))
	return err
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(float64(p)/100*float64(len(s)))) - 1
	return s[max(i, 0)]
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Millisecond)*10) / 10 }

// ---- export ----

type exportResult struct {
	format, sort   string // sort "" is the export's default, by id
	rows           int64
	bytes          int64
	elapsed        time.Duration
	rssBefore      int64
	rssMin, rssMax int64
	samples        int
	firstByte      time.Duration
}

// vmRSS is the daemon's resident memory now, 0 if it cannot be read.
func vmRSS(pid int) int64 {
	n, _ := benchkit.ProcMemory(pid, "VmRSS")
	return n
}

type lineCounter struct{ lines, bytes int64 }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.lines += int64(bytes.Count(p, []byte{'\n'}))
	c.bytes += int64(len(p))
	return len(p), nil
}

func (b *bench) export(ctx context.Context, format, sort string) (exportResult, error) {
	r := exportResult{format: format, sort: sort, rssBefore: vmRSS(b.pid), rssMin: math.MaxInt64}
	b.log.Info("export", "format", format, "sort", sort)
	hc := &http.Client{} // no timeout: a million rows
	path := "/v1/export?format=" + format
	if sort != "" {
		path += "&sort=" + sort
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+path, nil)
	if err != nil {
		return r, err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				v := vmRSS(b.pid)
				mu.Lock()
				r.rssMin, r.rssMax = min(r.rssMin, v), max(r.rssMax, v)
				r.samples++
				mu.Unlock()
			}
		}
	}()
	t0 := time.Now()
	res, err := hc.Do(req)
	if err != nil {
		close(stop)
		return r, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		close(stop)
		data, _ := io.ReadAll(res.Body)
		return r, fmt.Errorf("export: %d %s", res.StatusCode, data)
	}
	var c lineCounter
	buf := make([]byte, 1<<16)
	n, err := res.Body.Read(buf)
	r.firstByte = time.Since(t0)
	c.Write(buf[:n])
	if err == nil {
		_, err = io.CopyBuffer(&c, res.Body, buf)
	} else if err == io.EOF {
		err = nil
	}
	r.elapsed = time.Since(t0)
	close(stop)
	wg.Wait()
	if err != nil {
		return r, err
	}
	r.rows, r.bytes = c.lines, c.bytes
	if format == "csv" {
		r.rows-- // header
	}
	b.log.Info("exported", "format", format, "rows", r.rows, "seconds", r.elapsed.Seconds(), "rss_min_mb", r.rssMin>>20, "rss_max_mb", r.rssMax>>20)
	return r, nil
}

// ---- CLI against raw HTTP ----

func (b *bench) cliEnv() []string {
	xdg := filepath.Join(b.dir, "xdg")
	_ = os.MkdirAll(xdg, 0o700)
	env := []string{"TINYCRM_URL=" + b.base, "TINYCRM_TOKEN=" + b.token, "XDG_CONFIG_HOME=" + xdg, "XDG_DATA_HOME=" + xdg, "HOME=" + xdg, "NO_COLOR=1"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "PATH" || k == "TERM" || k == "LANG" {
			env = append(env, kv)
		}
	}
	return env
}

func (b *bench) cliVsHTTP(ctx context.Context) error {
	args := []string{"customers", "--multi-project", "--json"}
	var cli []time.Duration
	for i := 0; i <= b.o.runs; i++ {
		cmd := exec.CommandContext(ctx, b.binCLI, args...)
		cmd.Env = b.cliEnv()
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		t0 := time.Now()
		err := cmd.Run()
		d := time.Since(t0)
		if err != nil {
			return fmt.Errorf("tinycrm %s: %w: %s", strings.Join(args, " "), err, errb.Bytes())
		}
		if i == 0 {
			var cs []json.RawMessage
			if err := json.Unmarshal(out.Bytes(), &cs); err != nil {
				return fmt.Errorf("tinycrm %s: output is not a JSON array: %w", strings.Join(args, " "), err)
			}
			if len(cs) != 50 {
				return fmt.Errorf("tinycrm %s printed %d customers, want 50", strings.Join(args, " "), len(cs))
			}
			continue // warm-up
		}
		cli = append(cli, d)
	}
	// The process alone: start, parse flags, print the version, exit.
	var bare []time.Duration
	for i := 0; i <= b.o.runs; i++ {
		cmd := exec.CommandContext(ctx, b.binCLI, "--version")
		cmd.Env = b.cliEnv()
		t0 := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("tinycrm --version: %w: %s", err, out)
		}
		if i > 0 {
			bare = append(bare, time.Since(t0))
		}
	}
	u := b.customersURL(vals("min_projects", "2"), 50, "")
	keep, err := b.timeGet(ctx, u)
	if err != nil {
		return err
	}
	// A new connection per request, as the CLI makes.
	var fresh []time.Duration
	for range b.o.runs {
		hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		t0 := time.Now()
		code, _, err := b.do(ctx, hc, http.MethodGet, u, b.token, nil)
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("GET %s: %d %v", u, code, err)
		}
		fresh = append(fresh, time.Since(t0))
	}
	// The same page from a fresh process, as a shell user would fetch it
	// with raw HTTP: curl, end to end like the CLI.
	curl, err := b.timeCurl(ctx, u)
	if err != nil {
		return err
	}
	ratio := float64(pct(cli, 50)) / float64(pct(keep, 50))
	b.rep.cli = append(b.rep.cli,
		row("`tinycrm customers --multi-project --json` (process start to exit, 50 customers)", cli),
		row("`tinycrm --version` (the same binary starting and exiting, no request)", bare),
		row("`GET /v1/customers?min_projects=2&limit=50`, keep-alive client", keep),
		row("the same GET, new connection each time", fresh))
	if curl != nil {
		b.rep.cli = append(b.rep.cli, row("the same GET with `curl -s` (process start to exit)", curl),
			fmt.Sprintf("| CLI p50 ÷ curl p50 (both end to end) | %.2f× | | |", float64(pct(cli, 50))/float64(pct(curl, 50))))
	}
	b.rep.cli = append(b.rep.cli,
		fmt.Sprintf("| CLI p50 ÷ keep-alive HTTP p50 | %.2f× (target ≤ 2×: %s) | | |", ratio, verdict(ratio <= 2)),
		fmt.Sprintf("| CLI p50 − keep-alive HTTP p50 (process start, config, dial, JSON decode and re-encode) | %.1f ms | | |", ms(pct(cli, 50)-pct(keep, 50))),
		fmt.Sprintf("| CLI p50 − `--version` p50 (the request and its output, without process start) | %.1f ms = %.2f× the HTTP p50 | | |", ms(pct(cli, 50)-pct(bare, 50)), float64(pct(cli, 50)-pct(bare, 50))/float64(pct(keep, 50))))
	return nil
}

// timeCurl times curl fetching u, or returns nil when curl is not
// installed.
func (b *bench) timeCurl(ctx context.Context, u string) ([]time.Duration, error) {
	bin, err := exec.LookPath("curl")
	if err != nil {
		b.log.Warn("curl not found: the CLI is not compared with it")
		return nil, nil
	}
	var ds []time.Duration
	for i := 0; i <= b.o.runs; i++ {
		cmd := exec.CommandContext(ctx, bin, "-sf", "-o", "/dev/null", "-H", "Authorization: Bearer "+b.token, u)
		t0 := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("curl %s: %w: %s", u, err, out)
		}
		if i > 0 {
			ds = append(ds, time.Since(t0))
		}
	}
	return ds, nil
}

func row(label string, ds []time.Duration) string {
	return fmt.Sprintf("| %s | %.1f ms | %.1f ms | %d |", label, ms(pct(ds, 50)), ms(pct(ds, 95)), len(ds))
}

func verdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**missed**"
}

// ---- TUI start ----

// tuiStart times the calls the TUI makes when it opens (tui/model.go
// Init: stats and projects, and the first page of 100 customers, all at
// once), each alone and together as the TUI sends them, on fresh
// connections.
func (b *bench) tuiStart(ctx context.Context) error {
	urls := []string{b.base + "/v1/stats", b.base + "/v1/projects", b.customersURL(url.Values{}, 100, "")}
	names := []string{"`GET /v1/stats`", "`GET /v1/projects`", "`GET /v1/customers?limit=100` (first page)"}
	for i, u := range urls {
		ds, err := b.timeGet(ctx, u)
		if err != nil {
			return err
		}
		b.rep.tui = append(b.rep.tui, row(names[i]+", keep-alive", ds))
	}
	var all []time.Duration
	for i := 0; i <= b.o.runs; i++ {
		hc := &http.Client{Transport: &http.Transport{}}
		var wg sync.WaitGroup
		errs := make([]error, len(urls))
		t0 := time.Now()
		for j, u := range urls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, data, err := b.do(ctx, hc, http.MethodGet, u, b.token, nil)
				if err == nil && code != http.StatusOK {
					err = fmt.Errorf("GET %s: %d %s", u, code, data)
				}
				errs[j] = err
			}()
		}
		wg.Wait()
		d := time.Since(t0)
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if i > 0 {
			all = append(all, d)
		}
	}
	b.rep.tui = append(b.rep.tui, row("the three together, concurrently, new connections (the TUI's start-up data path)", all))
	return nil
}

// tuiTmux opens the real `tinycrm tui` in a 120×40 tmux pane (a private
// tmux server) and polls the screen until the header shows the counts and
// the table is full of customers.
func (b *bench) tuiTmux(ctx context.Context) error {
	if _, err := exec.LookPath("tmux"); err != nil {
		return errors.New("no tmux on PATH")
	}
	sock := fmt.Sprintf("tinycrm-bench-%d", os.Getpid())
	tmux := func(args ...string) ([]byte, error) {
		return exec.CommandContext(ctx, "tmux", append([]string{"-L", sock}, args...)...).CombinedOutput()
	}
	if out, err := tmux("new-session", "-d", "-s", "b", "-x", "120", "-y", "40", "sleep 100000"); err != nil {
		return fmt.Errorf("tmux new-session: %w: %s", err, out)
	}
	defer tmux("kill-server")
	var cmdline strings.Builder
	cmdline.WriteString("exec env -i")
	for _, kv := range b.cliEnv() {
		if !strings.HasPrefix(kv, "TERM=") {
			cmdline.WriteString(" " + shellQuote(kv))
		}
	}
	cmdline.WriteString(" TERM=tmux-256color " + shellQuote(b.binCLI) + " tui")
	var ds []time.Duration
	runs := min(b.o.runs, 15)
	for i := 0; i <= runs; i++ {
		t0 := time.Now()
		if out, err := tmux("respawn-pane", "-k", "-t", "b", cmdline.String()); err != nil {
			return fmt.Errorf("tmux respawn-pane: %w: %s", err, out)
		}
		for {
			out, err := tmux("capture-pane", "-p", "-t", "b")
			if err != nil {
				return fmt.Errorf("tmux capture-pane: %w: %s", err, out)
			}
			screen := string(out)
			rows := 0
			for _, line := range strings.Split(screen, "\n") {
				if strings.Contains(line, "[") {
					rows++ // a customer row: only they have project badges
				}
			}
			if strings.Contains(screen, " in 2+") && rows >= 30 {
				break
			}
			if time.Since(t0) > 20*time.Second {
				return fmt.Errorf("no full screen after 20 s; screen:\n%s", screen)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if i > 0 {
			ds = append(ds, time.Since(t0))
		}
		if i == runs {
			out, _ := tmux("capture-pane", "-p", "-t", "b")
			b.rep.notes = append(b.rep.notes, "The TUI's first full screen (120×40, NO_COLOR) as tmux captured it:\n\n```\n"+strings.TrimRight(string(out), "\n")+"\n```")
		}
	}
	p50 := pct(ds, 50)
	b.rep.tui = append(b.rep.tui, row("real `tinycrm tui` in tmux 120×40: respawn to header counts + 30 customer rows on screen (polled every ~5 ms)", ds),
		fmt.Sprintf("| TUI first full screen p50 (target ≤ 500 ms) | %s | | |", verdict(p50 <= 500*time.Millisecond)))
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// ---- EXPLAIN plans via auto_explain ----

type plan struct {
	label, request string
	text           string
}

// explainPass turns auto_explain on, sends each main request once and
// copies the plans of its statements from the cluster's log.
func (b *bench) explainPass(ctx context.Context) error {
	if err := b.autoExplain(ctx, true); err != nil {
		return err
	}
	defer b.autoExplain(context.WithoutCancel(ctx), false)
	// want: a plan is kept when its statement contains one of these; max:
	// at most this many plans of one request (0: all).
	type req struct {
		label, path string
		want        []string
		max         int
	}
	// A page is one statement (its columns end with the exact mrr_total),
	// after, for a rare where-equality, the fetch of the ids it narrows to.
	page := []string{"c.mrr_total::text", "SELECT customer_id FROM memberships"}
	var reqs []req
	for _, r := range b.rep.queries {
		reqs = append(reqs, req{r.label + " — first page", strings.TrimPrefix(b.customersURL(r.q, b.o.pageSize, ""), b.base), page, 0})
		if r.deepCursor != "" && (r.kind != "sort" || r.label == "sort=last_seen") {
			reqs = append(reqs, req{fmt.Sprintf("%s — deep page (after %d rows)", r.label, r.deepDepth), strings.TrimPrefix(b.customersURL(r.q, b.o.pageSize, r.deepCursor), b.base), page, 0})
		}
	}
	reqs = append(reqs,
		req{"`GET /v1/stats`", "/v1/stats", []string{"count(*)"}, 0},
		req{"`GET /v1/projects`", "/v1/projects", []string{"FROM projects p"}, 0},
		req{"export (`GET /v1/export?format=csv`, by id): the first keyset batch of customers and its memberships; every later batch runs the same two statements", "/v1/export?format=csv",
			[]string{"FROM customers c", "FROM memberships"}, 2},
	)
	for _, r := range reqs {
		if err := ctx.Err(); err != nil {
			return err
		}
		off := fileSize(b.cluster.LogPath())
		code, data, err := b.do(ctx, &http.Client{Timeout: 10 * time.Minute}, http.MethodGet, b.base+r.path, b.token, nil)
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			b.rep.plans = append(b.rep.plans, plan{label: r.label, request: "GET " + r.path, text: fmt.Sprintf("HTTP %d %s\n(see the cluster log for the error)", code, data)})
			continue
		}
		time.Sleep(100 * time.Millisecond)
		kept := 0
		for _, p := range plansSince(b.cluster.LogPath(), off) {
			if r.max > 0 && kept == r.max {
				break
			}
			if slices.ContainsFunc(r.want, func(w string) bool { return strings.Contains(p, w) }) {
				b.rep.plans = append(b.rep.plans, plan{label: r.label, request: "GET " + r.path, text: shortLines(p)})
				kept++
			}
		}
	}
	return nil
}

// maxPlanLine is the longest plan line copied whole: a narrowed page's
// plan shows its thousands of ids in one condition.
const maxPlanLine = 400

// shortLines cuts the lines of a plan longer than maxPlanLine.
func shortLines(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if len(l) > maxPlanLine {
			cut := maxPlanLine
			for cut > 0 && !utf8.RuneStart(l[cut]) {
				cut--
			}
			lines[i] = fmt.Sprintf("%s… (%d more bytes)", l[:cut], len(l)-cut)
		}
	}
	return strings.Join(lines, "\n")
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// plansSince returns the auto_explain plans the log gained after off: each
// is a "duration: … plan:" line and its tab-indented continuation lines.
func plansSince(path string, off int64) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if fileSize(path) < off {
		off = 0 // rotated
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil
	}
	data, _ := io.ReadAll(f)
	var (
		plans []string
		cur   []string
		in    bool
	)
	flush := func() {
		if in && len(cur) > 0 {
			plans = append(plans, strings.Join(cur, "\n"))
		}
		cur, in = nil, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "\t") {
			if in {
				cur = append(cur, strings.TrimPrefix(line, "\t"))
			}
			continue
		}
		flush()
		if i := strings.Index(line, "duration: "); i >= 0 && strings.HasSuffix(strings.TrimSpace(line), "plan:") {
			in = true
			cur = append(cur, "-- "+strings.TrimSpace(line[i:]))
		}
	}
	flush()
	return plans
}

// ---- report ----

func (b *bench) markdown() string {
	var w strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&w, format, a...) }
	p("Run of %s, %.0f min in all; command: `go run ./bench/query %s`.\n\n", b.rep.started.UTC().Format("2006-01-02 15:04 UTC"),
		time.Since(b.rep.started).Minutes(), strings.Join(os.Args[1:], " "))
	p("### Machine\n\n| | |\n|---|---|\n%s\n", strings.Join(b.rep.machine, "\n"))
	p("| load average (1, 5, 15 min) | %s |\n\n", strings.Join(b.rep.loadAvg, "; "))
	p("### Data\n\n| | |\n|---|---|\n%s\n%s\n\n", strings.Join(b.rep.data, "\n"), strings.Join(b.rep.load, "\n"))

	p("### Customer list: first page and the page %d pages deep\n\n", b.o.deepPages)
	p("`GET /v1/customers?…&limit=%d` from one keep-alive client, %d timed runs after one warm-up (fewer when a query ran past %s); times are the client's, request to last body byte. The deep page is page %d (after %d rows): its cursor was reached once by walking `next_cursor` (500-row pages), then that page was fetched repeatedly; when fewer rows match, the deepest page the walk reached (within 500 rows of the end) is timed instead. Target: p50 ≤ 30 ms, p95 ≤ 100 ms, first and deep.\n\n",
		b.o.pageSize, b.o.runs, b.o.queryLimit, b.o.deepPages+1, b.o.pageSize*b.o.deepPages)
	p("| query | API parameters | rows on page 1 | page 1 p50 | p95 | deep page: rows before it | p50 | p95 | target |\n|---|---|---|---|---|---|---|---|---|\n")
	missed := 0
	for _, r := range b.rep.queries {
		if r.err != "" {
			missed++
			msg := r.err
			if i := strings.Index(msg, "/v1/customers?"); i >= 0 {
				msg = "GET " + msg[i:] // no host: it changes every run
			}
			p("| %s | `%s` | error: %s | | | | | | %s |\n", r.label, decode(r.q), strings.ReplaceAll(msg, "|", "\\|"), verdict(false))
			continue
		}
		ok := pct(r.first, 50) <= 30*time.Millisecond && pct(r.first, 95) <= 100*time.Millisecond
		depth, deep1, deep2 := "—", "—", "—"
		if len(r.deep) > 0 {
			depth = strconv.Itoa(r.deepDepth)
			if r.deepDepth < b.o.pageSize*b.o.deepPages {
				depth += " (last page)"
			}
			deep1, deep2 = fmt.Sprintf("%.1f ms", ms(pct(r.deep, 50))), fmt.Sprintf("%.1f ms", ms(pct(r.deep, 95)))
			ok = ok && pct(r.deep, 50) <= 30*time.Millisecond && pct(r.deep, 95) <= 100*time.Millisecond
		}
		if r.deepNote != "" {
			depth += "; " + r.deepNote
		}
		if !ok {
			missed++
		}
		runs := ""
		if len(r.first) < b.o.runs || (len(r.deep) > 0 && len(r.deep) < b.o.runs) {
			runs = fmt.Sprintf(" (runs: %d, %d)", len(r.first), len(r.deep))
		}
		p("| %s%s | `%s` | %d | %.1f ms | %.1f ms | %s | %s | %s | %s |\n", r.label, runs, decode(r.q), r.firstRows,
			ms(pct(r.first, 50)), ms(pct(r.first, 95)), depth, deep1, deep2, verdict(ok))
	}
	p("\n%d of %d queries meet the target on every page measured.\n\n", len(b.rep.queries)-missed, len(b.rep.queries))

	if len(b.rep.exports) > 0 {
		p("### Export\n\n`GET /v1/export?format=…` of every customer, one request, body read to the end by the client; the daemon's VmRSS sampled every 100 ms from /proc. Target: ≥ 100,000 rows/s with flat daemon memory, for the export as a user runs it (no `sort`: by id). `sort=last_seen`, the list's order, is timed for comparison.\n\n")
		p("| format | order | rows | bytes | time | rows/s | first byte | daemon RSS before | RSS min–max during (samples) | target |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, e := range b.rep.exports {
			rate := float64(e.rows) / e.elapsed.Seconds()
			order, v := "id (default)", verdict(rate >= 100_000)
			if e.sort != "" {
				order, v = "`sort="+e.sort+"`", "(comparison)"
			}
			p("| %s | %s | %d | %.0f MB | %.1f s | %.0f | %.0f ms | %.0f MB | %.0f–%.0f MB (%d) | %s |\n", e.format, order, e.rows, float64(e.bytes)/1e6, e.elapsed.Seconds(), rate,
				ms(e.firstByte), mb(e.rssBefore), mb(e.rssMin), mb(e.rssMax), e.samples, v)
		}
		p("\n")
	}
	if len(b.rep.cli) > 0 {
		p("### CLI end to end against raw HTTP\n\nThe real `tinycrm` binary run %d times (after one warm-up) with `TINYCRM_URL`/`TINYCRM_TOKEN`, output to a pipe. Target: within 2× the same page over raw HTTP.\n\n", b.o.runs)
		p("| measure | p50 | p95 | runs |\n|---|---|---|---|\n%s\n\n", strings.Join(b.rep.cli, "\n"))
	}
	if len(b.rep.tui) > 0 {
		p("### TUI first screen\n\nThe TUI starts with `GET /v1/stats`, `GET /v1/projects` and the first page of 100 customers, sent at once (tui/model.go `Init`). Target: first full screen ≤ 500 ms.\n\n")
		p("| measure | p50 | p95 | runs |\n|---|---|---|---|\n%s\n\n", strings.Join(b.rep.tui, "\n"))
	}
	for _, n := range b.rep.notes {
		p("%s\n\n", n)
	}
	if len(b.rep.plans) > 0 {
		p("### Plans (EXPLAIN ANALYZE, BUFFERS via auto_explain)\n\nEach request sent once more with `auto_explain.log_min_duration = 0`, `log_analyze`, `log_buffers` on; the plans are copied from the cluster log. Statements are pgx prepared statements, so after five runs on a connection PostgreSQL may use a generic plan: a `$n` in a condition shows one. Times inside a plan include auto_explain's timing overhead.\n\n")
		for _, pl := range b.rep.plans {
			p("<details><summary>%s</summary>\n\n`%s`\n\n```\n%s\n```\n</details>\n\n", pl.label, pl.request, pl.text)
		}
	}
	return w.String()
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

func decode(q url.Values) string {
	s, _ := url.QueryUnescape(q.Encode())
	if s == "" {
		return ""
	}
	return s
}

const (
	beginMark = "<!-- BEGIN GENERATED by go run ./bench/query -doc: do not edit by hand -->"
	endMark   = "<!-- END GENERATED -->"
)

// writeDoc replaces the text between the markers of path with text, or
// writes a new file holding only the markers and text.
func writeDoc(path, text string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	s := string(old)
	i, j := strings.Index(s, beginMark), strings.Index(s, endMark)
	var out string
	if i >= 0 && j > i {
		out = s[:i+len(beginMark)] + "\n\n" + text + "\n" + s[j:]
	} else {
		out = s + "\n" + beginMark + "\n\n" + text + "\n" + endMark + "\n"
	}
	return os.WriteFile(path, []byte(out), 0o644)
}
