package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestCountsFollowOwnWrites checks that GET /v1/stats and GET /v1/projects,
// served from the count cache, show this daemon's project create and delete
// and forget at once, and its ingest within the cache's few seconds.
func TestCountsFollowOwnWrites(t *testing.T) {
	t.Parallel()
	p := newPortfolio(t)

	type stats struct{ Customers, Projects, MultiProject int64 }
	getStats := func() stats {
		t.Helper()
		r := p.do("GET", "/v1/stats", p.admin, nil).must(t, http.StatusOK)
		var st struct {
			Customers    int64 `json:"customers"`
			Projects     int64 `json:"projects"`
			MultiProject int64 `json:"multi_project"`
		}
		if err := json.Unmarshal(r.Raw, &st); err != nil {
			t.Fatal(err)
		}
		return stats(st)
	}
	counts := func() map[string]int {
		t.Helper()
		r := p.do("GET", "/v1/projects", p.admin, nil).must(t, http.StatusOK)
		var l struct {
			Projects []struct {
				Slug      string
				Customers int
			}
		}
		if err := json.Unmarshal(r.Raw, &l); err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, pr := range l.Projects {
			m[pr.Slug] = pr.Customers
		}
		return m
	}
	one := func(slug string) int {
		t.Helper()
		r := p.do("GET", "/v1/projects/"+slug, p.admin, nil).must(t, http.StatusOK)
		var pr struct{ Customers int }
		if err := json.Unmarshal(r.Raw, &pr); err != nil {
			t.Fatal(err)
		}
		return pr.Customers
	}

	if st := getStats(); st != (stats{7, 4, 5}) {
		t.Fatalf("stats = %+v", st)
	}
	if c := counts(); len(c) != 4 || c["app-b"] != 5 || c["app-d"] != 0 {
		t.Fatalf("projects = %v", c)
	}

	p.do("POST", "/v1/projects", p.admin, map[string]any{"name": "App E"}).must(t, http.StatusCreated)
	if st := getStats(); st.Projects != 5 {
		t.Errorf("stats after create = %+v", st)
	}
	if c := counts(); len(c) != 5 {
		t.Errorf("projects after create = %v", c)
	}

	p.do("DELETE", "/v1/customers/gina@example.org", p.admin, nil).must(t, http.StatusOK)
	if st := getStats(); st != (stats{6, 5, 5}) {
		t.Errorf("stats after forget = %+v", st)
	}
	if c := counts(); c["app-b"] != 4 {
		t.Errorf("projects after forget = %v", c)
	}
	if n := one("app-b"); n != 4 {
		t.Errorf("app-b after forget has %d customers", n)
	}

	// Frank is in app-b and app-c: deleting app-c leaves him in one project.
	p.do("DELETE", "/v1/projects/app-c", p.admin, nil).must(t, http.StatusNoContent)
	if st := getStats(); st != (stats{6, 4, 2}) {
		t.Errorf("stats after project delete = %+v", st)
	}
	if c := counts(); len(c) != 4 || c["app-c"] != 0 {
		t.Errorf("projects after delete = %v", c)
	}
	p.do("GET", "/v1/projects/app-c", p.admin, nil).must(t, http.StatusNotFound)

	// Ingest does not invalidate; the new customer shows within the TTL.
	p.identify(p.keys["app-a"], map[string]any{"email": "hank@example.com"})
	deadline := time.Now().Add(10 * time.Second)
	for getStats().Customers != 7 || counts()["app-a"] != 5 {
		if time.Now().After(deadline) {
			t.Fatalf("ingest not shown after 10s: %+v, %v", getStats(), counts())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
