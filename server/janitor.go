package server

import (
	"context"
	"log/slog"
	"time"

	"tinycrm.dev/tinycrm/store"
)

// messageIDRetention is how long a message id protects against a repeat;
// SPEC §2 asks for at least 7 days.
const messageIDRetention = 8 * 24 * time.Hour

// janitor prunes old message ids every interval until stopped.
type janitor struct {
	stop chan struct{}
	done chan struct{}
}

func startJanitor(st *store.Store, log *slog.Logger, now func() time.Time, interval time.Duration) *janitor {
	j := &janitor{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(j.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-j.stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				n, err := st.PruneMessageIDs(ctx, now().Add(-messageIDRetention))
				cancel()
				if err != nil {
					log.Warn("prune message ids", "err", err)
				} else if n > 0 {
					log.Info("pruned message ids", "rows", n)
				}
			}
		}
	}()
	return j
}

func (j *janitor) close() {
	close(j.stop)
	<-j.done
}
