package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// APIError is an error answer from the server: an RFC 9457 problem. Get it
// from any error the Client returns with errors.As.
type APIError struct {
	// Status is the HTTP status code, such as 400.
	Status int
	// Title is the status text, such as "Bad Request".
	Title string
	// Detail says what went wrong and, usually, what to do.
	Detail string
	// Field names the request field at fault, such as "email", when there
	// is one.
	Field string
	// RetryAfter is how long the server asked the client to wait (429 and
	// 503), or 0.
	RetryAfter time.Duration
	// Problem reports whether the answer was an RFC 9457 problem document,
	// as every error from TinyCRM is. Without one, the answer came from
	// something else: a proxy in front of TinyCRM, or a URL that is not a
	// TinyCRM server at all.
	Problem bool
}

// Error returns the status, the title, the field and the detail, like
// "400 Bad Request: email: missing @".
func (e *APIError) Error() string {
	title := e.Title
	if title == "" {
		title = http.StatusText(e.Status)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.Status, title)
	if e.Field != "" {
		b.WriteString(": " + e.Field)
		if e.Detail == "" {
			return b.String()
		}
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

// temporary reports whether the same request may succeed later: a 429 or
// a 5xx.
func (e *APIError) temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// ErrUnknownOutcome marks a failed call that must not be repeated blindly
// and may nevertheless have been applied: a request that creates something
// (a project, a key, a key rotation) lost its connection after being sent,
// or got a 5xx. The client does not retry such calls, since a repeat could
// create a second key or project; check with a read (Projects, Keys) before
// trying again. Test with errors.Is.
var ErrUnknownOutcome = errors.New("outcome unknown: the request may have been applied")

// statusIs reports whether err holds an *APIError with this status.
func statusIs(err error, status int) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == status
}

// IsNotFound reports whether err is TinyCRM's 404: no such customer,
// project, key or endpoint. A 404 without a problem document is not
// TinyCRM's (see APIError.Problem) and is not one.
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusNotFound && e.Problem
}

// IsUnauthorized reports whether err is a 401: the secret is missing,
// mistyped, unknown, revoked or expired.
func IsUnauthorized(err error) bool { return statusIs(err, http.StatusUnauthorized) }

// IsForbidden reports whether err is a 403: the secret is valid but of the
// wrong kind for the call (a project key on an admin route, or the reverse).
func IsForbidden(err error) bool { return statusIs(err, http.StatusForbidden) }

// IsConflict reports whether err is a 409, such as a project slug that is
// already taken.
func IsConflict(err error) bool { return statusIs(err, http.StatusConflict) }

// problem is the RFC 9457 body the server sends with an error.
type problem struct {
	Type       string `json:"type"`
	Title      string `json:"title"`
	Status     int    `json:"status"`
	Detail     string `json:"detail"`
	Field      string `json:"field"`
	RetryAfter int    `json:"retry_after"`
}

// apiError builds the error for a non-2xx answer. A body that is not a
// problem (from a proxy, say) becomes the detail, shortened.
func apiError(status int, header http.Header, body []byte) *APIError {
	e := &APIError{Status: status, Title: http.StatusText(status)}
	var p problem
	mt, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	if (mt == "application/problem+json" || mt == "application/json") && json.Unmarshal(body, &p) == nil {
		e.Problem = mt == "application/problem+json"
		if p.Title != "" {
			e.Title = p.Title
		}
		e.Detail, e.Field = p.Detail, p.Field
		if p.RetryAfter > 0 {
			e.RetryAfter = time.Duration(p.RetryAfter) * time.Second
		}
	} else {
		e.Detail = shorten(strings.TrimSpace(string(body)), 200)
	}
	if d, ok := parseRetryAfter(header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = d
	}
	return e
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an
// HTTP-date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, 24*3600)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// shorten cuts s to at most n bytes on a rune boundary.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
