package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	if r.code != 1 || !strings.Contains(r.stderr, "export to") {
		t.Errorf("export to a missing dir: %+v", r)
	}
}
