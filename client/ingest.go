package client

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"
	"unicode/utf8"
)

// Limits of one batch request (SPEC §3). Batch and Import split larger
// inputs into several requests.
const (
	MaxBatchItems = 1000
	MaxBatchBytes = 4 << 20
)

// Identify is one identify call: who the person is in this project now.
// Zero fields are left out of the request, so they change nothing.
type Identify struct {
	// Email identifies the person; the server normalizes it (SPEC §2).
	Email string `json:"email"`
	// Name replaces the customer's name when non-empty.
	Name string `json:"name,omitempty"`
	// Status replaces the membership's status, such as "paid",
	// "trialing", "free" or "churned".
	Status string `json:"status,omitempty"`
	// Params merge shallowly into the membership's params; a key whose
	// value is nil deletes that key. A numeric "mrr" counts towards the
	// customer's MRR.
	Params map[string]any `json:"params,omitempty"`
	// Timestamp is when this was true; the zero time means now. An older
	// time than the stored state only widens first_seen/last_seen.
	Timestamp time.Time `json:"timestamp,omitzero"`
	// MessageID makes the call idempotent: the server applies one message
	// id once per project. When empty the client generates one per call,
	// so its own retries apply once; set it to make your own resends safe
	// too (see NewMessageID).
	MessageID string `json:"message_id,omitempty"`
}

// IdentifyResult is the server's answer to an accepted identify.
type IdentifyResult struct {
	// Duplicate: this message id had already been applied, so nothing
	// changed. After a retry this usually means an earlier attempt was
	// applied but its reply was lost.
	Duplicate bool `json:"duplicate"`
	// Suppressed: the email was forgotten with suppress, so the call was
	// dropped.
	Suppressed bool `json:"suppressed"`
}

// BatchResult is the outcome of a batch: every item is counted once, in
// Accepted, Duplicates, Suppressed or Rejected.
type BatchResult struct {
	Accepted   int         `json:"accepted"`
	Duplicates int         `json:"duplicates"`
	Suppressed int         `json:"suppressed"`
	Rejected   []Rejection `json:"rejected"`
}

// Rejection is one batch item that was not stored.
type Rejection struct {
	// Index is the item's position in the slice given to Batch or Import.
	Index int `json:"index"`
	// Field names the item's field at fault, when known.
	Field string `json:"field,omitempty"`
	// Error says what is wrong, such as "email: missing @".
	Error string `json:"error"`
}

// add counts r into b, shifting r's indexes by offset.
func (b *BatchResult) add(r BatchResult, offset int) {
	b.Accepted += r.Accepted
	b.Duplicates += r.Duplicates
	b.Suppressed += r.Suppressed
	for _, rej := range r.Rejected {
		rej.Index += offset
		b.Rejected = append(b.Rejected, rej)
	}
}

// NewMessageID returns a random message id (128 bits from crypto/rand).
func NewMessageID() string { return rand.Text() }

// Identify sends one identify call with a project key and returns once the
// server has committed it. A generated message id (unless id.MessageID is
// set) makes retries safe.
func (c *Client) Identify(ctx context.Context, id Identify) (IdentifyResult, error) {
	if id.MessageID == "" {
		id.MessageID = NewMessageID()
	}
	if field := invalidText(id); field != "" {
		return IdentifyResult{}, fmt.Errorf("identify: %s is not valid UTF-8 (is it in another encoding?)", field)
	}
	body, err := marshal("identify", id)
	if err != nil {
		return IdentifyResult{}, err
	}
	var res IdentifyResult
	err = c.doJSON(ctx, call{op: "identify", method: http.MethodPost, path: "/v1/identify", body: body}, &res)
	return res, err
}

// Ping records activity now: it moves last_seen of the person's
// membership in the key's project, and does nothing when there is none.
func (c *Client) Ping(ctx context.Context, email string) error {
	return c.PingAt(ctx, email, time.Time{})
}

// PingAt is Ping for activity at time at; the zero time means now.
func (c *Client) PingAt(ctx context.Context, email string, at time.Time) error {
	body, err := marshal("ping", struct {
		Email     string    `json:"email"`
		Timestamp time.Time `json:"timestamp,omitzero"`
	}{email, at})
	if err != nil {
		return err
	}
	// A repeated ping moves last_seen to at most the same receipt-time
	// bound, so pings are retried like identifies.
	return c.doJSON(ctx, call{op: "ping", method: http.MethodPost, path: "/v1/ping", body: body}, nil)
}

// Batch sends identify calls with a project key, MaxBatchItems (and at
// most MaxBatchBytes) per request, in order. Items without a MessageID get
// a generated one for this call; items the server rejects are reported by
// index in the result, and the others still land.
//
// On error, the result counts the items confirmed before it, which are
// always a prefix of items; the rest may or may not have been applied.
// Resending them is safe only if they carry message ids of your own.
func (c *Client) Batch(ctx context.Context, items []Identify) (BatchResult, error) {
	return c.batch(ctx, "batch", "/v1/batch", nil, items)
}

// batch splits items into requests and sends them one after the other.
func (c *Client) batch(ctx context.Context, op, path string, query url.Values, items []Identify) (BatchResult, error) {
	total := BatchResult{Rejected: []Rejection{}}
	const overhead = len(`{"items":[]}`)
	var (
		buf   bytes.Buffer
		index []int // input index of each item in buf
		local []Rejection
	)
	flush := func() error {
		if len(index) == 0 {
			return nil
		}
		buf.WriteString("]}")
		var r BatchResult
		err := c.doJSON(ctx, call{op: op, method: http.MethodPost, path: path, query: query, body: buf.Bytes()}, &r)
		if err != nil {
			return err
		}
		for i := range r.Rejected {
			if j := r.Rejected[i].Index; j >= 0 && j < len(index) {
				r.Rejected[i].Index = index[j]
			}
		}
		total.add(r, 0)
		index = index[:0]
		buf.Reset()
		return nil
	}
	for i, it := range items {
		if it.MessageID == "" {
			it.MessageID = NewMessageID()
		}
		if field := invalidText(it); field != "" {
			local = append(local, Rejection{Index: i, Field: field, Error: field + ": is not valid UTF-8 (is the file in another encoding?)"})
			continue
		}
		enc, err := json.Marshal(it)
		if err != nil {
			local = append(local, Rejection{Index: i, Error: fmt.Sprintf("cannot be encoded as JSON: %v", err)})
			continue
		}
		if overhead+len(enc) > MaxBatchBytes {
			// No request could carry it: sent alone it would be a 413
			// that stops the items after it.
			field := bulkiest(it, len(enc))
			local = append(local, Rejection{Index: i, Field: field, Error: fmt.Sprintf("%s: the item is %d bytes as JSON, more than a request carries (%d); params hold at most 16 KiB", field, len(enc), MaxBatchBytes)})
			continue
		}
		if len(index) > 0 && (len(index) == MaxBatchItems || buf.Len()+1+len(enc)+2 > MaxBatchBytes) {
			if err := flush(); err != nil {
				return total.finish(local, index[0]), err
			}
		}
		if len(index) == 0 {
			buf.Grow(overhead + len(enc))
			buf.WriteString(`{"items":[`)
		} else {
			buf.WriteByte(',')
		}
		buf.Write(enc)
		index = append(index, i)
	}
	if len(index) > 0 {
		first := index[0]
		if err := flush(); err != nil {
			return total.finish(local, first), err
		}
	}
	return total.finish(local, len(items)), nil
}

// bulkiest names the field that makes an item of size bytes big: a text
// field holding most of it, or else params.
func bulkiest(id Identify, size int) string {
	for _, f := range []struct {
		name string
		text string
	}{{"email", id.Email}, {"name", id.Name}, {"status", id.Status}, {"message_id", id.MessageID}} {
		if 2*len(f.text) > size {
			return f.name
		}
	}
	return "params"
}

// finish completes a batch result whose items from index first on were not
// confirmed: it keeps the local rejections before first, in index order.
func (b BatchResult) finish(local []Rejection, first int) BatchResult {
	for _, r := range local {
		if r.Index < first {
			b.Rejected = append(b.Rejected, r)
		}
	}
	slices.SortStableFunc(b.Rejected, func(x, y Rejection) int { return cmp.Compare(x.Index, y.Index) })
	return b
}

// invalidText names the first field of id that holds a string which is not
// valid UTF-8, or returns "". encoding/json would replace its bad bytes
// with U+FFFD, so a Latin-1 name would be stored altered, without a word.
func invalidText(id Identify) string {
	switch {
	case !utf8.ValidString(id.Email):
		return "email"
	case !utf8.ValidString(id.Name):
		return "name"
	case !utf8.ValidString(id.Status):
		return "status"
	case !utf8.ValidString(id.MessageID):
		return "message_id"
	}
	return invalidValue("params", id.Params)
}

func invalidValue(path string, v any) string {
	switch t := v.(type) {
	case string:
		if !utf8.ValidString(t) {
			return path
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			if !utf8.ValidString(k) {
				return path
			}
			if f := invalidValue(path+"."+k, t[k]); f != "" {
				return f
			}
		}
	case []any:
		for i, e := range t {
			if f := invalidValue(fmt.Sprintf("%s[%d]", path, i), e); f != "" {
				return f
			}
		}
	}
	return ""
}
