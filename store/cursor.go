package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tinycrm.dev/tinycrm/filter"
)

// cursor is a keyset position: the sort value and id of the last row of a
// page. It travels as an opaque token: base64url of its JSON and a checksum
// over the JSON and the listing's scope (its kind and filter), so a token
// that was edited, truncated, or replayed against another filter is refused
// instead of silently starting somewhere else. The checksum is not a
// secret: a cursor grants nothing, it only positions a read in the caller's
// own workspace, and every value in it is bound, never spliced.
type cursor struct {
	Sort string `json:"s"` // the sort parameter it was made for ("" = default)
	Key  string `json:"k"` // the sort value of the last row, as text
	ID   int64  `json:"i"` // the id of the last row
}

const cursorSumLen = 12

// isNumericText reports whether s is numeric::text output as cursors carry
// it: -?[0-9]{1,40}(\.[0-9]{1,40})?, no exponent, no NaN.
func isNumericText(s string) bool {
	s = strings.TrimPrefix(s, "-")
	whole, frac, dot := strings.Cut(s, ".")
	return isDigits(whole) && (!dot || isDigits(frac))
}

// isDigits reports whether s is 1 to 40 ASCII digits.
func isDigits(s string) bool {
	if len(s) == 0 || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func cursorSum(payload []byte, scope string) []byte {
	h := sha256.New()
	h.Write([]byte("tinycrm cursor v1\x00"))
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write(payload)
	return h.Sum(nil)[:cursorSumLen]
}

func encodeCursor(c cursor, scope string) string {
	payload, _ := json.Marshal(c) // plain strings and an int: cannot fail
	return base64.RawURLEncoding.EncodeToString(append(payload, cursorSum(payload, scope)...))
}

// cursorError is an ErrInvalidCursor with the reason.
func cursorError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidCursor, fmt.Sprintf(format, args...))
}

// decodeCursor checks a token against the listing it is used with and
// returns the position, with a key that binds safely as col's type.
func decodeCursor(token string, sort filter.Sort, scope string, col sortCol) (cursor, error) {
	const restart = "; start again without cursor"
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) <= cursorSumLen || len(token) > 4096 {
		return cursor{}, cursorError("not a cursor from this API" + restart)
	}
	payload, sum := raw[:len(raw)-cursorSumLen], raw[len(raw)-cursorSumLen:]
	var c cursor
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return cursor{}, cursorError("not a cursor from this API" + restart)
	}
	if c.Sort != sort.String() {
		// Say this before the checksum, which would fail too: it is the
		// more useful message.
		return cursor{}, cursorError("it was made for sort=%q, not %q; a cursor only continues the listing it came from"+restart, c.Sort, sort.String())
	}
	if !bytes.Equal(sum, cursorSum(payload, scope)) {
		return cursor{}, cursorError("it was made for other filters, or was edited; a cursor only continues the listing it came from" + restart)
	}
	if c.ID <= 0 {
		return cursor{}, cursorError("bad position" + restart)
	}
	if !validKey(c.Key, col.kind) {
		return cursor{}, cursorError("bad position" + restart)
	}
	return c, nil
}

// validKey reports whether key binds as a value of the sort column's kind
// without a database error.
func validKey(key, kind string) bool {
	switch kind {
	case "time":
		t, err := time.Parse(time.RFC3339Nano, key)
		return err == nil && t.Year() >= 1 && t.Year() <= 9999
	case "int":
		n, err := strconv.ParseInt(key, 10, 32)
		return err == nil && n >= 0
	case "numeric":
		return isNumericText(key)
	case "text":
		return utf8.ValidString(key) && !strings.ContainsRune(key, 0)
	}
	return false
}

// cursorKey is the text form of a customer's sort value.
func cursorKey(c *Customer, col, numeric string) string {
	switch col {
	case "c.last_seen":
		return c.LastSeen.UTC().Format(time.RFC3339Nano)
	case "c.first_seen":
		return c.FirstSeen.UTC().Format(time.RFC3339Nano)
	case "c.project_count":
		return strconv.Itoa(c.ProjectCount)
	case "c.mrr_total":
		return numeric
	case "c.email":
		return c.Email
	case "c.name":
		return c.Name
	case "c.id":
		return strconv.FormatInt(c.ID, 10)
	}
	panic("store: no cursor key for " + col)
}

// filterFingerprint is the canonical text of a filter without its sort
// (the cursor carries the sort itself, for a clearer error).
func filterFingerprint(f filter.Filter) string {
	f.Sort = filter.Sort{}
	return f.Query().Encode()
}
