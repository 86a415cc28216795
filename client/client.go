// Package client is TinyCRM's Go SDK: the HTTP client that Go apps use to
// send identify, ping and batch calls with a project key (tcrm_pk_), and
// that the tinycrm CLI and TUI use to manage and read a workspace with an
// admin token (tcrm_at_).
//
// Every ingest call carries a message id (generated when the caller gives
// none), so the client may retry it after a network error, a 5xx or a 429
// and the server still applies it once. Admin calls that create something
// (a project, a key, a rotation) are never repeated once they may have
// reached the server; see [ErrUnknownOutcome]. A [Queue] batches identify
// calls in the background so an app's request path never waits for TinyCRM.
//
// # Retries
//
// A call is retried, up to WithRetries times and never past its context,
// after a network error, an attempt that ran past WithTimeout, a 5xx or a
// 429, and never after another 4xx. The wait before retry n is random in
// [0, min(ceiling, base·2ⁿ)] (exponential backoff with full jitter, see
// WithBackoff), except that a 429 or 503 waits what its Retry-After header
// asks; when that wait would outlast the context, the call fails at once
// with the server's answer.
//
// What may be repeated depends on the call:
//
//   - Identify, Ping, Batch and Import carry message ids, so the server
//     applies a repeat once: they are retried on every failure above.
//   - Reads, UpdateProject, RevokeKey, DeleteProject and Forget have the
//     same effect when applied twice: retried likewise. A DELETE whose
//     retry finds nothing (404) after an attempt that may have been applied
//     reports success, since the lost attempt did the work.
//   - CreateProject, CreateKey and RotateKey make something new each time.
//     They are retried only when the request cannot have been processed: the
//     connection failed before the request was fully written, or the server
//     answered 429. After a failure once the request was sent (a dropped
//     connection, a timeout, a 5xx) the outcome is unknown and a repeat
//     could create a second key, so the error is returned, marked with
//     ErrUnknownOutcome.
//
// Errors name the operation ("create project App A: …"); a server's answer
// is an *APIError, reachable with errors.As even after retries.
//
// The package talks to the server only over HTTP: it must not import the
// server, the store or a database driver, and it exposes no types of the
// HTTP library it uses inside (resty).
package client

import (
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
)

// DefaultBaseURL is the server a Client talks to when neither WithBaseURL
// nor the TINYCRM_URL environment variable says otherwise.
const DefaultBaseURL = "http://127.0.0.1:7070"

// Defaults of a Client.
const (
	DefaultRetries     = 4
	DefaultBackoffBase = 200 * time.Millisecond
	DefaultBackoffMax  = 10 * time.Second
	DefaultTimeout     = 15 * time.Second
	DefaultUserAgent   = "tinycrm-go"
)

// Client calls one TinyCRM server with one secret. It is safe for
// concurrent use; make one and share it.
type Client struct {
	key     string
	baseURL string
	rc      *resty.Client
	cfg     config
}

// config is what the Options set.
type config struct {
	baseURL     string
	httpClient  *http.Client
	retries     int
	backoffBase time.Duration
	backoffMax  time.Duration
	userAgent   string
	timeout     time.Duration
}

// Option configures a Client.
type Option func(*config)

// WithBaseURL sets the server's URL, such as "https://crm.example.com".
// It wins over the TINYCRM_URL environment variable.
func WithBaseURL(url string) Option {
	return func(c *config) { c.baseURL = url }
}

// WithHTTPClient makes the Client send through a copy of hc (its
// Transport, Jar, CheckRedirect and Timeout). A Timeout set on hc applies to
// each attempt, like WithTimeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) { c.httpClient = hc }
}

// WithRetries sets how many times a failed call is retried (after the first
// attempt); 0 turns retries off. The default is DefaultRetries.
func WithRetries(n int) Option {
	return func(c *config) { c.retries = max(n, 0) }
}

// WithBackoff sets the exponential backoff between retries: before retry n
// (counting from 0) the client sleeps a random time in
// [0, min(ceiling, base·2ⁿ)] ("full jitter"), unless the server asked for a
// specific wait with Retry-After. Defaults: DefaultBackoffBase and
// DefaultBackoffMax.
func WithBackoff(base, ceiling time.Duration) Option {
	return func(c *config) {
		if base > 0 {
			c.backoffBase = base
		}
		if ceiling > 0 {
			c.backoffMax = ceiling
		}
	}
}

// WithUserAgent sets the User-Agent header, so the server's logs can tell
// apps apart. The default is DefaultUserAgent.
func WithUserAgent(ua string) Option {
	return func(c *config) { c.userAgent = ua }
}

// WithTimeout bounds each attempt: an attempt with no complete response
// after d is abandoned and, when the call may be repeated, retried. The
// whole call is bounded by its context. 0 means no per-attempt limit. The
// default is DefaultTimeout. For Export, d bounds only the wait for the
// response to start, not the download.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = max(d, 0) }
}

// New returns a Client that authenticates with key: a project key
// (tcrm_pk_…) for Identify, Ping and Batch, or an admin token (tcrm_at_…)
// for everything else. The server's URL comes from WithBaseURL, else from the
// TINYCRM_URL environment variable (read once, here), else DefaultBaseURL.
func New(key string, opts ...Option) *Client {
	return newClient(key, os.Getenv("TINYCRM_URL"), opts)
}

// newClient builds a Client with envURL standing for TINYCRM_URL.
func newClient(key, envURL string, opts []Option) *Client {
	cfg := config{
		baseURL:     envURL,
		retries:     DefaultRetries,
		backoffBase: DefaultBackoffBase,
		backoffMax:  DefaultBackoffMax,
		userAgent:   DefaultUserAgent,
		timeout:     DefaultTimeout,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.baseURL == "" {
		cfg.baseURL = DefaultBaseURL
	}
	cfg.baseURL = strings.TrimRight(cfg.baseURL, "/")
	if cfg.backoffMax < cfg.backoffBase {
		cfg.backoffMax = cfg.backoffBase
	}
	// resty sets a Transport on the http.Client it is given: give it a copy
	// so the caller's client is left as it was.
	hc := &http.Client{}
	if cfg.httpClient != nil {
		cp := *cfg.httpClient
		hc = &cp
	}
	rc := resty.NewWithClient(hc).
		SetBaseURL(cfg.baseURL).
		SetLogger(quietLogger{}).
		SetDisableWarn(true).
		SetRetryCount(0) // retries are ours: see do
	return &Client{key: key, baseURL: cfg.baseURL, rc: rc, cfg: cfg}
}

// BaseURL returns the server URL the Client talks to.
func (c *Client) BaseURL() string { return c.baseURL }

// quietLogger keeps resty from writing to stderr: errors reach the caller
// as return values instead.
type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Debugf(string, ...any) {}

var _ resty.Logger = quietLogger{}
