// Package secret makes and checks TinyCRM's bearer secrets: project keys
// (tcrm_pk_…) and admin tokens (tcrm_at_…).
//
// A secret is a prefix, 32 random base62 characters (≈190 bits from
// crypto/rand) and a 6-character base62 CRC-32 of everything before it, so a
// mistyped or truncated secret is refused without a database look-up. Only
// Hash(secret) is ever stored.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
)

// Kind tells what a secret grants.
type Kind string

// The two kinds of secret.
const (
	ProjectKey Kind = "tcrm_pk_"
	AdminToken Kind = "tcrm_at_"
)

const (
	alphabet    = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	randomLen   = 32
	checksumLen = 6
	// Len is the length of every secret.
	Len = 8 + randomLen + checksumLen
)

// ErrMalformed is wrapped by every Parse error.
var ErrMalformed = errors.New("malformed secret")

// New returns a fresh secret of the given kind.
func New(kind Kind) (string, error) {
	var b strings.Builder
	b.Grow(Len)
	b.WriteString(string(kind))
	// Rejection sampling keeps every character uniform: 62*4 = 248 ≤ 256.
	buf := make([]byte, 64)
	for b.Len() < len(kind)+randomLen {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generate secret: %w", err)
		}
		for _, c := range buf {
			if c < 248 && b.Len() < len(kind)+randomLen {
				b.WriteByte(alphabet[c%62])
			}
		}
	}
	body := b.String()
	return body + checksum(body), nil
}

// Parse checks a secret's kind, shape and checksum without any I/O.
func Parse(s string) (Kind, error) {
	var kind Kind
	switch {
	case strings.HasPrefix(s, string(ProjectKey)):
		kind = ProjectKey
	case strings.HasPrefix(s, string(AdminToken)):
		kind = AdminToken
	default:
		return "", fmt.Errorf("%w: expected a tcrm_pk_ project key or a tcrm_at_ admin token", ErrMalformed)
	}
	if len(s) != Len {
		return "", fmt.Errorf("%w: %s secrets are %d characters, got %d", ErrMalformed, kind, Len, len(s))
	}
	for i := len(kind); i < len(s); i++ {
		if strings.IndexByte(alphabet, s[i]) < 0 {
			return "", fmt.Errorf("%w: unexpected character at position %d", ErrMalformed, i+1)
		}
	}
	if checksum(s[:Len-checksumLen]) != s[Len-checksumLen:] {
		return "", fmt.Errorf("%w: checksum does not match (mistyped or truncated?)", ErrMalformed)
	}
	return kind, nil
}

// Hash is what the database stores for a secret.
func Hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// Hint is the short, safe-to-show tail of a secret used to tell keys apart.
func Hint(s string) string {
	if len(s) < 4 {
		return ""
	}
	return s[len(s)-4:]
}

func checksum(body string) string {
	n := crc32.ChecksumIEEE([]byte(body))
	out := make([]byte, checksumLen)
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = alphabet[n%62]
		n /= 62
	}
	return string(out)
}
