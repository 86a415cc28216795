package main

import (
	"encoding/json"
	"strings"
	"testing"

	"tinycrm.dev/tinycrm/client"
)

func TestCustomerDetail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed()
	// Bob upgrades in App A a day ago: a params change and a name change
	// for the timeline.
	keys, err := e.admin.CreateKey(t.Context(), "app-a")
	if err != nil {
		t.Fatal(err)
	}
	e.identify(keys.Secret, client.Identify{Email: "bob@example.com", Name: "Robert Stone", Params: map[string]any{"plan": "team", "mrr": 29}, Timestamp: e.ago(day)})

	r := e.tty(runOpts{env: []string{"NO_COLOR=1"}}, "customer", "bob@example.com").ok(t)
	golden(t, "customer_tty", r.stdout)
	r = e.tty(runOpts{}, "customer", "Alice@Example.COM").ok(t)
	golden(t, "customer_tty_color", r.stdout)

	r = e.run("customer", "bob@example.com").ok(t)
	golden(t, "customer_piped", e.mask(r.stdout))

	r = e.run("customer", "bob@example.com", "--json").ok(t)
	golden(t, "customer_json", e.mask(r.stdout))
	var d client.CustomerDetail
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatal(err)
	}
	if d.Name != "Robert Stone" || d.MRRTotal != 29 || len(d.Timeline) == 0 || d.Timeline[0].At.Before(d.Timeline[len(d.Timeline)-1].At) {
		t.Errorf("detail: %+v", d)
	}
	// By id, too.
	r = e.run("customer", "1", "--json").ok(t)
	if !strings.Contains(r.stdout, `"email": "bob@example.com"`) {
		t.Errorf("by id:\n%s", r.stdout)
	}
	r = e.run("customer", "nobody@example.com")
	if r.code != 1 || r.stderr != "tinycrm: no customer \"nobody@example.com\"; look for them with \"tinycrm customers --search nobody@example.com\"\n" {
		t.Errorf("unknown customer: %+v", r)
	}
}

func TestForget(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed()

	// Without --yes and without a terminal: refused, exit 2, nothing gone.
	r := e.run("forget", "alice@example.com")
	if r.code != 2 || !strings.Contains(r.stderr, "without --yes when stdin is not a terminal") {
		t.Errorf("forget without --yes: %+v", r)
	}
	// On a terminal, "n" keeps her.
	// script's stdin is /dev/null: no answer is a no.
	r = e.tty(runOpts{}, "forget", "alice@example.com")
	if r.code != 1 || !strings.Contains(r.stdout, "[y/N]") || !strings.Contains(r.stdout, "cancelled") {
		t.Errorf("forget on a terminal without an answer: %+v", r)
	}
	e.run("customer", "alice@example.com").ok(t)

	r = e.run("forget", "alice@example.com", "--project", "app-b", "--yes").ok(t)
	if r.stdout != "unlinked alice@example.com from app-b\n" {
		t.Errorf("unlink: %q", r.stdout)
	}
	r = e.run("customers", "--project", "app-b").ok(t)
	if strings.Contains(r.stdout, "alice") {
		t.Errorf("alice still in app-b:\n%s", r.stdout)
	}
	r = e.run("forget", "alice@example.com", "--suppress", "--yes").ok(t)
	if r.stdout != "forgot alice@example.com; later identifies of this email will be dropped\n" {
		t.Errorf("forget: %q", r.stdout)
	}
	if n := e.count(`SELECT count(*) FROM customers WHERE email = 'alice@example.com'`); n != 0 {
		t.Errorf("alice is still stored")
	}
	r = e.run("forget", "alice@example.com", "--project", "app-a", "--suppress", "--yes")
	if r.code != 2 {
		t.Errorf("--project with --suppress: %+v", r)
	}
	r = e.run("forget", "nobody@example.com", "--yes")
	if r.code != 1 || !strings.Contains(r.stderr, "no customer") {
		t.Errorf("forget unknown: %+v", r)
	}
}

// Numbers print exactly as the server stored them, in every output: no
// float64 on the way (12345678901234567890 is not 12345678901234567000).
func TestBigNumbersExact(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.project("App A", "app-a", "#e69f00")
	const acct, ratio = "12345678901234567890", "0.10000000000000000555"
	e.identify(key, client.Identify{Email: "ann@example.com", Status: "paid",
		Params: map[string]any{"acct": json.Number(acct), "ratio": json.Number(ratio), "mrr": 9}})
	e.identify(key, client.Identify{Email: "ann@example.com", Params: map[string]any{"acct": json.Number(acct + "1")}})
	outputs := map[string]result{
		"customers --json":  e.run("customers", "--json").ok(t),
		"customers --jsonl": e.run("customers", "--jsonl").ok(t),
		"customer --json":   e.run("customer", "ann@example.com", "--json").ok(t),
		"customer piped":    e.run("customer", "ann@example.com").ok(t),
		"customer tty":      e.tty(runOpts{env: []string{"NO_COLOR=1"}}, "customer", "ann@example.com").ok(t),
		"export jsonl":      e.run("export", "--format", "jsonl").ok(t),
		"customers --where": e.run("customers", "--where", "acct exists", "--json").ok(t),
	}
	for name, r := range outputs {
		if !strings.Contains(r.stdout, acct+"1") || !strings.Contains(r.stdout, ratio) {
			t.Errorf("%s: lacks %s1 or %s:\n%s", name, acct, ratio, r.stdout)
		}
		if strings.Contains(r.stdout, "12345678901234567000") || strings.Contains(r.stdout, "1.2345678901234568e") {
			t.Errorf("%s: a number lost digits:\n%s", name, r.stdout)
		}
	}
	// The timeline tells the change with every digit, too.
	for _, name := range []string{"customer tty", "customer piped", "customer --json"} {
		if r := outputs[name]; !strings.Contains(r.stdout, acct) {
			t.Errorf("%s: the timeline lacks the old %s:\n%s", name, acct, r.stdout)
		}
	}
	if tty := outputs["customer tty"].stdout; !strings.Contains(tty, "acct "+acct+" → "+acct+"1") || !strings.Contains(tty, "acct="+acct) {
		t.Errorf("customer tty: timeline:\n%s", tty)
	}
}
