package server

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"tinycrm.dev/tinycrm/store"
)

func TestCountCacheExpiresAndInvalidates(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	c := newCountCache(200*time.Millisecond, func(context.Context, int64) (store.Stats, error) {
		return store.Stats{Customers: n.Add(1)}, nil
	}, func(context.Context, int64) ([]store.Project, error) { return nil, nil })
	c.keepWarm = 0 // no background refresh: entries expire
	ctx := context.Background()
	get := func() int64 {
		t.Helper()
		st, err := c.Stats(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		return st.Customers
	}
	if a, b := get(), get(); a != 1 || b != 1 {
		t.Fatalf("within the TTL: %d, %d", a, b)
	}
	c.invalidate(1)
	if v := get(); v != 2 {
		t.Fatalf("after invalidate: %d", v)
	}
	time.Sleep(250 * time.Millisecond)
	if v := get(); v != 3 {
		t.Fatalf("after the TTL: %d", v)
	}
}

func TestCountCacheDropsLoadsBeganBeforeInvalidate(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	started, release := make(chan struct{}), make(chan struct{})
	c := newCountCache(time.Minute, func(context.Context, int64) (store.Stats, error) {
		v := n.Add(1)
		if v == 1 {
			close(started)
			<-release
		}
		return store.Stats{Customers: v}, nil
	}, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.Stats(context.Background(), 1)
	}()
	<-started
	c.invalidate(1) // a write commits while the load runs
	close(release)
	<-done
	if st, _ := c.Stats(context.Background(), 1); st.Customers != 2 {
		t.Fatalf("stale load was kept: %+v", st)
	}
}

func TestCountCacheKeepsReadEntriesWarm(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	c := newCountCache(200*time.Millisecond, func(context.Context, int64) (store.Stats, error) {
		return store.Stats{Customers: n.Add(1)}, nil
	}, nil)
	ctx := context.Background()
	if st, _ := c.Stats(ctx, 1); st.Customers != 1 {
		t.Fatalf("first = %+v", st)
	}
	time.Sleep(500 * time.Millisecond)
	// Read right after a background refresh, so that a late tick on a busy
	// machine (the race detector, parallel tests) cannot age the entry
	// past the TTL between the refresh and the read.
	for cur, deadline := n.Load(), time.Now().Add(5*time.Second); n.Load() == cur && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // for the refresh to store what it loaded
	before := n.Load()
	st, _ := c.Stats(ctx, 1)
	if before < 2 || st.Customers != before || n.Load() != before {
		t.Fatalf("read after 2.5 TTLs: %+v, %d loads before, %d after", st, before, n.Load())
	}
}

// BenchmarkCountCacheHit is a GET /v1/stats answered from memory.
func BenchmarkCountCacheHit(b *testing.B) {
	c := newCountCache(time.Minute, func(context.Context, int64) (store.Stats, error) {
		return store.Stats{Customers: 1}, nil
	}, nil)
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.Stats(ctx, 1); err != nil {
			b.Fatal(err)
		}
	}
}
