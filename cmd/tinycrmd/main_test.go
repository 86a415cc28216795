package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"tinycrm.dev/tinycrm/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// binary builds tinycrmd once per test run into a directory every user can
// read, so it can also run as an unprivileged user.
var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "tinycrmd-bin-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "tinycrmd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v: %s", err, out)
	}
	return bin, nil
})

func binary(t *testing.T) string {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// publicTempDir is a temp dir the managed cluster's user can enter as root.
func publicTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tinycrmd-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// proc is a running tinycrmd.
type proc struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
	done chan error
}

func start(t *testing.T, cred *syscall.Credential, env []string, args ...string) *proc {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary(t), append([]string{"--listen", addr, "--log-format", "json"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, url: "http://" + addr, logs: logs, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.stop(t) })
	deadline := time.Now().Add(90 * time.Second)
	for {
		res, err := http.Get(p.url + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("tinycrmd exited early: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("tinycrmd not ready in time:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Errorf("tinycrmd exit: %v\n%s", err, p.logs.String())
		}
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Errorf("tinycrmd did not stop on SIGTERM:\n%s", p.logs.String())
	}
}

// syncBuffer collects a child's stderr while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(b)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func post(t *testing.T, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// TestManagedModeLifecycle starts tinycrmd with no database URL: it must
// create a cluster and an admin token (0600), serve the reference ingest,
// stop cleanly on SIGTERM (taking PostgreSQL down with it), and on the next
// start reuse the cluster, the data and the token.
func TestManagedModeLifecycle(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(publicTempDir(t), "data")
	p := start(t, nil, nil, "--data-dir", dataDir)
	tokenFile := filepath.Join(dataDir, "admin.token")
	info, err := os.Stat(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("admin.token mode %v, want 0600", info.Mode().Perm())
	}
	raw, _ := os.ReadFile(tokenFile)
	token := strings.TrimSpace(string(raw))
	if !strings.Contains(p.logs.String(), tokenFile) {
		t.Fatalf("first start does not say where the token is:\n%s", p.logs.String())
	}
	if logs := p.logs.String(); !strings.Contains(logs, `"took_ms":`) || strings.Contains(logs, `"took":`) {
		t.Fatalf("JSON logs should give durations in milliseconds (took_ms):\n%s", logs)
	}
	status, project := post(t, p.url+"/v1/projects", token, `{"name":"App A"}`)
	if status != http.StatusCreated {
		t.Fatalf("create project: %d %v", status, project)
	}
	if status, body := post(t, p.url+"/v1/identify", project["key"].(string), `{"email":"alice@example.com","name":"Alice Chen"}`); status != 200 {
		t.Fatalf("identify: %d %v", status, body)
	}
	p.stop(t)
	if out, _ := exec.Command("pgrep", "-f", "postgres -D "+dataDir).Output(); len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("PostgreSQL still running after tinycrmd stopped: pids %s", out)
	}

	p2 := start(t, nil, nil, "--data-dir", dataDir)
	raw2, _ := os.ReadFile(tokenFile)
	if string(raw2) != string(raw) {
		t.Fatal("second start replaced the admin token")
	}
	req, _ := http.NewRequest("GET", p2.url+"/v1/customers/alice@example.com", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("customer after restart: %d", res.StatusCode)
	}
}

// A lost admin token is replaced by a start with --new-admin-token: the
// new one works, the old one no longer does, and the data stays.
func TestNewAdminToken(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(publicTempDir(t), "data")
	tokenFile := filepath.Join(dataDir, "admin.token")
	p := start(t, nil, nil, "--data-dir", dataDir)
	old, _ := os.ReadFile(tokenFile)
	if status, _ := post(t, p.url+"/v1/projects", strings.TrimSpace(string(old)), `{"name":"App A"}`); status != http.StatusCreated {
		t.Fatalf("create project: %d", status)
	}
	p.stop(t)
	if err := os.Remove(tokenFile); err != nil {
		t.Fatal(err)
	}
	p2 := start(t, nil, nil, "--data-dir", dataDir, "--new-admin-token")
	raw, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatalf("no new token file: %v\n%s", err, p2.logs.String())
	}
	if info, _ := os.Stat(tokenFile); info.Mode().Perm() != 0o600 {
		t.Errorf("new admin.token mode %v, want 0600", info.Mode().Perm())
	}
	get := func(token string) int {
		req, _ := http.NewRequest("GET", p2.url+"/v1/projects/app-a", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if s := get(strings.TrimSpace(string(raw))); s != http.StatusOK {
		t.Errorf("new token: %d, want 200 (and the project kept)", s)
	}
	if s := get(strings.TrimSpace(string(old))); s != http.StatusUnauthorized {
		t.Errorf("old token: %d, want 401", s)
	}
}

// SIGHUP, as when the terminal tinycrmd runs in is closed, stops it
// cleanly: exit 0, its PostgreSQL stopped with a fast shutdown.
func TestHangUpStopsCleanly(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(publicTempDir(t), "data")
	p := start(t, nil, nil, "--data-dir", dataDir)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("tinycrmd exit after SIGHUP: %v\n%s", err, p.logs.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("tinycrmd still running 60 s after SIGHUP:\n%s", p.logs.String())
	}
	if !strings.Contains(p.logs.String(), `"mode":"fast"`) {
		t.Fatalf("PostgreSQL not stopped with a fast shutdown:\n%s", p.logs.String())
	}
}

// TestManagedModeAsUnprivilegedUser runs tinycrmd as "nobody" (when the test
// runs as root, as CI does): managed mode must work for a normal user too.
func TestManagedModeAsUnprivilegedUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		// Already unprivileged: TestManagedModeLifecycle covers this case.
		t.Log("running as a normal user; covered by TestManagedModeLifecycle")
		return
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	home := publicTempDir(t)
	if err := os.Chown(home, uid, gid); err != nil {
		t.Fatal(err)
	}
	p := start(t, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, []string{"HOME=" + home, "XDG_DATA_HOME="})
	token, err := os.ReadFile(filepath.Join(home, ".local", "share", "tinycrm", "admin.token"))
	if err != nil {
		t.Fatalf("default data dir for a normal user: %v\n%s", err, p.logs.String())
	}
	if status, _ := post(t, p.url+"/v1/projects", strings.TrimSpace(string(token)), `{"name":"App"}`); status != http.StatusCreated {
		t.Fatalf("create project as nobody's daemon: %d", status)
	}
}

// TestTwoDaemonsStartingAtOnce points two daemons at one fresh database at
// the same moment: migrations must run once and one workspace must exist.
func TestTwoDaemonsStartingAtOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.NewEmptyDB(t)
	dir := publicTempDir(t)
	var wg sync.WaitGroup
	procs := make([]*proc, 2)
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			procs[i] = start(t, nil, nil, "--database-url", url, "--data-dir", filepath.Join(dir, fmt.Sprint(i)))
		}()
	}
	wg.Wait()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var workspaces, tokens int
	if err := conn.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM workspaces), (SELECT count(*) FROM admin_tokens)").Scan(&workspaces, &tokens); err != nil {
		t.Fatal(err)
	}
	if workspaces != 1 || tokens != 1 {
		t.Fatalf("%d workspaces and %d admin tokens, want 1 and 1", workspaces, tokens)
	}
	files := 0
	for i := range procs {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprint(i), "admin.token")); err == nil {
			files++
		}
	}
	if files != 1 {
		t.Fatalf("%d admin.token files written, want exactly 1 (by the daemon that created the workspace)", files)
	}
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := parseConfig(nil, env(map[string]string{"HOME": "/home/u"}), 1000, io.Discard)
	if err != nil || c.Listen != "127.0.0.1:7070" || c.RateLimit != 100 || c.DataDir != "/home/u/.local/share/tinycrm" || c.LogLevel != slog.LevelInfo {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, err = parseConfig([]string{"--rate-limit", "0"}, env(map[string]string{"TINYCRM_RATE_LIMIT": "5", "XDG_DATA_HOME": "/x", "TINYCRM_LISTEN": ":9"}), 0, io.Discard)
	if err != nil || c.RateLimit != 0 || c.DataDir != "/x/tinycrm" || c.Listen != ":9" {
		t.Fatalf("flags over env: %+v %v", c, err)
	}
	if c, _ := parseConfig(nil, env(nil), 0, io.Discard); c.DataDir != "/var/lib/tinycrm" {
		t.Fatalf("root default data dir %q", c.DataDir)
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--rate-limit", "fast"}, nil, "--rate-limit"},
		{nil, map[string]string{"TINYCRM_RATE_LIMIT": "-1"}, "TINYCRM_RATE_LIMIT"},
		{[]string{"--rate-limit", "NaN"}, nil, "--rate-limit"},
		{[]string{"--rate-limit", "Inf"}, nil, "--rate-limit"},
		{[]string{"--rate-limit", "1e300"}, nil, "--rate-limit"},
		{[]string{"--log-level", "loud"}, nil, "--log-level"},
		{[]string{"--log-format", "xml"}, nil, "--log-format"},
		{[]string{"--listen", "7070"}, nil, "--listen"},
		{[]string{"--database-url", "mysql://x"}, nil, "--database-url"},
		{[]string{"extra"}, nil, "unexpected argument"},
		{[]string{"--nope"}, nil, "flag provided but not defined"},
	} {
		_, err := parseConfig(tc.args, env(tc.env), 0, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseConfig(%v, %v) = %v, want an error naming %q", tc.args, tc.env, err, tc.want)
		}
	}
}
