package server

// Segment-compatible ingest (SPEC §8). An app instrumented with a Segment
// library sends here by pointing the library at http://HOST:7070/segment and
// using the project key as its write key (HTTP Basic user name; bearer() in
// auth.go reads it).
//
// Mapping (where SPEC §8 is silent, decided here):
//   - the email is traits.email, else context.traits.email (else, in a
//     batch, the batch's context.traits.email), else the email remembered
//     for the call's userId in this project; a call with none of these
//     (anonymousId only, or a userId never seen with an email) is reported,
//     never guessed;
//   - identify → an identify: traits.name, else traits.firstName +
//     traits.lastName, is the name; traits.status the status; every other
//     trait a param, nested values kept as they are. Trait keys outside
//     [A-Za-z0-9_.-] have each such character replaced by "_" and are cut
//     to 64 bytes (as Segment's warehouses do with column names); two keys
//     that become the same key are reported;
//   - track, page, screen → a ping: activity only, they create nothing;
//   - group, alias and other types are reported as not used;
//   - messageId is the message_id; the time is timestamp as given (Segment
//     takes a manual timestamp as is, for historical imports), else
//     originalTimestamp corrected for the sender's clock skew by sentAt, else
//     receipt time; a future time is clamped like any identify;
//   - a userId seen with an email (from the call itself) is remembered per
//     project (table segment_users, which points at the membership, so
//     forget and project deletion remove it). Within one batch, a pair
//     learnt from an item is visible to every later item.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/store"
)

// Segment's own limits (its HTTP API documentation), which its libraries
// respect when they build requests.
const (
	maxSegmentCall   = 32 << 10  // one call, alone or as a batch item
	maxSegmentBatch  = 500 << 10 // one batch request
	maxSegmentUserID = 256
)

// segmentCall is the part of a Segment message TinyCRM reads. Everything
// else (properties, event, name, integrations, context.library, writeKey…)
// is ignored, as Segment's API ignores what a destination does not use.
type segmentCall struct {
	Type              *string         `json:"type"`
	UserID            json.RawMessage `json:"userId"`
	AnonymousID       json.RawMessage `json:"anonymousId"`
	Traits            json.RawMessage `json:"traits"`
	Context           *segmentContext `json:"context"`
	MessageID         *string         `json:"messageId"`
	Timestamp         *string         `json:"timestamp"`
	OriginalTimestamp *string         `json:"originalTimestamp"`
	SentAt            *string         `json:"sentAt"`
}

type segmentContext struct {
	Traits *struct {
		Email json.RawMessage `json:"email"`
	} `json:"traits"`
}

// segmentMsg is a decoded, not yet resolved call.
type segmentMsg struct {
	kind       string // identify, track, page or screen
	userID     string // "" = none
	anonymous  bool   // an anonymousId was given
	email      string // "" = none in the call
	emailField string // where email came from, for error messages
	traits     map[string]any
	timestamp  *string // RFC 3339, nil = receipt time
	messageID  *string
}

// segmentReply is what Segment's API answers; its libraries look only at the
// status code.
type segmentReply struct {
	Success    bool `json:"success"`
	Duplicate  bool `json:"duplicate,omitempty"`
	Suppressed bool `json:"suppressed,omitempty"`
}

// segmentBatchReply adds /v1/batch's report to Segment's answer.
type segmentBatchReply struct {
	Success bool `json:"success"`
	batchReply
}

func (s *Server) segmentIdentify(w http.ResponseWriter, r *http.Request) error {
	return s.segmentSingle(w, r, "identify")
}

func (s *Server) segmentTrack(w http.ResponseWriter, r *http.Request) error {
	return s.segmentSingle(w, r, "track")
}

func (s *Server) segmentPage(w http.ResponseWriter, r *http.Request) error {
	return s.segmentSingle(w, r, "page")
}

func (s *Server) segmentScreen(w http.ResponseWriter, r *http.Request) error {
	return s.segmentSingle(w, r, "screen")
}

// segmentSingle serves one call of the kind its route names; a type in the
// body is not consulted, as with Segment's single-call endpoints.
func (s *Server) segmentSingle(w http.ResponseWriter, r *http.Request, kind string) error {
	now := s.now()
	ctx := r.Context()
	owner := ownerFrom(ctx)
	body, err := readBody(w, r, maxSegmentCall)
	if err != nil {
		return err
	}
	var call segmentCall
	if err := decodeLenient(body, &call); err != nil {
		s.metrics.writes.WithLabelValues("rejected").Inc()
		return err
	}
	msg, err := parseSegment(call, kind, nil, nil, now)
	if err != nil {
		s.metrics.writes.WithLabelValues("rejected").Inc()
		return err
	}
	people := &segmentPeople{owner: owner}
	if msg.email == "" && msg.userID != "" {
		if people.stored, err = s.store.SegmentEmails(ctx, owner.WorkspaceID, owner.ProjectID, []string{msg.userID}); err != nil {
			return err
		}
	}
	write, err := people.write(msg, now)
	if err != nil {
		s.metrics.writes.WithLabelValues("rejected").Inc()
		return err
	}
	res, err := s.pipeline.submit(ctx, write)
	if err != nil {
		return err
	}
	if !write.Ping {
		s.countOutcome(res.Outcome)
	}
	if res.Outcome == store.Failed {
		return renameField(refusal(res.Err), "", "")
	}
	// The mapping is saved before the answer, so the caller's next call
	// with only this userId resolves.
	if err := s.store.RememberSegmentUsers(ctx, people.learnt); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, segmentReply{Success: true,
		Duplicate: res.Outcome == store.Duplicate, Suppressed: res.Outcome == store.Suppressed})
	return nil
}

// segmentBatch serves Segment's batch (and import) endpoint: every item is
// resolved in order, the valid ones are applied like /v1/batch's, and the
// others are reported by index.
func (s *Server) segmentBatch(w http.ResponseWriter, r *http.Request) error {
	now := s.now()
	ctx := r.Context()
	owner := ownerFrom(ctx)
	body, err := readBody(w, r, maxSegmentBatch)
	if err != nil {
		return err
	}
	var req struct {
		Batch   []json.RawMessage `json:"batch"`
		SentAt  *string           `json:"sentAt"`
		Context *segmentContext   `json:"context"`
	}
	if err := decodeLenient(body, &req); err != nil {
		return err
	}
	if req.Batch == nil {
		return badField("batch", `is required: send {"batch":[{"type":"identify","userId":...,"traits":{"email":...}}, ...]}`)
	}
	if req.SentAt != nil && *req.SentAt != "" {
		if _, err := parseSegmentTime("sentAt", *req.SentAt); err != nil {
			return err
		}
	}
	reply := segmentBatchReply{Success: true, batchReply: batchReply{Rejected: []rejectedItem{}}}
	msgs := make([]segmentMsg, len(req.Batch))
	bad := make([]error, len(req.Batch))
	var lookup []string
	wanted := map[string]bool{}
	for i, raw := range req.Batch {
		msgs[i], bad[i] = parseSegmentItem(raw, req.SentAt, req.Context, now)
		if uid := msgs[i].userID; bad[i] == nil && msgs[i].email == "" && uid != "" && !wanted[uid] {
			wanted[uid] = true
			lookup = append(lookup, uid)
		}
	}
	people := &segmentPeople{owner: owner}
	if people.stored, err = s.store.SegmentEmails(ctx, owner.WorkspaceID, owner.ProjectID, lookup); err != nil {
		return err
	}
	writes := make([]store.Write, 0, len(req.Batch))
	index := make([]int, 0, len(req.Batch))
	for i, msg := range msgs {
		err := bad[i]
		var write store.Write
		if err == nil {
			write, err = people.write(msg, now)
		}
		if err != nil {
			reply.Rejected = append(reply.Rejected, itemRejection("batch", i, err))
			continue
		}
		writes = append(writes, write)
		index = append(index, i)
	}
	s.metrics.writes.WithLabelValues("rejected").Add(float64(len(reply.Rejected)))
	// 500 KB holds several thousand small calls; they are applied in
	// /v1/batch's largest group, in order, so a transaction stays as big as
	// one /v1/batch may make it. A 503 after an earlier group committed is
	// safe to retry: Segment's libraries give every call a messageId.
	results := make([]store.Result, 0, len(writes))
	for chunk := range slices.Chunk(writes, maxBatchItems) {
		res, err := s.store.ApplyWrites(ctx, chunk)
		if err != nil {
			return err
		}
		s.activity.add(chunk, res, s.now())
		results = append(results, res...)
	}
	s.countOutcomes(writes, results)
	s.tally(ctx, &reply.batchReply, results, index)
	if err := s.store.RememberSegmentUsers(ctx, people.learnt); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, reply)
	return nil
}

// parseSegmentItem decodes one batch item.
func parseSegmentItem(raw json.RawMessage, sentAt *string, batchCtx *segmentContext, now time.Time) (segmentMsg, error) {
	if len(raw) > maxSegmentCall {
		// A field, so the reply says "fix it", not "retry it" (docs/api.md).
		return segmentMsg{}, badField("body", "item is %d bytes; the limit is %d per call", len(raw), maxSegmentCall)
	}
	var call segmentCall
	if err := decodeLenient(raw, &call); err != nil {
		var p *Problem
		if errors.As(err, &p) && p.Field == "body" {
			p.Field = ""
			p.Detail = "item: " + p.Detail
		}
		return segmentMsg{}, err
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return segmentMsg{}, problemf(http.StatusBadRequest, "item must be a JSON object")
	}
	if call.Type == nil || *call.Type == "" {
		return segmentMsg{}, badField("type", "is required: identify, track, page or screen")
	}
	switch *call.Type {
	case "identify", "track", "page", "screen":
	default:
		return segmentMsg{}, badField("type", "%q is not used by TinyCRM, which takes identify, track, page and screen", truncate(*call.Type))
	}
	return parseSegment(call, *call.Type, sentAt, batchCtx, now)
}

// parseSegment checks a call's identity fields, traits and time.
func parseSegment(call segmentCall, kind string, batchSentAt *string, batchCtx *segmentContext, now time.Time) (segmentMsg, error) {
	m := segmentMsg{kind: kind, messageID: call.MessageID}
	var err error
	if m.userID, err = segmentID("userId", call.UserID); err != nil {
		return m, err
	}
	anon, err := segmentID("anonymousId", call.AnonymousID)
	if err != nil {
		return m, err
	}
	m.anonymous = anon != ""
	if kind == "identify" && len(call.Traits) > 0 && string(call.Traits) != "null" {
		if err := checkText("traits", call.Traits); err != nil {
			return m, err
		}
		dec := json.NewDecoder(bytes.NewReader(call.Traits))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return m, badField("traits", "invalid JSON: %s", err.Error())
		}
		traits, ok := v.(map[string]any)
		if !ok {
			return m, badField("traits", "must be a JSON object")
		}
		m.traits = traits
		if m.email, err = traitString(traits, "email"); err != nil {
			return m, err
		}
		m.emailField = "traits.email"
	}
	for _, c := range []struct {
		ctx   *segmentContext
		field string
	}{{call.Context, "context.traits.email"}, {batchCtx, "context.traits.email"}} {
		if m.email != "" || c.ctx == nil || c.ctx.Traits == nil {
			continue
		}
		if m.email, err = jsonString(c.field, c.ctx.Traits.Email); err != nil {
			return m, err
		}
		m.emailField = c.field
	}
	m.timestamp, err = segmentTimestamp(call, batchSentAt, now)
	return m, err
}

// segmentTimestamp is the call's time as Segment computes it: timestamp as
// given, else originalTimestamp corrected by the clock skew that sentAt (the
// call's, else the batch's) reveals, else nil for receipt time.
func segmentTimestamp(call segmentCall, batchSentAt *string, now time.Time) (*string, error) {
	if call.Timestamp != nil && *call.Timestamp != "" {
		return call.Timestamp, nil // writeFor and effectiveTime check it
	}
	if call.OriginalTimestamp == nil || *call.OriginalTimestamp == "" {
		return nil, nil
	}
	t, err := parseSegmentTime("originalTimestamp", *call.OriginalTimestamp)
	if err != nil {
		return nil, err
	}
	sentAt, field := call.SentAt, "sentAt"
	if sentAt == nil || *sentAt == "" {
		sentAt = batchSentAt
	}
	if sentAt != nil && *sentAt != "" {
		sent, err := parseSegmentTime(field, *sentAt)
		if err != nil {
			return nil, err
		}
		t = t.Add(now.Sub(sent))
	}
	ts := t.UTC().Format(time.RFC3339Nano)
	return &ts, nil
}

func parseSegmentTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, badField(field, "must be an RFC 3339 time like 2026-03-29T10:00:00Z; got %q", truncate(s))
	}
	if t.Year() < 2000 {
		return time.Time{}, badField(field, "%q is before the year 2000; is it in the right unit?", truncate(s))
	}
	return t, nil
}

// segmentID reads a userId or anonymousId: a string, or a number as Segment
// libraries for typed languages may send; "" when absent.
func segmentID(field string, raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	switch {
	case raw[0] == '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", badField(field, "invalid JSON string")
		}
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		s = string(raw)
	default:
		return "", badField(field, "must be a string")
	}
	return cleanText(field, s, maxSegmentUserID)
}

func jsonString(field string, raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", badField(field, "must be a string")
	}
	return s, nil
}

// traitString reads a string trait; absent, null and "" are all "".
func traitString(traits map[string]any, key string) (string, error) {
	switch v := traits[key].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", badField("traits."+key, "must be a string")
	}
}

// segmentPeople resolves the people of one request's calls and collects the
// userId → email pairs they teach.
type segmentPeople struct {
	owner  store.KeyOwner
	stored map[string]string // remembered before this request
	seen   map[string]string // learnt from this request's earlier calls
	learnt []store.SegmentUser
}

// write turns a call into the identify or ping it stands for.
func (p *segmentPeople) write(m segmentMsg, now time.Time) (store.Write, error) {
	var (
		email string
		err   error
	)
	switch {
	case m.email != "":
		if email, err = normalizeEmail(&m.email); err != nil {
			return store.Write{}, renameField(err, m.emailField, "")
		}
	case m.userID != "":
		var ok bool
		if email, ok = p.seen[m.userID]; !ok {
			email, ok = p.stored[m.userID]
		}
		if !ok {
			return store.Write{}, badField("userId", "%q has not been seen with an email in this project; "+
				"send an identify with this userId and traits.email first", truncate(m.userID))
		}
	default:
		field, what := "userId", "a userId identified once with traits.email, or context.traits.email"
		if m.kind == "identify" {
			field, what = "traits.email", "traits.email, or a userId identified once with traits.email"
		}
		if m.anonymous {
			return store.Write{}, badField(field, "is required: an anonymousId alone is not matched to a person; send %s", what)
		}
		return store.Write{}, badField(field, "is required: send %s", what)
	}
	var w store.Write
	if m.kind == "identify" {
		req, err := identifyFromTraits(m.traits)
		if err != nil {
			return store.Write{}, err
		}
		req.Email, req.Timestamp, req.MessageID = &email, m.timestamp, m.messageID
		if w, err = writeFor(req.identifyRequest, p.owner, now); err != nil {
			return store.Write{}, renameField(err, m.emailField, req.nameField())
		}
	} else {
		w = store.Write{WorkspaceID: p.owner.WorkspaceID, ProjectID: p.owner.ProjectID, Ping: true, Email: email}
		if w.At, err = effectiveTime(m.timestamp, now); err != nil {
			return store.Write{}, err
		}
	}
	if m.email != "" && m.userID != "" {
		if p.seen == nil {
			p.seen = map[string]string{}
		}
		p.seen[m.userID] = w.Email
		p.learnt = append(p.learnt, store.SegmentUser{WorkspaceID: p.owner.WorkspaceID, ProjectID: p.owner.ProjectID,
			UserID: m.userID, Email: w.Email})
	}
	return w, nil
}

// segmentIdentify is an identifyRequest built from traits, remembering
// whether the name came from firstName/lastName for error messages.
type segmentIdentify struct {
	identifyRequest
	fromParts bool
}

func (r segmentIdentify) nameField() string {
	if r.fromParts {
		return "traits.firstName"
	}
	return "traits.name"
}

// identifyFromTraits maps traits to name, status and params (SPEC §8).
func identifyFromTraits(traits map[string]any) (segmentIdentify, error) {
	var req segmentIdentify
	get := func(key string) (string, error) { return traitString(traits, key) }
	name, err := get("name")
	if err != nil {
		return req, err
	}
	first, err := get("firstName")
	if err != nil {
		return req, err
	}
	last, err := get("lastName")
	if err != nil {
		return req, err
	}
	if name == "" && (first != "" || last != "") {
		name, req.fromParts = strings.TrimSpace(first+" "+last), true
	}
	if name != "" {
		req.Name = &name
	}
	status, err := get("status")
	if err != nil {
		return req, err
	}
	if status != "" {
		req.Status = &status
	}
	params := map[string]any{}
	from := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(traits)) {
		switch k {
		case "email", "name", "firstName", "lastName", "status":
			continue
		}
		pk := segmentKey(k)
		if prev, dup := from[pk]; dup {
			return req, badField("traits."+k, "and trait %q both become the params key %q; rename one", truncate(prev), pk)
		}
		from[pk] = k
		v, err := sanitizeTrait("traits."+k, traits[k])
		if err != nil {
			return req, err
		}
		params[pk] = v
	}
	if len(params) == 0 {
		return req, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(params); err != nil {
		return req, badField("traits", "cannot be encoded: %s", err.Error())
	}
	req.Params = bytes.TrimSpace(buf.Bytes())
	return req, nil
}

// sanitizeTrait rewrites the keys of nested objects with segmentKey.
func sanitizeTrait(path string, v any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		from := map[string]string{}
		for _, k := range slices.Sorted(maps.Keys(t)) {
			pk := segmentKey(k)
			if prev, dup := from[pk]; dup {
				return nil, badField(path, "keys %q and %q both become %q; rename one", truncate(prev), truncate(k), pk)
			}
			from[pk] = k
			child, err := sanitizeTrait(path+"."+pk, t[k])
			if err != nil {
				return nil, err
			}
			out[pk] = child
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, child := range t {
			c, err := sanitizeTrait(fmt.Sprintf("%s[%d]", path, i), child)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	return v, nil
}

// segmentKey makes a trait key a params key: every character outside
// [A-Za-z0-9_.-] becomes "_" and the key is cut to 64 bytes.
func segmentKey(k string) string {
	if filter.IsParamKey(k) {
		return k
	}
	var b strings.Builder
	for _, r := range k {
		if b.Len() == 64 {
			break
		}
		if r < utf8.RuneSelf && (r == '_' || r == '.' || r == '-' ||
			('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// renameField rewrites the field of a writeFor problem into the Segment
// call's terms (params.plan → traits.plan, message_id → messageId).
func renameField(err error, emailField, nameField string) error {
	var p *Problem
	if !errors.As(err, &p) {
		return err
	}
	switch f := p.Field; {
	case f == "email" && emailField != "":
		p.Field = emailField
	case f == "name" && nameField != "":
		p.Field = nameField
	case f == "status":
		p.Field = "traits.status"
	case f == "message_id":
		p.Field = "messageId"
	case f == "params", strings.HasPrefix(f, "params.") || strings.HasPrefix(f, "params["):
		p.Field = "traits" + strings.TrimPrefix(f, "params")
	}
	return p
}

// decodeLenient decodes one JSON value into v, ignoring unknown fields (a
// Segment message carries many TinyCRM does not use) but refusing trailing
// data, and names the offending field in its error.
func decodeLenient(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badField("body", "unexpected data after the JSON object")
	}
	return nil
}
