package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"tinycrm.dev/tinycrm/server"
)

// segment sends one call the way Segment's libraries do: JSON, with the
// project key as the HTTP Basic user name and an empty password.
func (e *env) segment(path, key string, body any) response {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := http.NewRequest("POST", e.url+"/segment/v1/"+path, bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.SetBasicAuth(key, "")
	}
	res, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("POST /segment/v1/%s: %v", path, err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := response{Status: res.StatusCode, Header: res.Header, Raw: out}
	if len(out) > 0 && out[0] == '{' {
		if err := json.Unmarshal(out, &r.Body); err != nil {
			e.t.Fatalf("POST /segment/v1/%s: bad JSON %q: %v", path, out, err)
		}
	}
	return r
}

// problemField fails unless r is a 400 problem naming field.
func (r response) problemField(t testing.TB, field string) {
	t.Helper()
	r.must(t, http.StatusBadRequest)
	if got, _ := r.Body["field"].(string); got != field {
		t.Fatalf("problem names field %q, want %q; body %s", got, field, r.Raw)
	}
	if r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("content type %q", r.Header.Get("Content-Type"))
	}
}

func (e *env) timelineLen(email string) int {
	e.t.Helper()
	return len(e.customer(email).Timeline)
}

func sameTime(t testing.TB, what, got string, want time.Time) {
	t.Helper()
	g, err := time.Parse(time.RFC3339Nano, got)
	if err != nil || !g.Equal(want) {
		t.Fatalf("%s = %s, want %s", what, got, want.UTC().Format(time.RFC3339Nano))
	}
}

func TestSegmentIdentifyMapsTraits(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App A")
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	r := e.segment("identify", key, map[string]any{
		"userId":    "u-1",
		"messageId": "m-1",
		"timestamp": at.Format(time.RFC3339Nano),
		"traits": map[string]any{
			"email":      "Alice@Example.com",
			"name":       "Alice Chen",
			"firstName":  "Ignored",
			"status":     "paid",
			"plan":       "pro",
			"mrr":        9,
			"createdAt":  "2026-01-02T03:04:05Z",
			"Plan Type":  "annual",
			"$browser":   "Firefox",
			"company":    map[string]any{"name": "Acme", "employee count": 12, "tags": []any{"b2b", map[string]any{"a b": true}}},
			"newsletter": nil,
		},
		"context":      map[string]any{"library": map[string]any{"name": "analytics-node", "version": "3.1.0"}},
		"integrations": map[string]any{},
	}).must(t, http.StatusOK)
	if string(r.Raw) != "{\"success\":true}\n" {
		t.Fatalf("reply %s", r.Raw)
	}
	c := e.customer("alice@example.com")
	if c.Name != "Alice Chen" || c.MRRTotal != 9 || len(c.Projects) != 1 || c.Projects[0].Status != "paid" {
		t.Fatalf("customer %+v", c)
	}
	sameTime(t, "last_seen", c.LastSeen, at)
	want := map[string]any{
		"plan": "pro", "mrr": 9.0, "createdAt": "2026-01-02T03:04:05Z", "Plan_Type": "annual", "_browser": "Firefox",
		"company": map[string]any{"name": "Acme", "employee_count": 12.0, "tags": []any{"b2b", map[string]any{"a_b": true}}},
	}
	if !reflect.DeepEqual(c.Projects[0].Params, want) {
		t.Fatalf("params %v, want %v", c.Projects[0].Params, want)
	}

	// firstName + lastName make the name when name is absent.
	e.segment("identify", key, map[string]any{"userId": "u-2", "traits": map[string]any{
		"email": "bob@example.com", "firstName": "Bob", "lastName": "Builder"}}).must(t, http.StatusOK)
	if c := e.customer("bob@example.com"); c.Name != "Bob Builder" || len(c.Projects[0].Params) != 0 {
		t.Fatalf("bob %+v", c)
	}
	// Bearer works as well as Basic; an anonymousId with an email is fine.
	e.do("POST", "/segment/v1/identify", key, `{"anonymousId":"a-9","traits":{"email":"carol@example.com","lastName":"Doe"}}`).must(t, http.StatusOK)
	if c := e.customer("carol@example.com"); c.Name != "Doe" {
		t.Fatalf("carol %+v", c)
	}
}

func TestSegmentUserIDCountsAsActivity(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App A")
	base := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Millisecond)
	e.segment("identify", key, map[string]any{"userId": "u-1", "timestamp": base.Format(time.RFC3339Nano),
		"traits": map[string]any{"email": "alice@example.com", "name": "Alice", "status": "trialing", "plan": "pro"}}).must(t, http.StatusOK)
	before := e.customer("alice@example.com")
	events := len(before.Timeline)

	for i, kind := range []string{"track", "page", "screen"} {
		at := base.Add(time.Duration(i+1) * 10 * time.Minute)
		r := e.segment(kind, key, map[string]any{"userId": "u-1", "event": "Signed In", "name": "Home",
			"properties": map[string]any{"plan": "changed?"}, "timestamp": at.Format(time.RFC3339Nano)}).must(t, http.StatusOK)
		if string(r.Raw) != "{\"success\":true}\n" {
			t.Fatalf("%s reply %s", kind, r.Raw)
		}
		c := e.customer("alice@example.com")
		sameTime(t, kind+": last_seen", c.LastSeen, at)
		sameTime(t, kind+": membership last_seen", c.Projects[0].LastSeen, at)
		if c.Name != "Alice" || c.Projects[0].Status != "trialing" || !reflect.DeepEqual(c.Projects[0].Params, map[string]any{"plan": "pro"}) ||
			c.FirstSeen != before.FirstSeen || len(c.Timeline) != events {
			t.Fatalf("%s changed more than last_seen: %+v", kind, c)
		}
	}
	// An older track moves nothing.
	e.segment("track", key, map[string]any{"userId": "u-1", "event": "x", "timestamp": base.Format(time.RFC3339Nano)}).must(t, http.StatusOK)
	sameTime(t, "last_seen after an old track", e.customer("alice@example.com").LastSeen, base.Add(30*time.Minute))

	// A track that carries context.traits.email teaches its userId too,
	// but a ping creates nobody.
	e.segment("track", key, map[string]any{"userId": "u-2", "event": "x", "context": map[string]any{"traits": map[string]any{"email": "zed@example.com"}}}).must(t, http.StatusOK)
	if n := e.count("customers"); n != 1 {
		t.Fatalf("%d customers after a track for a stranger, want 1", n)
	}

	// An identify with only the userId is an identify of the remembered
	// email: traits change, nothing about the person is guessed.
	e.segment("identify", key, map[string]any{"userId": "u-1", "traits": map[string]any{"plan": "team", "status": "paid"}}).must(t, http.StatusOK)
	c := e.customer("alice@example.com")
	if c.Projects[0].Status != "paid" || c.Projects[0].Params["plan"] != "team" || c.Name != "Alice" {
		t.Fatalf("identify by userId: %+v", c)
	}
	if time.Since(ts(c.LastSeen)) > time.Minute {
		t.Fatalf("last_seen %s is not now", c.LastSeen)
	}
	// The userId belongs to this project only.
	_, other := e.project("App B")
	e.segment("track", other, map[string]any{"userId": "u-1", "event": "x"}).problemField(t, "userId")

	// A new email for the userId moves it.
	e.segment("identify", key, map[string]any{"userId": "u-1", "traits": map[string]any{"email": "alice@new.example"}}).must(t, http.StatusOK)
	e.segment("identify", key, map[string]any{"userId": "u-1", "traits": map[string]any{"plan": "enterprise"}}).must(t, http.StatusOK)
	if p := e.customer("alice@new.example").Projects[0].Params; p["plan"] != "enterprise" {
		t.Fatalf("new email's params %v", p)
	}
	if p := e.customer("alice@example.com").Projects[0].Params; p["plan"] != "team" {
		t.Fatalf("old email's params %v", p)
	}
}

func TestSegmentUnresolvableCallsAreReported(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App A")
	for _, c := range []struct {
		path, body, field string
	}{
		{"track", `{"anonymousId":"a-1","event":"Viewed"}`, "userId"},
		{"page", `{"anonymousId":"a-1","name":"Home"}`, "userId"},
		{"screen", `{}`, "userId"},
		{"identify", `{"anonymousId":"a-1","traits":{"name":"Who"}}`, "traits.email"},
		{"identify", `{"traits":{"plan":"pro"}}`, "traits.email"},
		{"identify", `{"userId":"never-seen","traits":{"plan":"pro"}}`, "userId"},
		{"track", `{"userId":"never-seen","event":"x"}`, "userId"},
		// An email in track's properties is not an identity.
		{"track", `{"userId":"u","event":"x","properties":{"email":"a@example.com"}}`, "userId"},
	} {
		r := e.segment(c.path, key, c.body)
		r.problemField(t, c.field)
		if c.body != "{}" && !strings.Contains(r.Body["detail"].(string), "send") {
			t.Errorf("%s %s: detail %q does not say what to do", c.path, c.body, r.Body["detail"])
		}
	}
	if n := e.count("customers") + e.count("segment_users") + e.count("message_ids"); n != 0 {
		t.Fatalf("%d rows written by rejected calls", n)
	}
}

func TestSegmentBatch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App A")
	now := time.Now().UTC()
	r := e.segment("batch", key, map[string]any{
		"writeKey": key,
		"sentAt":   now.Format(time.RFC3339Nano),
		"batch": []any{
			// 0: a track before its userId is known is reported: mappings
			// are learnt in item order.
			map[string]any{"type": "track", "userId": "u-1", "event": "Early"},
			// 1: teaches u-1.
			map[string]any{"type": "identify", "userId": "u-1", "messageId": "m-1",
				"traits": map[string]any{"email": "alice@example.com", "name": "Alice", "plan": "pro"}},
			// 2, 3: resolve through item 1.
			map[string]any{"type": "track", "userId": "u-1", "event": "Signed In"},
			map[string]any{"type": "page", "userId": "u-1", "name": "Pricing"},
			// 4: anonymous only.
			map[string]any{"type": "track", "anonymousId": "a-1", "event": "Viewed"},
			// 5: a type TinyCRM does not use.
			map[string]any{"type": "group", "userId": "u-1", "groupId": "g-1"},
			// 6: a bad email.
			map[string]any{"type": "identify", "userId": "u-2", "traits": map[string]any{"email": "not an email"}},
			// 7: a bad status; its userId is not learnt.
			map[string]any{"type": "identify", "userId": "u-3", "traits": map[string]any{"email": "bob@example.com", "status": "Paying Customer"}},
			// 8: so this one is unresolvable.
			map[string]any{"type": "track", "userId": "u-3", "event": "x"},
			// 9: not an object.
			"identify",
			// 10: no type.
			map[string]any{"userId": "u-1"},
			// 11: an identify by userId, resolved through item 1.
			map[string]any{"type": "identify", "userId": "u-1", "traits": map[string]any{"mrr": 19}},
			// 12: a replay of item 1.
			map[string]any{"type": "identify", "userId": "u-1", "messageId": "m-1", "traits": map[string]any{"email": "alice@example.com", "plan": "replayed"}},
			// 13: screen, a numeric userId, and an email from context.
			map[string]any{"type": "screen", "userId": 42, "context": map[string]any{"traits": map[string]any{"email": "alice@example.com"}}},
		},
	}).must(t, http.StatusOK)
	var reply struct {
		Success    bool `json:"success"`
		Accepted   int  `json:"accepted"`
		Duplicates int  `json:"duplicates"`
		Rejected   []struct {
			Index int    `json:"index"`
			Field string `json:"field"`
			Error string `json:"error"`
		} `json:"rejected"`
	}
	if err := json.Unmarshal(r.Raw, &reply); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rj := range reply.Rejected {
		got = append(got, fmt.Sprintf("%d:%s", rj.Index, rj.Field))
	}
	want := []string{"0:userId", "4:userId", "5:type", "6:traits.email", "7:traits.status", "8:userId", "9:", "10:type"}
	if !reply.Success || reply.Accepted != 5 || reply.Duplicates != 1 || !reflect.DeepEqual(got, want) {
		t.Fatalf("reply %s; rejected %v, want %v", r.Raw, got, want)
	}
	c := e.customer("alice@example.com")
	if c.Name != "Alice" || c.MRRTotal != 19 || !reflect.DeepEqual(c.Projects[0].Params, map[string]any{"plan": "pro", "mrr": 19.0}) {
		t.Fatalf("customer %+v", c)
	}
	if n := e.count("customers"); n != 1 {
		t.Fatalf("%d customers, want 1 (the rejected items wrote nothing)", n)
	}
	// u-1 and 42 are remembered now, for later requests.
	if n := e.count("segment_users"); n != 2 {
		t.Fatalf("%d segment users, want 2", n)
	}
	e.segment("track", key, `{"userId":"42","event":"x"}`).must(t, http.StatusOK)

	// import is batch by another name; an empty batch is fine.
	r = e.segment("import", key, `{"batch":[]}`).must(t, http.StatusOK)
	if string(r.Raw) != "{\"success\":true,\"accepted\":0,\"duplicates\":0,\"rejected\":[]}\n" {
		t.Fatalf("empty batch reply %s", r.Raw)
	}
}

// A batch of more calls than one /v1/batch holds is applied in groups, in
// order: a userId learnt in the first group resolves in the second.
func TestSegmentBatchLargerThanOneGroup(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App A")
	const n = 800
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	items := make([]any, 0, 2*n)
	for i := range n {
		items = append(items, map[string]any{"type": "identify", "userId": fmt.Sprint(i), "timestamp": base.Format(time.RFC3339Nano),
			"traits": map[string]any{"email": fmt.Sprintf("u%d@example.com", i)}})
	}
	for i := range n {
		items = append(items, map[string]any{"type": "track", "userId": fmt.Sprint(i), "timestamp": base.Add(time.Minute).Format(time.RFC3339Nano)})
	}
	r := e.segment("batch", key, map[string]any{"batch": items}).must(t, http.StatusOK)
	if r.Body["accepted"] != float64(2*n) || len(r.Body["rejected"].([]any)) != 0 {
		t.Fatalf("reply %.300s", r.Raw)
	}
	for _, i := range []int{0, n - 1} {
		sameTime(t, "last_seen", e.customer(fmt.Sprintf("u%d@example.com", i)).LastSeen, base.Add(time.Minute))
	}
}

func TestSegmentMessageIDDedupe(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App A")
	body := map[string]any{"userId": "u-1", "messageId": "node-next-1", "traits": map[string]any{"email": "a@example.com", "plan": "pro"}}
	e.segment("identify", key, body).must(t, http.StatusOK)
	events := e.timelineLen("a@example.com")
	body["traits"] = map[string]any{"email": "a@example.com", "plan": "other"}
	r := e.segment("identify", key, body).must(t, http.StatusOK)
	if r.Body["success"] != true || r.Body["duplicate"] != true {
		t.Fatalf("replay reply %s", r.Raw)
	}
	c := e.customer("a@example.com")
	if c.Projects[0].Params["plan"] != "pro" || len(c.Timeline) != events {
		t.Fatalf("replay changed the customer: %+v", c)
	}
	// The same messageId in a batch, and again within it.
	r = e.segment("batch", key, map[string]any{"batch": []any{
		map[string]any{"type": "identify", "messageId": "node-next-1", "traits": map[string]any{"email": "a@example.com", "plan": "x"}},
		map[string]any{"type": "identify", "messageId": "node-next-2", "traits": map[string]any{"email": "a@example.com", "plan": "y"}},
		map[string]any{"type": "identify", "messageId": "node-next-2", "traits": map[string]any{"email": "a@example.com", "plan": "z"}},
	}}).must(t, http.StatusOK)
	if r.Body["accepted"] != 1.0 || r.Body["duplicates"] != 2.0 {
		t.Fatalf("batch reply %s", r.Raw)
	}
	if p := e.customer("a@example.com").Projects[0].Params["plan"]; p != "y" {
		t.Fatalf("plan %v, want y", p)
	}
}

func TestSegmentAuth(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slug, key := e.project("App A")
	revoked := e.do("POST", "/v1/projects/"+slug+"/keys", e.admin, nil).must(t, http.StatusCreated)
	e.do("DELETE", "/v1/projects/"+slug+"/keys/"+jsonID(revoked.Body["id"]), e.admin, nil).must(t, http.StatusNoContent)
	body := `{"batch":[{"type":"identify","traits":{"email":"a@example.com"}}]}`
	for _, c := range []struct {
		name, key string
		status    int
	}{
		{"no key", "", http.StatusUnauthorized},
		{"garbage", "not-a-key", http.StatusUnauthorized},
		{"revoked key", revoked.Body["key"].(string), http.StatusUnauthorized},
		{"admin token", e.admin, http.StatusForbidden},
	} {
		for _, path := range []string{"batch", "identify", "track"} {
			r := e.segment(path, c.key, body)
			if r.Status != c.status || r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s on %s: %d %s, want %d", c.name, path, r.Status, r.Raw, c.status)
			}
		}
	}
	if n := e.count("customers"); n != 0 {
		t.Fatalf("%d customers written without a valid key", n)
	}
	e.segment("batch", key, body).must(t, http.StatusOK)

	// Browsers may call it too.
	req, _ := http.NewRequest("OPTIONS", e.url+"/segment/v1/batch", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
}

func TestSegmentSizeLimits(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App A")
	pad := func(n int) string { return strings.Repeat("x", n) }
	identify := func(padding int) map[string]any {
		return map[string]any{"type": "identify", "traits": map[string]any{"email": "a@example.com"}, "properties": map[string]any{"pad": pad(padding)}}
	}
	// One call: 32 KiB.
	e.segment("identify", key, identify(33<<10)).must(t, http.StatusRequestEntityTooLarge)
	e.segment("track", key, identify(33<<10)).must(t, http.StatusRequestEntityTooLarge)
	// A batch: 500 KiB, however small its items.
	items := make([]any, 0, 20)
	for range 20 {
		items = append(items, identify(26<<10))
	}
	r := e.segment("batch", key, map[string]any{"batch": items}).must(t, http.StatusRequestEntityTooLarge)
	if r.Body["field"] != "body" {
		t.Fatalf("413 reply %s", r.Raw)
	}
	if n := e.count("customers"); n != 0 {
		t.Fatalf("%d customers after 413s", n)
	}
	// An item over 32 KiB in a batch within the limit is reported alone.
	r = e.segment("batch", key, map[string]any{"batch": []any{identify(33 << 10), identify(10)}}).must(t, http.StatusOK)
	if r.Body["accepted"] != 1.0 || len(r.Body["rejected"].([]any)) != 1 ||
		!strings.Contains(r.Body["rejected"].([]any)[0].(map[string]any)["error"].(string), "per call") ||
		r.Body["rejected"].([]any)[0].(map[string]any)["field"] != "batch[0]" {
		t.Fatalf("batch reply %s", r.Raw)
	}
	// Just under the limit is fine.
	e.segment("identify", key, identify(31<<10)).must(t, http.StatusOK)
}

func TestSegmentBadInputNamesTheField(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App A")
	many := map[string]any{"email": "a@example.com"}
	for i := range 101 {
		many[fmt.Sprintf("k%d", i)] = i
	}
	deep := map[string]any{"email": "a@example.com", "a": map[string]any{"b": map[string]any{"c": map[string]any{"d": map[string]any{"e": map[string]any{"f": 1}}}}}}
	for _, c := range []struct {
		path  string
		body  any
		field string
	}{
		{"identify", `{"traits":`, "body"},
		{"identify", `[1,2]`, "body"},
		{"identify", `{"traits":{"email":"a@example.com"}} {}`, "body"},
		{"identify", `{"traits":"a@example.com"}`, "traits"},
		{"identify", `{"traits":{"email":42}}`, "traits.email"},
		{"identify", `{"traits":{"email":"a@example.com","name":7}}`, "traits.name"},
		{"identify", `{"traits":{"email":"a@example.com","firstName":["A"]}}`, "traits.firstName"},
		{"identify", `{"traits":{"email":"a@example.com","status":"Paid"}}`, "traits.status"},
		{"identify", `{"traits":{"email":"a@example.com","name":"` + pad32k(300) + `"}}`, "traits.name"},
		{"identify", `{"traits":{"email":"a@example.com","mrr":-5}}`, "traits.mrr"},
		{"identify", `{"traits":{"email":"a@example.com","a b":1,"a_b":2}}`, "traits.a_b"},
		{"identify", map[string]any{"traits": many}, "traits"},
		{"identify", map[string]any{"traits": deep}, "traits.a.b.c.d.e"},
		{"identify", `{"messageId":7,"traits":{"email":"a@example.com"}}`, "messageId"},
		{"identify", `{"messageId":"` + pad32k(200) + `","traits":{"email":"a@example.com"}}`, "messageId"},
		{"identify", `{"timestamp":"yesterday","traits":{"email":"a@example.com"}}`, "timestamp"},
		{"identify", `{"originalTimestamp":"1970-01-01T00:00:00Z","traits":{"email":"a@example.com"}}`, "originalTimestamp"},
		{"identify", `{"originalTimestamp":"2026-01-01T00:00:00Z","sentAt":"soon","traits":{"email":"a@example.com"}}`, "sentAt"},
		{"identify", `{"userId":{"id":1},"traits":{"email":"a@example.com"}}`, "userId"},
		{"identify", `{"userId":"` + pad32k(300) + `","traits":{"email":"a@example.com"}}`, "userId"},
		{"identify", `{"context":"web","traits":{"email":"a@example.com"}}`, "context"},
		{"track", `{"userId":"u","context":{"traits":{"email":false}}}`, "context.traits.email"},
		{"track", `{"userId":"u","context":{"traits":{"email":"nope"}}}`, "context.traits.email"},
		{"batch", `{}`, "batch"},
		{"batch", `{"batch":{"type":"identify"}}`, "batch"},
		{"batch", `{"batch":[],"sentAt":"now"}`, "sentAt"},
		{"batch", `not json`, "body"},
	} {
		r := e.segment(c.path, key, c.body)
		if r.Status != http.StatusBadRequest || r.Body["field"] != c.field {
			t.Errorf("%s %.80v: %d %s, want 400 naming %q", c.path, c.body, r.Status, r.Raw, c.field)
		}
	}
	if n := e.count("customers") + e.count("message_ids") + e.count("segment_users"); n != 0 {
		t.Fatalf("%d rows written by rejected calls", n)
	}
}

func pad32k(n int) string { return strings.Repeat("y", n) }

func TestSegmentForgetRemovesRememberedUsers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, keyA := e.project("App A")
	_, keyB := e.project("App B")
	for _, k := range []string{keyA, keyB} {
		e.segment("identify", k, `{"userId":"u-1","traits":{"email":"a@example.com"}}`).must(t, http.StatusOK)
	}
	e.segment("identify", keyA, `{"userId":"u-2","traits":{"email":"b@example.com"}}`).must(t, http.StatusOK)
	if n := e.count("segment_users"); n != 3 {
		t.Fatalf("%d segment users, want 3", n)
	}
	// Unlinking from one project forgets that project's userId only.
	e.do("DELETE", "/v1/customers/a@example.com?project=app-a", e.admin, nil).must(t, http.StatusOK)
	e.segment("track", keyA, `{"userId":"u-1","event":"x"}`).problemField(t, "userId")
	e.segment("track", keyB, `{"userId":"u-1","event":"x"}`).must(t, http.StatusOK)
	// Forgetting the person forgets every userId; with suppress, later
	// identifies are dropped and teach nothing.
	e.do("DELETE", "/v1/customers/a@example.com?suppress=true", e.admin, nil).must(t, http.StatusOK)
	e.segment("track", keyB, `{"userId":"u-1","event":"x"}`).problemField(t, "userId")
	r := e.segment("identify", keyB, `{"userId":"u-1","traits":{"email":"a@example.com"}}`).must(t, http.StatusOK)
	if r.Body["suppressed"] != true {
		t.Fatalf("identify of a suppressed email: %s", r.Raw)
	}
	if n := e.count("segment_users"); n != 1 {
		t.Fatalf("%d segment users, want 1 (b's)", n)
	}
	e.segment("track", keyB, `{"userId":"u-1","event":"x"}`).problemField(t, "userId")
	// Deleting a project forgets its userIds.
	e.do("DELETE", "/v1/projects/app-a", e.admin, nil).must(t, http.StatusNoContent)
	if n := e.count("segment_users"); n != 0 {
		t.Fatalf("%d segment users after the project went, want 0", n)
	}
}

func TestSegmentTimes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC)
	e := setup(t, func(o *server.Options) { o.Now = func() time.Time { return now } })
	_, key := e.project("App A")
	for _, c := range []struct {
		name string
		body string
		want time.Time
	}{
		// timestamp is taken as given (historical imports)...
		{"timestamp", `{"timestamp":"2026-03-01T00:00:00Z","sentAt":"2026-03-29T13:00:00Z","originalTimestamp":"2026-03-02T00:00:00Z"}`,
			time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		// ...and clamped to receipt time when in the future.
		{"future", `{"timestamp":"2027-01-01T00:00:00Z"}`, now},
		// originalTimestamp is corrected for a clock an hour fast.
		{"skew", `{"originalTimestamp":"2026-03-29T12:30:00Z","sentAt":"2026-03-29T13:00:00Z"}`, now.Add(-30 * time.Minute)},
		{"original", `{"originalTimestamp":"2026-03-29T11:00:00+01:00"}`, now.Add(-2 * time.Hour)},
		{"none", `{}`, now},
	} {
		email := c.name + "@example.com"
		body := strings.Replace(c.body, "{", `{"traits":{"email":"`+email+`"},`, 1)
		body = strings.Replace(body, ",}", "}", 1)
		e.segment("identify", key, body).must(t, http.StatusOK)
		sameTime(t, c.name, e.customer(email).LastSeen, c.want)
	}
	// A batch's sentAt corrects its items' originalTimestamp.
	e.segment("batch", key, `{"sentAt":"2026-03-29T11:00:00Z","batch":[
		{"type":"identify","originalTimestamp":"2026-03-29T10:00:00Z","traits":{"email":"batch@example.com"}}]}`).must(t, http.StatusOK)
	sameTime(t, "batch", e.customer("batch@example.com").LastSeen, now.Add(-time.Hour))
}

// TestGzipBodies: Segment libraries such as analytics-java gzip their
// requests. A gzip body is read decompressed on every ingest route, its
// decompressed size is what the limits count, and an encoding the daemon
// does not speak is a 415, not a garbled JSON error.
func TestGzipBodies(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App")
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		if _, err := zw.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	send := func(path, encoding string, body []byte) response {
		req, err := http.NewRequest("POST", e.url+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", encoding)
		req.SetBasicAuth(key, "")
		res, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		r := response{Status: res.StatusCode, Header: res.Header, Raw: raw}
		_ = json.Unmarshal(raw, &r.Body)
		return r
	}
	send("/segment/v1/identify", "gzip", gz(`{"userId":"u1","traits":{"email":"g@x.io","name":"Gzip"}}`)).must(t, http.StatusOK)
	send("/v1/identify", "GZIP", gz(`{"email":"h@x.io"}`)).must(t, http.StatusOK)
	if c := e.customer("g@x.io"); c.Name != "Gzip" {
		t.Fatalf("customer %+v", c)
	}
	// 40 KiB of JSON compresses to well under the 32 KiB identify limit.
	big := `{"email":"i@x.io","name":"` + strings.Repeat("n", 40<<10) + `"}`
	send("/v1/identify", "gzip", gz(big)).must(t, http.StatusRequestEntityTooLarge)
	send("/v1/identify", "gzip", []byte(`{"email":"j@x.io"}`)).problemField(t, "body")
	send("/v1/identify", "gzip", gz(`{"email":"k@x.io"}`)[:15]).problemField(t, "body")
	send("/v1/identify", "br", []byte(`{"email":"l@x.io"}`)).must(t, http.StatusUnsupportedMediaType)
	if n := e.count("customers"); n != 2 {
		t.Fatalf("%d customers, want 2", n)
	}
}
