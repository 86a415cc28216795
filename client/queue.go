package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Defaults of a Queue.
const (
	DefaultMaxQueued     = 10000
	DefaultBatchSize     = 500
	DefaultFlushInterval = time.Second
)

// maxQueueBackoff caps the wait between sends while the server keeps
// failing, so a recovered server is noticed soon.
const maxQueueBackoff = 10 * time.Second

// Why a Queue dropped an item; OnDrop receives these (wrapped).
var (
	// ErrQueueFull: Enqueue found MaxQueued items waiting.
	ErrQueueFull = errors.New("queue full")
	// ErrQueueClosed: Enqueue was called after Close.
	ErrQueueClosed = errors.New("queue closed")
	// ErrNotSent: Close's context ended before the item could be sent.
	ErrNotSent = errors.New("not sent before the queue was closed")
)

// RejectedError is the server's refusal of one queued item, such as an
// invalid email. Sending it again would not help.
type RejectedError struct {
	Field   string // the item's field at fault, when known
	Message string // the server's message, such as "email: missing @"
}

// Error returns "rejected by the server: " and the server's message.
func (e *RejectedError) Error() string { return "rejected by the server: " + e.Message }

// QueueOptions configure a Queue. Zero values take the defaults.
type QueueOptions struct {
	// MaxQueued bounds the items held (waiting or being sent); Enqueue
	// drops what does not fit. Default DefaultMaxQueued.
	MaxQueued int
	// BatchSize is the most items per request, at most MaxBatchItems.
	// A full batch is sent at once. Default DefaultBatchSize.
	BatchSize int
	// FlushInterval is how often a partial batch is sent, and how long
	// the queue first waits after a failed send before trying again (the
	// wait doubles while sends fail, up to 10s). Default
	// DefaultFlushInterval.
	FlushInterval time.Duration
	// OnDrop is told about every item that will never be sent, with the
	// reason: ErrQueueFull, ErrQueueClosed, ErrNotSent, a *RejectedError,
	// or the error of a request the server refused as a whole (such as a
	// revoked key). It may be called from any goroutine, including the one
	// calling Enqueue, and must not block or call the Queue. Nil ignores
	// drops.
	OnDrop func(item Identify, err error)
}

// Queue sends identify calls in the background, in batches, so that an
// app's request path never waits for TinyCRM (SPEC §8). It holds at most
// MaxQueued items, so memory stays bounded while the server is down; what
// does not fit is dropped and reported. Items are sent with Batch, so each
// is retried as the Client retries; a batch that still fails stays queued
// and is tried again later. Every item gets a message id when enqueued, so
// a batch sent twice (after an unknown outcome) is applied once.
//
// Create one with NewQueue and stop it with Close, which sends what is
// left; a Queue that is never closed keeps a goroutine running.
type Queue struct {
	c    *Client
	opts QueueOptions

	mu       sync.Mutex
	pending  []Identify
	inflight int
	closed   bool
	drained  bool // Close gave up and reported what was pending

	wake   chan struct{} // a full batch is waiting
	sender chan struct{} // held by whoever is sending: one batch at a time
	stop   context.CancelFunc
	done   chan struct{} // closed when the background goroutine has ended
}

// NewQueue starts a queue that sends through c, which must hold a project
// key.
func NewQueue(c *Client, o QueueOptions) *Queue {
	if o.MaxQueued <= 0 {
		o.MaxQueued = DefaultMaxQueued
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	o.BatchSize = min(o.BatchSize, MaxBatchItems, o.MaxQueued)
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{
		c:      c,
		opts:   o,
		wake:   make(chan struct{}, 1),
		sender: make(chan struct{}, 1),
		stop:   cancel,
		done:   make(chan struct{}),
	}
	go q.run(ctx)
	return q
}

// Enqueue adds an identify call to be sent soon, without blocking. It
// returns false, and reports the item to OnDrop with ErrQueueFull or
// ErrQueueClosed, when the item cannot be taken.
//
// A zero Timestamp is set to now (this machine's clock), so a call that
// waits in the queue, say while the server is down, still records when it
// happened rather than when it arrived, and never overwrites newer state.
//
// Params are taken as they are now: each value is encoded to JSON here
// (OnDrop sees them as json.RawMessage), so the caller may change or reuse
// the map and its values at once. A value that is not valid UTF-8 or
// cannot be encoded is dropped here, as a *RejectedError.
func (q *Queue) Enqueue(item Identify) bool {
	if item.MessageID == "" {
		item.MessageID = NewMessageID()
	}
	if item.Timestamp.IsZero() {
		item.Timestamp = time.Now()
	}
	params, bad := frozen(item)
	item.Params = params
	q.mu.Lock()
	var why error
	switch {
	case bad != nil:
		why = bad
	case q.closed:
		why = ErrQueueClosed
	case len(q.pending)+q.inflight >= q.opts.MaxQueued:
		why = ErrQueueFull
	default:
		q.pending = append(q.pending, item)
		full := len(q.pending) >= q.opts.BatchSize
		q.mu.Unlock()
		if full {
			select {
			case q.wake <- struct{}{}:
			default:
			}
		}
		return true
	}
	q.mu.Unlock()
	q.drop(item, why)
	return false
}

// frozen returns item's params with every value encoded as JSON, or the
// rejection of an item whose text is not valid UTF-8 or whose params
// cannot be encoded.
func frozen(item Identify) (map[string]any, error) {
	if field := invalidText(item); field != "" {
		return item.Params, &RejectedError{Field: field, Message: field + ": is not valid UTF-8"}
	}
	if item.Params == nil {
		return nil, nil
	}
	out := make(map[string]any, len(item.Params))
	for k, v := range item.Params {
		enc, err := json.Marshal(v)
		if err != nil {
			return item.Params, &RejectedError{Field: "params." + k, Message: fmt.Sprintf("params.%s: cannot be encoded as JSON: %v", k, err)}
		}
		out[k] = json.RawMessage(enc)
	}
	return out, nil
}

// Len returns the number of items held: waiting or being sent.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending) + q.inflight
}

// Flush sends the items enqueued before it was called and returns when
// they are sent, or with the error that stopped it (the unsent items stay
// queued) or when ctx ends.
func (q *Queue) Flush(ctx context.Context) error {
	if err := q.send(ctx, false); err != nil {
		return fmt.Errorf("flush queue: %w", err)
	}
	return nil
}

// Close stops taking items, sends everything queued, and stops the
// background goroutine. While the server fails it keeps trying until ctx
// ends: give ctx a deadline. Items still unsent then are reported to OnDrop
// with ErrNotSent, and Close returns an error counting them. Calling Close
// again returns nil at once.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	first := !q.closed
	q.closed = true
	q.mu.Unlock()
	if !first {
		return nil
	}
	q.stop()
	<-q.done
	wait := min(q.opts.FlushInterval, maxQueueBackoff)
	for {
		err := q.send(ctx, true)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || sleep(ctx, wait) != nil {
			break
		}
		wait = min(2*wait, maxQueueBackoff)
	}
	q.mu.Lock()
	left, sending := q.pending, q.inflight
	q.pending = nil
	q.drained = true
	q.mu.Unlock()
	for _, it := range left {
		q.drop(it, fmt.Errorf("%w: %w", ErrNotSent, ctx.Err()))
	}
	if sending > 0 {
		// A Flush still holds them; send reports them if they fail.
		return fmt.Errorf("close queue: %d items not sent, %d still being sent by a Flush: %w", len(left), sending, ctx.Err())
	}
	return fmt.Errorf("close queue: %d items not sent: %w", len(left), ctx.Err())
}

// run sends full batches as they fill and partial ones every
// FlushInterval, and backs off while sends fail.
func (q *Queue) run(ctx context.Context) {
	defer close(q.done)
	tick := time.NewTicker(q.opts.FlushInterval)
	defer tick.Stop()
	backoff := q.opts.FlushInterval
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-q.wake:
		}
		if err := q.send(ctx, true); err != nil {
			// Wakes wait too: a full queue must not hammer a failing
			// server.
			if sleep(ctx, backoff) != nil {
				return
			}
			backoff = min(2*backoff, maxQueueBackoff)
			continue
		}
		backoff = q.opts.FlushInterval
	}
}

// send sends queued items in batches, one request at a time, until the
// queue is empty (all) or the items queued when it started are sent.
// A failure the server may recover from puts the batch back at the front
// and ends send with that error; a batch refused as a whole, and items
// rejected one by one, are dropped and reported.
func (q *Queue) send(ctx context.Context, all bool) error {
	select {
	case q.sender <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-q.sender }()

	q.mu.Lock()
	budget := len(q.pending)
	q.mu.Unlock()
	for all || budget > 0 {
		q.mu.Lock()
		n := min(len(q.pending), q.opts.BatchSize)
		if !all {
			n = min(n, budget)
		}
		if n == 0 {
			q.mu.Unlock()
			return nil
		}
		chunk := make([]Identify, n)
		copy(chunk, q.pending)
		clear(q.pending[:n])
		q.pending = q.pending[n:]
		q.inflight += n
		q.mu.Unlock()
		budget -= n

		res, err := q.c.Batch(ctx, chunk)
		// On error, res covers the prefix of chunk that the server
		// confirmed (Batch may split a chunk by size); the rest is
		// either put back or dropped.
		done := min(res.Accepted+res.Duplicates+res.Suppressed+len(res.Rejected), n)
		for _, r := range res.Rejected {
			if r.Index >= 0 && r.Index < n {
				q.drop(chunk[r.Index], &RejectedError{Field: r.Field, Message: r.Error})
			}
		}
		q.mu.Lock()
		q.inflight -= n
		retry := err != nil && retryable(err)
		if retry && !q.drained {
			q.pending = append(chunk[done:], q.pending...)
			q.mu.Unlock()
			return err
		}
		drained := q.drained
		q.mu.Unlock()
		if err != nil {
			why := err
			if retry && drained {
				// Close has given up meanwhile: nobody would send
				// them again.
				why = fmt.Errorf("%w: %w", ErrNotSent, err)
			}
			for _, it := range chunk[done:] {
				q.drop(it, why)
			}
			if retry {
				return err
			}
		}
	}
	return nil
}

// retryable reports whether a failed Batch may succeed later: anything
// but a 4xx other than 429, which the same request would get again.
func retryable(err error) bool {
	if e, ok := errorsAsAPI(err); ok {
		return e.temporary()
	}
	return true
}

// drop reports an item that will not be sent.
func (q *Queue) drop(it Identify, err error) {
	if q.opts.OnDrop != nil {
		q.opts.OnDrop(it, err)
	}
}
