package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tinycrm.dev/tinycrm/client"
)

// fault is how the flaky network treats one request.
type fault int

const (
	pass       fault = iota // forward and relay the answer
	dropBefore              // close the connection without forwarding
	dropAfter               // forward (so the server commits), then close the connection
	error500                // forward, then answer 500 instead of the server's reply
	error503                // answer 503 with Retry-After: 1, without forwarding
	busy429                 // answer 429 with Retry-After: 1, without forwarding
	slow                    // forward, then hold the reply past the client's timeout
	badRequest              // answer 400 without forwarding
	slowBody                // answer 200 at once, then relay the body in pieces over a second
)

// flaky is a misbehaving network in front of the real server: it treats
// the n-th request as plan[n] says (pass once the plan runs out) and
// counts what it saw and what it forwarded.
type flaky struct {
	t         testing.TB
	URL       string
	proxy     *httputil.ReverseProxy
	plan      []fault
	always    fault // after the plan
	requests  atomic.Int32
	forwarded atomic.Int32
	mu        sync.Mutex
	at        []time.Time // arrival time of each request
}

func newFlaky(t testing.TB, target string, plan ...fault) *flaky {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	f := &flaky{t: t, proxy: httputil.NewSingleHostReverseProxy(u), plan: plan}
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	f.URL = ts.URL
	return f
}

func (f *flaky) arrivals() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.at...)
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(f.requests.Add(1)) - 1
	f.mu.Lock()
	f.at = append(f.at, time.Now())
	f.mu.Unlock()
	what := f.always
	if n < len(f.plan) {
		what = f.plan[n]
	}
	// forward sends the request to the real server and returns its
	// recorded answer.
	forward := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		f.proxy.ServeHTTP(rec, r)
		f.forwarded.Add(1)
		return rec
	}
	relay := func(rec *httptest.ResponseRecorder) {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}
	hangUp := func() {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			f.t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	}
	problem := func(status int, retryAfter string) {
		w.Header().Set("Content-Type", "application/problem+json")
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
		w.Write([]byte(`{"type":"about:blank","title":"` + http.StatusText(status) + `","status":` +
			strconv.Itoa(status) + `,"detail":"injected by the test"}`))
	}
	switch what {
	case pass:
		relay(forward())
	case dropBefore:
		hangUp()
	case dropAfter:
		forward()
		hangUp()
	case error500:
		forward()
		problem(http.StatusInternalServerError, "")
	case error503:
		problem(http.StatusServiceUnavailable, "1")
	case busy429:
		problem(http.StatusTooManyRequests, "1")
	case slow:
		rec := forward()
		select {
		case <-r.Context().Done():
			return
		case <-time.After(5 * time.Second):
		}
		relay(rec)
	case badRequest:
		problem(http.StatusBadRequest, "")
	case slowBody:
		// The reply starts at once (as the server's export does); the
		// body takes its time.
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		body := forward().Body.Bytes()
		for i := range 10 {
			w.Write(body[i*len(body)/10 : (i+1)*len(body)/10])
			http.NewResponseController(w).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// Each fault of the network is retried, and the identify lands exactly
// once: the generated message id makes the server apply a repeat as a
// duplicate.
func TestRetryLandsExactlyOnce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		plan      []fault
		forwarded int  // requests that reached the real server
		duplicate bool // a forwarded attempt's reply was lost
		minWait   time.Duration
	}{
		{name: "connection dropped before forwarding", plan: []fault{dropBefore, dropBefore}, forwarded: 1},
		{name: "connection dropped after forwarding", plan: []fault{dropAfter}, forwarded: 2, duplicate: true},
		{name: "500 after forwarding", plan: []fault{error500, error500}, forwarded: 3, duplicate: true},
		{name: "429 with Retry-After", plan: []fault{busy429}, forwarded: 1, minWait: time.Second},
		{name: "503 with Retry-After", plan: []fault{error503}, forwarded: 1, minWait: time.Second},
		{name: "slow reply past the per-attempt timeout", plan: []fault{slow}, forwarded: 2, duplicate: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			slug, key := e.project("App A")
			f := newFlaky(t, e.url, tc.plan...)
			c := client.New(key, client.WithBaseURL(f.URL), client.WithTimeout(1500*time.Millisecond),
				client.WithBackoff(time.Millisecond, 10*time.Millisecond))

			start := time.Now()
			res, err := c.Identify(ctx(t), client.Identify{Email: "alice@example.com", Status: "paid", Params: map[string]any{"mrr": 9}})
			if err != nil {
				t.Fatalf("identify: %v", err)
			}
			if res.Duplicate != tc.duplicate {
				t.Errorf("duplicate = %v, want %v", res.Duplicate, tc.duplicate)
			}
			if got, want := int(f.requests.Load()), len(tc.plan)+1; got != want {
				t.Errorf("%d attempts, want %d", got, want)
			}
			if got := int(f.forwarded.Load()); got != tc.forwarded {
				t.Errorf("%d requests reached the server, want %d", got, tc.forwarded)
			}
			if tc.minWait > 0 {
				at := f.arrivals()
				if gap := at[1].Sub(at[0]); gap < tc.minWait {
					t.Errorf("retried after %v; the server asked for %v", gap, tc.minWait)
				}
				if time.Since(start) > tc.minWait+2*time.Second {
					t.Errorf("took %v", time.Since(start))
				}
			}
			// Exactly once: one message id stored, one membership, one
			// "joined" event, however many attempts reached the server.
			if n := e.count(`SELECT count(*) FROM message_ids`); n != 1 {
				t.Errorf("%d message ids stored, want 1", n)
			}
			alice, err := e.admin.Customer(ctx(t), "alice@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if len(alice.Projects) != 1 || len(alice.Timeline) != 1 || alice.Timeline[0].Kind != "joined" || alice.MRRTotal != 9 {
				t.Errorf("alice = %+v, timeline %+v", alice.Customer, alice.Timeline)
			}
			p, err := e.admin.Project(ctx(t), slug)
			if err != nil || p.Customers != 1 {
				t.Errorf("project = %+v, %v", p, err)
			}
		})
	}
}

// A batch whose reply is lost is sent again and counted as duplicates.
func TestBatchRetryLandsOnce(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App A")
	f := newFlaky(t, e.url, dropAfter, error500)
	c := client.New(key, client.WithBaseURL(f.URL), client.WithBackoff(time.Millisecond, 10*time.Millisecond))
	items := []client.Identify{{Email: "a@example.com"}, {Email: "b@example.com"}, {Email: "c@example.com"}}
	res, err := c.Batch(ctx(t), items)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 0 || res.Duplicates != 3 || len(res.Rejected) != 0 {
		t.Errorf("batch = %+v, want 3 duplicates", res)
	}
	if f.forwarded.Load() != 3 {
		t.Errorf("%d forwarded, want 3", f.forwarded.Load())
	}
	if n := e.count(`SELECT count(*) FROM message_ids`); n != 3 {
		t.Errorf("%d message ids, want 3", n)
	}
	if n := e.count(`SELECT count(*) FROM events`); n != 3 {
		t.Errorf("%d events, want 3", n)
	}
}

func TestNoRetry(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App A")

	t.Run("400", func(t *testing.T) {
		f := newFlaky(t, e.url, badRequest)
		_, err := client.New(key, client.WithBaseURL(f.URL)).Identify(ctx(t), client.Identify{Email: "a@example.com"})
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != 400 || ae.Detail != "injected by the test" || f.requests.Load() != 1 {
			t.Errorf("err %v after %d requests", err, f.requests.Load())
		}
	})
	t.Run("real 401", func(t *testing.T) {
		f := newFlaky(t, e.url)
		_, err := client.New(key+"x", client.WithBaseURL(f.URL)).Identify(ctx(t), client.Identify{Email: "a@example.com"})
		if !client.IsUnauthorized(err) || f.requests.Load() != 1 {
			t.Errorf("err %v after %d requests", err, f.requests.Load())
		}
	})
	t.Run("out of retries", func(t *testing.T) {
		f := newFlaky(t, e.url)
		f.always = error500
		c := client.New(key, client.WithBaseURL(f.URL), client.WithRetries(2), client.WithBackoff(time.Millisecond, time.Millisecond))
		_, err := c.Identify(ctx(t), client.Identify{Email: "a@example.com"})
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != 500 || f.requests.Load() != 3 {
			t.Fatalf("err %v after %d requests", err, f.requests.Load())
		}
		if want := "identify: giving up after 3 attempts: 500 Internal Server Error: injected by the test"; err.Error() != want {
			t.Errorf("message %q, want %q", err, want)
		}
	})
	t.Run("retries off", func(t *testing.T) {
		f := newFlaky(t, e.url, dropBefore)
		_, err := client.New(key, client.WithBaseURL(f.URL), client.WithRetries(0)).Identify(ctx(t), client.Identify{Email: "a@example.com"})
		if err == nil || f.requests.Load() != 1 {
			t.Errorf("err %v after %d requests", err, f.requests.Load())
		}
	})
	t.Run("deadline shorter than Retry-After", func(t *testing.T) {
		f := newFlaky(t, e.url)
		f.always = error503
		c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := client.New(key, client.WithBaseURL(f.URL)).Identify(c, client.Identify{Email: "a@example.com"})
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != 503 || ae.RetryAfter != time.Second || time.Since(start) > 250*time.Millisecond {
			t.Errorf("err %v after %v", err, time.Since(start))
		}
	})
	t.Run("context ends during backoff", func(t *testing.T) {
		f := newFlaky(t, e.url)
		f.always = error500
		c, cancel := context.WithCancel(context.Background())
		// Cancel once a few 500s have come back, however slow the machine.
		go func() {
			defer cancel()
			for f.requests.Load() < 3 {
				time.Sleep(time.Millisecond)
			}
		}()
		_, err := client.New(key, client.WithBaseURL(f.URL), client.WithRetries(1000), client.WithBackoff(time.Millisecond, 5*time.Millisecond)).
			Identify(c, client.Identify{Email: "a@example.com"})
		var ae *client.APIError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &ae) || ae.Status != 500 {
			t.Errorf("err %v", err)
		}
	})
}

// Calls that create something are not repeated once they may have reached
// the server; they are when the connection never got there.
func TestCreateIsNotRepeated(t *testing.T) {
	t.Parallel()
	e := setup(t)

	for _, plan := range [][]fault{{dropAfter}, {dropBefore}, {error500}, {slow}} {
		f := newFlaky(t, e.url, plan...)
		a := e.client(e.token, client.WithBaseURL(f.URL), client.WithTimeout(1500*time.Millisecond))
		_, err := a.CreateProject(ctx(t), client.NewProject{Name: "App A"})
		if !errors.Is(err, client.ErrUnknownOutcome) || f.requests.Load() != 1 {
			t.Errorf("plan %v: err %v after %d requests", plan, err, f.requests.Load())
		}
		// The plan is spent: this one passes.
		if _, err := a.CreateKey(ctx(t), "app-a"); err != nil || f.requests.Load() != 2 {
			t.Errorf("plan %v: create key: err %v after %d requests", plan, err, f.requests.Load())
		}
	}
	// The first create landed behind its lost reply; the later ones were
	// 409s (same slug) behind theirs. Never repeated, so the project has
	// exactly its first key and the four the client asked for.
	ps, err := e.admin.Projects(ctx(t))
	if err != nil || len(ps) != 1 {
		t.Fatalf("projects = %+v, %v", ps, err)
	}
	if keys, err := e.admin.Keys(ctx(t), "app-a"); err != nil || len(keys) != 5 {
		t.Errorf("%d keys, %v; want 5", len(keys), err)
	}

	// The caller's context ends while the server works on it: unknown.
	f0 := newFlaky(t, e.url, slow)
	c0, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = e.client(e.token, client.WithBaseURL(f0.URL), client.WithTimeout(0)).CreateKey(c0, "app-a")
	if !errors.Is(err, client.ErrUnknownOutcome) || !errors.Is(err, context.DeadlineExceeded) || f0.requests.Load() != 1 {
		t.Errorf("create key past the deadline: %v after %d requests", err, f0.requests.Load())
	}

	// 429 is refused unread: retried even for a create.
	f := newFlaky(t, e.url, busy429)
	a := e.client(e.token, client.WithBaseURL(f.URL))
	if _, err := a.CreateProject(ctx(t), client.NewProject{Name: "App B"}); err != nil || f.requests.Load() != 2 {
		t.Errorf("after a 429: %v, %d requests", err, f.requests.Load())
	}

	// A connection that fails before the request is written is retried.
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(c context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) <= 2 {
			return nil, errors.New("injected dial failure")
		}
		return (&net.Dialer{}).DialContext(c, network, addr)
	}}
	defer tr.CloseIdleConnections()
	a = e.client(e.token, client.WithHTTPClient(&http.Client{Transport: tr}))
	p, err := a.CreateProject(ctx(t), client.NewProject{Name: "App C"})
	if err != nil || p.Slug != "app-c" || dials.Load() != 3 {
		t.Errorf("after failed dials: %+v, %v, %d dials", p, err, dials.Load())
	}
	if ps, _ := e.admin.Projects(ctx(t)); len(ps) != 3 {
		t.Errorf("%d projects, want 3", len(ps))
	}
}

// A DELETE whose reply was lost has done its job: the retry's 404 is a
// success.
func TestDeleteAfterLostReply(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slug, _ := e.project("App A")
	f := newFlaky(t, e.url, dropAfter)
	if err := e.client(e.token, client.WithBaseURL(f.URL)).DeleteProject(ctx(t), slug); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if f.requests.Load() != 2 || f.forwarded.Load() != 2 {
		t.Errorf("%d requests, %d forwarded", f.requests.Load(), f.forwarded.Load())
	}
	if _, err := e.admin.Project(ctx(t), slug); !client.IsNotFound(err) {
		t.Errorf("project after delete: %v", err)
	}
}
