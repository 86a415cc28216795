package server_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"tinycrm.dev/tinycrm/secret"
	"tinycrm.dev/tinycrm/server"
)

// TestRouteCredentialMatrix sends every route every kind of credential. The
// expectation table must name every route of the server's route table, so a
// new route fails this test until someone decides who may call it.
func TestRouteCredentialMatrix(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slug, key := e.project("App A")
	_, otherKey := e.project("App B")
	revoked := e.do("POST", "/v1/projects/"+slug+"/keys", e.admin, nil).must(t, http.StatusCreated)
	e.do("DELETE", "/v1/projects/"+slug+"/keys/"+jsonID(revoked.Body["id"]), e.admin, nil).must(t, http.StatusNoContent)
	expiring := e.do("POST", "/v1/projects/"+slug+"/keys", e.admin, nil).must(t, http.StatusCreated)
	// Rotating with no grace expires every older key at once.
	e.do("POST", "/v1/projects/"+slug+"/keys/rotate?grace=0s", e.admin, nil).must(t, http.StatusCreated)
	_ = key // key itself is expired by that rotation too; the fresh one:
	fresh := e.do("POST", "/v1/projects/"+slug+"/keys", e.admin, nil).must(t, http.StatusCreated).Body["key"].(string)
	unknown, _ := secret.New(secret.ProjectKey)
	unknownAdmin, _ := secret.New(secret.AdminToken)

	creds := []struct {
		name  string
		token string
	}{
		{"none", ""},
		{"garbage", "tcrm_pk_not-a-real-key"},
		{"unknown key", unknown},
		{"unknown admin", unknownAdmin},
		{"revoked key", revoked.Body["key"].(string)},
		{"expired key", expiring.Body["key"].(string)},
		{"project key", fresh},
		{"other project key", otherKey},
		{"admin", e.admin},
	}
	// What each credential class gets: ingest routes accept project keys,
	// admin routes admin tokens; the wrong kind is 403, missing/bad is 401.
	const (
		open    = "open"
		ingest  = "ingest"
		adminOn = "admin"
	)
	expect := map[string]string{
		"GET /healthz":                         open,
		"GET /readyz":                          open,
		"POST /v1/identify":                    ingest,
		"POST /v1/ping":                        ingest,
		"POST /v1/batch":                       ingest,
		"POST /segment/v1/identify":            ingest,
		"POST /segment/v1/track":               ingest,
		"POST /segment/v1/page":                ingest,
		"POST /segment/v1/screen":              ingest,
		"POST /segment/v1/batch":               ingest,
		"POST /segment/v1/import":              ingest,
		"GET /v1/projects":                     adminOn,
		"POST /v1/projects":                    adminOn,
		"GET /v1/projects/{slug}":              adminOn,
		"PATCH /v1/projects/{slug}":            adminOn,
		"DELETE /v1/projects/{slug}":           adminOn,
		"GET /v1/projects/{slug}/keys":         adminOn,
		"POST /v1/projects/{slug}/keys":        adminOn,
		"POST /v1/projects/{slug}/keys/rotate": adminOn,
		"DELETE /v1/projects/{slug}/keys/{id}": adminOn,
		"POST /v1/projects/{slug}/batch":       adminOn,
		"GET /v1/customers/{idOrEmail}":        adminOn,
		"GET /v1/customers":                    adminOn,
		"DELETE /v1/customers/{idOrEmail}":     adminOn,
		"GET /v1/export":                       adminOn,
		"GET /v1/stats":                        adminOn,
		"GET /v1/insights/overlap":             adminOn,
		"GET /v1/insights/upsell":              adminOn,
		"GET /v1/insights/churn-risk":          adminOn,
		"GET /v1/insights/revenue":             adminOn,
	}
	patterns := server.RoutePatterns()
	for _, p := range patterns {
		if _, ok := expect[p]; !ok {
			t.Errorf("route %q has no row in the credential matrix", p)
		}
	}
	if len(patterns) != len(expect) {
		t.Errorf("matrix has %d rows, server has %d routes", len(expect), len(patterns))
	}
	for _, pattern := range patterns {
		method, path, _ := strings.Cut(pattern, " ")
		// Address a project that does not exist, so authorised calls do
		// nothing destructive; they may 404 or 400, but never 401/403.
		path = strings.NewReplacer("{slug}", "no-such-project", "{id}", "1", "{idOrEmail}", "nobody@example.com").Replace(path)
		for _, c := range creds {
			r := e.do(method, path, c.token, "{}")
			class := expect[pattern]
			var want []int
			switch {
			case class == open:
				want = []int{http.StatusOK}
			case c.name == "project key" || c.name == "other project key":
				if class == ingest {
					want = []int{http.StatusBadRequest} // authorised; "{}" lacks an email
				} else {
					want = []int{http.StatusForbidden}
				}
			case c.name == "admin":
				if class == adminOn {
					want = []int{http.StatusOK, http.StatusBadRequest, http.StatusNotFound}
				} else {
					want = []int{http.StatusForbidden}
				}
			case c.name == "revoked key" || c.name == "expired key" || c.name == "unknown key":
				if class == adminOn {
					want = []int{http.StatusForbidden} // refused on kind before any look-up
				} else {
					want = []int{http.StatusUnauthorized}
				}
			case c.name == "unknown admin":
				if class == ingest {
					want = []int{http.StatusForbidden}
				} else {
					want = []int{http.StatusUnauthorized}
				}
			default:
				want = []int{http.StatusUnauthorized}
			}
			ok := false
			for _, w := range want {
				ok = ok || r.Status == w
			}
			if !ok {
				t.Errorf("%s with %s: status %d, want one of %v; body %s", pattern, c.name, r.Status, want, r.Raw)
			}
			if r.Status >= 400 && r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s with %s: error content type %q", pattern, c.name, r.Header.Get("Content-Type"))
			}
		}
	}
	// Nothing any of that did may have created a customer.
	if n := e.count("customers"); n != 0 {
		t.Fatalf("%d customers after the matrix, want 0", n)
	}
}

func jsonID(v any) string {
	f, _ := v.(float64)
	return strconv.FormatInt(int64(f), 10)
}

func TestKeyRotationKeepsOldKeyForGrace(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slug, old := e.project("App")
	rot := e.do("POST", "/v1/projects/"+slug+"/keys/rotate?grace=1h", e.admin, nil).must(t, http.StatusCreated)
	newKey := rot.Body["key"].(string)
	e.identify(old, map[string]any{"email": "a@x.io"})
	e.identify(newKey, map[string]any{"email": "b@x.io"})
	keys := e.do("GET", "/v1/projects/"+slug+"/keys", e.admin, nil).must(t, http.StatusOK)
	list := keys.Body["keys"].([]any)
	if len(list) != 2 {
		t.Fatalf("keys %v", list)
	}
	if list[0].(map[string]any)["expires_at"] != nil || list[1].(map[string]any)["expires_at"] == nil {
		t.Fatalf("want the new key open-ended and the old one expiring: %v", list)
	}
	for _, k := range list {
		if _, leaked := k.(map[string]any)["key"]; leaked {
			t.Fatalf("key listing leaks a secret: %v", k)
		}
	}
	e.do("POST", "/v1/projects/"+slug+"/keys/rotate?grace=8d", e.admin, nil).must(t, http.StatusBadRequest)
}

func TestRateLimitAnswers429WithRetryAfter(t *testing.T) {
	t.Parallel()
	e := setup(t, withRateLimit(1)) // 1/s, bursts of 2
	_, key := e.project("App")
	var limited response
	for i := range 5 {
		r := e.do("POST", "/v1/identify", key, map[string]any{"email": "a@x.io"})
		if r.Status == http.StatusTooManyRequests {
			limited = r
			break
		}
		if r.Status != http.StatusOK || i >= 2 {
			t.Fatalf("call %d: status %d", i, r.Status)
		}
	}
	if limited.Status != http.StatusTooManyRequests || limited.Header.Get("Retry-After") == "" {
		t.Fatalf("want a 429 with Retry-After, got %d %v", limited.Status, limited.Header)
	}
}

func TestCORSOnIngestOnly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.do("OPTIONS", "/v1/identify", "", nil).must(t, http.StatusNoContent)
	if r.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		r.Header.Get("Access-Control-Expose-Headers") != "Retry-After" {
		t.Fatalf("preflight headers %v", r.Header)
	}
	if h := e.do("GET", "/v1/projects", e.admin, nil).Header.Get("Access-Control-Allow-Origin"); h != "" {
		t.Fatalf("admin API must not allow cross-origin calls, got %q", h)
	}
}

// TestBearerSchemeIsCaseInsensitive: RFC 9110 makes the scheme
// case-insensitive, and some HTTP clients send "bearer".
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, key := e.project("App")
	for _, scheme := range []string{"bearer", "BEARER", "Bearer"} {
		req, err := http.NewRequest("POST", e.url+"/v1/identify", strings.NewReader(`{"email":"a@x.io"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", scheme+" "+key)
		res, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("scheme %q: status %d", scheme, res.StatusCode)
		}
	}
}

// TestEveryRouteRefusesUnknownQueryParameters walks the route table: a
// query parameter a route does not take is a 400 naming it, on every
// route but the health probes and Segment's (whose requests TinyCRM does
// not shape), so a typo never silently changes the outcome.
func TestEveryRouteRefusesUnknownQueryParameters(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slug, key := e.project("App")
	for _, pattern := range server.RoutePatterns() {
		method, path, _ := strings.Cut(pattern, " ")
		if strings.HasPrefix(path, "/segment/") || path == "/healthz" || path == "/readyz" {
			continue
		}
		path = strings.NewReplacer("{slug}", slug, "{id}", "1", "{idOrEmail}", "a@x.io").Replace(path)
		token := e.admin
		if !strings.HasPrefix(path, "/v1/projects") && !strings.HasPrefix(path, "/v1/customers") && !strings.HasPrefix(path, "/v1/export") &&
			!strings.HasPrefix(path, "/v1/stats") && !strings.HasPrefix(path, "/v1/insights") {
			token = key
		}
		r := e.do(method, path+"?grce=0s", token, nil)
		if r.Status != http.StatusBadRequest || r.Body["field"] != "grce" {
			t.Errorf("%s?grce=0s: %d %s, want a 400 naming grce", pattern, r.Status, r.Raw)
		}
		// A pair the query parser would drop must not read as absent:
		// ?project=a; is not "no project".
		for _, bad := range []string{"?x=1;", "?x=%zz", "?x=1%"} {
			r := e.do(method, path+bad, token, nil)
			if r.Status != http.StatusBadRequest || r.Body["field"] != "query" {
				t.Errorf("%s%s: %d %s, want a 400 naming the query", pattern, bad, r.Status, r.Raw)
			}
		}
	}
	if n := len(e.do("GET", "/v1/projects/"+slug+"/keys", e.admin, nil).Body["keys"].([]any)); n != 1 {
		t.Fatalf("%d keys after refused calls, want 1", n)
	}
}

// TestWrongMethodIs405WithAllow: a path the API serves, asked with a
// method it does not take, is a 405 naming the methods it does; a path it
// does not serve is a 404.
func TestWrongMethodIs405WithAllow(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slug, key := e.project("App")
	for _, tc := range []struct {
		method, path, token, allow string
	}{
		{"GET", "/v1/identify", key, "OPTIONS, POST"},
		{"PUT", "/v1/projects", e.admin, "GET, POST"},
		{"POST", "/v1/projects/" + slug, e.admin, "DELETE, GET, PATCH"},
		{"DELETE", "/v1/stats", e.admin, "GET"},
	} {
		r := e.do(tc.method, tc.path, tc.token, nil)
		if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != tc.allow ||
			r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: %d, Allow %q, %s; want 405, Allow %q", tc.method, tc.path, r.Status,
				r.Header.Get("Allow"), r.Header.Get("Content-Type"), tc.allow)
		}
	}
	if r := e.do("GET", "/v1/nothing", e.admin, nil); r.Status != http.StatusNotFound || r.Header.Get("Allow") != "" {
		t.Errorf("GET /v1/nothing: %d, Allow %q; want 404", r.Status, r.Header.Get("Allow"))
	}
}
