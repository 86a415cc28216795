package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"tinycrm.dev/tinycrm/store"
)

// readBody reads at most limit bytes of the request body; a larger body is a
// 413 that names the limit. A gzip body (Content-Encoding: gzip, as some
// Segment libraries send) is read decompressed, and the limit applies to
// what it decompresses to.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	var src io.Reader = http.MaxBytesReader(w, r.Body, limit)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, badField("body", "Content-Encoding is gzip, but the body is not gzip data: %s", err.Error())
		}
		defer zr.Close()
		src = io.LimitReader(zr, limit+1)
	default:
		return nil, &Problem{Status: http.StatusUnsupportedMediaType, Field: "body",
			Detail: fmt.Sprintf("Content-Encoding %q is not supported; send the body as is or gzip-compressed", truncate(enc))}
	}
	body, err := io.ReadAll(src)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || int64(len(body)) > limit {
		return nil, &Problem{Status: http.StatusRequestEntityTooLarge, Field: "body",
			Detail: fmt.Sprintf("request body is larger than %d bytes", limit)}
	}
	if err != nil {
		return nil, badField("body", "could not read the request body: %s", err.Error())
	}
	return body, nil
}

// identifyReply is the answer to an accepted identify.
type identifyReply struct {
	OK         bool `json:"ok"`
	Duplicate  bool `json:"duplicate"`
	Suppressed bool `json:"suppressed,omitempty"`
}

func (s *Server) identify(w http.ResponseWriter, r *http.Request) error {
	now := s.now()
	body, err := readBody(w, r, maxIdentifyBody)
	if err != nil {
		return err
	}
	var req identifyRequest
	if err := decodeStrict(body, &req); err != nil {
		s.metrics.writes.WithLabelValues("rejected").Inc()
		return err
	}
	write, err := writeFor(req, ownerFrom(r.Context()), now)
	if err != nil {
		s.metrics.writes.WithLabelValues("rejected").Inc()
		return err
	}
	res, err := s.pipeline.submit(r.Context(), write)
	if err != nil {
		return err
	}
	s.countOutcome(res.Outcome)
	if res.Outcome == store.Failed {
		return refusal(res.Err)
	}
	writeJSON(w, http.StatusOK, identifyReply{OK: true, Duplicate: res.Outcome == store.Duplicate, Suppressed: res.Outcome == store.Suppressed})
	return nil
}

func (s *Server) ping(w http.ResponseWriter, r *http.Request) error {
	now := s.now()
	body, err := readBody(w, r, maxIdentifyBody)
	if err != nil {
		return err
	}
	var req pingRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	owner := ownerFrom(r.Context())
	write := store.Write{WorkspaceID: owner.WorkspaceID, ProjectID: owner.ProjectID, Ping: true}
	if write.Email, err = normalizeEmail(req.Email); err != nil {
		return err
	}
	if write.At, err = effectiveTime(req.Timestamp, now); err != nil {
		return err
	}
	res, err := s.pipeline.submit(r.Context(), write)
	if err != nil {
		return err
	}
	if res.Outcome == store.Failed {
		return res.Err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	return nil
}

// batchReply is the answer to a batch: what landed and what did not.
type batchReply struct {
	Accepted   int            `json:"accepted"`
	Duplicates int            `json:"duplicates"`
	Suppressed int            `json:"suppressed,omitempty"`
	Rejected   []rejectedItem `json:"rejected"`
}

type rejectedItem struct {
	Index int    `json:"index"`
	Field string `json:"field,omitempty"`
	Error string `json:"error"`
}

func (s *Server) batch(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, maxBatchBody)
	if err != nil {
		return err
	}
	// Segment libraries that resolve their path against the host (such as
	// analytics-node with host http://HOST:7070/segment) post Segment's
	// batch here; serve it as /segment/v1/batch would.
	// The byte probe spares ordinary batches a second full parse.
	if bytes.Contains(body, []byte(`"batch"`)) {
		var shape struct {
			Batch json.RawMessage `json:"batch"`
			Items json.RawMessage `json:"items"`
		}
		if json.Unmarshal(body, &shape) == nil && shape.Batch != nil && shape.Items == nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			return s.segmentBatch(w, r)
		}
	}
	return s.applyBatch(w, r, ownerFrom(r.Context()), body)
}

func (s *Server) projectBatch(w http.ResponseWriter, r *http.Request) error {
	ws := workspaceFrom(r.Context())
	slug, err := projectSlug(r)
	if err != nil {
		return err
	}
	p, err := s.store.GetProject(r.Context(), ws, slug)
	if err != nil {
		return projectErr(err, slug)
	}
	dryRun := false
	if vs := r.URL.Query()[paramDryRun]; len(vs) > 1 {
		return badField(paramDryRun, "given more than once")
	} else if len(vs) == 1 {
		if dryRun, err = strconv.ParseBool(vs[0]); err != nil {
			return badField(paramDryRun, "must be true or false; got %q", truncate(vs[0]))
		}
	}
	body, err := readBody(w, r, maxBatchBody)
	if err != nil {
		return err
	}
	owner := store.KeyOwner{WorkspaceID: ws, ProjectID: p.ID}
	if dryRun {
		return s.checkBatch(w, r, owner, body)
	}
	return s.applyBatch(w, r, owner, body)
}

// paramDryRun makes the admin batch check its items without storing any
// (tinycrm import --dry-run), by exactly the rules a real import meets.
const paramDryRun = "dry_run"

// checkBatch answers a dry run with the reply a real run would get now:
// the valid items are applied in a transaction that is rolled back
// (store.CheckWrites), so message ids seen before count as duplicates,
// suppressed emails as suppressed, and params that would merge past a
// membership's bounds as rejected. Nothing is written, counted or logged
// as ingest.
func (s *Server) checkBatch(w http.ResponseWriter, r *http.Request, owner store.KeyOwner, body []byte) error {
	writes, index, reply, err := batchWrites(owner, body, s.now())
	if err != nil {
		return err
	}
	results, err := s.store.CheckWrites(r.Context(), writes)
	if err != nil {
		return err
	}
	s.tally(r.Context(), &reply, results, index)
	writeJSON(w, http.StatusOK, reply)
	return nil
}

// applyBatch validates every item, applies the valid ones in one transaction
// (a batch is already a group, so it bypasses the pipeline) and reports the
// invalid ones by index. body is the request body, already read.
func (s *Server) applyBatch(w http.ResponseWriter, r *http.Request, owner store.KeyOwner, body []byte) error {
	writes, index, reply, err := batchWrites(owner, body, s.now())
	if err != nil {
		return err
	}
	s.metrics.writes.WithLabelValues("rejected").Add(float64(len(reply.Rejected)))
	results, err := s.store.ApplyWrites(r.Context(), writes)
	if err != nil {
		return err
	}
	s.activity.add(writes, results, s.now())
	s.countOutcomes(writes, results)
	s.tally(r.Context(), &reply, results, index)
	writeJSON(w, http.StatusOK, reply)
	return nil
}

// batchWrites decodes and validates a batch body: the valid items as
// writes, index[j] the item position of writes[j], and a reply that lists
// the invalid items. The error is for a body that is not a batch at all.
func batchWrites(owner store.KeyOwner, body []byte, now time.Time) ([]store.Write, []int, batchReply, error) {
	reply := batchReply{Rejected: []rejectedItem{}}
	var req struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := decodeEnvelope(body, &req); err != nil {
		return nil, nil, reply, err
	}
	if req.Items == nil {
		return nil, nil, reply, badField("items", "is required: send {\"items\":[{\"email\":...}, ...]}")
	}
	if len(req.Items) > maxBatchItems {
		return nil, nil, reply, badField("items", "has %d items; the limit is %d per batch", len(req.Items), maxBatchItems)
	}
	writes := make([]store.Write, 0, len(req.Items))
	index := make([]int, 0, len(req.Items))
	for i, raw := range req.Items {
		var item identifyRequest
		err := decodeStrict(raw, &item)
		var write store.Write
		if err == nil {
			write, err = writeFor(item, owner, now)
		}
		if err != nil {
			reply.Rejected = append(reply.Rejected, itemRejection("items", i, err))
			continue
		}
		writes = append(writes, write)
		index = append(index, i)
	}
	return writes, index, reply, nil
}

// tally adds a batch's outcomes to its reply: result j belongs to request
// item index[j]. A write that failed alone is reported as rejected, to be
// retried. Rejections end up in item order.
func (s *Server) tally(ctx context.Context, reply *batchReply, results []store.Result, index []int) {
	for j, res := range results {
		switch res.Outcome {
		case store.Applied:
			reply.Accepted++
		case store.Duplicate:
			reply.Duplicates++
		case store.Suppressed:
			reply.Suppressed++
		case store.Failed:
			var p *Problem
			if errors.As(refusal(res.Err), &p) {
				reply.Rejected = append(reply.Rejected, rejectedItem{Index: index[j], Field: p.Field, Error: p.Error()})
				continue
			}
			if errors.Is(res.Err, store.ErrNotFound) {
				// The key's project was deleted while its key was cached.
				reply.Rejected = append(reply.Rejected, rejectedItem{Index: index[j], Error: "the key's project was deleted"})
				continue
			}
			s.log.ErrorContext(ctx, "batch item failed", "index", index[j], "err", res.Err)
			reply.Rejected = append(reply.Rejected, rejectedItem{Index: index[j], Error: "could not be stored; retry it"})
		}
	}
	slices.SortFunc(reply.Rejected, func(a, b rejectedItem) int { return a.Index - b.Index })
}

// refusal is the client's error for a valid write the store refused as
// it merged it: params that would grow past what a membership holds.
func refusal(err error) error {
	var pl *store.ParamsLimitError
	if errors.As(err, &pl) {
		return badField("params", "%s", pl.Error())
	}
	return err
}

// itemRejection is rejection for item i of the request's list: a fault
// of the whole item is named as list[i], not as the request body.
func itemRejection(list string, i int, err error) rejectedItem {
	rej := rejection(i, err)
	if rej.Field == "body" {
		rej.Field = fmt.Sprintf("%s[%d]", list, i)
		rej.Error = rej.Field + strings.TrimPrefix(rej.Error, "body")
	}
	return rej
}

func rejection(i int, err error) rejectedItem {
	var p *Problem
	if errors.As(err, &p) {
		return rejectedItem{Index: i, Field: p.Field, Error: p.Error()}
	}
	return rejectedItem{Index: i, Error: err.Error()}
}

// countOutcomes counts the outcomes of applied identifies (not pings) in
// the metrics.
func (s *Server) countOutcomes(writes []store.Write, results []store.Result) {
	for j, res := range results {
		if !writes[j].Ping {
			s.countOutcome(res.Outcome)
		}
	}
}

func (s *Server) countOutcome(o store.Outcome) {
	names := [...]string{store.Applied: "applied", store.Duplicate: "duplicate", store.Suppressed: "suppressed", store.Failed: "failed"}
	s.metrics.writes.WithLabelValues(names[o]).Inc()
}
