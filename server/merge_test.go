package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReferenceScenario is SPEC §10 over real HTTP: three apps identify
// Alice with their own keys and she is one customer with three badges.
func TestReferenceScenario(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, keyA := e.project("App A")
	_, keyB := e.project("App B")
	_, keyC := e.project("App C")
	for _, call := range []struct {
		key  string
		body string
	}{
		{keyA, `{"email":"alice@example.com","name":"Alice Chen","status":"paid","params":{"plan":"pro","mrr":9}}`},
		{keyB, `{"email":"Alice@Example.com ","status":"free","params":{"source":"producthunt","referral":"friend42"}}`},
		{keyC, `{"email":"alice@example.com","status":"trialing","params":{"trial_ends":"2026-03-29","plan":"starter"}}`},
	} {
		r := e.do("POST", "/v1/identify", call.key, call.body).must(t, http.StatusOK)
		if string(r.Raw) != "{\"ok\":true,\"duplicate\":false}\n" {
			t.Fatalf("identify reply %s", r.Raw)
		}
	}
	if n := e.count("customers"); n != 1 {
		t.Fatalf("%d customers, want 1", n)
	}
	c := e.customer("alice@example.com")
	if c.Email != "alice@example.com" || c.Name != "Alice Chen" || c.ProjectCount != 3 || c.MRRTotal != 9 {
		t.Fatalf("customer %+v", c)
	}
	var slugs, statuses []string
	for _, p := range c.Projects {
		slugs = append(slugs, p.Slug)
		statuses = append(statuses, p.Status)
	}
	if !reflect.DeepEqual(slugs, []string{"app-a", "app-b", "app-c"}) || !reflect.DeepEqual(statuses, []string{"paid", "free", "trialing"}) {
		t.Fatalf("memberships %v %v", slugs, statuses)
	}
	if c.Projects[2].Params["plan"] != "starter" || c.Projects[0].Params["plan"] != "pro" {
		t.Fatalf("params %v / %v", c.Projects[0].Params, c.Projects[2].Params)
	}
	if last, _ := time.Parse(time.RFC3339, c.LastSeen); time.Since(last) > time.Minute {
		t.Fatalf("last_seen %s is not just now", c.LastSeen)
	}
	// The same customer by id.
	if byID := e.customer(fmt.Sprint(c.ID)); byID.Email != c.Email {
		t.Fatalf("by id: %+v", byID)
	}
}

// call is one identify (or ping) in a merge scenario.
type call struct {
	project int // index into the scenario's projects
	ping    bool
	body    map[string]any
	want    string // expected reply body, "" = ok/not duplicate
}

func TestMergeSemantics(t *testing.T) {
	t.Parallel()
	type membership struct {
		Status    string
		Params    map[string]any
		FirstSeen string
		LastSeen  string
	}
	type want struct {
		name      string
		firstSeen string
		lastSeen  string
		count     int
		mrr       float64
		members   map[int]membership // by project index
		events    []string           // kinds, newest first
	}
	const (
		t1 = "2026-01-01T10:00:00Z"
		t2 = "2026-01-02T10:00:00Z"
		t3 = "2026-01-03T10:00:00Z"
	)
	id := func(p int, body map[string]any) call { return call{project: p, body: body} }
	for _, tc := range []struct {
		name  string
		calls []call
		want  want
	}{
		{
			name:  "first identify creates customer and membership",
			calls: []call{id(0, map[string]any{"email": "a@x.io", "name": "Ann", "status": "paid", "params": map[string]any{"plan": "pro"}, "timestamp": t1})},
			want: want{name: "Ann", firstSeen: t1, lastSeen: t1, count: 1,
				members: map[int]membership{0: {"paid", map[string]any{"plan": "pro"}, t1, t1}},
				events:  []string{"name", "joined"}},
		},
		{
			name: "status replaces, absent status keeps",
			calls: []call{
				id(0, map[string]any{"email": "a@x.io", "status": "trialing", "timestamp": t1}),
				id(0, map[string]any{"email": "a@x.io", "status": "paid", "timestamp": t2}),
				id(0, map[string]any{"email": "a@x.io", "params": map[string]any{"k": 1}, "timestamp": t3}),
			},
			want: want{firstSeen: t1, lastSeen: t3, count: 1,
				members: map[int]membership{0: {"paid", map[string]any{"k": 1.0}, t1, t3}},
				events:  []string{"params", "status", "joined"}},
		},
		{
			name: "params merge shallowly and null deletes",
			calls: []call{
				id(0, map[string]any{"email": "a@x.io", "params": map[string]any{"plan": "pro", "seats": 3, "addr": map[string]any{"city": "Oslo", "zip": "1"}}, "timestamp": t1}),
				id(0, map[string]any{"email": "a@x.io", "params": map[string]any{"seats": nil, "addr": map[string]any{"city": "Bergen"}, "new": true}, "timestamp": t2}),
			},
			want: want{firstSeen: t1, lastSeen: t2, count: 1,
				members: map[int]membership{0: {"", map[string]any{"plan": "pro", "addr": map[string]any{"city": "Bergen"}, "new": true}, t1, t2}},
				events:  []string{"params", "joined"}},
		},
		{
			name: "null for a missing key and null in a new membership store nothing",
			calls: []call{
				id(0, map[string]any{"email": "a@x.io", "params": map[string]any{"gone": nil, "kept": "y"}, "timestamp": t1}),
			},
			want: want{firstSeen: t1, lastSeen: t1, count: 1,
				members: map[int]membership{0: {"", map[string]any{"kept": "y"}, t1, t1}},
				events:  []string{"joined"}},
		},
		{
			name: "identical repeat adds no event",
			calls: []call{
				id(0, map[string]any{"email": "a@x.io", "name": "Ann", "status": "paid", "params": map[string]any{"p": 1}, "timestamp": t1}),
				id(0, map[string]any{"email": "a@x.io", "name": "Ann", "status": "paid", "params": map[string]any{"p": 1}, "timestamp": t2}),
			},
			want: want{name: "Ann", firstSeen: t1, lastSeen: t2, count: 1,
				members: map[int]membership{0: {"paid", map[string]any{"p": 1.0}, t1, t2}},
				events:  []string{"name", "joined"}},
		},
		{
			name: "a late call moves first_seen but never overwrites newer state",
			calls: []call{
				id(0, map[string]any{"email": "a@x.io", "name": "New Name", "status": "paid", "params": map[string]any{"plan": "pro"}, "timestamp": t2}),
				id(0, map[string]any{"email": "a@x.io", "name": "Old Name", "status": "trialing", "params": map[string]any{"plan": "free"}, "timestamp": t1}),
			},
			want: want{name: "New Name", firstSeen: t1, lastSeen: t2, count: 1,
				members: map[int]membership{0: {"paid", map[string]any{"plan": "pro"}, t1, t2}},
				events:  []string{"name", "joined"}},
		},
		{
			name: "empty name keeps the name; an older name from another project does not win",
			calls: []call{
				id(0, map[string]any{"email": "a@x.io", "name": "Ann Lee", "timestamp": t2}),
				id(0, map[string]any{"email": "a@x.io", "name": "", "timestamp": t3}),
				id(1, map[string]any{"email": "a@x.io", "name": "ann", "timestamp": t1}),
			},
			want: want{name: "Ann Lee", firstSeen: t1, lastSeen: t3, count: 2,
				members: map[int]membership{0: {"", map[string]any{}, t2, t3}, 1: {"", map[string]any{}, t1, t1}},
				events:  []string{"name", "joined", "joined"}},
		},
		{
			name: "merge by normalized email across projects sums mrr",
			calls: []call{
				id(0, map[string]any{"email": " Bob@Example.COM", "params": map[string]any{"mrr": 9}, "timestamp": t1}),
				id(1, map[string]any{"email": "bob@example.com", "params": map[string]any{"mrr": 19.5}, "timestamp": t2}),
				id(2, map[string]any{"email": "BOB@example.com", "params": map[string]any{"mrr": "lots"}, "timestamp": t3}),
			},
			want: want{firstSeen: t1, lastSeen: t3, count: 3, mrr: 28.5,
				members: map[int]membership{
					0: {"", map[string]any{"mrr": 9.0}, t1, t1},
					1: {"", map[string]any{"mrr": 19.5}, t2, t2},
					2: {"", map[string]any{"mrr": "lots"}, t3, t3}},
				events: []string{"joined", "joined", "joined"}},
		},
		{
			name: "mrr changes and deletion keep mrr_total exact",
			calls: []call{
				id(0, map[string]any{"email": "a@x.io", "params": map[string]any{"mrr": 10}, "timestamp": t1}),
				id(1, map[string]any{"email": "a@x.io", "params": map[string]any{"mrr": 5}, "timestamp": t1}),
				id(0, map[string]any{"email": "a@x.io", "params": map[string]any{"mrr": 20}, "timestamp": t2}),
				id(1, map[string]any{"email": "a@x.io", "params": map[string]any{"mrr": nil}, "timestamp": t3}),
			},
			want: want{firstSeen: t1, lastSeen: t3, count: 2, mrr: 20,
				members: map[int]membership{0: {"", map[string]any{"mrr": 20.0}, t1, t2}, 1: {"", map[string]any{}, t1, t3}},
				events:  []string{"params", "params", "joined", "joined"}},
		},
		{
			name: "message_id applies once per project, not across projects",
			calls: []call{
				id(0, map[string]any{"email": "a@x.io", "status": "paid", "message_id": "m-1", "timestamp": t1}),
				{project: 0, body: map[string]any{"email": "a@x.io", "status": "churned", "message_id": "m-1", "timestamp": t2}, want: `{"ok":true,"duplicate":true}`},
				id(1, map[string]any{"email": "a@x.io", "status": "free", "message_id": "m-1", "timestamp": t2}),
			},
			want: want{firstSeen: t1, lastSeen: t2, count: 2,
				members: map[int]membership{0: {"paid", map[string]any{}, t1, t1}, 1: {"free", map[string]any{}, t2, t2}},
				events:  []string{"joined", "joined"}},
		},
		{
			name: "ping moves last_seen only, and only for members",
			calls: []call{
				id(0, map[string]any{"email": "a@x.io", "status": "paid", "timestamp": t1}),
				{project: 0, ping: true, body: map[string]any{"email": "A@x.io", "timestamp": t3}, want: `{"ok":true}`},
				{project: 1, ping: true, body: map[string]any{"email": "a@x.io", "timestamp": t3}, want: `{"ok":true}`},
				{project: 0, ping: true, body: map[string]any{"email": "a@x.io", "timestamp": t2}, want: `{"ok":true}`},
			},
			want: want{firstSeen: t1, lastSeen: t3, count: 1,
				members: map[int]membership{0: {"paid", map[string]any{}, t1, t3}},
				events:  []string{"joined"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			keys := make([]string, 3)
			slugs := make([]string, 3)
			for i := range keys {
				slugs[i], keys[i] = e.project(fmt.Sprintf("P%d", i))
			}
			var email string
			for i, c := range tc.calls {
				path := "/v1/identify"
				if c.ping {
					path = "/v1/ping"
				}
				r := e.do("POST", path, keys[c.project], c.body).must(t, http.StatusOK)
				want := c.want
				if want == "" {
					want = `{"ok":true,"duplicate":false}`
				}
				if got := string(r.Raw[:len(r.Raw)-1]); got != want {
					t.Fatalf("call %d replied %s, want %s", i, got, want)
				}
				if email == "" {
					email = c.body["email"].(string)
				}
			}
			if n := e.count("customers"); n != 1 {
				t.Fatalf("%d customers, want 1", n)
			}
			got := e.customer(strings.ToLower(strings.TrimSpace(email)))
			w := tc.want
			if got.Name != w.name || got.FirstSeen != w.firstSeen || got.LastSeen != w.lastSeen || got.ProjectCount != w.count || got.MRRTotal != w.mrr {
				t.Fatalf("customer name=%q first=%s last=%s count=%d mrr=%v; want %q %s %s %d %v",
					got.Name, got.FirstSeen, got.LastSeen, got.ProjectCount, got.MRRTotal, w.name, w.firstSeen, w.lastSeen, w.count, w.mrr)
			}
			if len(got.Projects) != len(w.members) {
				t.Fatalf("%d memberships, want %d", len(got.Projects), len(w.members))
			}
			for i, wm := range w.members {
				var found bool
				for _, m := range got.Projects {
					if m.Slug != slugs[i] {
						continue
					}
					found = true
					gm := membership{m.Status, m.Params, m.FirstSeen, m.LastSeen}
					if !reflect.DeepEqual(normalizeNumbers(gm.Params), normalizeNumbers(wm.Params)) || gm.Status != wm.Status || gm.FirstSeen != wm.FirstSeen || gm.LastSeen != wm.LastSeen {
						t.Fatalf("membership %s = %+v, want %+v", slugs[i], gm, wm)
					}
				}
				if !found {
					t.Fatalf("no membership in %s", slugs[i])
				}
			}
			var kinds []string
			for _, ev := range got.Timeline {
				kinds = append(kinds, ev.Kind)
			}
			if !reflect.DeepEqual(kinds, w.events) {
				t.Fatalf("timeline %v, want %v", kinds, w.events)
			}
		})
	}
}

func normalizeNumbers(m map[string]any) map[string]any {
	buf, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(buf, &out)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

func TestParamsEventRecordsChangedKeysOnly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App")
	e.identify(key, map[string]any{"email": "a@x.io", "params": map[string]any{"plan": "free", "seats": 1}, "timestamp": "2026-01-01T00:00:00Z"})
	e.identify(key, map[string]any{"email": "a@x.io", "params": map[string]any{"plan": "pro", "seats": 1, "gone": nil}, "timestamp": "2026-01-02T00:00:00Z"})
	c := e.customer("a@x.io")
	if len(c.Timeline) != 2 || c.Timeline[0].Kind != "params" {
		t.Fatalf("timeline %+v", c.Timeline)
	}
	if string(c.Timeline[0].Before) != `{"plan":"free"}` || string(c.Timeline[0].After) != `{"plan":"pro"}` {
		t.Fatalf("params event before=%s after=%s", c.Timeline[0].Before, c.Timeline[0].After)
	}
}

func TestFutureTimestampIsClampedToReceipt(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App")
	before := time.Now().UTC()
	e.identify(key, map[string]any{"email": "a@x.io", "timestamp": "2999-01-01T00:00:00Z"})
	c := e.customer("a@x.io")
	last, err := time.Parse(time.RFC3339, c.LastSeen)
	if err != nil {
		t.Fatal(err)
	}
	if last.Before(before.Add(-time.Second)) || last.After(time.Now().Add(time.Second)) {
		t.Fatalf("last_seen %s was not clamped to receipt time (~%s)", c.LastSeen, before)
	}
}

func TestConcurrentIdentifiesMergeIntoOneCustomer(t *testing.T) {
	t.Parallel()
	e := setup(t)
	keys := make([]string, 3)
	for i := range keys {
		_, keys[i] = e.project(fmt.Sprintf("App %d", i))
	}
	// 3 projects × 20 rounds, all at once, for 10 different people.
	var wg sync.WaitGroup
	for round := range 20 {
		for _, key := range keys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.identify(key, map[string]any{"email": fmt.Sprintf("p%d@x.io", round%10), "status": "paid"})
			}()
		}
	}
	wg.Wait()
	if n := e.count("customers"); n != 10 {
		t.Fatalf("%d customers, want 10", n)
	}
	if n := e.count("memberships"); n != 30 {
		t.Fatalf("%d memberships, want 30", n)
	}
	for i := range 10 {
		if c := e.customer(fmt.Sprintf("p%d@x.io", i)); c.ProjectCount != 3 || len(c.Projects) != 3 {
			t.Fatalf("customer %d: project_count %d, %d memberships", i, c.ProjectCount, len(c.Projects))
		}
	}
}

func TestConcurrentMessageIDAppliesOnce(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App")
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		duplicates int
	)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.identify(key, map[string]any{"email": "once@x.io", "params": map[string]any{"n": i}, "message_id": "same-id"})
			mu.Lock()
			defer mu.Unlock()
			if r.Body["duplicate"] == true {
				duplicates++
			}
		}()
	}
	wg.Wait()
	if duplicates != 49 {
		t.Fatalf("%d duplicates, want 49", duplicates)
	}
	if n := e.count("events"); n != 1 {
		t.Fatalf("%d events, want 1 (one applied call)", n)
	}
}

func TestPruneMessageIDsKeepsRecentOnes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App")
	e.identify(key, map[string]any{"email": "a@x.io", "message_id": "old"})
	e.identify(key, map[string]any{"email": "a@x.io", "message_id": "new"})
	if _, err := e.pool.Exec(context.Background(), `UPDATE message_ids SET received_at = now() - interval '9 days' WHERE message_id = 'old'`); err != nil {
		t.Fatal(err)
	}
	n, err := e.store.PruneMessageIDs(context.Background(), time.Now().Add(-8*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want 1", n, err)
	}
	// The recent id still dedupes; the pruned one is applied again.
	if r := e.identify(key, map[string]any{"email": "a@x.io", "message_id": "new"}); r.Body["duplicate"] != true {
		t.Fatalf("recent message id no longer dedupes: %s", r.Raw)
	}
	if r := e.identify(key, map[string]any{"email": "a@x.io", "message_id": "old"}); r.Body["duplicate"] != false {
		t.Fatalf("pruned message id still dedupes: %s", r.Raw)
	}
}

// TestStoredParamsStayBounded: calls that each add new keys cannot grow a
// membership past 100 keys or 64 KiB. The call that would is a 400 naming
// params and leaves nothing behind (not its message id either), the
// calls before it stand, and deleting keys with null makes room again.
func TestStoredParamsStayBounded(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App")
	keys := func(from, n int) map[string]any {
		p := map[string]any{}
		for i := from; i < from+n; i++ {
			p[fmt.Sprintf("k%03d", i)] = i
		}
		return p
	}
	e.identify(key, map[string]any{"email": "grow@x.io", "params": keys(0, 60)})
	e.identify(key, map[string]any{"email": "grow@x.io", "params": keys(0, 60)}) // the same keys again: still 60
	r := e.do("POST", "/v1/identify", key, map[string]any{"email": "grow@x.io", "status": "paid", "message_id": "m-over",
		"params": keys(60, 41)}).must(t, http.StatusBadRequest)
	if r.Body["field"] != "params" || !strings.Contains(r.Body["detail"].(string), "101 top-level keys") {
		t.Fatalf("over the key limit: %s", r.Raw)
	}
	c := e.customer("grow@x.io")
	if len(c.Projects[0].Params) != 60 || c.Projects[0].Status != "" || len(c.Timeline) != 1 {
		t.Fatalf("after the refused call: %d params, status %q, %d events", len(c.Projects[0].Params), c.Projects[0].Status, len(c.Timeline))
	}
	// Make room: delete 10 keys, then the same message id is applied, not
	// taken for a duplicate of the refused call.
	del := map[string]any{}
	for i := range 10 {
		del[fmt.Sprintf("k%03d", i)] = nil
	}
	e.identify(key, map[string]any{"email": "grow@x.io", "params": del})
	r = e.identify(key, map[string]any{"email": "grow@x.io", "status": "paid", "message_id": "m-over", "params": keys(60, 41)})
	if r.Body["duplicate"] != false || len(e.customer("grow@x.io").Projects[0].Params) != 91 {
		t.Fatalf("after making room: %s, %d params", r.Raw, len(e.customer("grow@x.io").Projects[0].Params))
	}

	// Bytes: four 16,000-byte values fit in 64 KiB, a fifth does not; in a
	// batch only that item is refused.
	big := func(k string) map[string]any { return map[string]any{k: strings.Repeat("x", 16000)} }
	items := []any{}
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		items = append(items, map[string]any{"email": "wide@x.io", "params": big(k)})
	}
	items = append(items, map[string]any{"email": "other@x.io", "params": big("a")})
	r = e.do("POST", "/v1/batch", key, map[string]any{"items": items}).must(t, http.StatusOK)
	if r.Body["accepted"] != 5.0 || fmt.Sprint(r.Body["rejected"]) == "[]" {
		t.Fatalf("batch reply %s", r.Raw)
	}
	rej := r.Body["rejected"].([]any)[0].(map[string]any)
	if rej["index"] != 4.0 || rej["field"] != "params" || !strings.Contains(rej["error"].(string), "bytes") {
		t.Fatalf("rejected %v", rej)
	}
	if n := len(e.customer("wide@x.io").Projects[0].Params); n != 4 {
		t.Fatalf("wide@x.io has %d params, want 4", n)
	}
}

// TestTimelineSaysWhenItIsCut: the detail holds the newest 200 events and
// says whether older ones exist.
func TestTimelineSaysWhenItIsCut(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	items := make([]map[string]any, 0, 201)
	for i := range 200 {
		status := []string{"paid", "free"}[i%2]
		items = append(items, map[string]any{"email": "t@x.io", "status": status, "timestamp": base.Add(time.Duration(i) * time.Minute)})
	}
	// 200 calls: joined, then 199 status changes.
	e.do("POST", "/v1/batch", key, map[string]any{"items": items}).must(t, http.StatusOK)
	r := e.do("GET", "/v1/customers/t@x.io", e.admin, nil).must(t, http.StatusOK)
	if n := len(r.Body["timeline"].([]any)); n != 200 || r.Body["timeline_has_more"] != false {
		t.Fatalf("200 events: %d shown, has_more %v", n, r.Body["timeline_has_more"])
	}
	e.identify(key, map[string]any{"email": "t@x.io", "status": "churned", "timestamp": base.Add(time.Hour * 24)})
	r = e.do("GET", "/v1/customers/t@x.io", e.admin, nil).must(t, http.StatusOK)
	tl := r.Body["timeline"].([]any)
	if len(tl) != 200 || r.Body["timeline_has_more"] != true || tl[0].(map[string]any)["kind"] != "status" {
		t.Fatalf("201 events: %d shown, has_more %v, newest %v", len(tl), r.Body["timeline_has_more"], tl[0])
	}
}
