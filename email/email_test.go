package email_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"tinycrm.dev/tinycrm/email"
)

func TestNormalizeAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"spec example", " Alice@Example.com ", "alice@example.com"},
		{"already normal", "alice@example.com", "alice@example.com"},
		{"tabs and newlines around", "\t\nbob@example.org\r\n", "bob@example.org"},
		{"unicode space around", "\u00a0\u3000bob@example.org\u2003", "bob@example.org"},
		{"uppercase everything", "BOB.SMITH@EXAMPLE.CO.UK", "bob.smith@example.co.uk"},
		{"gmail dots kept", "a.b+x@gmail.com", "a.b+x@gmail.com"},
		{"plus tag kept", "Alice+News@Example.com", "alice+news@example.com"},
		{"all atext specials", "!#$%&'*+-/=?^_`{|}~@example.com", "!#$%&'*+-/=?^_`{|}~@example.com"},
		{"digits", "1234@example.com", "1234@example.com"},
		{"idn domain", "hans@bücher.de", "hans@xn--bcher-kva.de"},
		{"idn domain uppercase", "HANS@BÜCHER.DE", "hans@xn--bcher-kva.de"},
		{"idn domain decomposed", "hans@bu\u0308cher.de", "hans@xn--bcher-kva.de"},
		{"punycode stays", "hans@xn--bcher-kva.de", "hans@xn--bcher-kva.de"},
		{"punycode uppercase", "hans@XN--BCHER-KVA.DE", "hans@xn--bcher-kva.de"},
		{"idn tld", "a@example.рф", "a@example.xn--p1ai"},
		{"ideographic full stop", "a@example\u3002com", "a@example.com"},
		{"sharp s kept nontransitional", "a@faß.de", "a@xn--fa-hia.de"},
		{"fullwidth domain mapped", "a@ＥＸＡＭＰＬＥ.com", "a@example.com"},
		{"double hyphen label", "a@r3---sn-abc.example.com", "a@r3---sn-abc.example.com"},
		{"hyphen inside label", "a@my-shop.example", "a@my-shop.example"},
		{"numeric label not last", "a@123.example.com", "a@123.example.com"},
		{"unicode local part", "Jörg@Example.com", "jörg@example.com"},
		{"unicode local part nfd", "Jo\u0308rg@example.com", "jörg@example.com"},
		{"cyrillic local part", "Пользователь@Пример.рф", "пользователь@xn--e1afmkfd.xn--p1ai"},
		{"cjk local part", "用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v"},
		{"devanagari with marks", "अजय@example.com", "अजय@example.com"},
		{"hindi vowel sign", "कि@example.com", "कि@example.com"},
		{"lowercase composes", "W\u030a@example.com", "\u1e98@example.com"},
		{"kelvin sign", "\u212a@example.com", "k@example.com"},
		{"capital sharp s", "\u1e9e@example.com", "ß@example.com"},
		{"dotted capital i", "\u0130@example.com", "i@example.com"},
		{"single letter parts", "a@b.co", "a@b.co"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := email.Normalize(tt.in)
			if err != nil {
				t.Fatalf("Normalize(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			again, err := email.Normalize(got)
			if err != nil || again != got {
				t.Fatalf("Normalize(%q) = %q, %v; want it unchanged", got, again, err)
			}
		})
	}
}

func TestNormalizeNFCAndNFDGiveSameKey(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{
		"Zoë.Renée@Café.example",
		"Ångström@Ärger.de",
		"Đặng.Thị@việtnam.vn",
		"한국어@도메인.한국",
		"ñandú@español.es",
	} {
		nfc, nfd := norm.NFC.String(addr), norm.NFD.String(addr)
		if nfc == nfd {
			t.Fatalf("test input %q has no decomposable characters", addr)
		}
		a, errA := email.Normalize(nfc)
		b, errB := email.Normalize(nfd)
		if errA != nil || errB != nil {
			t.Fatalf("Normalize(%q): %v; Normalize(NFD): %v", addr, errA, errB)
		}
		if a != b {
			t.Errorf("NFC form gives %q, NFD form gives %q", a, b)
		}
		if c, err := email.Normalize(norm.NFKC.String(strings.ToUpper(nfd))); err != nil || c != a {
			t.Errorf("uppercase form gives %q, %v; want %q", c, err, a)
		}
	}
}

func TestNormalizeRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		// wantMsg is a fragment the message must contain so the user knows
		// what to fix.
		wantMsg string
	}{
		{"empty", "", "empty"},
		{"only spaces", "   \t ", "empty"},
		{"invalid utf8", "a\xff@example.com", "UTF-8"},
		{"display name", "Alice <alice@example.com>", "display names"},
		{"quoted display name", `"Alice Chen" <alice@example.com>`, "display names"},
		{"angle brackets around", "<alice@example.com>", "angle brackets"},
		{"stray angle bracket", "alice>@example.com", "angle brackets"},
		{"quoted local part", `"a b"@example.com`, "quoted local parts"},
		{"quoted local no space", `"ab"@example.com`, "quoted local parts"},
		{"ip literal", "a@[1.2.3.4]", "IP-address"},
		{"ipv6 literal", "a@[IPv6:2001:db8::1]", "IP-address"},
		{"square brackets elsewhere", "a[1]@example.com", "square brackets"},
		{"bare ip domain", "a@1.2.3.4", "IP-address"},
		{"numeric tld", "a@example.123", "all digits"},
		{"comment", "alice(work)@example.com", "comments"},
		{"comment in domain", "alice@(c)example.com", "comments"},
		{"space inside", "ali ce@example.com", "space"},
		{"space before at", "alice @example.com", "space"},
		{"tab inside", "alice\t@example.com", "space"},
		{"nbsp inside", "alice\u00a0x@example.com", "space"},
		{"newline inside", "alice@exa\nmple.com", "line break"},
		{"control char", "ali\x00ce@example.com", "control character"},
		{"escape char", "alice@example.com\x1b", "control character"},
		{"del char", "ali\x7fce@example.com", "control character"},
		{"missing at", "alice.example.com", "missing @"},
		{"two ats", "alice@bob@example.com", "more than one @"},
		{"list of addresses", "a@example.com,b@example.com", "list of addresses"},
		{"list with semicolon", "a@example.com; b@example.com", "list of addresses"},
		{"fullwidth at is no at", "alice＠example.com", "missing @"},
		{"empty local", "@example.com", "nothing before the @"},
		{"empty domain", "alice@", "nothing after the @"},
		{"only at", "@", "nothing before the @"},
		{"leading dot local", ".alice@example.com", "cannot start with a dot"},
		{"trailing dot local", "alice.@example.com", "cannot end with a dot"},
		{"double dot local", "al..ice@example.com", "two dots in a row"},
		{"backslash", `ali\ce@example.com`, `'\\' is not allowed`},
		{"comma local", "ali,ce@example.com", `',' is not allowed`},
		{"colon local", "mailto:alice@example.com", `':' is not allowed`},
		{"symbol in local", "♥@example.com", "is not allowed before the @"},
		{"zero width space local", "ali\u200bce@example.com", "U+200B"},
		{"bidi override local", "ali\u202ece@example.com", "U+202E"},
		{"leading combining mark", "\u0301a@example.com", "combining mark"},
		{"mark after dot", "a.\u0301b@example.com", "combining mark"},
		{"no dot in domain", "alice@localhost", "domain needs a dot"},
		{"no dot idn domain", "alice@bücher", "domain needs a dot"},
		{"leading dot domain", "alice@.example.com", "domain cannot start with a dot"},
		{"trailing dot domain", "alice@example.com.", "domain cannot end with a dot"},
		{"trailing ideographic dot", "alice@example.com\u3002", "domain cannot end with a dot"},
		{"double dot domain", "alice@example..com", "two dots in a row"},
		{"underscore domain", "alice@ex_ample.com", `'_' is not allowed in the domain`},
		{"leading hyphen label", "alice@-example.com", "hyphen"},
		{"trailing hyphen label", "alice@example-.com", "hyphen"},
		{"bad punycode", "alice@xn--zz-.com", "hyphen"},
		{"invalid punycode", "alice@xn--a.com", "not a valid internationalized domain"},
		{"punycode of ascii", "alice@xn--abc-.com", "hyphen"},
		{"symbol in idn domain", "alice@ex♥ample.com", "not allowed in a domain name"},
		{"bidi domain mix", "alice@aא.com", "not a valid internationalized domain"},
		{"label too long", "a@" + strings.Repeat("x", 64) + ".com", "longer than 63"},
		{"idn label too long", "a@" + strings.Repeat("ü", 60) + ".com", "longer than 63"},
		{"local 65 bytes", strings.Repeat("a", 65) + "@example.com", "local part longer than 64 bytes"},
		{"local 65 bytes after nfc", strings.Repeat("a", 63) + "ü@example.com", "local part longer than 64 bytes"},
		{"total 255 bytes", strings.Repeat("a", 64) + "@" + domainOfLen(190), "longer than 254 bytes"},
		{"huge input", strings.Repeat("a", 100000) + "@example.com", "longer than 254 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := email.Normalize(tt.in)
			if err == nil {
				t.Fatalf("Normalize(%q) = %q, want an error mentioning %q", tt.in, got, tt.wantMsg)
			}
			if got != "" {
				t.Errorf("Normalize(%q) returned %q with its error; want \"\"", tt.in, got)
			}
			if !errors.Is(err, email.ErrInvalid) {
				t.Errorf("Normalize(%q) error %v does not wrap ErrInvalid", tt.in, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "email: ") {
				t.Errorf("message %q does not start with \"email: \"", msg)
			}
			if !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("Normalize(%q) error %q, want it to mention %q", tt.in, msg, tt.wantMsg)
			}
		})
	}
}

// domainOfLen returns a valid ASCII domain of exactly n bytes (n >= 5).
func domainOfLen(n int) string {
	var b strings.Builder
	for n-b.Len() > 4+63 {
		b.WriteString(strings.Repeat("d", 62) + ".")
	}
	b.WriteString(strings.Repeat("d", n-b.Len()-4))
	b.WriteString(".com")
	return b.String()
}

func TestNormalizeLengthBoundaries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"local 64", strings.Repeat("a", 64) + "@example.com", true},
		{"local 65", strings.Repeat("a", 65) + "@example.com", false},
		{"local 64 bytes of unicode", strings.Repeat("ü", 32) + "@example.com", true},
		{"local 66 bytes of unicode", strings.Repeat("ü", 33) + "@example.com", false},
		{"local 64 after lowercasing shrinks", strings.Repeat("\u212a", 64) + "@example.com", true},
		{"total 254", strings.Repeat("a", 64) + "@" + domainOfLen(189), true},
		{"total 255", strings.Repeat("a", 64) + "@" + domainOfLen(190), false},
		{"total 254 with short local", "a@" + domainOfLen(252), true},
		{"total 255 with short local", "a@" + domainOfLen(253), false},
		{"label 63", "a@" + strings.Repeat("x", 63) + ".com", true},
		{"label 64", "a@" + strings.Repeat("x", 64) + ".com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := email.Normalize(tt.in)
			if tt.ok && err != nil {
				t.Fatalf("Normalize(%d bytes) error: %v", len(tt.in), err)
			}
			if !tt.ok && err == nil {
				t.Fatalf("Normalize(%d bytes) = %d bytes, want an error", len(tt.in), len(got))
			}
			if tt.ok && len(got) > email.MaxLength {
				t.Fatalf("Normalize returned %d bytes", len(got))
			}
		})
	}
	if n := len(domainOfLen(189)); n != 189 {
		t.Fatalf("domainOfLen(189) has %d bytes", n)
	}
}

// TestNormalizeEveryRune feeds each Unicode code point through both halves of
// an address and checks that whatever is accepted is a stable key. It is the
// exhaustive companion of FuzzNormalize for single characters (of the planes
// where characters are assigned).
func TestNormalizeEveryRune(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("exhaustive rune scan skipped in -short mode")
	}
	for r := rune(0); r <= utf8.MaxRune; r++ {
		// Planes 4 to 13 are unassigned and 15 and 16 are private use;
		// skipping them keeps the scan quick under -race.
		if r == 0x40000 {
			r = 0xE0000
		}
		if r == 0xF0000 {
			break
		}
		if !utf8.ValidRune(r) {
			continue
		}
		c := string(r)
		for _, in := range []string{"x" + c + "@example.com", "x@x" + c + ".com", c + "@a.com"} {
			out, err := email.Normalize(in)
			if err != nil {
				continue
			}
			checkKey(t, in, out)
		}
	}
}

// checkKey asserts the properties every key Normalize returns must have.
func checkKey(t *testing.T, in, out string) {
	t.Helper()
	if len(out) > email.MaxLength {
		t.Fatalf("Normalize(%q) = %q: %d bytes", in, out, len(out))
	}
	if strings.Count(out, "@") != 1 {
		t.Fatalf("Normalize(%q) = %q: not exactly one @", in, out)
	}
	local, domain, _ := strings.Cut(out, "@")
	if local == "" || domain == "" || len(local) > email.MaxLocalLength {
		t.Fatalf("Normalize(%q) = %q: bad local part or domain", in, out)
	}
	for i := 0; i < len(domain); i++ {
		if c := domain[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			t.Fatalf("Normalize(%q) = %q: domain is not lowercase ASCII", in, out)
		}
	}
	if !strings.Contains(domain, ".") {
		t.Fatalf("Normalize(%q) = %q: domain without a dot", in, out)
	}
	if strings.ToLower(out) != out {
		t.Fatalf("Normalize(%q) = %q: not lowercase-stable", in, out)
	}
	if !norm.NFC.IsNormalString(out) {
		t.Fatalf("Normalize(%q) = %q: not NFC", in, out)
	}
	again, err := email.Normalize(out)
	if err != nil {
		t.Fatalf("Normalize(%q) = %q, but Normalize(%q) fails: %v", in, out, out, err)
	}
	if again != out {
		t.Fatalf("Normalize(%q) = %q, but Normalize(%q) = %q", in, out, out, again)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		" Alice@Example.com ",
		"a.b+x@gmail.com",
		"hans@bücher.de",
		"hans@bu\u0308cher.de",
		"hans@xn--bcher-kva.de",
		"Alice <alice@example.com>",
		`"a b"@example.com`,
		"a@[1.2.3.4]",
		"a@1.2.3.4",
		"alice(comment)@example.com",
		"al..ice@example.com",
		".a@example.com",
		"a@example..com",
		"a@example.com.",
		"a@localhost",
		"a@@example.com",
		"@",
		"",
		"Пользователь@Пример.рф",
		"用户@例子.广告",
		"W\u030a@example.com",
		"\u212a@example.com",
		"a@example\u3002com",
		"a@exa\u00admple.com",
		"a@r3---sn-abc.example.com",
		"a@xn--a.com",
		"a@faß.de",
		"a@aא.com",
		"अजय@example.com",
		strings.Repeat("a", 64) + "@" + domainOfLen(189),
		strings.Repeat("a", 65) + "@example.com",
		"a\xff@example.com",
		"a\x00@example.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := email.Normalize(in)
		if err != nil {
			if out != "" {
				t.Fatalf("Normalize(%q) = %q with error %v", in, out, err)
			}
			if !errors.Is(err, email.ErrInvalid) {
				t.Fatalf("Normalize(%q) error %v does not wrap ErrInvalid", in, err)
			}
			return
		}
		checkKey(t, in, out)
	})
}
