package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"time"
)

// This file is SPEC §2's merge, applied in memory to the rows a batch has
// locked. It does no I/O, so every rule is a plain function of its inputs.

// memberState is one membership as the merge sees it.
type memberState struct {
	exists    bool // the row is in the database
	status    string
	params    map[string]json.RawMessage
	firstSeen time.Time
	lastSeen  time.Time
	stateAt   time.Time
	dirty     bool // must be written back
}

// customerState is the part of a customer the merge may change.
type customerState struct {
	id        int64 // 0 until a new customer is inserted
	isNew     bool  // not in the database yet
	name      string
	nameAt    *time.Time
	firstSeen time.Time // as stored, then as it must be stored
	lastSeen  time.Time
	moved     bool // first_seen or last_seen changed
	dirty     bool // name or name_at changed
	recount   bool // project_count / mrr_total must be recomputed
}

// see widens the customer's first_seen/last_seen to include t; a new
// customer's first call sets both.
func (c *customerState) see(t time.Time) {
	if c.firstSeen.IsZero() {
		c.firstSeen, c.lastSeen, c.moved = t, t, true
		return
	}
	if t.Before(c.firstSeen) {
		c.firstSeen, c.moved = t, true
	}
	if t.After(c.lastSeen) {
		c.lastSeen, c.moved = t, true
	}
}

// event is a timeline row to insert; its customer's id is read when it is
// written, since a new customer gets one only then.
type event struct {
	customer               *customerState
	workspaceID, projectID int64
	at                     time.Time
	kind                   string
	before, after          []byte // JSON; nil = SQL NULL
}

// applyIdentify merges one identify into the customer and membership
// states and appends the timeline events it causes.
func applyIdentify(w Write, c *customerState, m *memberState, newParams map[string]json.RawMessage, events []event) ([]event, error) {
	var encErr error
	enc := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil && encErr == nil {
			encErr = fmt.Errorf("encode event: %w", err)
		}
		return b
	}
	ev := func(kind string, before, after []byte) {
		events = append(events, event{workspaceID: w.WorkspaceID, customer: c, projectID: w.ProjectID,
			at: w.At, kind: kind, before: before, after: after})
	}
	c.see(w.At)
	fresh := true
	if !m.exists && !m.dirty {
		// A new membership: this call is its first state.
		m.status = w.Status
		m.params = map[string]json.RawMessage{}
		mergeParams(m.params, newParams)
		m.firstSeen, m.lastSeen, m.stateAt = w.At, w.At, w.At
		m.dirty = true
		c.recount = true
		ev("joined", nil, enc(map[string]any{"status": m.status, "params": m.params}))
	} else {
		m.dirty = true
		if w.At.Before(m.firstSeen) {
			m.firstSeen = w.At
		}
		if w.At.After(m.lastSeen) {
			m.lastSeen = w.At
		}
		fresh = !w.At.Before(m.stateAt)
		if fresh {
			m.stateAt = w.At
			if w.Status != "" && w.Status != m.status {
				ev("status", enc(m.status), enc(w.Status))
				m.status = w.Status
			}
			if newParams != nil {
				before := maps.Clone(m.params)
				mergeParams(m.params, newParams)
				if b, a, changed := paramsDiff(before, m.params); changed {
					ev("params", enc(b), enc(a))
					if !jsonEqual(before["mrr"], m.params["mrr"]) {
						c.recount = true
					}
				}
			}
		}
	}
	if fresh && w.Name != "" && (c.nameAt == nil || !w.At.Before(*c.nameAt)) {
		if w.Name != c.name {
			var before []byte
			if c.name != "" {
				before = enc(c.name)
			}
			ev("name", before, enc(w.Name))
			c.name = w.Name
		}
		at := w.At
		c.nameAt = &at
		c.dirty = true
	}
	return events, encErr
}

// Limits of one membership's stored params. SPEC §3 bounds what one call
// sends; these keep calls that each add new keys from growing a membership
// without end. The byte count is of keys and values as stored, so it
// leaves room for the whitespace PostgreSQL puts into nested values.
const (
	MaxStoredParamsKeys  = 100
	MaxStoredParamsBytes = 64 << 10
)

// ParamsLimitError is the Result.Err of a write that was not applied
// because its params, merged into the stored ones, would pass the limits.
type ParamsLimitError struct {
	Keys, Bytes int // of the merged params
}

func (e *ParamsLimitError) Error() string {
	return fmt.Sprintf("merged into the params already stored, params would have %d top-level keys and %d bytes; "+
		"a membership holds at most %d keys and %d bytes: delete keys it no longer needs by sending them as null",
		e.Keys, e.Bytes, MaxStoredParamsKeys, MaxStoredParamsBytes)
}

// paramsOverflow is a *ParamsLimitError when merging params into m would
// pass the limits, and nil when it would not or when the write would not
// merge them at all (a call older than the membership's state).
func paramsOverflow(w Write, m *memberState, params map[string]json.RawMessage) error {
	if params == nil || (m.exists || m.dirty) && w.At.Before(m.stateAt) {
		return nil
	}
	keys, size := 0, len("{}")
	for k, v := range m.params {
		if _, replaced := params[k]; !replaced {
			keys++
			size += len(k) + len(v) + len(`"":,`)
		}
	}
	for k, v := range params {
		if !isNull(v) {
			keys++
			size += len(k) + len(v) + len(`"":,`)
		}
	}
	if keys > MaxStoredParamsKeys || size > MaxStoredParamsBytes {
		return &ParamsLimitError{Keys: keys, Bytes: size}
	}
	return nil
}

// mergeParams merges src into dst shallowly; a JSON null deletes the key.
func mergeParams(dst, src map[string]json.RawMessage) {
	for k, v := range src {
		if isNull(v) {
			delete(dst, k)
		} else {
			dst[k] = v
		}
	}
}

// paramsDiff returns the changed keys' old and new values.
func paramsDiff(before, after map[string]json.RawMessage) (b, a map[string]json.RawMessage, changed bool) {
	ob, oa := map[string]json.RawMessage{}, map[string]json.RawMessage{}
	keys := slices.Collect(maps.Keys(before))
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		vb, inB := before[k]
		va, inA := after[k]
		if inB && inA && jsonEqual(vb, va) {
			continue
		}
		if inB {
			ob[k] = vb
		}
		if inA {
			oa[k] = va
		}
		changed = true
	}
	return ob, oa, changed
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// jsonEqual compares two JSON values as PostgreSQL's jsonb does: whitespace
// and key order do not matter and numbers compare by value (1.0 = 1). A
// missing value (nil) equals only another missing value.
func jsonEqual(a, b json.RawMessage) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if bytes.Equal(a, b) {
		return true
	}
	va, ea := decodeJSON(a)
	vb, eb := decodeJSON(b)
	if ea != nil || eb != nil {
		return false
	}
	return valuesEqual(va, vb)
}

func decodeJSON(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func valuesEqual(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		fx, okx := new(big.Float).SetString(string(x))
		fy, oky := new(big.Float).SetString(string(y))
		return okx && oky && fx.Cmp(fy) == 0
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !valuesEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valuesEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

// decodeParams reads a JSON object's top-level keys.
func decodeParams(raw []byte) (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if len(raw) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decode params: %w", err)
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	return m, nil
}
