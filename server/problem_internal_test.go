package server

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"tinycrm.dev/tinycrm/store"
)

// An outage answers every request 503, but logs it once a second, not
// once a request; other 5xx are each logged.
func TestOutageIsLoggedOnceASecond(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&buf, nil)), unavailable: &rate.Sometimes{Interval: time.Hour}}
	for range 100 {
		rec := httptest.NewRecorder()
		s.writeError(rec, httptest.NewRequest("POST", "/v1/identify", nil), fmt.Errorf("apply: %w", store.ErrUnavailable))
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("outage answered %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	if n := strings.Count(buf.String(), "answering 503"); n != 1 {
		t.Fatalf("%d log lines for 100 refused requests, want 1:\n%s", n, buf.String())
	}
	for range 2 {
		s.writeError(httptest.NewRecorder(), httptest.NewRequest("GET", "/v1/stats", nil), fmt.Errorf("a bug"))
	}
	if n := strings.Count(buf.String(), "request failed"); n != 2 {
		t.Fatalf("%d log lines for 2 internal errors, want 2", n)
	}
}
