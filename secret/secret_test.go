package secret

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestNewParseRoundTrip(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, kind := range []Kind{ProjectKey, AdminToken} {
		for range 200 {
			s, err := New(kind)
			if err != nil {
				t.Fatal(err)
			}
			if seen[s] {
				t.Fatalf("duplicate secret %q", s)
			}
			seen[s] = true
			got, err := Parse(s)
			if err != nil || got != kind {
				t.Fatalf("Parse(%q) = %q, %v; want %q", s, got, err, kind)
			}
		}
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	good, err := New(ProjectKey)
	if err != nil {
		t.Fatal(err)
	}
	flipped := []byte(good)
	if flipped[12] == 'a' {
		flipped[12] = 'b'
	} else {
		flipped[12] = 'a'
	}
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "expected a tcrm_pk_"},
		{"other prefix", "sk_live_" + good[8:], "expected a tcrm_pk_"},
		{"truncated", good[:len(good)-1], "characters"},
		{"bad char", good[:20] + "!" + good[21:], "unexpected character at position 21"},
		{"typo", string(flipped), "checksum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.in)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse(%q) = %v; want ErrMalformed mentioning %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestHashAndHint(t *testing.T) {
	t.Parallel()
	// SPEC §3: only the secret's SHA-256 is stored; the vector is
	// sha256("abc") from FIPS 180-2.
	want, _ := hex.DecodeString("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
	if got := Hash("abc"); !bytes.Equal(got, want) {
		t.Fatalf("Hash(\"abc\") = %x, want SHA-256 %x", got, want)
	}
	s, _ := New(AdminToken)
	if Hint(s) != s[len(s)-4:] {
		t.Fatalf("Hint(%q) = %q", s, Hint(s))
	}
}
