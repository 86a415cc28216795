package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestInsights(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed()
	nc := runOpts{env: []string{"NO_COLOR=1"}}

	// SPEC §10: Alice is an upsell lead (free on B, paid on A); so is Bob
	// (free on C, paid on A).
	r := e.run("insights", "upsell").ok(t)
	if got := emails(r.stdout); !slices.Equal(got, []string{"bob@example.com", "alice@example.com"}) {
		t.Errorf("upsell: %v", got)
	}
	golden(t, "insights_upsell_tty", e.tty(nc, "insights", "upsell").ok(t).stdout)
	r = e.run("insights", "upsell", "--json").ok(t)
	var cs []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &cs); err != nil || len(cs) != 2 || cs[1]["email"] != "alice@example.com" || cs[1]["projects"] == nil {
		t.Errorf("upsell --json: %v %v", cs, err)
	}

	// Bob is quiet on C for 40 days but active on A; Dave churned on A and
	// is trialing on B.
	r = e.run("insights", "churn-risk").ok(t)
	if got := emails(r.stdout); !slices.Equal(got, []string{"bob@example.com", "dave@example.com"}) {
		t.Errorf("churn-risk: %v", got)
	}
	golden(t, "insights_churn_tty", e.tty(nc, "insights", "churn-risk").ok(t).stdout)
	r = e.run("insights", "churn-risk", "--idle", "60d").ok(t)
	if got := emails(r.stdout); !slices.Equal(got, []string{"dave@example.com"}) {
		t.Errorf("churn-risk --idle 60d: %v", got)
	}
	r = e.run("insights", "churn-risk", "--active", "1d").ok(t)
	if got := emails(r.stdout); len(got) != 0 {
		t.Errorf("churn-risk --active 1d: %v", got)
	}
	r = e.run("insights", "churn-risk", "--json").ok(t)
	if err := json.Unmarshal([]byte(r.stdout), &cs); err != nil || len(cs) != 2 {
		t.Errorf("churn-risk --json: %v", err)
	}
	if _, ok := cs[0]["at_risk"]; ok {
		t.Errorf("churn-risk --json is not the customers shape: %v", cs[0])
	}

	golden(t, "insights_overlap_tty", e.tty(nc, "insights", "overlap").ok(t).stdout)
	golden(t, "insights_overlap_piped", e.run("insights", "overlap").ok(t).stdout)
	r = e.run("insights", "overlap", "--json").ok(t)
	var ov struct {
		Projects     []map[string]any `json:"projects"`
		Pairs        []map[string]any `json:"pairs"`
		Distribution []map[string]any `json:"distribution"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ov); err != nil || len(ov.Projects) != 3 || len(ov.Pairs) != 3 || len(ov.Distribution) != 3 {
		t.Errorf("overlap --json: %+v %v", ov, err)
	}

	golden(t, "insights_revenue_tty", e.tty(nc, "insights", "revenue").ok(t).stdout)
	golden(t, "insights_revenue_piped", e.run("insights", "revenue").ok(t).stdout)
	r = e.run("insights", "revenue", "--json").ok(t)
	var rev map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &rev); err != nil || rev["total_mrr"] != 57.5 {
		t.Errorf("revenue --json: %v %v", rev, err)
	}
	if !strings.Contains(r.stdout, `"top_decile_share"`) {
		t.Errorf("revenue --json:\n%s", r.stdout)
	}
}
