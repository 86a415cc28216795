package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"time"
)

// policy says when a call may be sent again after a failure.
type policy int

const (
	// repeatable calls give the same result when applied twice: reads,
	// PATCH and DELETE, and ingest calls, which carry a message id. They
	// are retried on network errors, on timeouts, on 5xx and on 429.
	repeatable policy = iota
	// once calls create something new each time they are applied (a
	// project, a key, a rotation). They are retried only when the request
	// cannot have reached the server (the connection failed before the
	// request was written) or when the server refused it unread (429).
	// Anything else is returned, marked ErrUnknownOutcome where the
	// request may have been applied.
	once
)

// call is one API operation.
type call struct {
	op     string // names the operation in errors: "create project app-a"
	method string
	path   string // escaped path, such as "/v1/projects/app-a"
	query  url.Values
	body   []byte // JSON; nil for none
	policy policy
	// goneOK makes a 404 a success when an earlier attempt may have been
	// applied: a DELETE whose reply was lost has done its job.
	goneOK bool
	// stream leaves a 2xx body unread for the caller (Export).
	stream bool
}

// reply is a successful answer.
type reply struct {
	status int
	body   []byte        // the whole body, unless the call streams
	stream io.ReadCloser // the body of a streaming call
	// gone: a goneOK call got a 404 after an attempt that may have been
	// applied.
	gone bool
}

// attemptResult is what one try gave: a response or a transport error.
type attemptResult struct {
	status int
	header http.Header
	body   []byte
	stream io.ReadCloser
	err    error // transport error or per-attempt timeout; status is 0
	sent   bool  // the request was completely written to a connection
}

// errAttemptTimeout is one attempt running past the per-attempt timeout
// while the caller's context still had time.
type errAttemptTimeout struct {
	method, path string
	d            time.Duration
}

func (e *errAttemptTimeout) Error() string {
	return fmt.Sprintf("%s %s: no response within %s", e.method, e.path, e.d)
}

// Timeout reports true, like net.Error.
func (e *errAttemptTimeout) Timeout() bool { return true }

// getJSON runs a repeatable GET and decodes the reply into out.
func (c *Client) getJSON(ctx context.Context, op, path string, query url.Values, out any) error {
	return c.doJSON(ctx, call{op: op, method: http.MethodGet, path: path, query: query, policy: repeatable}, out)
}

// doJSON runs cl and decodes a JSON reply into out, unless out is nil.
func (c *Client) doJSON(ctx context.Context, cl call, out any) error {
	r, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	if out == nil || r.status == http.StatusNoContent || len(r.body) == 0 {
		return nil
	}
	// Numbers in params keep every digit the server sent (json.Number).
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%s: decode the server's reply: %w", cl.op, err)
	}
	return nil
}

// marshal encodes a request body, naming the operation on failure.
func marshal(op string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: encode request: %w", op, err)
	}
	return b, nil
}

// do runs a call with the retry rules of its policy (SPEC §8): exponential
// backoff with full jitter, Retry-After honoured on 429 and 503, never a
// retry on another 4xx, at most cfg.retries retries, and nothing past ctx.
func (c *Client) do(ctx context.Context, cl call) (reply, error) {
	var (
		last    error
		maybe   bool // an earlier attempt may have been applied
		attempt int
	)
	for ; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return reply{}, c.giveUp(cl, attempt, err, last)
		}
		r := c.attempt(ctx, cl)
		var wait time.Duration
		switch {
		case r.err != nil && ctx.Err() != nil:
			err := c.giveUp(cl, attempt+1, ctx.Err(), last)
			if cl.policy == once && r.sent {
				err = fmt.Errorf("%w (%w)", err, ErrUnknownOutcome)
			}
			return reply{}, err
		case r.err != nil:
			last = r.err
			if cl.policy == once && r.sent {
				return reply{}, fmt.Errorf("%s: %w: %w", cl.op, ErrUnknownOutcome, r.err)
			}
			maybe = maybe || r.sent
		case r.status < 300:
			return reply{status: r.status, body: r.body, stream: r.stream}, nil
		case r.status == http.StatusNotFound && cl.goneOK && maybe:
			return reply{status: http.StatusNoContent, gone: true}, nil
		default:
			e := apiError(r.status, r.header, r.body)
			if !e.temporary() {
				return reply{}, fmt.Errorf("%s: %w", cl.op, e)
			}
			if cl.policy == once && e.Status != http.StatusTooManyRequests {
				return reply{}, fmt.Errorf("%s: %w: %w", cl.op, ErrUnknownOutcome, e)
			}
			last = e
			maybe = maybe || e.Status != http.StatusTooManyRequests
			if e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable {
				wait = e.RetryAfter
			}
		}
		if attempt >= c.cfg.retries {
			return reply{}, c.giveUp(cl, attempt+1, nil, last)
		}
		if wait == 0 {
			wait = c.backoff(attempt)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			// Sleeping would outlive the caller: fail now with the
			// server's answer rather than later with a bare deadline.
			return reply{}, c.giveUp(cl, attempt+1, nil, last)
		}
		if err := sleep(ctx, wait); err != nil {
			return reply{}, c.giveUp(cl, attempt+1, err, last)
		}
	}
}

// giveUp builds the error of a call that ran out of attempts (ctxErr nil)
// or of time (ctxErr set), keeping the last failure reachable with
// errors.As.
func (c *Client) giveUp(cl call, attempts int, ctxErr, last error) error {
	switch {
	case last == nil && ctxErr != nil:
		return fmt.Errorf("%s: %w", cl.op, ctxErr)
	case ctxErr != nil:
		return fmt.Errorf("%s: %w after %d attempts; last: %w", cl.op, ctxErr, attempts, last)
	case attempts > 1:
		return fmt.Errorf("%s: giving up after %d attempts: %w", cl.op, attempts, last)
	}
	return fmt.Errorf("%s: %w", cl.op, last)
}

// backoff is the wait before retry n (0-based): full jitter over an
// exponentially growing ceiling.
func (c *Client) backoff(n int) time.Duration {
	ceil := c.cfg.backoffMax
	if n < 32 {
		if d := c.cfg.backoffBase << n; d > 0 && d < ceil {
			ceil = d
		}
	}
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil + 1)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attempt sends the request once.
func (c *Client) attempt(ctx context.Context, cl call) attemptResult {
	actx, cancel := context.WithCancel(ctx)
	var timedOut, sent atomic.Bool
	var timer *time.Timer
	if c.cfg.timeout > 0 {
		timer = time.AfterFunc(c.cfg.timeout, func() {
			timedOut.Store(true)
			cancel()
		})
	}
	stopTimer := func() bool { return timer == nil || timer.Stop() }
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				sent.Store(true)
			}
		},
	})

	req := c.rc.R().
		SetContext(actx).
		SetHeader("Authorization", "Bearer "+c.key).
		SetHeader("User-Agent", c.cfg.userAgent).
		SetHeader("Accept", "application/json")
	if cl.query != nil {
		req.SetQueryParamsFromValues(cl.query)
	}
	if cl.body != nil {
		req.SetHeader("Content-Type", "application/json").SetBody(cl.body)
	}
	if cl.stream {
		req.SetDoNotParseResponse(true)
	}
	resp, err := req.Execute(cl.method, cl.path)
	if err != nil {
		stopTimer()
		cancel()
		if timedOut.Load() && ctx.Err() == nil {
			err = &errAttemptTimeout{method: cl.method, path: cl.path, d: c.cfg.timeout}
		}
		return attemptResult{err: err, sent: sent.Load()}
	}
	res := attemptResult{status: resp.StatusCode(), header: resp.Header(), sent: true}
	if !cl.stream {
		stopTimer()
		cancel()
		res.body = resp.Body()
		return res
	}
	raw := resp.RawBody()
	if res.status < 300 {
		// The response has started: from here the download may take as
		// long as the caller's context allows.
		if !stopTimer() {
			raw.Close()
			cancel()
			return attemptResult{err: &errAttemptTimeout{method: cl.method, path: cl.path, d: c.cfg.timeout}, sent: true}
		}
		res.stream = &cancelCloser{ReadCloser: raw, cancel: cancel}
		return res
	}
	defer cancel()
	defer stopTimer()
	defer raw.Close()
	res.body, err = io.ReadAll(io.LimitReader(raw, 64<<10))
	if err != nil {
		return attemptResult{err: err, sent: true}
	}
	return res
}

// cancelCloser releases a streaming request's context when its body is
// closed.
type cancelCloser struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelCloser) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// errorsAsAPI returns the *APIError in err, if any.
func errorsAsAPI(err error) (*APIError, bool) {
	var e *APIError
	ok := errors.As(err, &e)
	return e, ok
}
