package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// csvEntry is one record (or error) as encoding/csv reads it.
type csvEntry struct {
	line   int
	fields string // the fields joined by |, or the error
}

// readCSV reads r the way an import does, as entries.
func readCSV(t *testing.T, r io.Reader) []csvEntry {
	t.Helper()
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	var out []csvEntry
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			out = append(out, csvEntry{line: pe.StartLine, fields: pe.Err.Error()})
		case err != nil:
			t.Fatalf("read: %v", err)
		default:
			line, _ := cr.FieldPos(0)
			out = append(out, csvEntry{line: line, fields: strings.Join(rec, "|")})
		}
	}
}

// The reader changes nothing but a leading BOM and records past its
// limit: whatever the text (broken quotes included), csv reads the same
// records and errors on the same lines through it, less the cut ones.
func TestRecordReaderKeepsCSV(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", ",", `"`, `""`, "\n", "\r\n", "\r", " "}
	for i := range 20000 {
		var b strings.Builder
		for range rng.IntN(60) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		text := b.String()
		want := readCSV(t, strings.NewReader(text))
		max := int64(1 + rng.IntN(12))
		if i%4 == 0 {
			max = 1 << 20
		}
		rr := newRecordReader(iotest.OneByteReader(strings.NewReader("\ufeff"+text)), max)
		got := readCSV(t, rr)
		cut := map[int]bool{}
		for _, c := range rr.takeCut() {
			if c.size <= max {
				t.Fatalf("%q: cut a record of %d bytes, limit %d", text, c.size, max)
			}
			cut[c.line] = true
		}
		var kept []csvEntry
		for _, e := range want {
			if !cut[e.line] {
				kept = append(kept, e)
			}
		}
		if !slices.Equal(got, kept) {
			t.Fatalf("%q with limit %d:\n got %v\nwant %v (cut %v)", text, max, got, kept, cut)
		}
	}
}

// A huge cell, quoted over many lines, is left out, and the lines after it
// keep their numbers.
func TestRecordReaderCutsLongRecord(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat(strings.Repeat("x", 99)+"\n", 1000)
	text := "email,notes\na@x.co,ok\nb@x.co,\"" + huge + "\"\nc@x.co,\"two\nlines\"\nd@x.co,ok"
	rr := newRecordReader(strings.NewReader(text), 4096)
	got := readCSV(t, rr)
	want := []csvEntry{{1, "email|notes"}, {2, "a@x.co|ok"}, {1004, "c@x.co|two\nlines"}, {1006, "d@x.co|ok"}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if c := rr.takeCut(); len(c) != 1 || c[0] != (cutRecord{line: 3, size: int64(len("b@x.co,\"" + huge + "\"\n"))}) {
		t.Errorf("cut %v", c)
	}
	if s := fmt.Sprint(rr.takeCut()); s != "[]" {
		t.Errorf("cut twice: %s", s)
	}
}
