package server

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// keyLimiter is the per-key ingest rate limit: a token bucket per project
// key, created on first use.
type keyLimiter struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	byKey map[int64]*rate.Limiter
}

func newKeyLimiter(perSecond float64) *keyLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &keyLimiter{limit: rate.Limit(perSecond), burst: int(math.Max(1, 2*perSecond)), byKey: map[int64]*rate.Limiter{}}
}

// allow takes one token for key; when none is left it returns false and how
// long until one is.
func (l *keyLimiter) allow(key int64, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	lim, ok := l.byKey[key]
	if !ok {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.byKey[key] = lim
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
