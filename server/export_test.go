package server_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestExport(t *testing.T) {
	t.Parallel()
	p := newPortfolio(t)
	t.Run("csv", func(t *testing.T) {
		t.Parallel()
		p := p.in(t)
		r := p.do("GET", "/v1/export?format=csv&project=app-c&sort=email", p.admin, nil).must(t, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("content type %q", ct)
		}
		if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".csv") {
			t.Fatalf("content disposition %q", cd)
		}
		rows, err := csv.NewReader(bytes.NewReader(r.Raw)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if want := "id,email,name,first_seen,last_seen,project_count,mrr_total,projects,statuses"; strings.Join(rows[0], ",") != want {
			t.Fatalf("header %v", rows[0])
		}
		var got []string
		for _, row := range rows[1:] {
			got = append(got, strings.Join([]string{row[1], row[2], row[5], row[6], row[7], row[8]}, "|"))
		}
		want := []string{
			"alice@example.com|Alice Chen|3|9|app-a;app-b;app-c|paid;free;trialing",
			"carol@example.com|Carol Diaz|2|0|app-b;app-c|trialing;trialing",
			"erin@example.com|Erin Park|2|19.5|app-a;app-c|churned;paid",
			"frank@example.com||2|0|app-b;app-c|free;free",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		alice := p.customer("alice@example.com")
		if rows[1][0] != fmt.Sprint(alice.ID) || rows[1][3] != alice.FirstSeen || rows[1][4] != alice.LastSeen {
			t.Fatalf("alice row %v, detail %+v", rows[1], alice)
		}
	})
	t.Run("jsonl is the list's customer objects", func(t *testing.T) {
		t.Parallel()
		p := p.in(t)
		r := p.get("/v1/export?format=jsonl&min_projects=2&sort=last_seen")
		if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
			t.Fatalf("content type %q", ct)
		}
		if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, ".jsonl") {
			t.Fatalf("content disposition %q", cd)
		}
		listed := p.list("/v1/customers", qs("min_projects", "2"))
		lines := strings.Split(strings.TrimSuffix(string(r.Raw), "\n"), "\n")
		if len(lines) != len(listed.Customers) {
			t.Fatalf("%d lines, want %d:\n%s", len(lines), len(listed.Customers), r.Raw)
		}
		for i, line := range lines {
			var c customerJSON
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			a, _ := json.Marshal(c)
			b, _ := json.Marshal(listed.Customers[i])
			if string(a) != string(b) {
				t.Fatalf("line %d: %s, listed %s", i+1, a, b)
			}
		}
	})
	t.Run("without sort, by id", func(t *testing.T) {
		t.Parallel()
		p := p.in(t)
		var listed, want []int64
		for _, c := range p.list("/v1/customers", qs("min_projects", "2")).Customers {
			listed = append(listed, c.ID)
		}
		want = slices.Sorted(slices.Values(listed))
		if slices.Equal(listed, want) {
			t.Fatalf("the fixture's list is in id order already (%v): this test would not see the export's order", listed)
		}
		var got []int64
		for _, line := range strings.Split(strings.TrimSuffix(string(p.get("/v1/export?format=jsonl&min_projects=2").Raw), "\n"), "\n") {
			var c customerJSON
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			got = append(got, c.ID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("export ids %v, want %v (by id)", got, want)
		}
	})
	t.Run("nothing matches", func(t *testing.T) {
		t.Parallel()
		p := p.in(t)
		r := p.do("GET", "/v1/export?format=csv&q=nobody", p.admin, nil).must(t, http.StatusOK)
		if string(r.Raw) != "id,email,name,first_seen,last_seen,project_count,mrr_total,projects,statuses\n" {
			t.Fatalf("empty csv %q", r.Raw)
		}
		r = p.get("/v1/export?format=jsonl&q=nobody")
		if len(r.Raw) != 0 {
			t.Fatalf("empty jsonl %q", r.Raw)
		}
	})
	for _, tc := range []struct{ query, field string }{
		{"", "format"},
		{"format=xml", "format"},
		{"format=csv&format=jsonl", "format"},
		{"format=csv&limit=10", "limit"},
		{"format=csv&cursor=abc", "cursor"},
		{"format=csv&where=mrr>", "where"},
		{"format=csv&project=app-x", "project"},
	} {
		t.Run("bad "+tc.query, func(t *testing.T) {
			t.Parallel()
			p := p.in(t)
			r := p.do("GET", "/v1/export?"+tc.query, p.admin, nil).must(t, http.StatusBadRequest)
			if r.Body["field"] != tc.field || r.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("problem %s does not name %q", r.Raw, tc.field)
			}
		})
	}
}

// TestExportStreamsManyRows exports more rows than one flush holds and
// checks every one arrives once, in order, in both formats; it also checks
// that a spreadsheet formula in a name is defused in CSV only.
func TestExportStreamsManyRows(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slug, _ := e.project("Big")
	const n = 1234
	for start := 0; start < n; start += 1000 {
		var items []map[string]any
		for i := start; i < min(start+1000, n); i++ {
			items = append(items, map[string]any{"email": fmt.Sprintf("u%05d@example.com", i), "name": fmt.Sprintf("=HYPERLINK(%d)", i)})
		}
		r := e.do("POST", "/v1/projects/"+slug+"/batch", e.admin, map[string]any{"items": items}).must(t, http.StatusOK)
		if r.Body["accepted"] != float64(len(items)) {
			t.Fatalf("batch %s", r.Raw)
		}
	}
	r := e.do("GET", "/v1/export?format=csv&sort=email", e.admin, nil).must(t, http.StatusOK)
	rows, err := csv.NewReader(bytes.NewReader(r.Raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n+1 {
		t.Fatalf("%d rows, want %d", len(rows), n+1)
	}
	for i, row := range rows[1:] {
		if row[1] != fmt.Sprintf("u%05d@example.com", i) || row[2] != fmt.Sprintf("'=HYPERLINK(%d)", i) {
			t.Fatalf("row %d: %v", i+1, row)
		}
	}
	r = e.get("/v1/export?format=jsonl&sort=-email")
	sc := bufio.NewScanner(bytes.NewReader(r.Raw))
	i := n
	for sc.Scan() {
		i--
		var c customerJSON
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		if c.Email != fmt.Sprintf("u%05d@example.com", i) || c.Name != fmt.Sprintf("=HYPERLINK(%d)", i) {
			t.Fatalf("line %d: %+v", n-i, c)
		}
	}
	if i != 0 {
		t.Fatalf("%d lines, want %d", n-i, n)
	}
}

// TestReferenceScenarioListings is SPEC §10's list of ways to find Alice.
func TestReferenceScenarioListings(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, keyA := e.project("App A")
	_, keyB := e.project("App B")
	_, keyC := e.project("App C")
	e.do("POST", "/v1/identify", keyA, `{"email":"alice@example.com","name":"Alice Chen","status":"paid","params":{"plan":"pro","mrr":9}}`).must(t, http.StatusOK)
	e.do("POST", "/v1/identify", keyB, `{"email":"Alice@Example.com ","status":"free","params":{"source":"producthunt","referral":"friend42"}}`).must(t, http.StatusOK)
	e.do("POST", "/v1/identify", keyC, `{"email":"alice@example.com","status":"trialing","params":{"trial_ends":"2026-03-29","plan":"starter"}}`).must(t, http.StatusOK)
	// Someone who must not be listed by any of them.
	e.do("POST", "/v1/identify", keyA, `{"email":"bob@example.com","status":"free","params":{"plan":"basic","mrr":0}}`).must(t, http.StatusOK)
	for _, path := range []string{
		"/v1/customers?min_projects=2",
		"/v1/customers?project=app-b",
		"/v1/customers?where=" + url.QueryEscape("mrr>=9"),
		"/v1/customers?where=" + url.QueryEscape("plan=starter"),
		"/v1/insights/upsell",
	} {
		path, q, _ := cut(path)
		if got := people(e.list(path, q).Customers); !slices.Equal(got, []string{"alice"}) {
			t.Errorf("%s?%s: %v, want only alice", path, q.Encode(), got)
		}
	}
	r := e.do("GET", "/v1/export?format=csv&min_projects=2", e.admin, nil).must(t, http.StatusOK)
	if !strings.Contains(string(r.Raw), ",alice@example.com,Alice Chen,") || !strings.Contains(string(r.Raw), ",3,9,app-a;app-b;app-c,paid;free;trialing\n") {
		t.Fatalf("export %s", r.Raw)
	}
}

// get fetches a 200 reply with the admin token and leaves the body raw (a
// JSON Lines export starts with "{" but is not one JSON object).
func (e *env) get(path string) response {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.url+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.admin)
	res, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: status %d: %.500s", path, res.StatusCode, raw)
	}
	return response{Status: res.StatusCode, Header: res.Header, Raw: raw}
}
