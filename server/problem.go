package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"tinycrm.dev/tinycrm/store"
)

// Problem is an RFC 9457 problem detail. Field names the request field at
// fault, when there is one.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Field  string `json:"field,omitempty"`
	// RetryAfter, in seconds, is sent as the Retry-After header too.
	RetryAfter int `json:"retry_after,omitempty"`
}

func (p *Problem) Error() string {
	if p.Field != "" {
		return p.Field + ": " + p.Detail
	}
	return p.Detail
}

// badField is a 400 naming the field at fault.
func badField(field, format string, args ...any) *Problem {
	return &Problem{Status: http.StatusBadRequest, Field: field, Detail: fmt.Sprintf(format, args...)}
}

// problemf builds a problem with a status and a detail.
func problemf(status int, format string, args ...any) *Problem {
	return &Problem{Status: status, Detail: fmt.Sprintf(format, args...)}
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError is the one place that turns an error into a response: a
// *Problem is sent as is, store sentinels map to their statuses, and anything
// else is a logged 500 whose detail does not leak internals.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var p *Problem
	switch {
	case errors.As(err, &p):
		// Copy: problems may be shared values (errUnauthorized) and the
		// defaults below are filled in per response.
		cp := *p
		p = &cp
	case errors.Is(err, store.ErrNotFound):
		p = problemf(http.StatusNotFound, "%s", err.Error())
	case errors.Is(err, store.ErrConflict):
		p = problemf(http.StatusConflict, "%s", err.Error())
	case r.Context().Err() != nil && errors.Is(err, context.Canceled):
		// The client went away; nobody reads this answer and it is not a
		// server failure. 499 is nginx's "client closed request".
		p = &Problem{Status: 499, Title: "Client Closed Request", Detail: "the client closed the request"}
		s.log.DebugContext(r.Context(), "client went away", "method", r.Method, "path", r.URL.Path)
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, errOverloaded):
		p = &Problem{Status: http.StatusServiceUnavailable, RetryAfter: 1,
			Detail: "the database is unavailable or busy; nothing was acknowledged, retry later"}
	default:
		p = problemf(http.StatusInternalServerError, "internal error")
	}
	switch {
	case p.Status == http.StatusServiceUnavailable:
		s.unavailable.Do(func() {
			s.log.WarnContext(r.Context(), "answering 503: the database is unavailable or the ingest queue is full (logged at most once a second)",
				"method", r.Method, "path", r.URL.Path, "err", err)
		})
	case p.Status >= 500:
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", p.Status, "err", err)
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
}
