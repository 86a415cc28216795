package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"tinycrm.dev/tinycrm/email"
	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/store"
)

// Limits of SPEC §3.
const (
	maxIdentifyBody = 32 << 10
	maxBatchBody    = 4 << 20
	maxBatchItems   = 1000
	maxParamsBytes  = 16 << 10
	maxParamsKeys   = 100
	maxParamsDepth  = 5
	maxNameLen      = 256
	maxMessageID    = 128
	maxMRR          = 1e9
)

// identifyRequest is the body of POST /v1/identify and one batch item.
type identifyRequest struct {
	Email     *string         `json:"email"`
	Name      *string         `json:"name"`
	Status    *string         `json:"status"`
	Params    json.RawMessage `json:"params"`
	Timestamp *string         `json:"timestamp"`
	MessageID *string         `json:"message_id"`
}

// pingRequest is the body of POST /v1/ping.
type pingRequest struct {
	Email     *string `json:"email"`
	Timestamp *string `json:"timestamp"`
}

// decodeStrict decodes one JSON value into v, refusing unknown fields,
// trailing data and text that would not survive decoding (checkText), and
// names the offending field in its error.
func decodeStrict(data []byte, v any) error {
	if err := checkText("", data); err != nil {
		return err
	}
	return decodeEnvelope(data, v)
}

// decodeEnvelope is decodeStrict without checkText, for a batch body whose
// items are json.RawMessage values decoded (and checked) one by one, so
// that one bad item is reported without sinking the others.
func decodeEnvelope(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badField("body", "unexpected data after the JSON object")
	}
	return nil
}

// checkText refuses JSON text that encoding/json would decode lossily:
// invalid UTF-8 and \u escapes of lone UTF-16 surrogates both become
// U+FFFD, so two different message ids could be taken for one, and
// PostgreSQL's jsonb refuses them outright. Its error names the field that
// holds the bad string, under root when the text is a field's value.
// Malformed JSON passes: the decoder reports it.
func checkText(root string, data []byte) error {
	if utf8.Valid(data) && !bytes.Contains(data, []byte(`\u`)) {
		return nil
	}
	type frame struct {
		object bool
		key    string // object: the current key, once read
		index  int    // array: the current element
		keyNow bool   // object: the next string is a key
	}
	var stack []frame
	path := func(last string) string {
		var b strings.Builder
		b.WriteString(root)
		for _, f := range stack {
			switch {
			case f.object && !f.keyNow:
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			case !f.object:
				fmt.Fprintf(&b, "[%d]", f.index)
			}
		}
		if last != "" {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(last)
		}
		if b.Len() == 0 {
			return "body"
		}
		return b.String()
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var prev int64
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		end := dec.InputOffset()
		raw := data[prev:end]
		prev = end
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if top != nil && !top.object && tok != json.Delim(']') {
			top.index++
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{object: true, keyNow: true})
			case '[':
				stack = append(stack, frame{index: -1})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].keyNow = true
				}
			}
			continue
		case string:
			if top != nil && top.object && top.keyNow {
				if problem := badString(raw); problem != "" {
					return badField(path(""), "has a key that %s", problem)
				}
				top.key, top.keyNow = t, false
				continue
			}
			if problem := badString(raw); problem != "" {
				return badField(path(""), "%s", problem)
			}
		}
		if top != nil && top.object {
			top.keyNow = true
		}
	}
}

// badString says what is wrong with a JSON string literal (raw holds it,
// after any separators before it), or "" when nothing is.
func badString(raw []byte) string {
	if !utf8.Valid(raw) {
		return "is not valid UTF-8"
	}
	lit := raw[bytes.IndexByte(raw, '"')+1:]
	for i := 0; i < len(lit); i++ {
		if lit[i] != '\\' {
			continue
		}
		i++
		if i >= len(lit) || lit[i] != 'u' || i+4 >= len(lit) {
			continue
		}
		r, err := strconv.ParseUint(string(lit[i+1:i+5]), 16, 16)
		i += 4
		switch {
		case err != nil:
		case r >= 0xdc00 && r <= 0xdfff:
			return fmt.Sprintf("holds \\u%04x, half of a UTF-16 surrogate pair without its other half", r)
		case r >= 0xd800 && r <= 0xdbff:
			next := lit[i+1:]
			if len(next) >= 6 && next[0] == '\\' && next[1] == 'u' {
				if lo, err := strconv.ParseUint(string(next[2:6]), 16, 16); err == nil && lo >= 0xdc00 && lo <= 0xdfff {
					i += 6
					continue
				}
			}
			return fmt.Sprintf("holds \\u%04x, half of a UTF-16 surrogate pair without its other half", r)
		}
	}
	return ""
}

// jsonProblem turns a decoding error into a 400 that names the field.
func jsonProblem(err error) *Problem {
	var (
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
	)
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return badField("body", "must be a JSON object")
		}
		return badField(field, "must be %s, not %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return badField("body", "invalid JSON at byte %d: %s", syntaxErr.Offset, syntaxErr.Error())
	case errors.Is(err, io.EOF):
		return badField("body", "empty body; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badField("body", "truncated JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if name == "" {
			return badField("body", "unknown field \"\"")
		}
		return badField(name, "unknown field")
	}
	return badField("body", "invalid JSON: %s", err.Error())
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string", "ptr":
		return "a string"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return goKind
}

// writeFor validates an identify and turns it into a store.Write. now is the
// receipt time: a timestamp after it is clamped to it.
func writeFor(req identifyRequest, owner store.KeyOwner, now time.Time) (store.Write, error) {
	w := store.Write{WorkspaceID: owner.WorkspaceID, ProjectID: owner.ProjectID}
	var err error
	if w.Email, err = normalizeEmail(req.Email); err != nil {
		return w, err
	}
	if req.Name != nil {
		if w.Name, err = cleanText("name", *req.Name, maxNameLen); err != nil {
			return w, err
		}
		// One spelling of "José" whichever way the app's platform
		// composes it, as emails are (SPEC §2), so search finds it.
		w.Name = norm.NFC.String(w.Name)
	}
	if req.Status != nil && *req.Status != "" {
		if !filter.IsStatus(*req.Status) {
			return w, badField("status", "must be 1-32 characters of a-z, 0-9, _ or - (like paid, trialing, free, churned); got %q", truncate(*req.Status))
		}
		w.Status = *req.Status
	}
	if len(req.Params) > 0 && string(req.Params) != "null" {
		if w.Params, err = validParams(req.Params); err != nil {
			return w, err
		}
	}
	if w.At, err = effectiveTime(req.Timestamp, now); err != nil {
		return w, err
	}
	if req.MessageID != nil && *req.MessageID != "" {
		if w.MessageID, err = cleanText("message_id", *req.MessageID, maxMessageID); err != nil {
			return w, err
		}
	}
	return w, nil
}

func normalizeEmail(s *string) (string, error) {
	if s == nil || strings.TrimSpace(*s) == "" {
		return "", badField("email", "is required")
	}
	e, err := email.Normalize(*s)
	if err != nil {
		return "", badField("email", "%s", strings.TrimPrefix(err.Error(), "email: "))
	}
	return e, nil
}

// effectiveTime is the call's time: its timestamp, else receipt time, never
// later than receipt time.
func effectiveTime(ts *string, now time.Time) (time.Time, error) {
	now = now.UTC().Truncate(time.Microsecond)
	if ts == nil || *ts == "" {
		return now, nil
	}
	// RFC 3339 allows a lower-case "t" and "z"; Go's parser does not.
	t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(*ts))
	if err != nil {
		return time.Time{}, badField("timestamp", "must be an RFC 3339 time like 2026-03-29T10:00:00Z; got %q", truncate(*ts))
	}
	if t.Year() < 2000 {
		return time.Time{}, badField("timestamp", "%q is before the year 2000; is it in the right unit?", *ts)
	}
	t = t.UTC().Truncate(time.Microsecond)
	if t.After(now) {
		return now, nil
	}
	return t, nil
}

// cleanText accepts valid UTF-8 up to max bytes with no control characters.
func cleanText(field, s string, max int) (string, error) {
	if len(s) > max {
		return "", badField(field, "is %d bytes; the limit is %d", len(s), max)
	}
	if !utf8.ValidString(s) {
		return "", badField(field, "is not valid UTF-8")
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		return "", badField(field, "contains a control character at byte %d", i)
	}
	return strings.TrimSpace(s), nil
}

// validParams checks params against SPEC §3's limits and returns it compacted.
func validParams(raw json.RawMessage) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, badField("params", "invalid JSON: %s", err.Error())
	}
	if buf.Len() > maxParamsBytes {
		return nil, badField("params", "is %d bytes encoded; the limit is %d", buf.Len(), maxParamsBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badField("params", "invalid JSON: %s", err.Error())
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, badField("params", "must be a JSON object like {\"plan\":\"pro\"}")
	}
	if len(obj) > maxParamsKeys {
		return nil, badField("params", "has %d top-level keys; the limit is %d", len(obj), maxParamsKeys)
	}
	if err := checkParamValue("params", obj, 1); err != nil {
		return nil, err
	}
	if n, ok := obj["mrr"].(json.Number); ok {
		f, err := n.Float64()
		if err != nil || math.IsInf(f, 0) || f < 0 || f > maxMRR {
			return nil, badField("params.mrr", "must be a number from 0 to %g; got %s", float64(maxMRR), n)
		}
	}
	return buf.Bytes(), nil
}

func checkParamValue(path string, v any, depth int) error {
	switch t := v.(type) {
	case map[string]any:
		if depth > maxParamsDepth {
			return badField(path, "nests deeper than %d levels", maxParamsDepth)
		}
		for k, child := range t {
			if !filter.IsParamKey(k) {
				return badField(path, "key %q must be 1-64 characters of A-Z, a-z, 0-9, _, . or -", truncate(k))
			}
			if err := checkParamValue(path+"."+k, child, depth+1); err != nil {
				return err
			}
		}
	case []any:
		if depth > maxParamsDepth {
			return badField(path, "nests deeper than %d levels", maxParamsDepth)
		}
		for i, child := range t {
			if err := checkParamValue(fmt.Sprintf("%s[%d]", path, i), child, depth+1); err != nil {
				return err
			}
		}
	case json.Number:
		return checkNumber(path, t)
	case string:
		// PostgreSQL's jsonb cannot hold U+0000.
		if strings.ContainsRune(t, 0) {
			return badField(path, "contains the character U+0000, which cannot be stored")
		}
	}
	return nil
}

// maxNumberLen bounds a number's text in params: a double needs at most
// 24 characters, and with this bound every accepted number fits
// PostgreSQL's numeric (at most 16,383 digits after the point).
const maxNumberLen = 100

// maxExponent bounds a number's exponent, which a double needs up to ±324
// and PostgreSQL would expand into that many digits (0e-99999 overflows).
const maxExponent = 400

// checkNumber accepts the numbers a double can hold, which is what the apps
// sending them (JavaScript above all) can mean. PostgreSQL would store a
// larger or a much smaller one exactly, or fail on it (1e200000), and
// mrr_total is read back as a double, which 1e-400 cannot become.
func checkNumber(path string, n json.Number) error {
	if len(n) > maxNumberLen {
		return badField(path, "is a number of %d characters; the limit is %d", len(n), maxNumberLen)
	}
	exp := 0
	if i := strings.IndexAny(string(n), "eE"); i >= 0 {
		var err error
		if exp, err = strconv.Atoi(string(n[i+1:])); err != nil {
			exp = math.MaxInt
		}
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) || exp > maxExponent || exp < -maxExponent {
		return badField(path, "is out of range: numbers go up to about 1.8e308; got %s", truncate(n.String()))
	}
	if math.Abs(f) < 0x1p-1022 && strings.Trim(mantissa(string(n)), "0.") != "" {
		return badField(path, "is too close to 0 to store (the smallest is about 2.2e-308); send 0 or a larger number; got %s", truncate(n.String()))
	}
	return nil
}

// mantissa is a JSON number without its sign and exponent.
func mantissa(n string) string {
	n = strings.TrimPrefix(n, "-")
	if i := strings.IndexAny(n, "eE"); i >= 0 {
		n = n[:i]
	}
	return n
}

func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}
