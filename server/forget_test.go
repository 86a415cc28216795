package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
)

func TestForgetEverywhere(t *testing.T) {
	t.Parallel()
	p := newPortfolio(t)
	alice := p.customer("alice@example.com")
	before := p.count("memberships")
	r := p.do("DELETE", "/v1/customers/Alice@Example.com", p.admin, nil).must(t, http.StatusOK)
	if string(r.Raw) != "{\"deleted\":true,\"customer_deleted\":true,\"suppressed\":false}\n" {
		t.Fatalf("reply %s", r.Raw)
	}
	p.do("GET", "/v1/customers/alice@example.com", p.admin, nil).must(t, http.StatusNotFound)
	if n := p.count("memberships"); n != before-3 {
		t.Fatalf("%d memberships, want %d", n, before-3)
	}
	var events int
	if err := p.pool.QueryRow(context.Background(), "SELECT count(*) FROM events WHERE customer_id = $1", alice.ID).Scan(&events); err != nil || events != 0 {
		t.Fatalf("%d events left (%v)", events, err)
	}
	p.do("DELETE", "/v1/customers/alice@example.com", p.admin, nil).must(t, http.StatusNotFound)
	// Without suppress the person may come back.
	p.identify(p.keys["app-a"], map[string]any{"email": "alice@example.com"})
	if c := p.customer("alice@example.com"); c.ID == alice.ID || c.ProjectCount != 1 || c.Name != "" {
		t.Fatalf("came back as %+v", c)
	}
	// By id.
	bob := p.customer("bob@example.com")
	p.do("DELETE", fmt.Sprintf("/v1/customers/%d", bob.ID), p.admin, nil).must(t, http.StatusOK)
	p.do("GET", "/v1/customers/bob@example.com", p.admin, nil).must(t, http.StatusNotFound)
	p.do("DELETE", "/v1/customers/999999", p.admin, nil).must(t, http.StatusNotFound)
	if got := people(p.list("/v1/customers", qs("sort", "email")).Customers); fmt.Sprint(got) != "[alice carol dave erin frank gina]" {
		t.Fatalf("left %v", got)
	}
}

func TestForgetOneProject(t *testing.T) {
	t.Parallel()
	p := newPortfolio(t)
	bob := p.customer("bob@example.com")
	// A project scope the query parser cannot read is refused, not read
	// as no scope (which would erase Bob everywhere).
	for _, q := range []string{"?project=app-b;", "?project=app-b%", "?project=app%zzb"} {
		r := p.do("DELETE", "/v1/customers/bob@example.com"+q, p.admin, nil).must(t, http.StatusBadRequest)
		if r.Body["field"] != "query" {
			t.Fatalf("%s: %s", q, r.Raw)
		}
	}
	if c := p.customer("bob@example.com"); c.ProjectCount != bob.ProjectCount || len(c.Projects) != len(bob.Projects) {
		t.Fatalf("after refused deletes: %+v", c)
	}
	r := p.do("DELETE", "/v1/customers/bob@example.com?project=app-b", p.admin, nil).must(t, http.StatusOK)
	if string(r.Raw) != "{\"deleted\":true,\"customer_deleted\":false,\"suppressed\":false}\n" {
		t.Fatalf("reply %s", r.Raw)
	}
	c := p.customer("bob@example.com")
	// Totals now come from app-a alone: no MRR, seen 40 days ago.
	if c.ProjectCount != 1 || c.MRRTotal != 0 || len(c.Projects) != 1 || c.Projects[0].Slug != "app-a" ||
		c.LastSeen != c.Projects[0].LastSeen || c.FirstSeen != bob.FirstSeen || c.Name != "Bob Stone" {
		t.Fatalf("after unlinking app-b: %+v", c)
	}
	for _, e := range c.Timeline {
		if e.Project == "app-b" {
			t.Fatalf("app-b event survived: %+v", e)
		}
	}
	if len(c.Timeline) == 0 {
		t.Fatal("app-a events went too")
	}
	// Listings follow.
	if got := people(p.list("/v1/customers", qs("project", "app-b")).Customers); fmt.Sprint(got) != "[alice carol gina frank]" {
		t.Fatalf("app-b members %v", got)
	}
	if got := people(p.list("/v1/insights/upsell", qs()).Customers); fmt.Sprint(got) != "[alice]" {
		t.Fatalf("upsell %v", got)
	}
	p.do("DELETE", "/v1/customers/bob@example.com?project=app-b", p.admin, nil).must(t, http.StatusNotFound)
	p.do("DELETE", "/v1/customers/bob@example.com?project=app-c", p.admin, nil).must(t, http.StatusNotFound)
	r = p.do("DELETE", "/v1/customers/bob@example.com?project=app-x", p.admin, nil).must(t, http.StatusBadRequest)
	if r.Body["field"] != "project" {
		t.Fatalf("problem %s", r.Raw)
	}
	// The last membership takes the customer with it.
	r = p.do("DELETE", fmt.Sprintf("/v1/customers/%d?project=app-a", bob.ID), p.admin, nil).must(t, http.StatusOK)
	if string(r.Raw) != "{\"deleted\":true,\"customer_deleted\":true,\"suppressed\":false}\n" {
		t.Fatalf("reply %s", r.Raw)
	}
	p.do("GET", "/v1/customers/bob@example.com", p.admin, nil).must(t, http.StatusNotFound)
	if r := p.do("GET", "/v1/stats", p.admin, nil); string(r.Raw) != "{\"customers\":6,\"projects\":4,\"multi_project\":4}\n" {
		t.Fatalf("stats %s", r.Raw)
	}
}

func TestForgetWithSuppress(t *testing.T) {
	t.Parallel()
	p := newPortfolio(t)
	r := p.do("DELETE", "/v1/customers/erin@example.com?suppress=true", p.admin, nil).must(t, http.StatusOK)
	if string(r.Raw) != "{\"deleted\":true,\"customer_deleted\":true,\"suppressed\":true}\n" {
		t.Fatalf("reply %s", r.Raw)
	}
	// Later identifies, in any project and spelling, are dropped.
	for _, slug := range []string{"app-a", "app-d"} {
		r := p.do("POST", "/v1/identify", p.keys[slug], map[string]any{"email": " Erin@EXAMPLE.com", "name": "Erin", "status": "paid"}).must(t, http.StatusOK)
		if string(r.Raw) != "{\"ok\":true,\"duplicate\":false,\"suppressed\":true}\n" {
			t.Fatalf("identify after suppress: %s", r.Raw)
		}
	}
	p.do("GET", "/v1/customers/erin@example.com", p.admin, nil).must(t, http.StatusNotFound)
	var n int
	if err := p.pool.QueryRow(context.Background(), "SELECT count(*) FROM customers WHERE email LIKE 'erin%'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d erin rows (%v)", n, err)
	}
	// Only a keyed hash is kept, never the address.
	var hash []byte
	if err := p.pool.QueryRow(context.Background(), "SELECT email_hash FROM suppressions").Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if len(hash) != 32 || bytes.Contains(hash, []byte("erin")) {
		t.Fatalf("stored %x", hash)
	}
	var plain bool
	if err := p.pool.QueryRow(context.Background(), "SELECT sha256('erin@example.com'::bytea) = $1", hash).Scan(&plain); err != nil || plain {
		t.Fatalf("hash is the unkeyed sha256 of the email (%v)", err)
	}
	// Suppressing again is fine, and so is suppressing someone never seen.
	r = p.do("DELETE", "/v1/customers/erin@example.com?suppress=true", p.admin, nil).must(t, http.StatusOK)
	if string(r.Raw) != "{\"deleted\":false,\"customer_deleted\":false,\"suppressed\":true}\n" {
		t.Fatalf("reply %s", r.Raw)
	}
	p.do("DELETE", "/v1/customers/new@example.com?suppress=1", p.admin, nil).must(t, http.StatusOK)
	r = p.do("POST", "/v1/identify", p.keys["app-a"], map[string]any{"email": "new@example.com"}).must(t, http.StatusOK)
	if r.Body["suppressed"] != true {
		t.Fatalf("identify of a pre-suppressed email: %s", r.Raw)
	}
	if n := p.count("suppressions"); n != 2 {
		t.Fatalf("%d suppressions, want 2", n)
	}
	// An id names nobody to suppress when there is no such customer.
	p.do("DELETE", "/v1/customers/424242?suppress=true", p.admin, nil).must(t, http.StatusNotFound)
	// Others are untouched.
	if c := p.customer("alice@example.com"); c.ProjectCount != 3 {
		t.Fatalf("alice %+v", c)
	}
}

func TestForgetRejectsBadRequests(t *testing.T) {
	t.Parallel()
	p := newPortfolio(t)
	t.Run("bad", func(t *testing.T) {
		for _, tc := range []struct{ path, field string }{
			{"/v1/customers/bob@example.com?project=app-a&suppress=true", "suppress"},
			{"/v1/customers/bob@example.com?suppress=yes", "suppress"},
			{"/v1/customers/bob@example.com?project=App%20A", "project"},
			{"/v1/customers/bob@example.com?project=app-a&project=app-b", "project"},
			{"/v1/customers/bob@example.com?force=true", "force"},
			{"/v1/customers/not%20an%20email@", "email"},
		} {
			t.Run(tc.path, func(t *testing.T) {
				t.Parallel()
				p := p.in(t)
				r := p.do("DELETE", tc.path, p.admin, nil).must(t, http.StatusBadRequest)
				if r.Body["field"] != tc.field {
					t.Fatalf("problem %s does not name %q", r.Raw, tc.field)
				}
			})
		}
	})
	// The group above has finished: nothing may have been erased.
	if c := p.customer("bob@example.com"); c.ProjectCount != 2 || p.count("suppressions") != 0 {
		t.Fatalf("bob %+v", c)
	}
}
