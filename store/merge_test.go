package store

import (
	"encoding/json"
	"testing"
	"time"
)

func TestJSONEqualComparesLikeJSONB(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{`1`, `1.0`, true},
		{`1`, `1e0`, true},
		{`1`, `2`, false},
		{`"1"`, `1`, false},
		{`{"a": 1, "b": [1, 2]}`, `{"b":[1,2],"a":1}`, true},
		{`{"a":1}`, `{"a":1,"b":2}`, false},
		{`[1,2]`, `[2,1]`, false},
		{`true`, `"true"`, false},
		{`null`, `null`, true},
	} {
		if got := jsonEqual(json.RawMessage(tc.a), json.RawMessage(tc.b)); got != tc.want {
			t.Errorf("jsonEqual(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	if !jsonEqual(nil, nil) || jsonEqual(nil, json.RawMessage(`1`)) {
		t.Error("a missing value equals only a missing value")
	}
}

func TestApplyIdentifyStaleCallOnlyWidensTimes(t *testing.T) {
	t.Parallel()
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)
	c := &customerState{id: 1, firstSeen: t2, lastSeen: t2}
	m := &memberState{exists: true, status: "paid", params: map[string]json.RawMessage{"plan": json.RawMessage(`"pro"`)},
		firstSeen: t2, lastSeen: t2, stateAt: t2}
	events, err := applyIdentify(Write{At: t1, Status: "free", Name: "Old"}, c, m,
		map[string]json.RawMessage{"plan": json.RawMessage(`"free"`)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 0 || m.status != "paid" || string(m.params["plan"]) != `"pro"` || c.name != "" {
		t.Fatalf("stale call changed state: events=%v status=%s params=%s name=%q", events, m.status, m.params, c.name)
	}
	if !m.firstSeen.Equal(t1) || !c.firstSeen.Equal(t1) || !m.stateAt.Equal(t2) {
		t.Fatalf("first_seen not widened or state_at moved: %v %v %v", m.firstSeen, c.firstSeen, m.stateAt)
	}
}
