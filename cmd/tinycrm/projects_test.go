package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestProjectsList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed()
	// App D got identifies three days ago and none since: it silently
	// stopped, and the list must say so.
	e.project("App D", "app-d", "#cc79a7")
	e.exec(`INSERT INTO project_activity (workspace_id, project_id, hour, identifies, last_at)
		SELECT workspace_id, id, date_trunc('hour', now() - interval '3 days'), 5, now() - interval '3 days'
		FROM projects WHERE slug = 'app-d'`)
	e.waitActivity(9)

	r := e.tty(runOpts{env: []string{"NO_COLOR=1"}}, "projects", "list").ok(t)
	golden(t, "projects_list_tty", r.stdout)
	if !strings.Contains(r.stdout, "! silent for 3d") {
		t.Errorf("the silent project is not flagged:\n%s", r.stdout)
	}
	r = e.tty(runOpts{}, "projects", "list").ok(t)
	golden(t, "projects_list_tty_color", r.stdout)

	r = e.run("projects", "list").ok(t)
	golden(t, "projects_list_piped", e.mask(r.stdout))
	if !strings.Contains(r.stdout, "app-d\tApp D\t#cc79a7\t0\t") || !strings.HasSuffix(r.stdout, "\tsilent\n") {
		t.Errorf("piped list:\n%s", r.stdout)
	}
	r = e.run("projects", "list", "--json").ok(t)
	var ps []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &ps); err != nil || len(ps) != 4 || ps[0]["slug"] != "app-a" {
		t.Errorf("--json: %v %v", ps, err)
	}
}

var keyRE = regexp.MustCompile(`^tcrm_pk_[A-Za-z0-9]+$`)

func TestProjectLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	// Piped, create prints the key alone, so scripts can capture it.
	r := e.run("projects", "create", "Inkwell").ok(t)
	key := strings.TrimSpace(r.stdout)
	if !keyRE.MatchString(key) {
		t.Fatalf("create printed %q, want a key", r.stdout)
	}
	r = e.run("identify", "--key", key, "--email", "Ann@Example.com", "--name", "Ann", "--status", "paid",
		"--param", "plan=pro", "--param", "mrr=9", "--param", "beta=true", "--param", `zip="02134"`, "--param", "ref=").ok(t)
	if r.stdout != "ok\n" {
		t.Errorf("identify printed %q", r.stdout)
	}
	d := e.run("customer", "ann@example.com", "--json").ok(t)
	var c struct {
		Projects []struct {
			Params map[string]any `json:"params"`
		} `json:"projects"`
	}
	if err := json.Unmarshal([]byte(d.stdout), &c); err != nil || len(c.Projects) != 1 {
		t.Fatalf("customer --json: %v\n%s", err, d.stdout)
	}
	if p := c.Projects[0].Params; p["plan"] != "pro" || p["mrr"] != 9.0 || p["beta"] != true || p["zip"] != "02134" || len(p) != 4 {
		t.Errorf("params %v", p)
	}
	// The same message id twice is a duplicate.
	for i, want := range []string{"ok\n", "duplicate\n"} {
		r = e.run("identify", "--key", key, "--email", "ann@example.com", "--message-id", "m-1", "--param", "mrr=").ok(t)
		if r.stdout != want {
			t.Errorf("identify %d printed %q, want %q", i, r.stdout, want)
		}
	}

	// On a terminal: the key with a hint; --json: the project with "key".
	r = e.tty(runOpts{env: []string{"NO_COLOR=1"}}, "projects", "create", "Link Page", "--slug", "links", "--color", "#123abc").ok(t)
	if !strings.Contains(r.stdout, "Created project [Link Page] (slug links)") || !strings.Contains(r.stdout, "tcrm_pk_") ||
		!strings.Contains(r.stdout, "tinycrm identify --key tcrm_pk_") {
		t.Errorf("create on a terminal:\n%s", r.stdout)
	}
	r = e.run("projects", "create", "Metricly", "--json").ok(t)
	var p map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || p["slug"] != "metricly" || !keyRE.MatchString(p["key"].(string)) {
		t.Errorf("create --json: %v %v", p, err)
	}
	r = e.run("projects", "create", "Metricly")
	if r.code != 1 || !strings.Contains(r.stderr, "exists already") {
		t.Errorf("duplicate slug: %+v", r)
	}

	r = e.run("projects", "rename", "links", "Linkpage").ok(t)
	if !strings.Contains(r.stdout, "Renamed links to [Linkpage]") {
		t.Errorf("rename: %q", r.stdout)
	}

	// Keys: create and rotate print the key once; list shows states.
	r = e.run("projects", "keys", "create", "inkwell").ok(t)
	key2 := strings.TrimSpace(r.stdout)
	if !keyRE.MatchString(key2) {
		t.Fatalf("keys create printed %q", r.stdout)
	}
	r = e.run("projects", "keys", "rotate", "inkwell", "--grace", "2h").ok(t)
	key3 := strings.TrimSpace(r.stdout)
	if !keyRE.MatchString(key3) {
		t.Fatalf("keys rotate printed %q", r.stdout)
	}
	r = e.run("projects", "keys", "list", "inkwell").ok(t)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[0], "\tactive") || !strings.HasSuffix(lines[1], "\texpiring") || !strings.HasSuffix(lines[2], "\texpiring") {
		t.Errorf("keys list:\n%s", r.stdout)
	}
	// The hint is the key's end, shown as one: "…pxvv".
	if hint := strings.Split(lines[0], "\t")[1]; hint != "…"+key3[len(key3)-4:] {
		t.Errorf("newest key's hint %q, want …%s (the end of %s)", hint, key3[len(key3)-4:], key3)
	}
	r = e.tty(runOpts{env: []string{"NO_COLOR=1"}}, "projects", "keys", "list", "inkwell").ok(t)
	if !strings.Contains(r.stdout, "expires in 1h") && !strings.Contains(r.stdout, "expires in 2h") {
		t.Errorf("keys list on a terminal:\n%s", r.stdout)
	}
	oldID := strings.Split(lines[2], "\t")[0]
	e.run("projects", "keys", "revoke", "inkwell", oldID).ok(t)
	r = e.run("identify", "--key", key, "--email", "ann@example.com")
	if r.code != 1 || !strings.Contains(r.stderr, "refused the project key") {
		t.Errorf("identify with a revoked key: %+v", r)
	}
	e.run("identify", "--key", key3, "--email", "ann@example.com").ok(t)
	r = e.run("projects", "keys", "revoke", "inkwell", "99999")
	if r.code != 1 || !strings.Contains(r.stderr, "no key 99999") {
		t.Errorf("revoke unknown key: %+v", r)
	}

	// Delete: piped, it needs --yes, as forget does.
	r = e.run("projects", "delete", "links")
	if r.code != 2 || !strings.Contains(r.stderr, "refusing to delete project links without --yes when stdin is not a terminal") {
		t.Errorf("delete without --yes, piped: %+v", r)
	}
	if r = e.run("projects", "list").ok(t); !strings.Contains(r.stdout, "links") {
		t.Fatalf("delete without --yes deleted the project:\n%s", r.stdout)
	}
	e.run("projects", "delete", "links", "--yes").ok(t)
	r = e.run("projects", "list").ok(t)
	if strings.Contains(r.stdout, "links") {
		t.Errorf("deleted project still listed:\n%s", r.stdout)
	}
	r = e.run("projects", "delete", "links", "--yes")
	if r.code != 1 || !strings.Contains(r.stderr, `no project "links"`) {
		t.Errorf("delete unknown: %+v", r)
	}
}

// A blank name is a usage error, not a rename to nothing; the server's
// refusals of a name, slug or colour the user typed are usage errors too,
// named after the flag.
func TestProjectNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project("App A", "app-a", "#e69f00")
	for _, name := range []string{"", "   "} {
		r := e.run("projects", "rename", "app-a", name)
		if r.code != 2 || !strings.Contains(r.stderr, "must be 1-64 characters") || r.stdout != "" {
			t.Errorf("rename to %q: %+v", name, r)
		}
		r = e.run("projects", "create", name)
		if r.code != 2 || !strings.Contains(r.stderr, "must be 1-64 characters") {
			t.Errorf("create %q: %+v", name, r)
		}
	}
	if r := e.run("projects", "list").ok(t); !strings.Contains(r.stdout, "app-a\tApp A\t") {
		t.Errorf("the name changed:\n%s", r.stdout)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"projects", "rename", "app-a", strings.Repeat("n", 65)}, "NAME: "},
		{[]string{"projects", "create", "Inkwell", "--color", "red"}, "--color: "},
		{[]string{"projects", "create", "Inkwell", "--slug", "BAD SLUG"}, "--slug: "},
	} {
		r := e.run(tt.args...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, "tinycrm: "+tt.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
	if r := e.run("projects", "list").ok(t); strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("a refused project was created:\n%s", r.stdout)
	}
}

// On a terminal the project list fits its width, even with a name of the
// longest kind (64 characters): the name is cut with "…", the numbers and
// the silent note's start stay in view, and no row wraps.
func TestProjectsListTTYFits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	long := strings.Repeat("x", 64)
	e.project(long, "", "#e69f00")
	e.project("App D", "app-d", "#cc79a7")
	e.exec(`INSERT INTO project_activity (workspace_id, project_id, hour, identifies, last_at)
		SELECT workspace_id, id, date_trunc('hour', now() - interval '3 days'), 5, now() - interval '3 days'
		FROM projects WHERE slug = 'app-d'`)
	rowRE := regexp.MustCompile(`  \d+  (never|\d+[mhd] ago|just now) +\d+( |$)`)
	for _, cols := range []int{80, 120} {
		for _, color := range []bool{false, true} {
			o := runOpts{cols: cols}
			if !color {
				o.env = []string{"NO_COLOR=1"}
			}
			r := e.tty(o, "projects", "list").ok(t)
			t.Logf("%d columns:\n%s", cols, r.stdout)
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if len(lines) != 3 {
				t.Fatalf("%d cols: %d lines:\n%s", cols, len(lines), r.stdout)
			}
			for _, l := range lines {
				if w := ansi.StringWidth(l); w > cols {
					t.Errorf("%d cols, colour %v: a line of %d cells:\n%s", cols, color, w, ansi.Strip(l))
				}
			}
			for _, l := range lines[1:] {
				if plain := ansi.Strip(l); !rowRE.MatchString(plain) {
					t.Errorf("%d cols, colour %v: a number out of view:\n%s", cols, color, plain)
				}
			}
			if plain := ansi.Strip(r.stdout); !strings.Contains(plain, "xxx…") || !strings.Contains(plain, "! silent for 3d") {
				t.Errorf("%d cols, colour %v: the long name is not cut with … or the note is gone:\n%s", cols, color, plain)
			}
		}
	}
}
