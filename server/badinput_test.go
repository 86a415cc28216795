package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBadInputIsRejectedAndWritesNothing sends one bad identify per limit of
// SPEC §3 and checks each gets a 4xx problem naming the field, and that no
// row was written by any of them.
func TestBadInputIsRejectedAndWritesNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App")
	deep := `{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}`
	manyKeys := "{"
	for i := range 101 {
		if i > 0 {
			manyKeys += ","
		}
		manyKeys += fmt.Sprintf(`"k%d":1`, i)
	}
	manyKeys += "}"
	for _, tc := range []struct {
		name   string
		body   string
		status int
		field  string
	}{
		{"empty body", ``, 400, "body"},
		{"not JSON", `hello`, 400, "body"},
		{"array", `[1]`, 400, "body"},
		{"trailing data", `{"email":"a@x.io"} {}`, 400, "body"},
		{"missing email", `{"name":"A"}`, 400, "email"},
		{"email wrong type", `{"email":42}`, 400, "email"},
		{"display-name email", `{"email":"Alice <a@x.io>"}`, 400, "email"},
		{"email without dot", `{"email":"a@localhost"}`, 400, "email"},
		{"email too long", `{"email":"` + strings.Repeat("a", 65) + `@x.io"}`, 400, "email"},
		{"unknown field", `{"email":"a@x.io","emial":"x"}`, 400, "emial"},
		{"name too long", `{"email":"a@x.io","name":"` + strings.Repeat("n", 257) + `"}`, 400, "name"},
		{"name control char", `{"email":"a@x.io","name":"a\u0000b"}`, 400, "name"},
		{"bad status", `{"email":"a@x.io","status":"Paid Plan"}`, 400, "status"},
		{"status too long", `{"email":"a@x.io","status":"` + strings.Repeat("s", 33) + `"}`, 400, "status"},
		{"params not object", `{"email":"a@x.io","params":[1]}`, 400, "params"},
		{"params string", `{"email":"a@x.io","params":"x"}`, 400, "params"},
		{"params too deep", `{"email":"a@x.io","params":` + deep + `}`, 400, "params.a.b.c.d.e"},
		{"params too many keys", `{"email":"a@x.io","params":` + manyKeys + `}`, 400, "params"},
		{"params bad key", `{"email":"a@x.io","params":{"bad key":1}}`, 400, "params"},
		{"params NUL", `{"email":"a@x.io","params":{"k":"a\u0000"}}`, 400, "params.k"},
		{"params too big", `{"email":"a@x.io","params":{"k":"` + strings.Repeat("x", 16<<10) + `"}}`, 400, "params"},
		{"negative mrr", `{"email":"a@x.io","params":{"mrr":-5}}`, 400, "params.mrr"},
		{"bad timestamp", `{"email":"a@x.io","timestamp":"yesterday"}`, 400, "timestamp"},
		{"epoch timestamp", `{"email":"a@x.io","timestamp":"1970-01-01T00:00:00Z"}`, 400, "timestamp"},
		{"numeric timestamp", `{"email":"a@x.io","timestamp":1700000000}`, 400, "timestamp"},
		{"message_id too long", `{"email":"a@x.io","message_id":"` + strings.Repeat("m", 129) + `"}`, 400, "message_id"},
		{"body too large", `{"email":"a@x.io","name":"` + strings.Repeat("n", 40<<10) + `"}`, 413, "body"},
		// Numbers PostgreSQL would refuse (1e200000) or keep exactly where
		// a double cannot follow (1e-400 as mrr broke every read of mrr_total).
		{"params huge number", `{"email":"a@x.io","params":{"h":1e200000}}`, 400, "params.h"},
		{"params tiny number", `{"email":"a@x.io","params":{"tiny":1e-20000}}`, 400, "params.tiny"},
		{"params number out of double range", `{"email":"a@x.io","params":{"a":{"b":[1,1e999]}}}`, 400, "params.a.b[1]"},
		{"params denormal number", `{"email":"a@x.io","params":{"d":-1e-310}}`, 400, "params.d"},
		{"params zero with a huge exponent", `{"email":"a@x.io","params":{"z":0e-99999}}`, 400, "params.z"},
		{"mrr underflow", `{"email":"a@x.io","params":{"mrr":1e-400}}`, 400, "params.mrr"},
		{"params number too long", `{"email":"a@x.io","params":{"n":1.` + strings.Repeat("1", 120) + `}}`, 400, "params.n"},
		// Text encoding/json would decode lossily (as U+FFFD) and jsonb refuses.
		{"params invalid UTF-8", "{\"email\":\"a@x.io\",\"params\":{\"k\":\"a\xffb\"}}", 400, "params.k"},
		{"params lone low surrogate", `{"email":"a@x.io","params":{"k":"\udc00"}}`, 400, "params.k"},
		{"params lone high surrogate", `{"email":"a@x.io","params":{"k":["ok","\ud800x"]}}`, 400, "params.k[1]"},
		{"params key invalid UTF-8", "{\"email\":\"a@x.io\",\"params\":{\"k\xff\":1}}", 400, "params"},
		{"name invalid UTF-8", "{\"email\":\"a@x.io\",\"name\":\"M\xfcller\"}", 400, "name"},
		{"message_id lone surrogate", `{"email":"a@x.io","message_id":"x\ud800"}`, 400, "message_id"},
		{"email invalid UTF-8", "{\"email\":\"a\xff@x.io\"}", 400, "email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1/identify", key, tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Raw)
			}
			if r.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("content type %q", r.Header.Get("Content-Type"))
			}
			if r.Body["field"] != tc.field || r.Body["detail"] == "" {
				t.Fatalf("problem %s does not name field %q", r.Raw, tc.field)
			}
		})
	}
	for _, table := range []string{"customers", "memberships", "events", "message_ids"} {
		if n := e.count(table); n != 0 {
			t.Fatalf("%d rows in %s after bad input, want 0", n, table)
		}
	}
}

func TestBatchCommitsValidItemsAndReportsInvalidOnes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slug, key := e.project("App")
	body := `{"items":[
		{"email":"a@x.io","status":"paid","message_id":"1"},
		{"email":"not-an-email"},
		{"email":"b@x.io","params":{"mrr":5}},
		{"email":"a@x.io","message_id":"1"},
		{"email":"c@x.io","status":"NOPE"}
	]}`
	r := e.do("POST", "/v1/batch", key, body).must(t, http.StatusOK)
	if r.Body["accepted"] != 2.0 || r.Body["duplicates"] != 1.0 {
		t.Fatalf("batch reply %s", r.Raw)
	}
	rej := r.Body["rejected"].([]any)
	if len(rej) != 2 || rej[0].(map[string]any)["index"] != 1.0 || rej[1].(map[string]any)["index"] != 4.0 ||
		!strings.Contains(rej[0].(map[string]any)["error"].(string), "email") {
		t.Fatalf("rejected %v", rej)
	}
	if n := e.count("customers"); n != 2 {
		t.Fatalf("%d customers, want 2", n)
	}
	// The admin import route applies the same batch on a project's behalf.
	r = e.do("POST", "/v1/projects/"+slug+"/batch", e.admin, `{"items":[{"email":"d@x.io"}]}`).must(t, http.StatusOK)
	if r.Body["accepted"] != 1.0 {
		t.Fatalf("project batch reply %s", r.Raw)
	}
	// Limits: more than 1000 items, a missing items field.
	many := `{"items":[` + strings.TrimSuffix(strings.Repeat(`{"email":"a@x.io"},`, 1001), ",") + `]}`
	e.do("POST", "/v1/batch", key, many).must(t, http.StatusBadRequest)
	e.do("POST", "/v1/batch", key, `{}`).must(t, http.StatusBadRequest)
	// An item that is not an object is named as the item, not the body.
	r = e.do("POST", "/v1/batch", key, `{"items":[{"email":"e@x.io"},42]}`).must(t, http.StatusOK)
	if rej := r.Body["rejected"].([]any); len(rej) != 1 || rej[0].(map[string]any)["field"] != "items[1]" ||
		!strings.HasPrefix(rej[0].(map[string]any)["error"].(string), "items[1]: ") {
		t.Fatalf("rejected %v", rej)
	}
	if n := e.count("customers"); n != 4 {
		t.Fatalf("%d customers after rejected batches, want 4", n)
	}
}

func TestProjectsCRUD(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.do("POST", "/v1/projects", e.admin, map[string]any{"name": "Bücher Shop"}).must(t, http.StatusCreated)
	if r.Body["slug"] != "bucher-shop" || !strings.HasPrefix(r.Body["key"].(string), "tcrm_pk_") || !strings.HasPrefix(r.Body["color"].(string), "#") {
		t.Fatalf("created %s", r.Raw)
	}
	e.do("POST", "/v1/projects", e.admin, map[string]any{"name": "Other", "slug": "bucher-shop"}).must(t, http.StatusConflict)
	e.do("POST", "/v1/projects", e.admin, map[string]any{"name": ""}).must(t, http.StatusBadRequest)
	e.do("POST", "/v1/projects", e.admin, map[string]any{"name": "X", "slug": "Bad Slug"}).must(t, http.StatusBadRequest)
	e.do("POST", "/v1/projects", e.admin, map[string]any{"name": "X", "color": "red"}).must(t, http.StatusBadRequest)
	r = e.do("PATCH", "/v1/projects/bucher-shop", e.admin, map[string]any{"name": "Books"}).must(t, http.StatusOK)
	if r.Body["name"] != "Books" || r.Body["slug"] != "bucher-shop" {
		t.Fatalf("renamed %s", r.Raw)
	}
	key := e.do("POST", "/v1/projects", e.admin, map[string]any{"name": "Second", "color": "#123ABC"}).must(t, http.StatusCreated).Body["key"].(string)
	e.identify(key, map[string]any{"email": "a@x.io", "params": map[string]any{"mrr": 5}})
	list := e.do("GET", "/v1/projects", e.admin, nil).must(t, http.StatusOK).Body["projects"].([]any)
	if len(list) != 2 || list[1].(map[string]any)["customers"] != 1.0 || list[1].(map[string]any)["identifies_24h"] != 1.0 ||
		list[1].(map[string]any)["color"] != "#123abc" || list[1].(map[string]any)["last_ingest"] == nil {
		t.Fatalf("list %v", list)
	}
	e.do("DELETE", "/v1/projects/second", e.admin, nil).must(t, http.StatusNoContent)
	e.do("GET", "/v1/projects/second", e.admin, nil).must(t, http.StatusNotFound)
	// The deleted project's key no longer works and its only member is gone.
	e.do("POST", "/v1/identify", key, map[string]any{"email": "a@x.io"}).must(t, http.StatusUnauthorized)
	if n := e.count("customers"); n != 0 {
		t.Fatalf("%d customers after deleting their only project", n)
	}
}

// TestProjectDeletedByAnotherDaemon deletes a project behind this daemon's
// back (as another daemon would), while its key is still in this daemon's
// key cache: identifies and batch items for it are refused, and nothing of
// them is stored.
func TestProjectDeletedByAnotherDaemon(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slug, key := e.project("Doomed")
	e.identify(key, map[string]any{"email": "first@x.io"}) // the key is cached now
	if err := e.store.DeleteProject(context.Background(), e.ws, slug); err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", "/v1/identify", key, map[string]any{"email": "late@x.io", "message_id": "late-1"}).must(t, http.StatusNotFound)
	if !strings.Contains(r.Body["detail"].(string), "deleted") {
		t.Fatalf("detail %s", r.Raw)
	}
	r = e.do("POST", "/v1/batch", key, `{"items":[{"email":"late2@x.io"}]}`).must(t, http.StatusOK)
	if r.Body["accepted"] != 0.0 || fmt.Sprint(r.Body["rejected"]) != "[map[error:the key's project was deleted index:0]]" {
		t.Fatalf("batch reply %s", r.Raw)
	}
	for _, table := range []string{"customers", "memberships", "events", "message_ids"} {
		if n := e.count(table); n != 0 {
			t.Errorf("%d rows in %s", n, table)
		}
	}
}

// TestUnusualValidInputIsStoredExactly is the other side of the text and
// number checks: what is valid JSON text and a number a double can hold
// lands, as sent.
func TestUnusualValidInputIsStoredExactly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App")
	e.do("POST", "/v1/identify", key, `{"email":"u@x.io","timestamp":"2026-03-29t10:00:00z","name":"M\u00fcller \ud83d\ude00",`+
		`"params":{"emoji":"\ud83d\ude00","slash":"\\u00e9","big":1.7e308,"small":2.3e-308,"zero":-0.0e-300,`+
		`"acct":12345678901234567890,"mrr":29.970000000000002}}`).must(t, http.StatusOK)
	r := e.do("GET", "/v1/customers/u@x.io", e.admin, nil).must(t, http.StatusOK)
	for _, want := range []string{`"name":"Müller 😀"`, `"emoji":"😀"`, `"slash":"\\u00e9"`, `"acct":12345678901234567890`,
		`"mrr_total":29.970000000000002`} {
		if !strings.Contains(string(r.Raw), want) {
			t.Errorf("stored customer lacks %s: %s", want, r.Raw)
		}
	}
	c := e.customer("u@x.io")
	if c.FirstSeen != "2026-03-29T10:00:00Z" {
		t.Errorf("first_seen %s from a lower-case RFC 3339 timestamp", c.FirstSeen)
	}
	p := c.Projects[0].Params
	if p["big"] != 1.7e308 || p["small"] != 2.3e-308 || p["zero"] != 0.0 {
		t.Errorf("numbers %v", p)
	}
}

// TestPathValuesThatCannotExist: ids, emails and slugs in the path that
// no row can have (not UTF-8, NUL, neither email nor id) are answered
// 400 or 404 without a database error, and a suppression is never stored
// for something that is not an email.
func TestPathValuesThatCannotExist(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slug, _ := e.project("App")
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/v1/customers/%ff", 400},
		{"GET", "/v1/customers/%00", 400},
		{"GET", "/v1/customers/a%C3%A9%C3", 400},
		{"GET", "/v1/customers/a%ff@x.io", 400},
		{"GET", "/v1/customers/hello%20world", 400},
		{"GET", "/v1/customers/-3", 400},
		{"GET", "/v1/customers/99999", 404},
		{"GET", "/v1/customers/nobody@x.io", 404},
		{"DELETE", "/v1/customers/%ff?suppress=true", 400},
		{"DELETE", "/v1/customers/hello%20world?suppress=true", 400},
		{"GET", "/v1/projects/%ff", 404},
		{"PATCH", "/v1/projects/%ff", 404},
		{"DELETE", "/v1/projects/%ff", 404},
		{"GET", "/v1/projects/%ff/keys", 404},
		{"POST", "/v1/projects/%ff/keys", 404},
		{"POST", "/v1/projects/%ff/keys/rotate", 404},
		{"DELETE", "/v1/projects/%ff/keys/1", 404},
		{"POST", "/v1/projects/%ff/batch", 404},
		{"GET", "/v1/projects/NOPE", 404},
		{"DELETE", "/v1/projects/" + slug + "/keys/99999", 404},
	} {
		var body any
		if tc.method == "PATCH" {
			body = map[string]any{"name": "X"}
		}
		r := e.do(tc.method, tc.path, e.admin, body)
		if r.Status != tc.status || r.Body["detail"] == "" {
			t.Errorf("%s %s: %d %s, want %d with a detail", tc.method, tc.path, r.Status, r.Raw, tc.status)
		}
		if d, _ := r.Body["detail"].(string); strings.Contains(d, "not found") {
			t.Errorf("%s %s: detail %q is the store's, not the user's", tc.method, tc.path, d)
		}
	}
	if n := e.count("suppressions"); n != 0 {
		t.Fatalf("%d suppressions stored for non-emails", n)
	}
}

// TestProjectSettingsAreNotSilentlyIgnored: the grace period takes days,
// a repeated or misplaced setting is refused, a taken slug names itself.
func TestProjectSettingsAreNotSilentlyIgnored(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slug, _ := e.project("App")
	r := e.do("POST", "/v1/projects/"+slug+"/keys/rotate?grace=7d", e.admin, nil).must(t, http.StatusCreated)
	keys := e.do("GET", "/v1/projects/"+slug+"/keys", e.admin, nil).must(t, http.StatusOK).Body["keys"].([]any)
	old := keys[1].(map[string]any)
	if exp, err := time.Parse(time.RFC3339, old["expires_at"].(string)); err != nil || time.Until(exp) < 7*24*time.Hour-time.Minute {
		t.Fatalf("old key after rotate?grace=7d: %v (%v); rotate said %s", old, err, r.Raw)
	}
	e.do("POST", "/v1/projects/"+slug+"/keys/rotate?grace=0d", e.admin, nil).must(t, http.StatusCreated)
	for _, tc := range []struct{ path, body, field string }{
		{"/keys/rotate?grace=8d", "", "grace"},
		{"/keys/rotate?grace=1h&grace=2h", "", "grace"},
		{"/keys/rotate", `{"grace":"1h"}`, "body"},
		{"/keys", "garbage", "body"},
	} {
		r := e.do("POST", "/v1/projects/"+slug+tc.path, e.admin, tc.body)
		if r.Status != http.StatusBadRequest || r.Body["field"] != tc.field {
			t.Errorf("POST %s with %q: %d %s, want 400 naming %s", tc.path, tc.body, r.Status, r.Raw, tc.field)
		}
	}
	if n := len(e.do("GET", "/v1/projects/"+slug+"/keys", e.admin, nil).Body["keys"].([]any)); n != 3 {
		t.Fatalf("%d keys after two rotations and refused calls, want 3", n)
	}
	for _, bad := range []string{"-", "-lead"} {
		if r := e.do("POST", "/v1/projects", e.admin, map[string]any{"name": "Lead", "slug": bad}); r.Status != 400 || r.Body["field"] != "slug" {
			t.Errorf("slug %q: %d %s", bad, r.Status, r.Raw)
		}
	}
	r = e.do("POST", "/v1/projects", e.admin, map[string]any{"name": "Other", "slug": slug}).must(t, http.StatusConflict)
	if r.Body["field"] != "slug" || !strings.Contains(r.Body["detail"].(string), `"`+slug+`"`) {
		t.Fatalf("conflict %s", r.Raw)
	}
}

// TestImportDryRunChecksWithTheImportRules: dry_run=true answers exactly
// what the import would accept and reject, and stores nothing.
func TestImportDryRunChecksWithTheImportRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slug, _ := e.project("App")
	body := `{"items":[{"email":"a@x.io","params":{"mrr":9}},{"email":"b@x.io","params":{"mrr":1e999}},` +
		`{"email":"nope"},{"email":"c@x.io","message_id":"m1"}]}`
	dry := e.do("POST", "/v1/projects/"+slug+"/batch?dry_run=true", e.admin, body).must(t, http.StatusOK)
	for _, table := range []string{"customers", "memberships", "events", "message_ids"} {
		if n := e.count(table); n != 0 {
			t.Fatalf("%d rows in %s after a dry run", n, table)
		}
	}
	real := e.do("POST", "/v1/projects/"+slug+"/batch", e.admin, body).must(t, http.StatusOK)
	if dry.Body["accepted"] != 2.0 || fmt.Sprint(dry.Body["rejected"]) != fmt.Sprint(real.Body["rejected"]) ||
		real.Body["accepted"] != 2.0 {
		t.Fatalf("dry run %s, real %s", dry.Raw, real.Raw)
	}
	e.do("POST", "/v1/projects/"+slug+"/batch?dry_run=maybe", e.admin, body).must(t, http.StatusBadRequest)
}

// TestImportDryRunAnswersAsARealRunWould: what only the stored data can
// tell — a message id seen before or twice in the batch, a suppressed
// email, params that would merge past a membership's bounds — is counted
// by a dry run as the real run counts it, and the dry run stores nothing.
func TestImportDryRunAnswersAsARealRunWould(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slug, key := e.project("App")
	full := map[string]any{}
	for i := range 100 {
		full[fmt.Sprintf("k%d", i)] = i
	}
	e.identify(key, map[string]any{"email": "seen@x.io", "message_id": "m-seen"})
	e.identify(key, map[string]any{"email": "full@x.io", "params": full})
	e.do("DELETE", "/v1/customers/gone@x.io?suppress=true", e.admin, nil).must(t, http.StatusOK)
	body := `{"items":[{"email":"new@x.io","message_id":"m-new"},{"email":"new@x.io","message_id":"m-new"},` +
		`{"email":"seen@x.io","message_id":"m-seen"},{"email":"gone@x.io"},{"email":"full@x.io","params":{"extra":1}},{"email":"nope"}]}`
	tables := []string{"customers", "memberships", "events", "message_ids"}
	before := map[string]int{}
	for _, table := range tables {
		before[table] = e.count(table)
	}
	dry := e.do("POST", "/v1/projects/"+slug+"/batch?dry_run=true", e.admin, body).must(t, http.StatusOK)
	for _, table := range tables {
		if n := e.count(table); n != before[table] {
			t.Errorf("%s: %d rows after a dry run, %d before", table, n, before[table])
		}
	}
	real := e.do("POST", "/v1/projects/"+slug+"/batch", e.admin, body).must(t, http.StatusOK)
	if string(dry.Raw) != string(real.Raw) {
		t.Errorf("dry run answered %s, the real run %s", dry.Raw, real.Raw)
	}
	want := `{"accepted":1,"duplicates":2,"suppressed":1,"rejected":[{"index":4,"field":"params"`
	if !strings.HasPrefix(string(real.Raw), want) {
		t.Errorf("real run %s, want it to start %s", real.Raw, want)
	}
}
