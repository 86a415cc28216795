package main

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestProgressLineNeverWraps: a progress line wider than the terminal
// wrapped, and redrawing it with "\r" left its first rows behind (the
// demo's seeding bar stayed half-drawn on the screen). It is cut to fit.
func TestProgressLineNeverWraps(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	p := newProgress(&App{ErrOut: &b, ErrTTY: true, ErrWidth: 40})
	p.Update(progressBar(0.23, 20)+" loading customers through the ingest API: 200/887 identifies", true)
	line := strings.TrimPrefix(b.String(), "\r\x1b[K")
	if w := ansi.StringWidth(line); w > 39 || !strings.HasSuffix(line, "…") {
		t.Fatalf("progress line %q is %d cells on a 40-cell terminal", line, w)
	}
}
