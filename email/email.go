// Package email turns a user-supplied email address into the merge key that
// TinyCRM uses to recognise one person across projects (SPEC §2, "Email
// normalization").
//
// The key is the address trimmed, in Unicode NFC, lowercased, with the domain
// in IDNA ASCII form. Only a bare addr-spec is accepted: display names, angle
// brackets, quoted local parts, comments and IP-literal domains are refused
// with an error a user can act on.
//
// The package must not guess: it never folds provider-specific variants
// (dots or "+tags" in Gmail addresses) into one key, never repairs an input by
// dropping parts of it (a display name is refused, not stripped), and never
// looks anything up on the network (no DNS, no MX checks). It holds no state
// and is safe for concurrent use.
package email

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Length limits from RFC 5321 §4.5.3.1 (path limit minus the angle brackets)
// and RFC 1035, measured in bytes of the normalized address.
const (
	// MaxLength is the longest normalized address Normalize accepts.
	MaxLength = 254
	// MaxLocalLength is the longest normalized local part (before the @).
	MaxLocalLength = 64

	maxDomainLength = 253
	maxLabelLength  = 63

	// maxInputLength bounds the work done on hostile input. It is four times
	// MaxLength because normalization can shrink text (NFC composes Hangul
	// jamo to a third of their bytes, and turns the three-byte KELVIN SIGN
	// into "K"), so the real limit is checked afterwards. Only an address padded with characters
	// IDNA ignores (such as soft hyphens) could shrink further; refusing one
	// of those as too long is fine.
	maxInputLength = 4 * MaxLength
)

// ErrInvalid is wrapped by every error that Normalize returns, so callers can
// tell a bad address (a client error) from anything else with errors.Is.
var ErrInvalid = errors.New("email: invalid address")

// invalidError carries a reason written for the person who typed the address.
type invalidError struct{ reason string }

func (e *invalidError) Error() string { return "email: " + e.reason }
func (e *invalidError) Unwrap() error { return ErrInvalid }

// badIDN is the reason given when IDNA refuses a domain. It does not quote
// the domain, which may be a kilobyte of combining marks, nor IDNA's own
// error, which is written for implementers.
const badIDN = "the domain is not a valid internationalized domain name"

func invalid(format string, args ...any) error {
	return &invalidError{reason: fmt.Sprintf(format, args...)}
}

// profile converts domains to their ASCII form. It follows idna.Lookup
// (UTS #46 mapping, non-transitional so "ß" stays distinct from "ss", STD3
// host name rules, joiner and Bidi rules, validation of xn-- labels) except
// that "--" in the third and fourth position of a label is allowed, as web
// browsers allow it (hosts like "r3---sn-abc.example.com" exist). Lengths,
// empty labels and leading or trailing hyphens are checked by this package
// so the error can say which rule was broken. It is never modified.
var profile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.CheckHyphens(false),
	idna.VerifyDNSLength(false),
)

// Normalize returns the merge key for the email address s, or an error that
// wraps ErrInvalid and says what is wrong in words a user understands.
//
// The key is s with surrounding white space removed, in Unicode NFC,
// lowercased, with the domain converted to IDNA ASCII ("bücher.de" becomes
// "xn--bcher-kva.de"). s must be a bare addr-spec: "Name <a@b.com>", quoted
// local parts, comments and IP-literal domains are refused. The local part
// may use letters and digits of any script, the RFC 5322 atext symbols
// !#$%&'*+-/=?^_`{|}~ and single dots between other characters. The result
// is at most 254 bytes, its local part at most 64 bytes, and its domain is a
// valid host name with at least one dot. Dots and "+tags" are kept as given.
//
// Normalize is idempotent: a key it returns normalizes to itself.
func Normalize(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", invalid("address is empty")
	case len(s) > maxInputLength:
		return "", invalid("address longer than %d bytes", MaxLength)
	case !utf8.ValidString(s):
		return "", invalid("address is not valid UTF-8 text")
	}
	// Lowercasing can produce a sequence that NFC composes further (as with
	// "W" + combining ring above, whose lowercase has a precomposed form), so
	// NFC is applied again afterwards to make the key stable.
	s = norm.NFC.String(strings.ToLower(norm.NFC.String(s)))

	// Every check runs on the normalized text, because NFC can turn one
	// character into another (U+037E GREEK QUESTION MARK becomes ";").
	if err := checkForm(s); err != nil {
		return "", err
	}
	at := strings.IndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if err := checkLocal(local); err != nil {
		return "", err
	}
	domain, err := asciiDomain(domain)
	if err != nil {
		return "", err
	}
	key := local + "@" + domain
	if len(key) > MaxLength {
		return "", invalid("address longer than %d bytes (it has %d)", MaxLength, len(key))
	}
	return key, nil
}

// checkForm refuses the things that make s something other than one bare
// addr-spec, naming the most likely mistake first.
func checkForm(s string) error {
	if strings.ContainsAny(s, "<>") {
		lt := strings.IndexByte(s, '<')
		switch {
		case lt > 0 && strings.HasSuffix(s, ">"):
			return invalid(`display names like "Name <a@b>" are not accepted; send the bare address`)
		case lt == 0 && strings.HasSuffix(s, ">"):
			return invalid("remove the angle brackets < > around the address")
		default:
			return invalid("angle brackets < > are not allowed")
		}
	}
	if strings.ContainsRune(s, '"') {
		return invalid(`quoted local parts like "john doe"@example.com are not accepted`)
	}
	if strings.ContainsAny(s, "()") {
		return invalid("comments in parentheses are not accepted; send the bare address")
	}
	if strings.ContainsAny(s, "[]") {
		if strings.Contains(s, "@[") {
			return invalid("IP-address domains like a@[192.0.2.1] are not accepted; use a domain name")
		}
		return invalid("square brackets [ ] are not allowed")
	}
	n := strings.Count(s, "@")
	if n > 1 && strings.ContainsAny(s, ",;") {
		return invalid("looks like a list of addresses; send one address")
	}
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			return invalid("address contains a space or line break; send the bare address")
		case unicode.IsControl(r):
			return invalid("address contains a control character (%U)", r)
		}
	}
	switch {
	case n == 0:
		return invalid("missing @")
	case n > 1:
		return invalid("more than one @; an address has exactly one")
	case s[0] == '@':
		return invalid("nothing before the @")
	case s[len(s)-1] == '@':
		return invalid("nothing after the @")
	}
	return nil
}

// checkLocal validates the part before the @ (already normalized).
func checkLocal(local string) error {
	switch {
	case local[0] == '.':
		return invalid("the part before the @ cannot start with a dot")
	case local[len(local)-1] == '.':
		return invalid("the part before the @ cannot end with a dot")
	case strings.Contains(local, ".."):
		return invalid("the part before the @ cannot contain two dots in a row")
	}
	prev := '.'
	for _, r := range local {
		switch {
		case r < utf8.RuneSelf:
			if !isAtext(byte(r)) && r != '.' {
				return invalid("the character %q is not allowed before the @", r)
			}
		case unicode.IsLetter(r) || unicode.Is(unicode.Nd, r):
		case unicode.IsMark(r):
			// A combining mark modifies the character before it; alone it
			// would render on top of a dot or the start of the address.
			if prev == '.' || !(unicode.IsLetter(prev) || unicode.IsDigit(prev) || unicode.IsMark(prev)) {
				return invalid("combining mark %U must follow a letter or digit", r)
			}
		default:
			return invalid("the character %q (%U) is not allowed before the @", r, r)
		}
		prev = r
	}
	if len(local) > MaxLocalLength {
		return invalid("local part longer than %d bytes (it has %d)", MaxLocalLength, len(local))
	}
	return nil
}

// isAtext reports whether the ASCII byte c may appear in a dot-atom
// (RFC 5322 §3.2.3), dots aside.
func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// asciiDomain validates the part after the @ (already normalized) and returns
// it in IDNA ASCII form.
func asciiDomain(domain string) (string, error) {
	// ASCII labels are checked before IDNA so that the common mistakes get a
	// specific message rather than IDNA's generic refusal.
	if err := checkLabels(domain, true); err != nil {
		return "", err
	}
	a, err := profile.ToASCII(domain)
	if err != nil {
		return "", invalid(badIDN)
	}
	// IDNA mapping may have produced new dots (from "。") or removed
	// characters, so the rules are checked again on what will be stored.
	if err := checkLabels(a, false); err != nil {
		return "", err
	}
	if err := checkULabels(a); err != nil {
		return "", err
	}
	if !strings.Contains(a, ".") {
		return "", invalid("domain needs a dot, as in example.com")
	}
	if len(a) > maxDomainLength {
		return "", invalid("domain longer than %d bytes (it has %d)", maxDomainLength, len(a))
	}
	labels := strings.Split(a, ".")
	if allDigits(labels[len(labels)-1]) {
		for _, l := range labels {
			if !allDigits(l) {
				return "", invalid("the last part of the domain cannot be all digits")
			}
		}
		return "", invalid("IP-address domains like a@192.0.2.1 are not accepted; use a domain name")
	}
	return a, nil
}

// checkLabels applies the host name rules to every label of domain. With
// skipUnicode set, labels with non-ASCII characters are left to IDNA.
func checkLabels(domain string, skipUnicode bool) error {
	switch {
	case domain == "":
		// Only after IDNA dropped ignorable characters such as U+00AD.
		return invalid("nothing after the @ but invisible characters")
	case domain[0] == '.':
		return invalid("the domain cannot start with a dot")
	case domain[len(domain)-1] == '.':
		return invalid("the domain cannot end with a dot")
	case strings.Contains(domain, ".."):
		return invalid("the domain cannot contain two dots in a row")
	}
	for label := range strings.SplitSeq(domain, ".") {
		ascii := true
		for i := 0; i < len(label); i++ {
			if label[i] >= utf8.RuneSelf {
				ascii = false
				break
			}
		}
		if !ascii {
			if skipUnicode {
				continue
			}
			// Unreachable with a correct IDNA profile; refuse rather than
			// store a key that is not ASCII.
			return invalid(badIDN)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return invalid("the character %q is not allowed in the domain; use letters, digits, hyphens and dots", c)
			}
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return invalid("a part of the domain cannot start or end with a hyphen")
		}
		if len(label) > maxLabelLength {
			return invalid("a part of the domain is longer than %d bytes", maxLabelLength)
		}
	}
	return nil
}

// checkULabels validates the ASCII domain a as it will be read back: every
// xn-- label must decode to a label IDNA accepts, and must consist of
// letters, combining marks, digits, hyphens and the few punctuation marks
// IDNA2008 permits in context.
//
// The second pass is needed because the UTS #46 mapping can hide a problem
// from the first one: "ℵ" is a left-to-right symbol that maps to the
// right-to-left letter "א", so "xℵ.com" converts without a Bidi check
// while its ASCII form "xn--x-0hc.com" fails one. Symbols such as "♥" are
// valid under UTS #46 but not under IDNA2008 (RFC 5892), which mail systems
// follow.
func checkULabels(a string) error {
	if !strings.Contains(a, "xn--") {
		return nil
	}
	b, err := profile.ToASCII(a)
	if err != nil || b != a {
		return invalid(badIDN)
	}
	u, err := profile.ToUnicode(a)
	if err != nil {
		return invalid(badIDN)
	}
	for _, r := range u {
		switch {
		case r < utf8.RuneSelf:
			// ASCII was checked by checkLabels.
		case unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.Nd, r):
		case r == '\u00b7', r == '\u0375', r == '\u05f3', r == '\u05f4', r == '\u30fb',
			r == '\u200c', r == '\u200d':
			// CONTEXTO and CONTEXTJ code points (RFC 5892 appendix A); the
			// joiners' context is checked by the profile.
		default:
			return invalid("the character %q (%U) is not allowed in a domain name", r, r)
		}
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
