package server

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/store"
)

// FuzzDecodeIdentify feeds arbitrary bodies through the identify decoding
// and validation. It must never panic; a rejection must be a 400 problem
// naming a field; an accepted body must yield a write the store can take
// (normalized email, bounded params object, a time not after receipt).
func FuzzDecodeIdentify(f *testing.F) {
	for _, seed := range []string{
		`{"email":"alice@example.com","name":"Alice Chen","status":"paid","params":{"plan":"pro","mrr":9}}`,
		`{"email":"Alice@Example.com ","status":"free","params":{"source":"producthunt","referral":"friend42"}}`,
		`{"email":"a@x.io","params":{"a":{"b":{"c":{"d":{"e":1}}}}},"timestamp":"2026-03-29T10:00:00Z","message_id":"m1"}`,
		`{"email":"a@x.io","params":{"k":null,"mrr":-1}}`,
		`{"email":"bücher@bücher.de","name":"\u0000"}`,
		`{"email":"a@x.io","timestamp":"2999-01-01T00:00:00Z"}`,
		`{"email":42}`, `[]`, `{}`, `null`, `{"email":"a@x.io"} x`, `{"emial":"a@x.io"}`,
		`{"email":"a@x.io","params":{"mrr":1e999}}`,
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	owner := store.KeyOwner{WorkspaceID: 1, ProjectID: 2}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req identifyRequest
		err := decodeStrict(body, &req)
		var w store.Write
		if err == nil {
			w, err = writeFor(req, owner, now)
		}
		if err != nil {
			var p *Problem
			if !errors.As(err, &p) || p.Status != 400 || p.Field == "" || p.Detail == "" {
				t.Fatalf("rejection is not a 400 naming a field: %#v", err)
			}
			return
		}
		if w.Email == "" || strings.TrimSpace(w.Email) != w.Email || strings.ToLower(w.Email) != w.Email {
			t.Fatalf("accepted an email that is not normalized: %q", w.Email)
		}
		if w.At.After(now) || w.At.IsZero() {
			t.Fatalf("time %v after receipt %v", w.At, now)
		}
		if w.Params != nil {
			var obj map[string]json.RawMessage
			if len(w.Params) > maxParamsBytes || json.Unmarshal(w.Params, &obj) != nil || len(obj) > maxParamsKeys {
				t.Fatalf("accepted params the store cannot take: %s", w.Params)
			}
		}
		if len(w.Name) > maxNameLen || len(w.MessageID) > maxMessageID || (w.Status != "" && !filter.IsStatus(w.Status)) {
			t.Fatalf("accepted out-of-bounds fields: %+v", w)
		}
	})
}
