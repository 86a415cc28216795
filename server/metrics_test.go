package server_test

import (
	"bufio"
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestMetricsCountWhatHappened sends known ingest traffic and checks that
// /metrics moved by exactly that much.
func TestMetricsCountWhatHappened(t *testing.T) {
	e := setup(t)
	_, key := e.project("App A")
	e.identify(key, map[string]any{"email": "a@example.com", "message_id": "m1"})
	e.identify(key, map[string]any{"email": "b@example.com", "status": "paid"})
	if r := e.identify(key, map[string]any{"email": "a@example.com", "message_id": "m1"}); r.Body["duplicate"] != true {
		t.Fatalf("repeated message_id: %s, want a duplicate", r.Raw)
	}
	e.do("POST", "/v1/identify", key, map[string]any{"email": "nope"}).must(t, http.StatusBadRequest)
	e.do("POST", "/v1/batch", key, map[string]any{"items": []any{
		map[string]any{"email": "c@example.com"},
		map[string]any{"email": "d@"},
		map[string]any{"email": "d@example.com"},
	}}).must(t, http.StatusOK)
	e.do("GET", "/v1/nothing", e.admin, nil).must(t, http.StatusNotFound)
	e.do("GET", "/v1/identify", key, nil).must(t, http.StatusMethodNotAllowed)

	m := e.metrics()
	for series, want := range map[string]float64{
		`tinycrm_http_requests_total{code="200",route="POST /v1/identify"}`: 3,
		`tinycrm_http_requests_total{code="400",route="POST /v1/identify"}`: 1,
		`tinycrm_http_requests_total{code="404",route="unmatched"}`:         1,
		`tinycrm_http_requests_total{code="405",route="unmatched"}`:         1,
		`tinycrm_http_requests_total{code="200",route="POST /v1/batch"}`:    1,
		`tinycrm_ingest_writes_total{outcome="applied"}`:                    4,
		`tinycrm_ingest_writes_total{outcome="duplicate"}`:                  1,
		`tinycrm_ingest_writes_total{outcome="rejected"}`:                   2,
		// The three accepted single calls went through the group commit
		// (in as many transactions as they happened to share); the batch
		// did not.
		`tinycrm_ingest_commit_batch_size_sum`: 3,
	} {
		if got, ok := m[series]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	commits := m[`tinycrm_ingest_commit_batch_size_count`]
	if commits < 1 || commits > 3 {
		t.Errorf("group commits = %v, want 1 to 3", commits)
	}
	if got := m[`tinycrm_ingest_commit_duration_seconds_count`]; got != commits {
		t.Errorf("commit durations observed %v times, want once per group commit (%v)", got, commits)
	}
	if got := m[`tinycrm_ingest_commit_duration_seconds_sum`]; got <= 0 {
		t.Errorf("commit duration sum = %v, want > 0", got)
	}
	if _, ok := m["go_goroutines"]; !ok {
		t.Error("the Go runtime's series are missing")
	}
}

// metrics scrapes /metrics (no credential) into series → value.
func (e *env) metrics() map[string]float64 {
	e.t.Helper()
	r := e.do("GET", "/metrics", "", nil).must(e.t, http.StatusOK)
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(r.Raw))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			e.t.Fatalf("metrics line %q has no value", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			e.t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}
