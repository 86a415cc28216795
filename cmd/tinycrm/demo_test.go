package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The demo end to end, piped: a managed PostgreSQL in a temporary data dir,
// sample data through the ingest API, the table and the insights; then
// nothing left behind.
func TestDemo(t *testing.T) {
	t.Parallel()
	e := &env{t: t, home: t.TempDir(), now: time.Now()}
	// The demo's data dir goes under TMPDIR; as root its PostgreSQL user
	// must be able to enter it.
	tmp, err := os.MkdirTemp("", "tinycrm-demo-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	if err := os.Chmod(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := e.runWith(runOpts{noEnv: true, env: []string{"TMPDIR=" + tmp}}, "demo")
	t.Logf("demo took %v", time.Since(start).Round(time.Millisecond))
	if r.code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var alice string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "alice@example.com\t") {
			alice = line
			break
		}
	}
	if !strings.Contains(alice, "\tAlice Chen\t[Inkwell] [Linkpage] [Metricly]\tpaid,free,trialing\t9\t") {
		t.Errorf("alice's row %q\n%s", alice, r.stdout)
	}
	for _, want := range []string{"== Customers, most recently active first (15 of 301 · 3 projects · ", "== Upsell leads", "== Churn risk", "tinycrm demo --keep"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("no %q in:\n%s", want, r.stdout)
		}
	}
	// Each insight section lists people.
	up := r.stdout[strings.Index(r.stdout, "== Upsell"):strings.Index(r.stdout, "== Churn")]
	if strings.Count(up, "@") < 5 {
		t.Errorf("few upsell leads:\n%s", up)
	}
	churn := r.stdout[strings.Index(r.stdout, "== Churn"):]
	if strings.Count(churn, "@") < 5 {
		t.Errorf("few churn risks:\n%s", churn)
	}
	if r.stderr != "" {
		t.Errorf("stderr when piped: %q", r.stderr)
	}
	// Nothing left: no data dir, no PostgreSQL process on it.
	left, _ := filepath.Glob(filepath.Join(tmp, "tinycrm-demo-*"))
	if len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	if pids := processesMentioning(tmp); len(pids) > 0 {
		t.Errorf("processes still running on %s: %v", tmp, pids)
	}

	// A reader that goes away early (| head) leaves nothing behind either.
	cmd := exec.Command("sh", "-c", shellQuote(binary(t))+" demo --customers 30 | head -2")
	cmd.Env = e.baseEnv(runOpts{noEnv: true, env: []string{"TMPDIR=" + tmp}})
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "== Customers") {
		t.Errorf("demo | head: %v\n%s", err, out)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "tinycrm-demo-*")); len(left) != 0 {
		t.Errorf("demo | head left behind: %v", left)
	}
	if pids := processesMentioning(tmp); len(pids) > 0 {
		t.Errorf("demo | head: processes still running on %s: %v", tmp, pids)
	}
}

// processesMentioning lists the processes whose command line contains s.
func processesMentioning(s string) []string {
	var out []string
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, path := range cmdlines {
		b, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(b), s) {
			out = append(out, filepath.Base(filepath.Dir(path))+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}
