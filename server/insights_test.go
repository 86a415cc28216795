package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// riskJSON is a churn-risk customer: a customer plus its at-risk projects.
type riskJSON struct {
	customerJSON
	AtRisk []struct {
		Slug   string `json:"slug"`
		Reason string `json:"reason"`
	} `json:"at_risk"`
}

func TestListInsights(t *testing.T) {
	t.Parallel()
	p := newPortfolio(t)
	for _, tc := range []struct {
		name string
		path string
		want []string
	}{
		// Carol (trialing twice) and Frank (free twice) are not upsell
		// leads: nobody pays; Erin pays but is churned, not free.
		{"upsell", "/v1/insights/upsell", []string{"bob", "alice"}},
		{"upsell sorted by email", "/v1/insights/upsell?sort=email", []string{"alice", "bob"}},
		{"upsell paged", "/v1/insights/upsell?limit=1", []string{"bob", "alice"}},
		// Frank is idle everywhere and Dave in his only project: no risk.
		{"churn-risk defaults (30d idle, 14d active)", "/v1/insights/churn-risk", []string{"bob", "erin"}},
		{"churn-risk overlapping windows", "/v1/insights/churn-risk?idle=4d&active=7d", []string{"bob", "erin", "carol"}},
		{"churn-risk nobody active enough", "/v1/insights/churn-risk?active=1h", []string{}},
		{"churn-risk paged", "/v1/insights/churn-risk?limit=1&sort=-email", []string{"erin", "bob"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := p.in(t)
			path, query, _ := cut(tc.path)
			if got := p.walk(path, query, nil); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("churn-risk names the projects at risk", func(t *testing.T) {
		t.Parallel()
		p := p.in(t)
		r := p.do("GET", "/v1/insights/churn-risk?idle=4d&active=7d", p.admin, nil).must(t, http.StatusOK)
		var page struct {
			Customers []riskJSON `json:"customers"`
		}
		if err := json.Unmarshal(r.Raw, &page); err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, c := range page.Customers {
			for _, a := range c.AtRisk {
				got[c.Email] = append(got[c.Email], a.Slug+":"+a.Reason)
			}
			if len(c.Projects) != c.ProjectCount || c.Projects[0].Color == "" {
				t.Fatalf("at-risk customer lacks the customer shape: %+v", c)
			}
		}
		want := map[string][]string{
			"bob@example.com":   {"app-a:idle"},
			"erin@example.com":  {"app-a:churned"},
			"carol@example.com": {"app-b:idle", "app-c:idle"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("at_risk %v, want %v", got, want)
		}
	})
	for _, tc := range []struct {
		path, field string
	}{
		{"/v1/insights/churn-risk?idle=soon", "idle"},
		{"/v1/insights/churn-risk?active=0d", "active"},
		{"/v1/insights/churn-risk?idle=1d&idle=2d", "idle"},
		{"/v1/insights/upsell?limit=0", "limit"},
		{"/v1/insights/upsell?cursor=xyz", "cursor"},
		{"/v1/insights/upsell?sort=age", "sort"},
		{"/v1/insights/upsell?project=app-a", "project"},
		{"/v1/insights/overlap?x=1", "x"},
		{"/v1/insights/revenue?limit=5", "limit"},
		{"/v1/stats?q=a", "q"},
	} {
		t.Run("bad "+tc.path, func(t *testing.T) {
			t.Parallel()
			p := p.in(t)
			r := p.do("GET", tc.path, p.admin, nil).must(t, http.StatusBadRequest)
			if r.Body["field"] != tc.field {
				t.Fatalf("problem %s does not name %q", r.Raw, tc.field)
			}
		})
	}
	t.Run("a cursor belongs to its insight", func(t *testing.T) {
		t.Parallel()
		p := p.in(t)
		up := p.list("/v1/insights/upsell", qs("limit", "1"))
		p.do("GET", "/v1/insights/churn-risk?limit=1&cursor="+*up.NextCursor, p.admin, nil).must(t, http.StatusBadRequest)
		p.do("GET", "/v1/customers?sort=mrr&limit=1&cursor="+*up.NextCursor, p.admin, nil).must(t, http.StatusBadRequest)
		churn := p.list("/v1/insights/churn-risk", qs("limit", "1"))
		p.do("GET", "/v1/insights/churn-risk?idle=20d&limit=1&cursor="+*churn.NextCursor, p.admin, nil).must(t, http.StatusBadRequest)
		p.do("GET", "/v1/insights/churn-risk?limit=1&cursor="+*churn.NextCursor, p.admin, nil).must(t, http.StatusOK)
	})
}

func TestOverlapRevenueAndStats(t *testing.T) {
	t.Parallel()
	p := newPortfolio(t)

	r := p.do("GET", "/v1/insights/overlap", p.admin, nil).must(t, http.StatusOK)
	var overlap struct {
		Projects []struct {
			Slug, Name, Color string
			Customers         int
		} `json:"projects"`
		Pairs []struct {
			A, B   string
			Shared int
		} `json:"pairs"`
		Distribution []struct {
			Projects  int `json:"projects"`
			Customers int `json:"customers"`
		} `json:"distribution"`
	}
	if err := json.Unmarshal(r.Raw, &overlap); err != nil {
		t.Fatal(err)
	}
	var counts []int
	for _, pr := range overlap.Projects {
		counts = append(counts, pr.Customers)
		if pr.Name == "" || pr.Color == "" {
			t.Fatalf("project %+v", pr)
		}
	}
	if !slices.Equal(counts, []int{4, 5, 4, 0}) || overlap.Projects[3].Slug != "app-d" {
		t.Fatalf("projects %+v", overlap.Projects)
	}
	var pairs []string
	for _, pr := range overlap.Pairs {
		pairs = append(pairs, pr.A+"+"+pr.B+"="+string(rune('0'+pr.Shared)))
	}
	if want := []string{"app-a+app-b=2", "app-a+app-c=2", "app-a+app-d=0", "app-b+app-c=3", "app-b+app-d=0", "app-c+app-d=0"}; !slices.Equal(pairs, want) {
		t.Fatalf("pairs %v, want %v", pairs, want)
	}
	if got := overlap.Distribution; len(got) != 3 || got[0].Customers != 2 || got[1].Customers != 4 || got[2].Customers != 1 || got[2].Projects != 3 {
		t.Fatalf("distribution %+v", got)
	}

	r = p.do("GET", "/v1/insights/revenue", p.admin, nil).must(t, http.StatusOK)
	var rev struct {
		TotalMRR        float64 `json:"total_mrr"`
		PayingCustomers int     `json:"paying_customers"`
		ByProject       []struct {
			Slug, Name, Color string
			MRR               float64 `json:"mrr"`
			PayingCustomers   int     `json:"paying_customers"`
		} `json:"by_project"`
		TopCustomers   []customerJSON `json:"top_customers"`
		TopDecileShare float64        `json:"top_decile_share"`
	}
	if err := json.Unmarshal(r.Raw, &rev); err != nil {
		t.Fatal(err)
	}
	if rev.TotalMRR != 106.5 || rev.PayingCustomers != 4 || rev.TopDecileShare != 0.4601 {
		t.Fatalf("revenue %s", r.Raw)
	}
	var by []string
	for _, pr := range rev.ByProject {
		by = append(by, pr.Slug)
	}
	if !slices.Equal(by, []string{"app-a", "app-b", "app-c", "app-d"}) || rev.ByProject[0].MRR != 58 || rev.ByProject[0].PayingCustomers != 2 ||
		rev.ByProject[2].MRR != 19.5 || rev.ByProject[3].MRR != 0 || rev.ByProject[3].PayingCustomers != 0 {
		t.Fatalf("by_project %+v", rev.ByProject)
	}
	if got := people(rev.TopCustomers); !slices.Equal(got, []string{"dave", "bob", "erin", "alice"}) {
		t.Fatalf("top customers %v", got)
	}

	r = p.do("GET", "/v1/stats", p.admin, nil).must(t, http.StatusOK)
	if string(r.Raw) != "{\"customers\":7,\"projects\":4,\"multi_project\":5}\n" {
		t.Fatalf("stats %s", r.Raw)
	}
}

func TestInsightsOfAnEmptyWorkspace(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for path, want := range map[string]string{
		"/v1/stats":               `{"customers":0,"projects":0,"multi_project":0}`,
		"/v1/insights/overlap":    `{"projects":[],"pairs":[],"distribution":[]}`,
		"/v1/insights/revenue":    `{"total_mrr":0,"paying_customers":0,"by_project":[],"top_customers":[],"top_decile_share":0}`,
		"/v1/insights/upsell":     `{"customers":[],"next_cursor":null}`,
		"/v1/insights/churn-risk": `{"customers":[],"next_cursor":null}`,
		"/v1/customers":           `{"customers":[],"next_cursor":null}`,
	} {
		r := e.do("GET", path, e.admin, nil).must(t, http.StatusOK)
		if string(r.Raw) != want+"\n" {
			t.Errorf("%s: %s, want %s", path, r.Raw, want)
		}
	}
}

// cut splits "/path?query" into the path and its parsed query.
func cut(pathQuery string) (string, url.Values, error) {
	path, raw, _ := strings.Cut(pathQuery, "?")
	q, err := url.ParseQuery(raw)
	return path, q, err
}
