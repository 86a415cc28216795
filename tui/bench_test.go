package tui

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"tinycrm.dev/tinycrm/filter"
)

// BenchmarkKeypress measures keypress-to-frame on the customer list: one
// Update and one View per key, over a workload of moves, pages, G and g,
// with a fake source of 1k or 1M customers that answers at once. Metrics:
//
//   - frame-p50-µs, frame-p95-µs, frame-p99-µs: Update + View of the key;
//   - settled-p95-µs: the same plus fetching any page it asked for and
//     drawing again (the fake answers instantly, so this is the TUI's own
//     cost of paging, not the network's);
//   - rows-held-max: the most customers in memory at any time;
//   - heap-KiB: the live heap after the run (after GC).
//
// rows-held-max and heap-KiB do not grow with the number of customers.
func BenchmarkKeypress(b *testing.B) {
	var pattern []tea.KeyPressMsg
	for range 200 {
		pattern = append(pattern, keyMsg("j"))
	}
	for range 3 {
		pattern = append(pattern, keyMsg("pgdown"))
	}
	pattern = append(pattern, keyMsg("G"))
	for range 20 {
		pattern = append(pattern, keyMsg("k"))
	}
	pattern = append(pattern, keyMsg("pgup"), keyMsg("g"))

	for _, n := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("customers=%d", n), func(b *testing.B) {
			src := &fakeSource{n: n, projects: testProjects}
			h := newHarness(b, src, filter.Filter{}, Options{RefreshEvery: -1}, 120, 40)
			frames := make([]time.Duration, 0, b.N)
			settled := make([]time.Duration, 0, b.N)
			held := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				_, cmd := h.m.Update(pattern[i%len(pattern)])
				_ = h.m.View()
				frames = append(frames, time.Since(start))
				if cmd != nil {
					h.run(cmd)
					_ = h.m.View()
				}
				settled = append(settled, time.Since(start))
				held = max(held, h.m.list.pg.held())
			}
			b.StopTimer()
			b.ReportMetric(pct(frames, 50), "frame-p50-µs")
			b.ReportMetric(pct(frames, 95), "frame-p95-µs")
			b.ReportMetric(pct(frames, 99), "frame-p99-µs")
			b.ReportMetric(pct(settled, 95), "settled-p95-µs")
			b.ReportMetric(float64(held), "rows-held-max")
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapAlloc)/1024, "heap-KiB")
			runtime.KeepAlive(h)
		})
	}
}

// pct is the p-th percentile of ds, in microseconds.
func pct(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[min(len(s)*p/100, len(s)-1)]) / float64(time.Microsecond)
}
