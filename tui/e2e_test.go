package tui_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/daemon"
	"tinycrm.dev/tinycrm/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestEndToEnd runs the real tinycrm binary in a real terminal (tmux)
// against a real daemon: it filters, opens a customer, goes back and
// quits, reading the screen as a person would.
func TestEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("the end-to-end test needs tmux on PATH (apt-get install tmux)")
	}
	ctx := t.Context()
	dir := t.TempDir()

	bin := buildTinycrm(ctx, t, dir)

	d, err := daemon.Start(ctx, daemon.Config{Listen: "127.0.0.1:0", DatabaseURL: pgtest.NewEmptyDB(t), DataDir: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Shutdown(context.WithoutCancel(ctx)) })
	token, err := d.AdminToken()
	if err != nil {
		t.Fatal(err)
	}
	seed(ctx, t, d.URL, token)

	// A shell runs tinycrm and writes its exit status to a file: tmux
	// notices a dead pane only some time after the process ends.
	status := filepath.Join(dir, "status")
	tm := startTmux(t, dir, 100, 30, map[string]string{
		"TINYCRM_URL": d.URL, "TINYCRM_TOKEN": token,
		"HOME": dir, "XDG_CONFIG_HOME": filepath.Join(dir, "config"), "TERM": "xterm-256color",
	}, "sh", "-c", `"$0" tui; echo $? > "$1"`, bin, status)

	screen := tm.waitFor("the list", `alice@example\.com`, `3 customers · 3 projects · 2 in 2\+`)
	if !strings.Contains(screen, "bob@example.com") || !strings.Contains(screen, "carol@example.com") {
		t.Fatalf("not every customer is listed:\n%s", screen)
	}

	tm.send("/")
	tm.send("-l", "alice")
	screen = tm.waitFor("the live search", `search alice`, `row 1 of 1`)
	if strings.Contains(screen, "bob@") {
		t.Fatalf("the search did not filter:\n%s", screen)
	}
	tm.send("Enter")
	tm.send("m")
	tm.waitFor("the 2+ toggle", `filter: 2\+ projects · "alice"`, `alice@example\.com`)

	tm.send("Enter")
	screen = tm.waitFor("the detail view", `Timeline`, `plan=pro`, `trial_ends=2026-03-29`)
	for _, s := range []string{"App A", "App B", "App C", "paid", "free", "trialing", "referral=friend42"} {
		if !strings.Contains(screen, s) {
			t.Errorf("the detail does not show %q:\n%s", s, screen)
		}
	}
	tm.send("Escape")
	tm.waitFor("the list again", `EMAIL`, `alice@example\.com`)

	tm.send("q")
	tm.waitExit(status)
}

// buildTinycrm builds the real tinycrm binary.
func buildTinycrm(ctx context.Context, t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "tinycrm")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "tinycrm.dev/tinycrm/cmd/tinycrm").CombinedOutput(); err != nil {
		t.Fatalf("build tinycrm: %v\n%s", err, out)
	}
	if out, err := exec.CommandContext(ctx, bin, "tui", "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "tinycrm tui [filters]") {
		t.Fatalf("tinycrm has no tui command (cmd/tinycrm/main.go must call newRootCmd(app, tuiExtension)): %v\n%s", err, out)
	}
	return bin
}

// seed creates the three projects of SPEC §10, identifies Alice in each
// (as each app would, with its own key) and Bob and Carol in one or two.
func seed(ctx context.Context, t *testing.T, url, token string) {
	t.Helper()
	admin := client.New(token, client.WithBaseURL(url))
	keys := map[string]string{}
	for _, name := range []string{"App A", "App B", "App C"} {
		p, err := admin.CreateProject(ctx, client.NewProject{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		keys[name] = p.Key
	}
	calls := []struct {
		app string
		id  client.Identify
	}{
		{"App A", client.Identify{Email: "alice@example.com", Name: "Alice Chen", Status: "paid", Params: map[string]any{"plan": "pro", "mrr": 9}}},
		{"App B", client.Identify{Email: "Alice@Example.com ", Status: "free", Params: map[string]any{"source": "producthunt", "referral": "friend42"}}},
		{"App C", client.Identify{Email: "alice@example.com", Status: "trialing", Params: map[string]any{"trial_ends": "2026-03-29", "plan": "starter"}}},
		{"App A", client.Identify{Email: "bob@example.com", Name: "Bob Stone", Status: "free"}},
		{"App B", client.Identify{Email: "bob@example.com", Status: "paid", Params: map[string]any{"mrr": 19}}},
		{"App C", client.Identify{Email: "carol@example.com", Name: "Carol Diaz", Status: "churned"}},
	}
	for _, c := range calls {
		if _, err := client.New(keys[c.app], client.WithBaseURL(url)).Identify(ctx, c.id); err != nil {
			t.Fatal(err)
		}
	}
}

// tmux is one program running in a private tmux server.
type tmux struct {
	t      *testing.T
	socket string
}

func startTmux(t *testing.T, dir string, w, h int, env map[string]string, argv ...string) *tmux {
	t.Helper()
	tm := &tmux{t: t, socket: filepath.Join(dir, "tmux.sock")}
	// remain-on-exit keeps the last screen for the failure messages.
	args := []string{"start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";",
		"new-session", "-d", "-s", "e2e", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h)}
	for k, v := range env {
		args = append(args, "-e", k+"="+v)
	}
	args = append(args, argv...)
	tm.run(args...)
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", tm.socket, "kill-server").Run() })
	return tm
}

func (tm *tmux) run(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", tm.socket, "-f", os.DevNull}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// send types keys: tmux key names, or literal text after "-l".
func (tm *tmux) send(keys ...string) { tm.run(append([]string{"send-keys", "-t", "e2e"}, keys...)...) }

func (tm *tmux) capture() string { return tm.run("capture-pane", "-p", "-t", "e2e") }

// waitFor polls the screen until every pattern matches, and returns it.
func (tm *tmux) waitFor(what string, patterns ...string) string {
	tm.t.Helper()
	deadline := time.Now().Add(30 * time.Second) // generous: CI machines are busy
	for {
		screen := tm.capture()
		ok := true
		for _, p := range patterns {
			if !regexp.MustCompile(p).MatchString(screen) {
				ok = false
				break
			}
		}
		if ok {
			return screen
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out waiting for %s (%q); the screen:\n%s", what, patterns, screen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitExit waits for the program to end and checks it exited with 0, as
// the wrapping shell wrote it to the status file.
func (tm *tmux) waitExit(status string) {
	tm.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(status)
		if err == nil && strings.HasSuffix(string(b), "\n") {
			if code := strings.TrimSpace(string(b)); code != "0" {
				tm.t.Fatalf("the program exited with status %s; the screen:\n%s", code, tm.capture())
			}
			return
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the program did not quit; the screen:\n%s", tm.capture())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
