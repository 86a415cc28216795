package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"tinycrm.dev/tinycrm/store"
)

// activity counts committed identifies per project and hour in memory and
// flushes them to the store every interval and on close. A crash loses at
// most one interval of these statistics, never customer data.
type activity struct {
	store    *store.Store
	log      *slog.Logger
	interval time.Duration

	mu     sync.Mutex
	counts map[store.ActivityKey]store.ActivityCount

	stop chan struct{}
	done chan struct{}
}

func newActivity(st *store.Store, log *slog.Logger, interval time.Duration) *activity {
	a := &activity{store: st, log: log, interval: interval,
		counts: map[store.ActivityKey]store.ActivityCount{}, stop: make(chan struct{}), done: make(chan struct{})}
	go a.loop()
	return a
}

// add counts the identifies of writes whose result is Applied or Duplicate.
func (a *activity) add(writes []store.Write, results []store.Result, now time.Time) {
	hour := now.UTC().Truncate(time.Hour)
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, w := range writes {
		if w.Ping || (results[i].Outcome != store.Applied && results[i].Outcome != store.Duplicate) {
			continue
		}
		k := store.ActivityKey{WorkspaceID: w.WorkspaceID, ProjectID: w.ProjectID, Hour: hour}
		c := a.counts[k]
		c.Identifies++
		if now.After(c.LastAt) {
			c.LastAt = now
		}
		a.counts[k] = c
	}
}

func (a *activity) loop() {
	defer close(a.done)
	t := time.NewTicker(a.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			a.flush()
		case <-a.stop:
			a.flush()
			return
		}
	}
}

// flush writes the pending counts; on failure they are kept for next time.
func (a *activity) flush() {
	a.mu.Lock()
	pending := a.counts
	a.counts = map[store.ActivityKey]store.ActivityCount{}
	a.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.store.AddActivity(ctx, pending); err != nil {
		a.log.Warn("flush project activity; will retry", "err", err)
		a.mu.Lock()
		for k, c := range pending {
			cur := a.counts[k]
			cur.Identifies += c.Identifies
			if c.LastAt.After(cur.LastAt) {
				cur.LastAt = c.LastAt
			}
			a.counts[k] = cur
		}
		a.mu.Unlock()
	}
}

func (a *activity) close() {
	close(a.stop)
	<-a.done
}
