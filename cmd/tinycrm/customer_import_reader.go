package main

import (
	"bufio"
	"bytes"
	"io"
)

// maxRecordBytes bounds one CSV record of an import. A row that can land
// is far smaller (its identify call may take 32 KiB); the bound is there so
// that one huge cell, or a quote left open that runs to the end of the
// file, costs a rejected row instead of the memory it would take.
const maxRecordBytes = 1 << 20

// utf8BOM is the byte order mark spreadsheets put before a CSV file.
var utf8BOM = []byte("\ufeff")

// csvState is where a byte falls in a record, by the rules encoding/csv
// reads a file with (comma-separated, quotes not lazy).
type csvState uint8

const (
	stFieldStart csvState = iota // at the start of a field
	stUnquoted                   // in a field that does not start with a quote
	stQuoted                     // in a quoted field
	stQuote                      // after a quote in a quoted field: its end, or the first of ""
	stBad                        // after a quote csv refuses, which drops the rest of the line
)

// cutRecord is a record that recordReader left out.
type cutRecord struct {
	line int   // its first line
	size int64 // its length in bytes
}

// recordReader is an import's CSV file as encoding/csv should see it: a
// leading UTF-8 BOM is dropped (so a quoted first header still parses), and
// a record longer than max bytes is left out and listed in cut. In its
// place come as many empty lines as it spanned, which csv skips but
// counts, so the lines of later records keep their numbers. Records are
// handed on whole, so a record is held until it ends, and never more than
// max bytes of it: memory stays bounded whatever a cell holds, and the
// record after a cut one is read as usual, even when the cut one had
// quoted line breaks.
type recordReader struct {
	src   *bufio.Reader
	max   int64
	chunk []byte
	// buf[off:ready] are whole records to hand on; buf[ready:] is the
	// start of the record being read, unless skipping.
	buf        []byte
	off, ready int
	state      csvState
	line       int   // the line of the next byte
	start      int   // the first line of the record being read
	size       int64 // the bytes of the record being read so far
	newlines   int   // the line breaks of the record being read so far
	skipping   bool  // the record being read is longer than max: it is dropped
	cut        []cutRecord
	started    bool  // the BOM check is done
	err        error // the source's error, returned once buf is handed on
}

// newRecordReader reads r, leaving out records longer than max bytes.
func newRecordReader(r io.Reader, max int64) *recordReader {
	return &recordReader{src: bufio.NewReaderSize(r, 64<<10), max: max, chunk: make([]byte, 64<<10), line: 1, start: 1}
}

// Read hands on the bytes of records that have ended.
func (r *recordReader) Read(p []byte) (int, error) {
	for r.off == r.ready {
		if r.err != nil {
			return 0, r.err
		}
		r.fill()
	}
	n := copy(p, r.buf[r.off:r.ready])
	r.off += n
	return n, nil
}

// takeCut returns the records left out since the last call.
func (r *recordReader) takeCut() []cutRecord {
	c := r.cut
	r.cut = nil
	return c
}

// fill reads one chunk of the source.
func (r *recordReader) fill() {
	// Everything before ready has been handed on: keep the partial record.
	r.buf = r.buf[:copy(r.buf, r.buf[r.ready:])]
	r.off, r.ready = 0, 0
	if !r.started {
		r.started = true
		if b, _ := r.src.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
			r.src.Discard(len(utf8BOM)) // cannot fail: the bytes are buffered
		}
	}
	n, err := r.src.Read(r.chunk)
	from := 0 // the start of the chunk's bytes not yet in buf
	for i, b := range r.chunk[:n] {
		r.size++
		if b == '\n' {
			r.line++
			r.newlines++
		}
		end := r.step(b)
		if !r.skipping && r.size > r.max {
			r.skipping = true
			r.buf = r.buf[:r.ready]
		}
		if end {
			if !r.skipping {
				r.buf = append(r.buf, r.chunk[from:i+1]...)
			}
			from = i + 1
			r.endRecord()
		}
	}
	if !r.skipping {
		r.buf = append(r.buf, r.chunk[from:n]...)
	}
	if err != nil {
		if r.size > 0 {
			r.endRecord() // the last record, without a line break
		}
		r.ready = len(r.buf)
		r.err = err
	}
}

// endRecord closes the record being read: it is handed on whole, or, if
// too long, replaced by its line breaks and listed in cut.
func (r *recordReader) endRecord() {
	if r.skipping {
		r.cut = append(r.cut, cutRecord{line: r.start, size: r.size})
		r.buf = append(r.buf, bytes.Repeat([]byte{'\n'}, r.newlines)...)
		r.skipping = false
	}
	r.ready = len(r.buf)
	r.state = stFieldStart
	r.size, r.newlines, r.start = 0, 0, r.line
}

// step moves the state over byte b and reports whether b ended the record.
func (r *recordReader) step(b byte) bool {
	switch r.state {
	case stFieldStart, stUnquoted:
		switch {
		case b == '\n':
			return true
		case b == ',':
			r.state = stFieldStart
		case b == '"' && r.state == stFieldStart:
			r.state = stQuoted
		case b == '"':
			r.state = stBad // a bare quote
		default:
			r.state = stUnquoted
		}
	case stQuoted:
		if b == '"' {
			r.state = stQuote
		}
	case stQuote:
		switch b {
		case '"':
			r.state = stQuoted
		case ',':
			r.state = stFieldStart
		case '\n':
			return true
		default:
			// csv refuses the quote (or, for "\r\n, ends the record):
			// either way the record ends with the line.
			r.state = stBad
		}
	case stBad:
		return b == '\n'
	}
	return false
}
