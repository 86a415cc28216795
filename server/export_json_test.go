package server

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"tinycrm.dev/tinycrm/store"
)

// encodeCustomer is what the JSONL export wrote before appendCustomerJSON,
// and the reference it must match byte for byte.
func encodeCustomer(c store.Customer) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(c)
	return buf.Bytes(), err
}

// checkSameJSON fails unless appendCustomerJSON writes what encoding/json
// writes for c, or declines exactly where encoding/json fails.
func checkSameJSON(t *testing.T, c store.Customer) {
	t.Helper()
	want, wantErr := encodeCustomer(c)
	prefix := []byte("prefix")
	got, ok := appendCustomerJSON(prefix, c)
	if wantErr != nil {
		if ok {
			t.Fatalf("encoding/json failed (%v) but appendCustomerJSON wrote %q", wantErr, got)
		}
		if string(got) != "prefix" {
			t.Fatalf("appendCustomerJSON declined but left %q, want the prefix untouched", got)
		}
		return
	}
	if !ok {
		t.Fatalf("appendCustomerJSON declined a customer encoding/json writes as %q", want)
	}
	if !bytes.Equal(got[len(prefix):], want) || string(got[:len(prefix)]) != "prefix" {
		t.Fatalf("output differs\n got: %q\nwant: %q", got[len(prefix):], want)
	}
}

func sampleCustomer() store.Customer {
	at := time.Date(2024, 3, 5, 7, 9, 11, 0, time.UTC)
	return store.Customer{
		ID: 42, Email: "ada@example.com", Name: "Ada Lovelace",
		FirstSeen: at, LastSeen: at.Add(90 * time.Minute),
		ProjectCount: 2, MRRTotal: 28,
		Projects: []store.Membership{
			{Slug: "app", Name: "App", Color: "#ff8800", Status: "active", Params: json.RawMessage(`{"mrr": 9, "plan": "pro"}`), FirstSeen: at, LastSeen: at},
			{Slug: "web", Name: "Web", Color: "", Status: "", Params: nil, FirstSeen: at, LastSeen: at},
		},
	}
}

func TestAppendCustomerJSON(t *testing.T) {
	t.Parallel()
	berlin := time.FixedZone("CET", 3600)
	odd := time.FixedZone("LMT", 3600+30) // offset with seconds: MarshalJSON rejects it
	tests := []struct {
		name string
		edit func(*store.Customer)
	}{
		{"plain", func(*store.Customer) {}},
		{"unicode", func(c *store.Customer) { c.Name = "Zoë Ångström 日本語 Ελληνικά" }},
		{"emoji", func(c *store.Customer) { c.Name = "🚀 rocket 👩‍👩‍👧 family"; c.Projects[0].Name = "🎉" }},
		{"quotes and backslashes", func(c *store.Customer) { c.Name = `say "hi" \ back\slash \"` }},
		{"control characters", func(c *store.Customer) {
			c.Name = "a\x00b\x01c\x1fd\be\ff\ng\rh\ti\x7fj"
			c.Projects[0].Status = "\x0b\x0e"
		}},
		{"html characters stay", func(c *store.Customer) { c.Email = "<a href='x'>&amp;</a>@example.com" }},
		{"line and paragraph separators", func(c *store.Customer) { c.Name = "a\u2028b\u2029c\u2027d\u202ae" }},
		{"invalid utf-8", func(c *store.Customer) {
			c.Name = "bad\xffbyte\xc3(\xe2\x82end\xed\xa0\x80\xf0"
			c.Projects[0].Slug = "\x80"
		}},
		{"replacement character itself", func(c *store.Customer) { c.Name = "\ufffd" }},
		{"empty strings", func(c *store.Customer) { c.Email, c.Name = "", "" }},
		{"empty projects", func(c *store.Customer) { c.Projects = []store.Membership{} }},
		{"nil projects", func(c *store.Customer) { c.Projects = nil }},
		{"empty params object", func(c *store.Customer) { c.Projects[0].Params = json.RawMessage(`{}`) }},
		{"null params", func(c *store.Customer) { c.Projects[0].Params = json.RawMessage(`null`) }},
		{"empty non-nil params", func(c *store.Customer) { c.Projects[0].Params = json.RawMessage{} }},
		{"invalid params", func(c *store.Customer) { c.Projects[1].Params = json.RawMessage(`{"a": }`) }},
		{"params with spaced strings", func(c *store.Customer) {
			c.Projects[0].Params = json.RawMessage("{\"a b\": \"c \\\" d\\\\\", \"e\":\t[1, 2.50, -3e+10, true, false, null],\n \"f\": {\"g\" : \"\u2028<&>\"}}")
		}},
		{"params with invalid utf-8 in a string", func(c *store.Customer) {
			c.Projects[0].Params = json.RawMessage("{\"a\": \"\xff\"}")
		}},
		{"params scalar", func(c *store.Customer) { c.Projects[0].Params = json.RawMessage(` 17 `) }},
		{"mrr 0", func(c *store.Customer) { c.MRRTotal = 0 }},
		{"mrr negative zero", func(c *store.Customer) { c.MRRTotal = math.Copysign(0, -1) }},
		{"mrr 9", func(c *store.Customer) { c.MRRTotal = 9 }},
		{"mrr 19.5", func(c *store.Customer) { c.MRRTotal = 19.5 }},
		{"mrr 0.1+0.2", func(c *store.Customer) { c.MRRTotal = 0.1 + 0.2 }},
		{"mrr 123456789.125", func(c *store.Customer) { c.MRRTotal = 123456789.125 }},
		{"mrr 1e20", func(c *store.Customer) { c.MRRTotal = 1e20 }},
		{"mrr just under 1e21", func(c *store.Customer) { c.MRRTotal = math.Nextafter(1e21, 0) }},
		{"mrr 1e21", func(c *store.Customer) { c.MRRTotal = 1e21 }},
		{"mrr -1e21", func(c *store.Customer) { c.MRRTotal = -1e21 }},
		{"mrr 1e-6", func(c *store.Customer) { c.MRRTotal = 1e-6 }},
		{"mrr 1e-7", func(c *store.Customer) { c.MRRTotal = 1e-7 }},
		{"mrr -1.5e-9", func(c *store.Customer) { c.MRRTotal = -1.5e-9 }},
		{"mrr 1e-100", func(c *store.Customer) { c.MRRTotal = 1e-100 }},
		{"mrr max", func(c *store.Customer) { c.MRRTotal = math.MaxFloat64 }},
		{"mrr smallest", func(c *store.Customer) { c.MRRTotal = math.SmallestNonzeroFloat64 }},
		{"mrr NaN", func(c *store.Customer) { c.MRRTotal = math.NaN() }},
		{"mrr infinity", func(c *store.Customer) { c.MRRTotal = math.Inf(-1) }},
		{"negative ids and counts", func(c *store.Customer) { c.ID, c.ProjectCount = math.MinInt64, -1 }},
		{"max id", func(c *store.Customer) { c.ID = math.MaxInt64 }},
		{"sub-second times", func(c *store.Customer) {
			c.FirstSeen = time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)
			c.LastSeen = time.Date(2024, 1, 2, 3, 4, 5, 120000000, time.UTC)
			c.Projects[0].FirstSeen = time.Date(2024, 1, 2, 3, 4, 5, 1000, time.UTC)
			c.Projects[0].LastSeen = time.Date(2024, 1, 2, 3, 4, 5, 1, time.UTC)
		}},
		{"year boundaries", func(c *store.Customer) {
			c.FirstSeen = time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC)
			c.LastSeen = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
			c.Projects[0].FirstSeen = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
			c.Projects[0].LastSeen = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
		}},
		{"zero time", func(c *store.Customer) { c.FirstSeen, c.Projects[1].LastSeen = time.Time{}, time.Time{} }},
		{"with monotonic reading", func(c *store.Customer) { c.LastSeen = time.Now().UTC() }},
		{"local offset", func(c *store.Customer) { c.FirstSeen = time.Date(2024, 6, 1, 12, 0, 0, 5e8, berlin) }},
		{"offset with seconds", func(c *store.Customer) { c.FirstSeen = time.Date(2024, 6, 1, 12, 0, 0, 0, odd) }},
		{"year 10000", func(c *store.Customer) { c.LastSeen = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"year -1", func(c *store.Customer) { c.Projects[1].FirstSeen = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"long string", func(c *store.Customer) { c.Name = string(bytes.Repeat([]byte("é\"x\u2028"), 2000)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := sampleCustomer()
			tt.edit(&c)
			checkSameJSON(t, c)
		})
	}
}

// TestAppendCustomerJSONStrings runs every byte and a few awkward sequences
// through each string field.
func TestAppendCustomerJSONStrings(t *testing.T) {
	t.Parallel()
	var inputs []string
	for b := range 256 {
		inputs = append(inputs, string([]byte{byte(b)}), "x"+string([]byte{byte(b)})+"y")
	}
	inputs = append(inputs, "\xe2\x80", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xaa", "\xf4\x90\x80\x80", "\xef\xbf\xbd", "\xc0\xaf", "\U0010ffff")
	for _, s := range inputs {
		c := sampleCustomer()
		c.Email, c.Name = s, s
		c.Projects[0].Slug, c.Projects[0].Name, c.Projects[0].Color, c.Projects[0].Status = s, s, s, s
		checkSameJSON(t, c)
	}
}

func FuzzAppendCustomerJSON(f *testing.F) {
	f.Add("ada@example.com", "Ada", "active", "app", []byte(`{"mrr": 9, "plan": "pro"}`), int64(1), 19.5, int64(1700000000), int64(0))
	f.Add("", "\u2028\xff\"\\", "", "", []byte(nil), int64(-1), 1e21, int64(0), int64(123456789))
	f.Add("x", "y", "z", "w", []byte(" [1 , \"a \\\" b\" , {} ] "), int64(0), 1e-7, int64(253402300799), int64(999999999))
	f.Fuzz(func(t *testing.T, email, name, status, slug string, params []byte, id int64, mrr float64, sec, nsec int64) {
		var raw json.RawMessage
		if params != nil {
			if !json.Valid(params) {
				t.Skip()
			}
			raw = params
		}
		at := time.Unix(sec, nsec).UTC()
		c := store.Customer{
			ID: id, Email: email, Name: name,
			FirstSeen: at, LastSeen: at.Add(time.Duration(nsec)),
			ProjectCount: int(id % 1000), MRRTotal: mrr,
			Projects: []store.Membership{
				{Slug: slug, Name: name, Color: email, Status: status, Params: raw, FirstSeen: at, LastSeen: at},
				{Slug: status, Name: slug, Status: "", Params: json.RawMessage(`{}`), FirstSeen: at, LastSeen: at},
			},
		}
		checkSameJSON(t, c)
	})
}

func BenchmarkEncoderCustomer(b *testing.B) {
	c := sampleCustomer()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := enc.Encode(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendCustomerJSON(b *testing.B) {
	c := sampleCustomer()
	var line []byte
	b.ReportAllocs()
	for b.Loop() {
		var ok bool
		if line, ok = appendCustomerJSON(line[:0], c); !ok {
			b.Fatal("declined")
		}
	}
}
