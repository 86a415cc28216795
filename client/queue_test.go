package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tinycrm.dev/tinycrm/client"
)

// drops records what a Queue reported to OnDrop.
type drops struct {
	mu    sync.Mutex
	items []client.Identify
	errs  []error
}

func (d *drops) onDrop(it client.Identify, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.items = append(d.items, it)
	d.errs = append(d.errs, err)
}

// count returns how many drops had an error matching target.
func (d *drops) count(target error) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, err := range d.errs {
		if errors.Is(err, target) {
			n++
		}
	}
	return n
}

func (d *drops) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.errs)
}

// A stalled server: the queue holds at most MaxQueued items, drops the
// rest and says so for each, and Close reports what it could not send.
func TestQueueBoundedWhenStalled(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var requests atomic.Int32
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "stalled", http.StatusServiceUnavailable)
	}))
	defer stalled.Close()
	defer close(release)

	var d drops
	c := client.New("tcrm_pk_whatever", client.WithBaseURL(stalled.URL), client.WithTimeout(time.Hour))
	q := client.NewQueue(c, client.QueueOptions{MaxQueued: 100, BatchSize: 10, FlushInterval: 5 * time.Millisecond, OnDrop: d.onDrop})
	accepted := 0
	for i := range 250 {
		if q.Enqueue(client.Identify{Email: fmt.Sprintf("u%d@example.com", i)}) {
			accepted++
		}
		if i == 50 {
			// Let the queue start sending (and hang) with part of it.
			deadline := time.Now().Add(5 * time.Second)
			for requests.Load() == 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		}
	}
	if accepted != 100 || q.Len() != 100 {
		t.Errorf("accepted %d, holding %d; want 100", accepted, q.Len())
	}
	if n := d.count(client.ErrQueueFull); n != 150 || d.len() != 150 {
		t.Errorf("%d drops for a full queue (%d in all), want 150", n, d.len())
	}
	if requests.Load() != 1 {
		t.Errorf("%d requests, want 1 (hanging)", requests.Load())
	}

	cctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := q.Close(cctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("close: %v", err)
	}
	if n := d.count(client.ErrNotSent); n != 100 {
		t.Errorf("%d drops at close, want 100", n)
	}
	if q.Enqueue(client.Identify{Email: "late@example.com"}) || d.count(client.ErrQueueClosed) != 1 {
		t.Errorf("enqueue after close was not refused and reported")
	}
	if err := q.Close(context.Background()); err != nil {
		t.Errorf("second close: %v", err)
	}
	// Every item was reported once.
	seen := map[string]bool{}
	for _, it := range d.items {
		if seen[it.Email] {
			t.Errorf("%s reported twice", it.Email)
		}
		seen[it.Email] = true
	}
}

// Close sends everything to the real server; rejected items are reported
// with the server's message and the rest land.
func TestQueueCloseDrains(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App A")
	var d drops
	q := client.NewQueue(e.client(key), client.QueueOptions{BatchSize: 100, FlushInterval: time.Hour, OnDrop: d.onDrop})
	for i := range 1234 {
		if !q.Enqueue(client.Identify{Email: fmt.Sprintf("user%d@example.com", i), Params: map[string]any{"i": i}}) {
			t.Fatalf("enqueue %d refused", i)
		}
	}
	for _, bad := range []string{"no-at-sign", "two@@example.com", ""} {
		q.Enqueue(client.Identify{Email: bad})
	}
	if err := q.Close(ctx(t)); err != nil {
		t.Fatalf("close: %v", err)
	}
	if n := e.count(`SELECT count(*) FROM customers`); n != 1234 {
		t.Errorf("%d customers, want 1234", n)
	}
	if q.Len() != 0 || d.len() != 3 {
		t.Fatalf("%d left, %d drops: %v", q.Len(), d.len(), d.errs)
	}
	for i, err := range d.errs {
		var re *client.RejectedError
		if !errors.As(err, &re) || re.Field != "email" || re.Message == "" {
			t.Errorf("drop of %q: %v", d.items[i].Email, err)
		}
	}
}

func TestQueueFlush(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App A")
	q := client.NewQueue(e.client(key), client.QueueOptions{FlushInterval: time.Hour})
	defer q.Close(ctx(t))
	enqueued := time.Now()
	for i := range 5 {
		q.Enqueue(client.Identify{Email: fmt.Sprintf("u%d@example.com", i)})
	}
	time.Sleep(500 * time.Millisecond)
	if n := e.count(`SELECT count(*) FROM customers`); n != 0 {
		t.Errorf("%d customers before flush", n)
	}
	if err := q.Flush(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if n := e.count(`SELECT count(*) FROM customers`); n != 5 {
		t.Errorf("%d customers after flush, want 5", n)
	}
	// The call is dated when it was enqueued, not when it arrived.
	u0, err := e.admin.Customer(ctx(t), "u0@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if d := u0.FirstSeen.Sub(enqueued); d < -time.Second || d > 200*time.Millisecond {
		t.Errorf("first seen %v after enqueueing, want about 0", d)
	}
}

// The background sender keeps a failed batch and sends it again later;
// every item lands once, even the ones whose first reply was lost.
func TestQueueSurvivesFailures(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App A")
	f := newFlaky(t, e.url, dropAfter, error500, dropBefore, error503, dropAfter)
	var d drops
	c := client.New(key, client.WithBaseURL(f.URL), client.WithRetries(1), client.WithBackoff(time.Millisecond, time.Millisecond))
	q := client.NewQueue(c, client.QueueOptions{BatchSize: 20, FlushInterval: 10 * time.Millisecond, OnDrop: d.onDrop})
	for i := range 100 {
		q.Enqueue(client.Identify{Email: fmt.Sprintf("u%d@example.com", i)})
	}
	deadline := time.Now().Add(20 * time.Second)
	for q.Len() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := q.Close(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if d.len() != 0 {
		t.Errorf("drops: %v", d.errs)
	}
	if n := e.count(`SELECT count(*) FROM customers`); n != 100 {
		t.Errorf("%d customers, want 100", n)
	}
	if n := e.count(`SELECT count(*) FROM message_ids`); n != 100 {
		t.Errorf("%d message ids, want 100", n)
	}
	if n := e.count(`SELECT count(*) FROM events`); n != 100 {
		t.Errorf("%d events, want 100", n)
	}
	if f.forwarded.Load() < 7 {
		t.Errorf("only %d requests reached the server", f.forwarded.Load())
	}
}

// A key the server refuses makes every item a drop, reported with the 401.
func TestQueueDropsOnPermanentError(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var d drops
	q := client.NewQueue(e.client("tcrm_pk_unknown"), client.QueueOptions{BatchSize: 10, OnDrop: d.onDrop})
	for i := range 25 {
		q.Enqueue(client.Identify{Email: fmt.Sprintf("u%d@example.com", i)})
	}
	if err := q.Close(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if d.len() != 25 {
		t.Fatalf("%d drops, want 25", d.len())
	}
	for _, err := range d.errs {
		if !client.IsUnauthorized(err) {
			t.Errorf("drop: %v", err)
		}
	}
}

// Not parallel: it counts goroutines.
func TestQueueNoGoroutineLeak(t *testing.T) {
	e := setup(t)
	_, key := e.project("App A")
	tr := &http.Transport{}
	settle := func(limit int) int {
		var n int
		for range 200 {
			if n = runtime.NumGoroutine(); n <= limit {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		return n
	}
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()
	for range 3 {
		q := client.NewQueue(e.client(key, client.WithHTTPClient(&http.Client{Transport: tr})),
			client.QueueOptions{BatchSize: 7, FlushInterval: time.Millisecond})
		for i := range 50 {
			q.Enqueue(client.Identify{Email: fmt.Sprintf("u%d@example.com", i)})
		}
		if err := q.Flush(ctx(t)); err != nil {
			t.Fatal(err)
		}
		if err := q.Close(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	tr.CloseIdleConnections()
	if after := settle(before); after > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}

// Close giving up while a Flush holds a failing batch: the batch's items
// are reported to OnDrop when it fails, not put back in a queue nobody
// will send again.
func TestQueueCloseDuringFlushReportsEveryItem(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		time.Sleep(50 * time.Millisecond)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	var d drops
	c := client.New("tcrm_pk_whatever", client.WithBaseURL(failing.URL), client.WithRetries(3),
		client.WithBackoff(100*time.Millisecond, 100*time.Millisecond))
	q := client.NewQueue(c, client.QueueOptions{FlushInterval: time.Hour, OnDrop: d.onDrop})
	for i := range 5 {
		q.Enqueue(client.Identify{Email: fmt.Sprintf("cf%d@example.com", i)})
	}
	flushed := make(chan error, 1)
	go func() { flushed <- q.Flush(context.Background()) }()
	// Close once the Flush holds the batch (its first request is in).
	for requests.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := q.Close(cctx); err == nil {
		t.Fatal("Close succeeded against a failing server")
	}
	if err := <-flushed; err == nil {
		t.Fatal("Flush succeeded against a failing server")
	}
	if n := d.count(client.ErrNotSent); n != 5 {
		t.Fatalf("%d of 5 items reported as not sent (%d drops in all); %d left in the queue", n, d.len(), q.Len())
	}
	if q.Len() != 0 {
		t.Fatalf("%d items left in a closed queue", q.Len())
	}
}

// Enqueue takes params as they are when it is called: changing the map
// afterwards changes nothing that is sent (and is no data race).
func TestQueueTakesParamsAtEnqueue(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"accepted":1,"duplicates":0,"rejected":[]}`)
	}))
	defer srv.Close()
	var d drops
	q := client.NewQueue(client.New("tcrm_pk_whatever", client.WithBaseURL(srv.URL)),
		client.QueueOptions{FlushInterval: time.Hour, OnDrop: d.onDrop})
	p := map[string]any{"plan": "free", "tags": []any{"a"}}
	q.Enqueue(client.Identify{Email: "alias@example.com", Params: p})
	p["plan"] = "pro"
	p["tags"].([]any)[0] = "b"
	// Not UTF-8: refused at once, not later in a batch.
	if q.Enqueue(client.Identify{Email: "bad@example.com", Params: map[string]any{"x": "\xff"}}) {
		t.Error("an item with invalid UTF-8 params was taken")
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 1 || !strings.Contains(bodies[0], `"plan":"free"`) || !strings.Contains(bodies[0], `"tags":["a"]`) {
		t.Fatalf("sent %q, want the params as enqueued", bodies)
	}
	var rej *client.RejectedError
	if d.len() != 1 || !errors.As(d.errs[0], &rej) || rej.Field != "params.x" {
		t.Fatalf("drops %v, want one *RejectedError naming params.x", d.errs)
	}
}
