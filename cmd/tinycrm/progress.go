package main

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/internal/render"
)

// progress draws one status line on stderr, redrawn in place, when stderr
// is a terminal; otherwise it prints nothing. It is safe for concurrent
// use.
type progress struct {
	app     *App
	enabled bool
	start   time.Time
	mu      sync.Mutex
	last    time.Time
	shown   bool
}

// newProgress starts a progress line (shown only on a terminal).
func newProgress(app *App) *progress {
	return &progress{app: app, enabled: app.ErrTTY, start: time.Now()}
}

// Update redraws the line, at most ten times a second unless force.
func (p *progress) Update(line string, force bool) {
	if !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !force && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	p.shown = true
	if w := p.app.ErrWidth; w > 1 {
		// A line that wraps cannot be redrawn in place: "\r" goes back
		// to the start of its last row only, and the rows above stay.
		line = ansi.Truncate(line, w-1, "…")
	}
	fmt.Fprintf(p.app.ErrOut, "\r\x1b[K%s", line)
}

// Done clears the line.
func (p *progress) Done() {
	if !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.app.ErrOut, "\r\x1b[K")
		p.shown = false
	}
}

// Elapsed is the time since the progress started.
func (p *progress) Elapsed() time.Duration { return time.Since(p.start) }

// rate renders n per second since the start: "8,100 rows/s".
func (p *progress) rate(n int64, unit string) string {
	secs := p.Elapsed().Seconds()
	if secs < 0.2 {
		return ""
	}
	return render.Count(int64(float64(n)/secs)) + " " + unit + "/s"
}

// progressBar draws a fraction 0..1 as a bar of width cells with the
// percentage: "[██████░░░░]  60%".
func progressBar(frac float64, width int) string {
	frac = min(max(frac, 0), 1)
	full := int(frac * float64(width))
	return "[" + strings.Repeat("█", full) + strings.Repeat("░", width-full) + "] " + fmt.Sprintf("%3.0f%%", frac*100)
}

// byteSize renders a byte count: "812 B", "1.2 MB".
func byteSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1000)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}
