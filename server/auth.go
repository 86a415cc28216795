package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"tinycrm.dev/tinycrm/secret"
	"tinycrm.dev/tinycrm/store"
)

// credential is what a request's bearer secret grants.
type credential int

const (
	credNone    credential = iota // route needs no secret
	credAdmin                     // tcrm_at_: reads and manages one workspace
	credProject                   // tcrm_pk_: writes to one project
)

// keyCacheTTL bounds how long a daemon trusts a project key it has looked up.
// Revocations made through this daemon apply at once (the cache is cleared);
// ones made through another daemon apply within this time.
const keyCacheTTL = 10 * time.Second

type cachedKey struct {
	owner store.KeyOwner
	until time.Time
}

// keyCache keeps recent project-key look-ups so ingest does not hit the
// database for authentication on every call.
type keyCache struct {
	mu   sync.Mutex
	byID map[string]cachedKey
}

func (c *keyCache) get(hash string, now time.Time) (store.KeyOwner, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[hash]
	if !ok || !now.Before(e.until) {
		return store.KeyOwner{}, false
	}
	return e.owner, true
}

func (c *keyCache) put(hash string, o store.KeyOwner, now time.Time) {
	until := now.Add(keyCacheTTL)
	if o.ExpiresAt != nil && o.ExpiresAt.Before(until) {
		until = *o.ExpiresAt
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byID) > 10000 {
		clear(c.byID)
	}
	c.byID[hash] = cachedKey{owner: o, until: until}
}

func (c *keyCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.byID)
}

type ctxKey int

const (
	workspaceKey ctxKey = iota
	ownerKey
)

func workspaceFrom(ctx context.Context) int64 {
	ws, _ := ctx.Value(workspaceKey).(int64)
	return ws
}

func ownerFrom(ctx context.Context) store.KeyOwner {
	o, _ := ctx.Value(ownerKey).(store.KeyOwner)
	return o
}

var errUnauthorized = &Problem{Status: http.StatusUnauthorized,
	Detail: "missing credentials: send Authorization: Bearer <tcrm_pk_ project key or tcrm_at_ admin token>"}

// bearer returns the secret from an Authorization header, or from HTTP Basic
// (Segment's way: the key is the user name).
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	// The scheme is case-insensitive (RFC 9110 §11.1).
	if scheme, v, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(v)
	}
	if u, _, ok := r.BasicAuth(); ok {
		return u
	}
	return ""
}

// authenticate checks the request's secret against what the route needs and
// returns the request's context carrying the workspace (and key owner).
func (s *Server) authenticate(r *http.Request, need credential) (context.Context, error) {
	ctx := r.Context()
	if need == credNone {
		return ctx, nil
	}
	raw := bearer(r)
	if raw == "" {
		return nil, errUnauthorized
	}
	kind, err := secret.Parse(raw)
	if err != nil {
		return nil, &Problem{Status: http.StatusUnauthorized, Detail: err.Error()}
	}
	switch {
	case need == credAdmin && kind == secret.ProjectKey:
		return nil, &Problem{Status: http.StatusForbidden,
			Detail: "project keys can only send data (identify, ping, batch); use an admin token (tcrm_at_) to read or manage"}
	case need == credProject && kind == secret.AdminToken:
		return nil, &Problem{Status: http.StatusForbidden,
			Detail: "ingest takes a project key (tcrm_pk_); admins can import with POST /v1/projects/{slug}/batch"}
	}
	hash := secret.Hash(raw)
	if kind == secret.AdminToken {
		ws, err := s.store.AdminWorkspace(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return nil, &Problem{Status: http.StatusUnauthorized, Detail: "unknown admin token"}
		}
		if err != nil {
			return nil, err
		}
		return context.WithValue(ctx, workspaceKey, ws), nil
	}
	now := s.now()
	owner, ok := s.keys.get(string(hash), now)
	if !ok {
		owner, err = s.store.ProjectKeyOwner(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return nil, &Problem{Status: http.StatusUnauthorized, Detail: "unknown, revoked or expired project key"}
		}
		if err != nil {
			return nil, err
		}
		s.keys.put(string(hash), owner, now)
	}
	if ok, wait := s.limiter.allow(owner.KeyID, now); !ok {
		secs := int(wait/time.Second) + 1
		return nil, &Problem{Status: http.StatusTooManyRequests, RetryAfter: secs,
			Detail: "rate limit for this project key exceeded; slow down or batch calls with POST /v1/batch"}
	}
	ctx = context.WithValue(ctx, workspaceKey, owner.WorkspaceID)
	return context.WithValue(ctx, ownerKey, owner), nil
}
