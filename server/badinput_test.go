package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
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
	if n := e.count("customers"); n != 3 {
		t.Fatalf("%d customers after rejected batches, want 3", n)
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
