package server

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"tinycrm.dev/tinycrm/store"
)

// appendCustomerJSON appends c as one JSON Lines row, newline included, byte
// for byte what a json.Encoder with SetEscapeHTML(false) writes for it, at a
// fraction of the cost: no reflection and no allocation once dst has grown.
// It reports false, with dst as it was given, when encoding/json would fail
// on c (a time outside years 0-9999, a NaN or infinite mrr_total, params that
// are not valid JSON), so the caller can hand that row to encoding/json and
// get its error unchanged. export_json_test.go holds the two to the same
// bytes, including a fuzz target.
func appendCustomerJSON(dst []byte, c store.Customer) ([]byte, bool) {
	orig := len(dst)
	var ok bool
	dst = strconv.AppendInt(append(dst, `{"id":`...), c.ID, 10)
	dst = appendJSONString(append(dst, `,"email":`...), c.Email)
	dst = appendJSONString(append(dst, `,"name":`...), c.Name)
	if dst, ok = appendJSONTime(append(dst, `,"first_seen":`...), c.FirstSeen); !ok {
		return dst[:orig], false
	}
	if dst, ok = appendJSONTime(append(dst, `,"last_seen":`...), c.LastSeen); !ok {
		return dst[:orig], false
	}
	dst = strconv.AppendInt(append(dst, `,"project_count":`...), int64(c.ProjectCount), 10)
	if dst, ok = appendJSONFloat(append(dst, `,"mrr_total":`...), c.MRRTotal); !ok {
		return dst[:orig], false
	}
	dst = append(dst, `,"projects":`...)
	if c.Projects == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, m := range c.Projects {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(append(dst, `{"slug":`...), m.Slug)
			dst = appendJSONString(append(dst, `,"name":`...), m.Name)
			dst = appendJSONString(append(dst, `,"color":`...), m.Color)
			dst = appendJSONString(append(dst, `,"status":`...), m.Status)
			if dst, ok = appendJSONRaw(append(dst, `,"params":`...), m.Params); !ok {
				return dst[:orig], false
			}
			if dst, ok = appendJSONTime(append(dst, `,"first_seen":`...), m.FirstSeen); !ok {
				return dst[:orig], false
			}
			if dst, ok = appendJSONTime(append(dst, `,"last_seen":`...), m.LastSeen); !ok {
				return dst[:orig], false
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, '}', '\n'), true
}

// appendJSONTime is time.Time.MarshalJSON without its allocation: both use
// the strict RFC 3339 form AppendText writes, and fail where it fails.
func appendJSONTime(dst []byte, t time.Time) ([]byte, bool) {
	out, err := t.AppendText(append(dst, '"'))
	if err != nil {
		return dst, false // AppendText returns nil then
	}
	return append(out, '"'), true
}

// appendJSONFloat formats f as encoding/json does a float64: like ES6
// Number-to-string, 'f' between 1e-6 and 1e21, else 'e' with the exponent
// unpadded (1e-7, not 1e-07).
func appendJSONFloat(dst []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}

// appendJSONRaw appends raw as encoding/json writes a json.RawMessage: null
// when nil, else validated and stripped of the whitespace between tokens
// (what json.Compact does; PostgreSQL prints jsonb as {"a": 1, "b": 2}).
// Bytes inside strings are copied as they are, as json.Compact copies them.
func appendJSONRaw(dst []byte, raw json.RawMessage) ([]byte, bool) {
	if raw == nil {
		return append(dst, "null"...), true
	}
	if !json.Valid(raw) {
		return dst, false
	}
	start, inString := 0, false
	for i := 0; i < len(raw); i++ {
		switch b := raw[i]; {
		case inString:
			if b == '\\' {
				i++ // the escaped byte cannot end the string
			} else if b == '"' {
				inString = false
			}
		case b == '"':
			inString = true
		case b == ' ', b == '\t', b == '\n', b == '\r':
			dst = append(dst, raw[start:i]...)
			start = i + 1
		}
	}
	return append(dst, raw[start:]...), true
}

// jsonSafe marks the ASCII bytes encoding/json copies into a string as they
// are when it does not escape HTML: printable ones other than " and \.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := ' '; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does with SetEscapeHTML(false):
// \" \\ \b \f \n \r \t, \u00XX for the other control bytes, \u2028 and
// \u2029 escaped, and each byte of invalid UTF-8 replaced by \ufffd.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
