package main

// The tests run the real tinycrm binary (built once per test run, with
// the race detector when the tests have it) against a real daemon started
// in-process with daemon.Start on its own database, in piped mode and under
// a real pseudo-terminal (util-linux script).

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/daemon"
	"tinycrm.dev/tinycrm/pgtest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

func TestMain(m *testing.M) { pgtest.Main(m) }

// buildBinary builds tinycrm once, next to the test binary (go test
// removes that directory afterwards), else in a temporary directory.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir := ""
	if exe, err := os.Executable(); err == nil {
		d := filepath.Join(filepath.Dir(exe), "tinycrm-bin")
		if os.MkdirAll(d, 0o755) == nil {
			dir = d
		}
	}
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "tinycrm-bin-"); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(dir, "tinycrm")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v: %s", err, out)
	}
	return bin, nil
})

func binary(t testing.TB) string {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// env is one test's daemon and a home for the CLI.
type env struct {
	t      testing.TB
	daemon *daemon.Daemon
	db     string // the daemon's database
	url    string
	token  string
	home   string
	admin  *client.Client
	now    time.Time // when the test started, for relative times
}

// newEnv starts a daemon on a fresh database.
func newEnv(t testing.TB) *env {
	t.Helper()
	dataDir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := pgtest.NewDB(t)
	d, err := daemon.Start(ctx, daemon.Config{Listen: "127.0.0.1:0", DataDir: dataDir, DatabaseURL: db})
	if err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Errorf("shut down daemon: %v", err)
		}
	})
	token, err := d.AdminToken()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, daemon: d, db: db, url: d.URL, token: token, home: t.TempDir(), now: time.Now()}
	e.admin = client.New(token, client.WithBaseURL(d.URL))
	binary(t)
	return e
}

// result is what one run of the binary gave.
type result struct {
	stdout, stderr string
	code           int
}

// runOpts tweak a run.
type runOpts struct {
	stdin string
	env   []string // extra KEY=VALUE, overriding the defaults
	noEnv bool     // leave out TINYCRM_URL and TINYCRM_TOKEN
	cols  int      // tty: the terminal's width (default 100)
}

// baseEnv is the child's environment: nothing from the test's own
// environment but PATH and TMPDIR, so the developer's NO_COLOR or config
// cannot change the output.
func (e *env) baseEnv(o runOpts) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + e.home,
		"XDG_CONFIG_HOME=" + filepath.Join(e.home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(e.home, ".local", "share"),
		"TERM=xterm-256color",
		"COLORTERM=truecolor",
		"LANG=C.UTF-8",
	}
	if tmp := os.Getenv("TMPDIR"); tmp != "" {
		env = append(env, "TMPDIR="+tmp)
	}
	if !o.noEnv {
		env = append(env, "TINYCRM_URL="+e.url, "TINYCRM_TOKEN="+e.token)
	}
	return append(env, o.env...)
}

// run runs tinycrm with stdout and stderr piped.
func (e *env) run(args ...string) result {
	e.t.Helper()
	return e.runWith(runOpts{}, args...)
}

// command returns the command that runs tinycrm piped, with the test's
// environment.
func (e *env) command(args ...string) *exec.Cmd {
	cmd := exec.Command(binary(e.t), args...)
	cmd.Env = e.baseEnv(runOpts{})
	cmd.Dir = e.home
	return cmd
}

func (e *env) runWith(o runOpts, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(e.t), args...)
	cmd.Env = e.baseEnv(o)
	cmd.Dir = e.home
	cmd.Stdin = strings.NewReader(o.stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run tinycrm %v: %v", args, err)
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// tty runs tinycrm under a pseudo-terminal (stdin, stdout and stderr are
// the terminal, so their output is merged in stdout), 100 columns wide
// unless o.cols says otherwise.
func (e *env) tty(o runOpts, args ...string) result {
	e.t.Helper()
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	cols := 100
	if o.cols > 0 {
		cols = o.cols
	}
	line := "stty cols " + strconv.Itoa(cols) + " rows 40 2>/dev/null; exec " + shellQuote(binary(e.t)) + " " + strings.Join(quoted, " ")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "script", "-qec", line, "/dev/null")
	cmd.Env = append(e.baseEnv(o), "SHELL=/bin/sh")
	cmd.Dir = e.home
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("script tinycrm %v: %v", args, err)
	}
	return result{stdout: strings.ReplaceAll(out.String(), "\r\n", "\n"), stderr: errOut.String(), code: code}
}

// ok fails the test unless the run exited 0.
func (r result) ok(t testing.TB) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	return r
}

// project creates a project with a fixed colour and returns its key.
func (e *env) project(name, slug, color string) string {
	e.t.Helper()
	p, err := e.admin.CreateProject(context.Background(), client.NewProject{Name: name, Slug: slug, Color: color})
	if err != nil {
		e.t.Fatalf("create project %s: %v", name, err)
	}
	return p.Key
}

// identify sends identifies with a project key, in order.
func (e *env) identify(key string, ids ...client.Identify) {
	e.t.Helper()
	c := client.New(key, client.WithBaseURL(e.url))
	for _, id := range ids {
		if _, err := c.Identify(context.Background(), id); err != nil {
			e.t.Fatalf("identify %s: %v", id.Email, err)
		}
	}
}

// bulk identifies n people user00000@example.com… in a project and
// returns their emails.
func (e *env) bulk(key string, n int) []string {
	e.t.Helper()
	var emails []string
	var items []client.Identify
	for i := range n {
		email := fmt.Sprintf("user%05d@example.com", i)
		emails = append(emails, email)
		items = append(items, client.Identify{Email: email, Status: "free", Timestamp: e.ago(time.Duration(i) * time.Minute)})
	}
	res, err := client.New(key, client.WithBaseURL(e.url)).Batch(context.Background(), items)
	if err != nil || res.Accepted != n {
		e.t.Fatalf("bulk: %+v, %v", res, err)
	}
	return emails
}

// exec runs SQL on the daemon's database, for fixtures the API cannot
// make (such as activity days ago) and for checks of the stored state.
func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, e.db)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

// count runs a counting query on the daemon's database.
func (e *env) count(sql string, args ...any) int64 {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, e.db)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int64
	if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// waitActivity waits until the project list counts want identifies in the
// last 24 h in total: the daemon flushes these counters every few seconds.
func (e *env) waitActivity(want int64) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ps, err := e.admin.Projects(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		var n int64
		for _, p := range ps {
			n += p.Identifies24h
		}
		if n >= want {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("projects count %d identifies in 24h after 20s, want %d", n, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ago is the test's start minus d.
func (e *env) ago(d time.Duration) time.Time { return e.now.Add(-d) }

const day = 24 * time.Hour

// seed loads the crafted workspace most tests use: SPEC §10's Alice in
// three projects and four others, with times relative to now.
//
//	alice  A paid pro 9 · B free · C trialing starter        (now)
//	bob    A paid pro 19.5 (3d ago) · C free (40d ago)
//	carol  B paid team 29 (5h ago)
//	dave   A churned (20d ago) · B trialing (2d ago)
//	erin   C free, no name, source/seats/beta (10d ago)
func (e *env) seed() {
	e.t.Helper()
	a := e.project("App A", "app-a", "#e69f00")
	b := e.project("App B", "app-b", "#56b4e9")
	c := e.project("App C", "app-c", "#009e73")
	e.identify(a, client.Identify{Email: "bob@example.com", Name: "Bob Stone", Status: "paid",
		Params: map[string]any{"plan": "pro", "mrr": 19.5}, Timestamp: e.ago(3 * day)})
	e.identify(c, client.Identify{Email: "bob@example.com", Status: "free", Timestamp: e.ago(40 * day)})
	e.identify(b, client.Identify{Email: "carol@example.com", Name: "Carol Diaz", Status: "paid",
		Params: map[string]any{"plan": "team", "mrr": 29}, Timestamp: e.ago(5 * time.Hour)})
	e.identify(a, client.Identify{Email: "dave@example.com", Name: "Dave Kim", Status: "churned", Timestamp: e.ago(20 * day)})
	e.identify(b, client.Identify{Email: "dave@example.com", Status: "trialing",
		Params: map[string]any{"trial_ends": "2026-12-24"}, Timestamp: e.ago(2 * day)})
	e.identify(c, client.Identify{Email: "erin@example.com", Status: "free",
		Params: map[string]any{"source": "twitter", "seats": 3, "beta": true}, Timestamp: e.ago(10 * day)})
	// SPEC §10, exactly.
	e.identify(a, client.Identify{Email: "alice@example.com", Name: "Alice Chen", Status: "paid", Params: map[string]any{"plan": "pro", "mrr": 9}})
	e.identify(b, client.Identify{Email: "Alice@Example.com ", Status: "free", Params: map[string]any{"source": "producthunt", "referral": "friend42"}})
	e.identify(c, client.Identify{Email: "alice@example.com", Status: "trialing", Params: map[string]any{"trial_ends": "2026-03-29", "plan": "starter"}})
}

var rfc3339RE = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`)

// mask makes output stable across runs: every RFC 3339 time becomes its
// age at the test's start, rounded to the hour ("<now-72h>"), and secrets
// become <key>.
func (e *env) mask(s string) string {
	s = rfc3339RE.ReplaceAllStringFunc(s, func(ts string) string {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return ts
		}
		h := int(e.now.Sub(t).Round(time.Hour) / time.Hour)
		if h < 0 && h > -2 {
			h = 0
		}
		return "<now-" + strconv.Itoa(h) + "h>"
	})
	s = regexp.MustCompile(`tcrm_(pk|at)_[A-Za-z0-9]+`).ReplaceAllString(s, "<$1 key>")
	return s
}

// golden compares got with testdata/NAME.golden, or rewrites it with
// -update.
func golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

// emails returns the first field of each tab-separated line.
func emails(stdout string) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if line == "" {
			continue
		}
		email, _, _ := strings.Cut(line, "\t")
		out = append(out, email)
	}
	return out
}
