package client_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/secret"
)

func TestIdentifyPingBatch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App A")
	c := e.client(key)

	res, err := c.Identify(ctx(t), client.Identify{Email: "bob@example.com", Name: "Bob", Status: "paid",
		Params: map[string]any{"plan": "pro", "mrr": 19}, Timestamp: time.Now().Add(-time.Hour)})
	if err != nil || res != (client.IdentifyResult{}) {
		t.Fatalf("identify: %+v, %v", res, err)
	}
	// The same message id twice is applied once.
	id := client.NewMessageID()
	for i, want := range []bool{false, true} {
		res, err := c.Identify(ctx(t), client.Identify{Email: "bob@example.com", Status: "churned", MessageID: id})
		if err != nil || res.Duplicate != want {
			t.Fatalf("identify #%d with a fixed message id: %+v, %v", i, res, err)
		}
	}
	if err := c.Ping(ctx(t), "bob@example.com"); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := c.Ping(ctx(t), "nobody@example.com"); err != nil {
		t.Fatalf("ping of a stranger: %v", err)
	}
	bob, err := e.admin.Customer(ctx(t), "Bob@Example.com")
	if err != nil {
		t.Fatal(err)
	}
	m := bob.Projects[0]
	if bob.Name != "Bob" || m.Status != "churned" || m.Params["plan"] != "pro" || bob.MRRTotal != 19 {
		t.Errorf("bob = %+v", bob)
	}
	if time.Since(m.LastSeen) > time.Minute || time.Since(m.FirstSeen) < 59*time.Minute {
		t.Errorf("ping did not move last_seen only: first %v last %v", m.FirstSeen, m.LastSeen)
	}
	if _, err := e.admin.Customer(ctx(t), "nobody@example.com"); !client.IsNotFound(err) {
		t.Errorf("ping created a customer: %v", err)
	}

	// A batch lands its valid items and reports the others by index.
	items := []client.Identify{
		{Email: "carol@example.com", Status: "free"},
		{Email: "not an email"},
		{Email: "dan@example.com", Params: map[string]any{"bad key!": 1}},
		{Email: "erin@example.com", Params: map[string]any{"x": 1}, MessageID: id}, // id already used
		{Email: "frank@example.com", Params: map[string]any{"nan": nanValue()}},
	}
	br, err := c.Batch(ctx(t), items)
	if err != nil {
		t.Fatal(err)
	}
	if br.Accepted != 1 || br.Duplicates != 1 || len(br.Rejected) != 3 {
		t.Fatalf("batch = %+v", br)
	}
	for i, want := range []struct {
		index int
		field string
	}{{1, "email"}, {2, "params"}, {4, ""}} {
		r := br.Rejected[i]
		if r.Index != want.index || r.Field != want.field || r.Error == "" {
			t.Errorf("rejected[%d] = %+v, want index %d field %q", i, r, want.index, want.field)
		}
	}
	if _, err := e.admin.Customer(ctx(t), "carol@example.com"); err != nil {
		t.Errorf("carol: %v", err)
	}
	// A batch item reuses the message id of an earlier identify, so erin
	// was never applied.
	if _, err := e.admin.Customer(ctx(t), "erin@example.com"); !client.IsNotFound(err) {
		t.Errorf("erin: %v", err)
	}
}

func nanValue() any {
	zero := 0.0
	return zero / zero
}

// A batch larger than one request is split, and rejections keep their
// index in the caller's slice.
func TestBatchSplits(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slug, key := e.project("Big")
	items := make([]client.Identify, 2500)
	for i := range items {
		items[i] = client.Identify{Email: fmt.Sprintf("user%d@example.com", i), Params: map[string]any{"i": i}}
	}
	items[1700].Email = "broken"
	res, err := e.client(key).Batch(ctx(t), items)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2499 || len(res.Rejected) != 1 || res.Rejected[0].Index != 1700 || res.Rejected[0].Field != "email" {
		t.Fatalf("batch = %d accepted, rejected %+v", res.Accepted, res.Rejected)
	}
	if n := e.count(`SELECT count(*) FROM customers`); n != 2499 {
		t.Errorf("%d customers, want 2499", n)
	}
	// Import is the same on a project's behalf, with the admin token;
	// the message ids are new, so the items are applied again (no
	// change, no new customer).
	res, err = e.admin.Import(ctx(t), slug, items[:10])
	if err != nil || res.Accepted != 10 {
		t.Fatalf("import = %+v, %v", res, err)
	}
	if _, err := e.admin.Import(ctx(t), "no-such-project", items[:1]); !client.IsNotFound(err) {
		t.Errorf("import into a missing project: %v", err)
	}
}

// An item no request could carry is rejected by index without a request,
// and the items after it still land.
func TestBatchRejectsAnItemTooBigForAnyRequest(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App")
	items := []client.Identify{
		{Email: "h1@example.com"},
		{Email: "h2@example.com", Params: map[string]any{"blob": strings.Repeat("a", 5<<20)}},
		{Email: "h3@example.com"},
		{Email: "h4@example.com", Name: strings.Repeat("n", 5<<20)},
		{Email: "h5@example.com"},
	}
	res, err := e.client(key).Batch(ctx(t), items)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 3 || len(res.Rejected) != 2 || res.Rejected[0].Index != 1 || res.Rejected[0].Field != "params" ||
		res.Rejected[1].Index != 3 || res.Rejected[1].Field != "name" {
		t.Fatalf("batch = %+v", res)
	}
	if n := e.count(`SELECT count(*) FROM customers`); n != 3 {
		t.Errorf("%d customers, want 3", n)
	}
}

// SPEC §10, through the client.
func TestReferenceScenario(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var keys []string
	for _, name := range []string{"App A", "App B", "App C"} {
		_, key := e.project(name)
		keys = append(keys, key)
	}
	calls := []client.Identify{
		{Email: "alice@example.com", Name: "Alice Chen", Status: "paid", Params: map[string]any{"plan": "pro", "mrr": 9}},
		{Email: "Alice@Example.com ", Status: "free", Params: map[string]any{"source": "producthunt", "referral": "friend42"}},
		{Email: "alice@example.com", Status: "trialing", Params: map[string]any{"trial_ends": "2026-03-29", "plan": "starter"}},
	}
	for i, id := range calls {
		if _, err := e.client(keys[i]).Identify(ctx(t), id); err != nil {
			t.Fatalf("identify with key %d: %v", i, err)
		}
	}
	alice, err := e.admin.Customer(ctx(t), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if alice.Email != "alice@example.com" || alice.Name != "Alice Chen" || alice.ProjectCount != 3 || alice.MRRTotal != 9 {
		t.Errorf("alice = %+v", alice.Customer)
	}
	var got []string
	for _, m := range alice.Projects {
		got = append(got, m.Slug+":"+m.Status)
	}
	if want := "app-a:paid app-b:free app-c:trialing"; strings.Join(got, " ") != want {
		t.Errorf("memberships %q, want %q", got, want)
	}
	if p := alice.Projects[1].Params; p["source"] != "producthunt" || p["referral"] != "friend42" {
		t.Errorf("app-b params = %v", p)
	}
	if time.Since(alice.LastSeen) > time.Minute {
		t.Errorf("last seen %v, want just now", alice.LastSeen)
	}
	var kinds []string
	for _, ev := range alice.Timeline {
		kinds = append(kinds, ev.Project+":"+ev.Kind)
	}
	if want := "app-c:joined app-b:joined app-a:name app-a:joined"; strings.Join(kinds, " ") != want {
		t.Errorf("timeline %q, want %q", kinds, want)
	}
	byID, err := e.admin.Customer(ctx(t), fmt.Sprint(alice.ID))
	if err != nil || byID.Email != alice.Email {
		t.Errorf("by id: %+v, %v", byID.Customer, err)
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App A")

	_, err := e.client(key).Identify(ctx(t), client.Identify{Email: "alice.example.com"})
	var ae *client.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("bad email: %v (%T), want an *APIError", err, err)
	}
	if ae.Status != 400 || ae.Title != "Bad Request" || ae.Field != "email" || ae.Detail == "" || ae.RetryAfter != 0 {
		t.Errorf("bad email: %+v", ae)
	}
	if want := "identify: 400 Bad Request: email: " + ae.Detail; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}

	unknown, err := secret.New(secret.ProjectKey)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client(unknown).Identify(ctx(t), client.Identify{Email: "alice@example.com"})
	if !client.IsUnauthorized(err) || !errors.As(err, &ae) || ae.Status != 401 || ae.Title != "Unauthorized" || ae.Detail == "" {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := e.client("tcrm_pk_mistyped").Identify(ctx(t), client.Identify{Email: "a@example.com"}); !client.IsUnauthorized(err) {
		t.Errorf("mistyped key: %v", err)
	}
	if _, err := e.client(key).Projects(ctx(t)); !client.IsForbidden(err) {
		t.Errorf("project key on an admin route: %v", err)
	}
	if _, err := e.admin.Identify(ctx(t), client.Identify{Email: "a@example.com"}); !client.IsForbidden(err) {
		t.Errorf("admin token on ingest: %v", err)
	}
	if _, err := e.admin.Customer(ctx(t), "nobody@example.com"); !client.IsNotFound(err) || client.IsUnauthorized(err) ||
		!errors.As(err, &ae) || !ae.Problem {
		t.Errorf("missing customer: %v", err)
	}
	// A 404 that is not a problem document is not TinyCRM's: not
	// IsNotFound, so no caller takes a wrong URL for "no such customer".
	foreign := httptest.NewServer(http.NotFoundHandler())
	defer foreign.Close()
	_, err = client.New(e.token, client.WithBaseURL(foreign.URL)).Customer(ctx(t), "nobody@example.com")
	if client.IsNotFound(err) || !errors.As(err, &ae) || ae.Status != 404 || ae.Problem {
		t.Errorf("foreign 404: %v (%+v)", err, ae)
	}
}

// TestTextAndNumbersKeepEveryByte: a string that is not UTF-8 is refused
// before it is sent (encoding/json would send U+FFFD in its place), and a
// number read back keeps every digit.
func TestTextAndNumbersKeepEveryByte(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slug, key := e.project("App")
	c := e.client(key)
	if _, err := c.Identify(ctx(t), client.Identify{Email: "a@x.io", Name: "M\xfcller"}); err == nil || !strings.Contains(err.Error(), "name is not valid UTF-8") {
		t.Fatalf("identify with a Latin-1 name: %v", err)
	}
	items := []client.Identify{
		{Email: "a@x.io", Params: map[string]any{"acct": json.Number("12345678901234567890")}},
		{Email: "b@x.io", Params: map[string]any{"city": "M\xfcnchen"}},
		{Email: "c@x.io", Params: map[string]any{"list": []any{"ok", "\xff"}}},
	}
	for _, send := range []func() (client.BatchResult, error){
		func() (client.BatchResult, error) { return c.Batch(ctx(t), items) },
		func() (client.BatchResult, error) { return e.admin.CheckImport(ctx(t), slug, items) },
	} {
		res, err := send()
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 1 || len(res.Rejected) != 2 || res.Rejected[0].Field != "params.city" || res.Rejected[1].Field != "params.list[1]" {
			t.Fatalf("result %+v", res)
		}
	}
	if n := e.count(`SELECT count(*) FROM customers`); n != 1 {
		t.Fatalf("%d customers, want 1 (the dry run stores nothing)", n)
	}
	d, err := e.admin.Customer(ctx(t), "a@x.io")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Projects[0].Params["acct"]; got != json.Number("12345678901234567890") {
		t.Fatalf("acct read back as %#v", got)
	}
}
