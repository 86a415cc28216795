package main

import (
	"bufio"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed()

	r := e.run("export", "--format", "csv", "--multi-project").ok(t)
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(recs) != 4 || strings.Join(recs[0], ",") != "id,email,name,first_seen,last_seen,project_count,mrr_total,projects,statuses" {
		t.Fatalf("csv: %v %v", recs, err)
	}
	golden(t, "export_csv", e.mask(r.stdout))

	r = e.run("export", "--format", "jsonl", "--where", "mrr>=9", "--sort", "email").ok(t)
	if got := strings.Count(r.stdout, "\n"); got != 3 || !strings.HasPrefix(r.stdout, `{"id":`) || !strings.Contains(r.stdout, `"email":"alice@example.com"`) {
		t.Errorf("jsonl:\n%s", r.stdout)
	}

	// -o writes the file whole, and infers the format from its name.
	r = e.run("export", "-o", "out.jsonl", "--project", "app-b").ok(t)
	if r.stdout != "" {
		t.Errorf("stdout with -o: %q", r.stdout)
	}
	b, err := os.ReadFile(filepath.Join(e.home, "out.jsonl"))
	if err != nil || strings.Count(string(b), "\n") != 3 {
		t.Errorf("out.jsonl: %q %v", b, err)
	}
	// On a terminal, -o shows a summary.
	r = e.tty(runOpts{env: []string{"NO_COLOR=1"}}, "export", "-o", "all.csv").ok(t)
	if !strings.Contains(r.stdout, "exported 5 customers to all.csv") {
		t.Errorf("tty export: %q", r.stdout)
	}
	// A failed export leaves no file and no temporary file.
	r = e.runWith(runOpts{env: []string{"TINYCRM_TOKEN=tcrm_at_wrongwrongwrong"}}, "export", "-o", "bad.csv")
	if r.code != 1 {
		t.Errorf("export with a bad token: %+v", r)
	}
	entries, _ := os.ReadDir(e.home)
	for _, en := range entries {
		if strings.HasPrefix(en.Name(), "bad.csv") || strings.HasSuffix(en.Name(), ".tmp") {
			t.Errorf("left behind: %s", en.Name())
		}
	}
	r = e.run("export", "-o", filepath.Join(e.home, "no", "such", "dir.csv"))
	if r.code != 1 || !strings.Contains(r.stderr, "there is no directory "+filepath.Join(e.home, "no", "such")) {
		t.Errorf("export to a missing dir: %+v", r)
	}
	// /proc is there but refuses new files, with the ENOENT of a missing
	// directory: the message says what happened, not that it is missing.
	r = e.run("export", "-o", "/proc/x.csv")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot create a file in /proc/: ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("export to /proc: %+v", r)
	}
}

// -o writes to what PATH is: "-" is stdout, a symlink keeps pointing at
// the file it names (replaced whole), and a FIFO is written to, not
// replaced by a regular file.
func TestExportOutputTargets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed()
	const header = "id,email,name,first_seen,last_seen,project_count,mrr_total,projects,statuses\n"

	r := e.run("export", "-o", "-").ok(t)
	if !strings.HasPrefix(r.stdout, header) || strings.Count(r.stdout, "\n") != 6 {
		t.Errorf("-o - printed %q", r.stdout)
	}
	if _, err := os.Lstat(filepath.Join(e.home, "-")); !os.IsNotExist(err) {
		t.Errorf("-o - made a file named -: %v", err)
	}

	// A symlink to a file: the file is replaced, the link stays.
	dir := t.TempDir()
	target := filepath.Join(dir, "target.csv")
	if err := os.WriteFile(target, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(e.home, "link.csv")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	e.run("export", "-o", "link.csv").ok(t)
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link.csv is no longer a symlink: %v %v", fi.Mode(), err)
	}
	if b, err := os.ReadFile(target); err != nil || !strings.HasPrefix(string(b), header) {
		t.Errorf("the link's target holds %q, %v", b, err)
	}
	if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("the replaced file's mode: %v %v", fi.Mode(), err)
	}
	// A dangling one: written through, so its target appears.
	dangling := filepath.Join(e.home, "dangling.csv")
	if err := os.Symlink(filepath.Join(dir, "new.csv"), dangling); err != nil {
		t.Fatal(err)
	}
	e.run("export", "-o", dangling).ok(t)
	if b, err := os.ReadFile(filepath.Join(dir, "new.csv")); err != nil || !strings.HasPrefix(string(b), header) {
		t.Errorf("through a dangling link: %q, %v", b, err)
	}
	if fi, err := os.Lstat(dangling); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("dangling.csv is no longer a symlink: %v", err)
	}
	for _, en := range mustReadDir(t, dir) {
		if strings.HasSuffix(en, ".tmp") {
			t.Errorf("left behind: %s", en)
		}
	}

	// A FIFO: its reader gets the export.
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Opened read-write, the FIFO neither blocks this open nor the
	// export's, and what the export writes waits in it.
	f, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e.run("export", "-o", fifo).ok(t)
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the FIFO was replaced: %v %v", fi.Mode(), err)
	}
	_ = f.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64<<10)
	n, err := f.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), header) {
		t.Errorf("the FIFO's reader got %q, %v", buf[:n], err)
	}

	// A directory is refused before anything is fetched.
	r = e.run("export", "-o", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "is a directory") {
		t.Errorf("-o DIR: %+v", r)
	}
}

func mustReadDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	return names
}

// A reader that stops early (| head -1) ends every command quietly with
// exit 0, as for git and gh.
func TestClosedStdout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.project("App A", "app-a", "#e69f00")
	e.bulk(key, 3000)
	for _, args := range [][]string{
		{"export"},
		{"export", "--format", "jsonl"},
		{"export", "-o", "-"},
		{"customers", "--all"},
		{"customers", "--all", "--json"},
		{"customers", "--all", "--csv"},
	} {
		cmd := e.command(args...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || line == "" {
			t.Errorf("%v: first line %q, %v", args, line, err)
		}
		out.Close()
		err = cmd.Wait()
		if err != nil || stderr.String() != "" {
			t.Errorf("%v | head -1: %v, stderr %q; want exit 0 and nothing", args, err, stderr.String())
		}
	}
}

// A stdout that cannot be written (a full disk) fails the run with one
// line on stderr, whether or not the command looked at the error: the
// output, such as a key shown once, is lost.
func TestFullStdout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.project("App A", "app-a", "#e69f00")
	e.bulk(key, 3000)
	for _, args := range [][]string{
		{"projects", "create", "Full Test"},
		{"projects", "keys", "create", "app-a"},
		{"projects", "keys", "rotate", "app-a"},
		{"projects", "list"},
		{"customers", "--all"},
		{"customers", "--all", "--json"},
		{"export"},
		{"--help"},
	} {
		full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		cmd := e.command(args...)
		cmd.Stdout = full
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err = cmd.Run()
		full.Close()
		const want = "tinycrm: cannot write to stdout (no space left on device), so the output is lost or incomplete; " +
			"send stdout somewhere writable and run the command again (a new key lost with it: get another with \"tinycrm projects keys create SLUG\")\n"
		if cmd.ProcessState.ExitCode() != 1 || stderr.String() != want {
			t.Errorf("%v > /dev/full: %v, stderr %q; want exit 1 and %q", args, err, stderr.String(), want)
		}
	}
}
