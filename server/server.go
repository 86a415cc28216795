// Package server is TinyCRM's HTTP API: routing, authentication, input
// validation, the group-commit ingest pipeline and the mapping of results and
// errors to JSON. It talks to PostgreSQL only through package store and never
// logs request bodies or secrets.
package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/store"
)

// Options configure a Server. Zero values take the documented defaults.
type Options struct {
	Store  *store.Store
	Logger *slog.Logger
	// RateLimit is the per-key ingest limit in requests per second, with
	// bursts of twice that; 0 turns it off.
	RateLimit float64
	// Now returns the current time; tests may replace it. Default time.Now.
	Now func() time.Time
	// TxTimeout bounds one group-commit transaction; default 10s.
	TxTimeout time.Duration
}

// Server serves the API. Create it with New and stop it with Close after the
// HTTP server has shut down.
type Server struct {
	store    *store.Store
	log      *slog.Logger
	now      func() time.Time
	limiter  *keyLimiter
	keys     *keyCache
	metrics  *metrics
	activity *activity
	counts   *countCache
	janitor  *janitor
	pipeline *pipeline
	mux      *http.ServeMux
	// unavailable logs the 503s of a database outage at most once a
	// second: every request gets one, and a line each buried the log.
	unavailable *rate.Sometimes
}

// New builds a Server and starts its ingest workers.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, fmt.Errorf("server: Options.Store is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// Group commit: up to 500 writes per transaction, 2 workers, and at most
	// 1ms of waiting for company; a full queue of 10,000 answers 503. With
	// two workers one batch is in PostgreSQL while the other is read or
	// merged, and batches are twice as big as with four (21 against 11
	// writes from 64 clients), which halves the per-statement work of each
	// identify (docs/benchmarks.md).
	po := pipelineOptions{QueueSize: 10000, MaxBatch: 500, Workers: 2, Linger: time.Millisecond, Timeout: o.TxTimeout}
	if po.Timeout <= 0 {
		po.Timeout = 10 * time.Second
	}
	m := newMetrics()
	s := &Server{
		store:       o.Store,
		log:         o.Logger,
		now:         o.Now,
		limiter:     newKeyLimiter(o.RateLimit),
		keys:        &keyCache{byID: map[string]cachedKey{}},
		metrics:     m,
		unavailable: &rate.Sometimes{Interval: time.Second},
	}
	s.activity = newActivity(o.Store, o.Logger, 2*time.Second)
	s.counts = s.newCounts()
	s.janitor = startJanitor(o.Store, o.Logger, o.Now, time.Hour)
	s.pipeline = newPipeline(o.Store, m, s.activity, po)
	s.mux = http.NewServeMux()
	for _, rt := range s.routes() {
		s.mux.Handle(rt.pattern, s.wrap(rt))
		if rt.cors {
			_, path, _ := strings.Cut(rt.pattern, " ")
			s.mux.Handle("OPTIONS "+path, s.wrap(route{pattern: "OPTIONS " + path, cors: true, anyQuery: true, handler: preflight}))
		}
	}
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Counted under one route, "unmatched": a client or probe calling
		// a wrong URL shows in the metrics without a series per URL.
		if allow := s.allowed(r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.writeError(w, r, problemf(http.StatusMethodNotAllowed, "%s %s is not an endpoint; %s is (%s)",
				r.Method, r.URL.Path, r.URL.Path, strings.Join(allow, ", ")))
			s.metrics.requests.WithLabelValues("unmatched", "405").Inc()
			return
		}
		s.writeError(w, r, problemf(http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
		s.metrics.requests.WithLabelValues("unmatched", "404").Inc()
	})
	return s, nil
}

// allowed lists the methods the route table serves for r's path, for a
// 405's Allow header; none when the path is no endpoint at all. (The mux
// would answer 405 itself, but the catch-all "/" matches first.)
func (s *Server) allowed(r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodDelete, http.MethodGet, http.MethodOptions, http.MethodPatch, http.MethodPost, http.MethodPut} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host}
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	return allow
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close waits for queued ingest writes to commit, stops the workers and
// flushes the activity counters.
func (s *Server) Close() {
	s.pipeline.close()
	s.activity.close()
	s.janitor.close()
	s.counts.close()
}

// route is one entry of the API's route table.
type route struct {
	pattern string
	auth    credential
	cors    bool
	// query lists the query parameters the route takes; any other is a
	// 400 naming it, so a typo (rotate?grce=0s) is not silently ignored.
	query []string
	// anyQuery lets any query through: health probes, and Segment
	// libraries, whose requests TinyCRM does not shape.
	anyQuery bool
	handler  func(w http.ResponseWriter, r *http.Request) error
}

// routes is the API's one route table. The credential matrix test walks it,
// so a new route cannot ship without its expected answers.
func (s *Server) routes() []route {
	return []route{
		{pattern: "GET /healthz", auth: credNone, anyQuery: true, handler: s.healthz},
		{pattern: "GET /readyz", auth: credNone, anyQuery: true, handler: s.readyz},

		{pattern: "POST /v1/identify", auth: credProject, cors: true, handler: s.identify},
		{pattern: "POST /v1/ping", auth: credProject, cors: true, handler: s.ping},
		{pattern: "POST /v1/batch", auth: credProject, cors: true, handler: s.batch},

		// Segment-compatible ingest (SPEC §8, segment.go); import is Segment's
		// alias of batch.
		{pattern: "POST /segment/v1/identify", auth: credProject, cors: true, anyQuery: true, handler: s.segmentIdentify},
		{pattern: "POST /segment/v1/track", auth: credProject, cors: true, anyQuery: true, handler: s.segmentTrack},
		{pattern: "POST /segment/v1/page", auth: credProject, cors: true, anyQuery: true, handler: s.segmentPage},
		{pattern: "POST /segment/v1/screen", auth: credProject, cors: true, anyQuery: true, handler: s.segmentScreen},
		{pattern: "POST /segment/v1/batch", auth: credProject, cors: true, anyQuery: true, handler: s.segmentBatch},
		{pattern: "POST /segment/v1/import", auth: credProject, cors: true, anyQuery: true, handler: s.segmentBatch},

		{pattern: "GET /v1/projects", auth: credAdmin, handler: s.listProjects},
		{pattern: "POST /v1/projects", auth: credAdmin, handler: s.createProject},
		{pattern: "GET /v1/projects/{slug}", auth: credAdmin, handler: s.getProject},
		{pattern: "PATCH /v1/projects/{slug}", auth: credAdmin, handler: s.updateProject},
		{pattern: "DELETE /v1/projects/{slug}", auth: credAdmin, handler: s.deleteProject},
		{pattern: "GET /v1/projects/{slug}/keys", auth: credAdmin, handler: s.listKeys},
		{pattern: "POST /v1/projects/{slug}/keys", auth: credAdmin, handler: s.createKey},
		{pattern: "POST /v1/projects/{slug}/keys/rotate", auth: credAdmin, query: []string{paramGrace}, handler: s.rotateKey},
		{pattern: "DELETE /v1/projects/{slug}/keys/{id}", auth: credAdmin, handler: s.revokeKey},
		{pattern: "POST /v1/projects/{slug}/batch", auth: credAdmin, query: []string{paramDryRun}, handler: s.projectBatch},

		{pattern: "GET /v1/customers/{idOrEmail}", auth: credAdmin, handler: s.getCustomer},
		{pattern: "GET /v1/customers", auth: credAdmin, query: append(filter.KnownParams(), paramLimit, paramCursor), handler: s.listCustomers},
		{pattern: "DELETE /v1/customers/{idOrEmail}", auth: credAdmin, query: []string{paramProject, paramSuppress}, handler: s.forgetCustomer},
		{pattern: "GET /v1/export", auth: credAdmin, query: append(filter.KnownParams(), paramFormat), handler: s.export},
		{pattern: "GET /v1/stats", auth: credAdmin, handler: s.stats},
		{pattern: "GET /v1/insights/overlap", auth: credAdmin, handler: s.overlapInsight},
		{pattern: "GET /v1/insights/upsell", auth: credAdmin, query: insightParams, handler: s.upsellInsight},
		{pattern: "GET /v1/insights/churn-risk", auth: credAdmin, query: append([]string{paramIdle, paramActive}, insightParams...), handler: s.churnRiskInsight},
		{pattern: "GET /v1/insights/revenue", auth: credAdmin, handler: s.revenueInsight},
	}
}

// preflight answers a CORS preflight; wrap has set the headers.
func preflight(w http.ResponseWriter, _ *http.Request) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// RoutePatterns lists the API's routes ("METHOD /path") for tests and docs.
func RoutePatterns() []string {
	var out []string
	for _, rt := range (&Server{}).routes() {
		out = append(out, rt.pattern)
	}
	return out
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// wrap is the boundary every request passes: CORS, panic recovery,
// authentication, one log line and the metrics.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		if rt.cors {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding")
			h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			h.Set("Access-Control-Max-Age", "86400")
			// Browser code may read how long a 429 or 503 asks it to wait.
			h.Set("Access-Control-Expose-Headers", "Retry-After")
		}
		defer func() {
			if p := recover(); p != nil {
				s.log.ErrorContext(r.Context(), "panic", "route", rt.pattern, "panic", p, "stack", string(debug.Stack()))
				if rec.status == 0 {
					s.writeError(rec, r, fmt.Errorf("panic: %v", p))
				}
			}
			d := time.Since(start)
			s.metrics.requests.WithLabelValues(rt.pattern, fmt.Sprint(rec.status)).Inc()
			s.metrics.duration.WithLabelValues(rt.pattern).Observe(d.Seconds())
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("route", rt.pattern),
				slog.Int("status", rec.status), slog.Duration("duration", d))
		}()
		ctx, err := s.authenticate(r, rt.auth)
		if err != nil {
			s.writeError(rec, r, err)
			return
		}
		if !rt.anyQuery {
			if err := checkQuery(r.URL.RawQuery, rt.query); err != nil {
				s.writeError(rec, r, err)
				return
			}
		}
		if err := rt.handler(rec, r.WithContext(ctx)); err != nil {
			s.writeError(rec, r, err)
		}
	})
}
