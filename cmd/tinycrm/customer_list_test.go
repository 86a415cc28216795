package main

import (
	"encoding/csv"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/client"
)

// The customer table in every output mode, against golden files.
func TestCustomersOutput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed()

	t.Run("piped", func(t *testing.T) {
		r := e.run("customers").ok(t)
		if strings.Contains(r.stdout, "\x1b[") || r.stderr != "" {
			t.Errorf("piped output has colour or stderr: %q / %q", r.stdout, r.stderr)
		}
		golden(t, "customers_piped", e.mask(r.stdout))
	})
	t.Run("tty", func(t *testing.T) {
		r := e.tty(runOpts{}, "customers", "--limit", "4").ok(t)
		if !strings.Contains(r.stdout, "\x1b[") {
			t.Errorf("no colour on a terminal:\n%s", r.stdout)
		}
		golden(t, "customers_tty", r.stdout)
	})
	t.Run("tty NO_COLOR", func(t *testing.T) {
		r := e.tty(runOpts{env: []string{"NO_COLOR=1"}}, "customers").ok(t)
		if strings.Contains(r.stdout, "\x1b[") {
			t.Errorf("colour despite NO_COLOR:\n%q", r.stdout)
		}
		if !strings.Contains(r.stdout, "[App A] [App B] [App C]") {
			t.Errorf("no [App A] badges:\n%s", r.stdout)
		}
		golden(t, "customers_tty_nocolor", r.stdout)
	})
	t.Run("tty more", func(t *testing.T) {
		r := e.tty(runOpts{env: []string{"NO_COLOR=1"}}, "customers", "--limit", "2").ok(t)
		if !strings.Contains(r.stdout, "showing 2 of 5; use --all or --limit N to see more") {
			t.Errorf("no hint about more:\n%s", r.stdout)
		}
		r = e.tty(runOpts{env: []string{"NO_COLOR=1"}}, "customers", "--limit", "2", "--multi-project").ok(t)
		if !strings.Contains(r.stdout, "showing 2 of many") {
			t.Errorf("no hint about more:\n%s", r.stdout)
		}
		r = e.tty(runOpts{env: []string{"NO_COLOR=1"}}, "customers", "--search", "nobody-here").ok(t)
		if !strings.Contains(r.stdout, "no customers match") {
			t.Errorf("no note on an empty result:\n%s", r.stdout)
		}
	})
	t.Run("json", func(t *testing.T) {
		r := e.run("customers", "--json").ok(t)
		var cs []map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &cs); err != nil {
			t.Fatalf("not one JSON array: %v\n%s", err, r.stdout)
		}
		if len(cs) != 5 {
			t.Fatalf("%d customers, want 5", len(cs))
		}
		keys := func(m map[string]any) []string {
			var ks []string
			for k := range m {
				ks = append(ks, k)
			}
			slices.Sort(ks)
			return ks
		}
		if got, want := keys(cs[0]), []string{"email", "first_seen", "id", "last_seen", "mrr_total", "name", "project_count", "projects"}; !slices.Equal(got, want) {
			t.Errorf("customer keys %v, want %v", got, want)
		}
		p := cs[0]["projects"].([]any)[0].(map[string]any)
		if got, want := keys(p), []string{"color", "first_seen", "last_seen", "name", "params", "slug", "status"}; !slices.Equal(got, want) {
			t.Errorf("project keys %v, want %v", got, want)
		}
		if ls := cs[0]["last_seen"].(string); !strings.HasSuffix(ls, "Z") {
			t.Errorf("last_seen %q is not UTC", ls)
		}
		golden(t, "customers_json", e.mask(r.stdout))
	})
	t.Run("jsonl", func(t *testing.T) {
		r := e.run("customers", "--jsonl", "--all").ok(t)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 5 {
			t.Fatalf("%d lines, want 5", len(lines))
		}
		for _, l := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Errorf("line %q: %v", l, err)
			}
		}
	})
	t.Run("csv", func(t *testing.T) {
		r := e.run("customers", "--csv").ok(t)
		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if err != nil || len(recs) != 6 {
			t.Fatalf("csv: %d records, %v", len(recs), err)
		}
		if recs[1][1] != "alice@example.com" || recs[1][7] != "app-a;app-b;app-c" || recs[1][8] != "paid;free;trialing" {
			t.Errorf("alice's row: %q", recs[1])
		}
		golden(t, "customers_csv", e.mask(r.stdout))
	})
	t.Run("empty json", func(t *testing.T) {
		r := e.run("customers", "--json", "--search", "nobody-here").ok(t)
		if r.stdout != "[]\n" {
			t.Errorf("stdout %q, want []", r.stdout)
		}
	})
}

// Every filter flag reaches the server and selects the known customers.
func TestCustomerFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed()
	tests := []struct {
		args []string
		want []string // emails, in order
	}{
		// SPEC §10.
		{[]string{"--multi-project"}, []string{"alice@example.com", "dave@example.com", "bob@example.com"}},
		{[]string{"--project", "app-b"}, []string{"alice@example.com", "carol@example.com", "dave@example.com"}},
		{[]string{"--where", "mrr>=9"}, []string{"alice@example.com", "carol@example.com", "bob@example.com"}},
		{[]string{"--where", "plan=starter"}, []string{"alice@example.com"}},
		// The rest of SPEC §4.
		{[]string{"--project", "app-a", "--project", "app-b"}, []string{"alice@example.com", "dave@example.com"}},
		{[]string{"--project", "app-a,app-c"}, []string{"alice@example.com", "bob@example.com"}},
		{[]string{"--not-project", "app-a"}, []string{"carol@example.com", "erin@example.com"}},
		{[]string{"--min-projects", "3"}, []string{"alice@example.com"}},
		{[]string{"--status", "trialing"}, []string{"alice@example.com", "dave@example.com"}},
		{[]string{"--status", "paid", "--project", "app-b"}, []string{"carol@example.com"}},
		{[]string{"--status", "churned", "--status", "trialing"}, []string{"alice@example.com", "dave@example.com"}},
		{[]string{"--where", "seats>2", "--where", "beta=true"}, []string{"erin@example.com"}},
		{[]string{"--where", "plan=pro and mrr<10"}, []string{"alice@example.com"}},
		{[]string{"--where", "trial_ends exists", "--project", "app-b"}, []string{"dave@example.com"}},
		{[]string{"--search", "DIAZ"}, []string{"carol@example.com"}},
		{[]string{"--search", "bo"}, []string{"bob@example.com"}},
		{[]string{"--active-within", "1d"}, []string{"alice@example.com", "carol@example.com"}},
		{[]string{"--inactive-for", "7d"}, []string{"erin@example.com"}},
		{[]string{"--sort", "email"}, []string{"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com", "erin@example.com"}},
		{[]string{"--sort", "-email"}, []string{"erin@example.com", "dave@example.com", "carol@example.com", "bob@example.com", "alice@example.com"}},
		{[]string{"--sort", "-last_seen"}, []string{"erin@example.com", "bob@example.com", "dave@example.com", "carol@example.com", "alice@example.com"}},
		{[]string{"--sort", "mrr", "--limit", "3"}, []string{"carol@example.com", "bob@example.com", "alice@example.com"}},
		{[]string{"--sort", "projects", "--limit", "1"}, []string{"alice@example.com"}},
		{[]string{"--limit", "2"}, []string{"alice@example.com", "carol@example.com"}},
		{[]string{"--all"}, []string{"alice@example.com", "carol@example.com", "dave@example.com", "bob@example.com", "erin@example.com"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			r := e.run(append([]string{"customers"}, tt.args...)...).ok(t)
			if got := emails(r.stdout); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// --all walks every page: more customers than one page holds.
func TestCustomersAllPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.project("App A", "app-a", "#e69f00")
	items := e.bulk(key, 1234)
	r := e.run("customers", "--all", "--sort", "email").ok(t)
	got := emails(r.stdout)
	slices.Sort(items)
	if !slices.Equal(got, items) {
		t.Fatalf("--all printed %d customers, want %d", len(got), len(items))
	}
	r = e.run("customers", "--limit", "777", "--jsonl").ok(t)
	if n := strings.Count(r.stdout, "\n"); n != 777 {
		t.Errorf("--limit 777 printed %d", n)
	}
	r = e.run("customers", "--all", "--json").ok(t)
	var cs []json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &cs); err != nil || len(cs) != 1234 {
		t.Errorf("--all --json: %d customers, %v", len(cs), err)
	}
}

// The help's examples sort by MRR biggest first with "--sort mrr": "-mrr"
// is the reverse, lowest first.
func TestSortExamples(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, cmd := range []string{"customers", "tui"} {
		r := e.run(cmd, "--help").ok(t)
		if strings.Contains(r.stdout, "--sort -mrr") || !strings.Contains(r.stdout, "--sort mrr") {
			t.Errorf("%s --help:\n%s", cmd, r.stdout)
		}
	}
}

// On a terminal the table fits its width, whatever the number of badges:
// MRR and LAST ACTIVE stay in view, and extra badges read "+N". Page after
// page, every row lines up with the header.
func TestCustomersTTYFits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	names := []string{"Inkwell", "Linkpage", "Metricly", "Pagecraft", "Formsy", "Mailbird", "Shipfast", "Tallybook"}
	var keys []string
	for i, n := range names {
		keys = append(keys, e.project(n, strings.ToLower(n), []string{"#e69f00", "#56b4e9", "#009e73", "#cc79a7"}[i%4]))
	}
	for i, key := range keys {
		e.identify(key, client.Identify{Email: "alice.chen.the.founder@example.com", Name: "Alice Chen-Whitmore", Status: "paid",
			Params: map[string]any{"mrr": 19}, Timestamp: e.ago(time.Hour)})
		if i < 3 {
			e.identify(key, client.Identify{Email: "bob@example.com", Name: "Bob", Status: "trialing", Timestamp: e.ago(2 * time.Hour)})
		}
	}
	rowRE := regexp.MustCompile(`(\$\d+(\.\d\d)?|-)  (\d+[mhd] ago|just now)$`)
	for _, cols := range []int{80, 120} {
		for _, color := range []bool{false, true} {
			o := runOpts{cols: cols}
			if !color {
				o.env = []string{"NO_COLOR=1"}
			}
			r := e.tty(o, "customers").ok(t)
			t.Logf("%d columns:\n%s", cols, r.stdout)
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if len(lines) != 3 {
				t.Fatalf("%d cols: %d lines:\n%s", cols, len(lines), r.stdout)
			}
			for _, l := range lines {
				if w := ansi.StringWidth(l); w > cols {
					t.Errorf("%d cols: a line of %d cells:\n%s", cols, w, ansi.Strip(l))
				}
			}
			for _, l := range lines[1:] {
				if plain := ansi.Strip(l); !rowRE.MatchString(plain) {
					t.Errorf("%d cols, colour %v: MRR or LAST ACTIVE out of view:\n%s", cols, color, plain)
				}
			}
			if alice := ansi.Strip(lines[1]); !regexp.MustCompile(` \+[5-7] `).MatchString(alice) {
				t.Errorf("%d cols: alice's row has no +N:\n%s", cols, alice)
			}
		}
	}

	// More than a page: the later pages keep the first one's columns.
	e.bulk(keys[0], client.MaxPageSize)
	e.identify(keys[1], client.Identify{Email: "zz.a.much.longer.address.than.the.others@example.com", Name: "Zed With A Long Name", Status: "free"})
	r := e.tty(runOpts{env: []string{"NO_COLOR=1"}}, "customers", "--all", "--sort", "email").ok(t)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	head := lines[0]
	col := len([]rune(head[:strings.Index(head, "LAST ACTIVE")]))
	rows := 0
	for _, l := range lines[1:] {
		rows++
		if rs := []rune(l); len(rs) < col || !regexp.MustCompile(`^(\d+[mhd] ago|just now)$`).MatchString(string(rs[col:])) {
			t.Errorf("row out of line with the header:\n%s\n%s", head, l)
		}
	}
	if rows != client.MaxPageSize+3 {
		t.Errorf("%d rows, want %d", rows, client.MaxPageSize+3)
	}
}
