package store

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"tinycrm.dev/tinycrm/filter"
)

// TestCursorRefusesForgeries checks that a cursor with a valid checksum
// but a position that would not bind as its column's type (someone who
// read this code and re-signed an edited cursor) is still refused, so a
// cursor can never cause a database error.
func TestCursorRefusesForgeries(t *testing.T) {
	t.Parallel()
	forge := func(payload, scope string) string {
		return base64.RawURLEncoding.EncodeToString(append([]byte(payload), cursorSum([]byte(payload), scope)...))
	}
	const scope = "customers\x00"
	for _, tc := range []struct {
		name  string
		sort  filter.Sort
		token string
		ok    bool
	}{
		{"round trip time", filter.Sort{}, encodeCursor(cursor{Key: "2026-03-29T10:00:00.123456Z", ID: 7}, scope), true},
		{"round trip numeric", filter.Sort{Key: filter.SortMRR}, encodeCursor(cursor{Sort: "mrr", Key: "19.50", ID: 7}, scope), true},
		{"round trip int", filter.Sort{Key: filter.SortProjects, Reverse: true}, encodeCursor(cursor{Sort: "-projects", Key: "3", ID: 7}, scope), true},
		{"round trip text", filter.Sort{Key: filter.SortName}, encodeCursor(cursor{Sort: "name", Key: "Zoë 'x' \"y\"", ID: 7}, scope), true},
		{"other scope", filter.Sort{}, encodeCursor(cursor{Key: "2026-03-29T10:00:00Z", ID: 7}, "upsell"), false},
		{"bad time", filter.Sort{}, forge(`{"s":"","k":"yesterday","i":7}`, scope), false},
		{"year 0", filter.Sort{}, forge(`{"s":"","k":"0000-01-01T00:00:00Z","i":7}`, scope), false},
		{"int too big", filter.Sort{Key: filter.SortProjects}, forge(`{"s":"projects","k":"99999999999","i":7}`, scope), false},
		{"negative int", filter.Sort{Key: filter.SortProjects}, forge(`{"s":"projects","k":"-1","i":7}`, scope), false},
		{"numeric NaN", filter.Sort{Key: filter.SortMRR}, forge(`{"s":"mrr","k":"NaN","i":7}`, scope), false},
		{"numeric exponent", filter.Sort{Key: filter.SortMRR}, forge(`{"s":"mrr","k":"1e999999","i":7}`, scope), false},
		{"text with NUL", filter.Sort{Key: filter.SortEmail}, forge(`{"s":"email","k":"a\u0000b","i":7}`, scope), false},
		{"id zero", filter.Sort{}, forge(`{"s":"","k":"2026-03-29T10:00:00Z","i":0}`, scope), false},
		{"unknown field", filter.Sort{}, forge(`{"s":"","k":"2026-03-29T10:00:00Z","i":7,"x":1}`, scope), false},
		{"not JSON", filter.Sort{}, forge(`hello`, scope), false},
		{"sort mismatch", filter.Sort{Key: filter.SortEmail}, forge(`{"s":"","k":"a","i":7}`, scope), false},
		{"too short", filter.Sort{}, "AAAA", false},
		{"too long", filter.Sort{}, strings.Repeat("A", 5000), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := decodeCursor(tc.token, tc.sort, scope, sortColumn(tc.sort))
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalidCursor) {
				t.Fatalf("accepted or wrong error: %v", err)
			}
		})
	}
}

// TestFingerprintIgnoresSort: the sort travels in the cursor itself, so
// the scope checksum covers only the filter.
func TestFingerprintIgnoresSort(t *testing.T) {
	t.Parallel()
	a := filterFingerprint(filter.Filter{Projects: []string{"a"}, Sort: filter.Sort{Key: filter.SortEmail}})
	b := filterFingerprint(filter.Filter{Projects: []string{"a"}})
	c := filterFingerprint(filter.Filter{Projects: []string{"b"}})
	if a != b || a == c {
		t.Fatalf("%q %q %q", a, b, c)
	}
}

// TestNumericCursorKeys: a numeric cursor key is numeric::text output and
// nothing else, so it always casts back to numeric.
func TestNumericCursorKeys(t *testing.T) {
	digits := strings.Repeat("9", 40)
	for _, k := range []string{"0", "19.5", "-3", "-0.25", digits, digits + "." + digits} {
		if !validKey(k, "numeric") {
			t.Errorf("validKey(%q, numeric) = false, want true", k)
		}
	}
	for _, k := range []string{"", "-", ".", "1.", ".5", "--1", "+1", "1e3", "NaN", "1.2.3", " 1", digits + "9", "1." + digits + "9", "٣"} {
		if validKey(k, "numeric") {
			t.Errorf("validKey(%q, numeric) = true, want false", k)
		}
	}
}
