package server

import (
	"context"
	"sync"
	"time"

	"tinycrm.dev/tinycrm/store"
)

// countCache holds each workspace's GET /v1/stats and GET /v1/projects
// answers for a few seconds.
//
// Both answers are exact counts that cost O(customers) and O(memberships) to
// make (about 100 ms each at a million customers, even as index-only scans),
// and the TUI asks for both at start and every 5 seconds. Keeping the counts
// current on every write instead (a counter row per workspace or project)
// would make concurrent ingest batches queue on that row, which is what
// project_activity was built to avoid (activity.go). So the counts are exact
// as of a moment at most ttl ago: a read of an entry older than ttl queries
// the store, and entries read in the last keepWarm are refreshed in the
// background before they expire, so a polling TUI is answered from memory.
// This daemon's own project create, update and delete and forget drop the
// workspace's entry, so they show at once; ingest and other daemons' writes
// show within ttl.
type countCache struct {
	ttl         time.Duration
	keepWarm    time.Duration
	getStats    func(ctx context.Context, ws int64) (store.Stats, error)
	getProjects func(ctx context.Context, ws int64) ([]store.Project, error)

	mu      sync.Mutex
	entries map[int64]*countEntry
	gen     map[int64]uint64 // bumped by invalidate, so a load begun before it is not kept
	running bool             // the refresh loop runs while there are entries
	closed  bool             // set by close: no more background refreshes
}

type countEntry struct {
	stats      store.Stats
	statsAt    time.Time // when the query that made stats began; zero when absent
	projects   []store.Project
	projectsAt time.Time
	readAt     time.Time
}

func newCountCache(ttl time.Duration, getStats func(context.Context, int64) (store.Stats, error),
	getProjects func(context.Context, int64) ([]store.Project, error)) *countCache {
	return &countCache{ttl: ttl, keepWarm: 30 * time.Second, getStats: getStats, getProjects: getProjects,
		entries: map[int64]*countEntry{}, gen: map[int64]uint64{}}
}

// Stats returns the workspace's stats, at most ttl old.
func (c *countCache) Stats(ctx context.Context, ws int64) (store.Stats, error) {
	now := time.Now()
	c.mu.Lock()
	if e := c.entries[ws]; e != nil && !e.statsAt.IsZero() && now.Sub(e.statsAt) < c.ttl {
		e.readAt = now
		st := e.stats
		c.mu.Unlock()
		return st, nil
	}
	c.mu.Unlock()
	return c.loadStats(ctx, ws, true)
}

// Projects returns the workspace's projects, at most ttl old. The slice is
// shared: callers must not modify it.
func (c *countCache) Projects(ctx context.Context, ws int64) ([]store.Project, error) {
	now := time.Now()
	c.mu.Lock()
	if e := c.entries[ws]; e != nil && !e.projectsAt.IsZero() && now.Sub(e.projectsAt) < c.ttl {
		e.readAt = now
		ps := e.projects
		c.mu.Unlock()
		return ps, nil
	}
	c.mu.Unlock()
	return c.loadProjects(ctx, ws, true)
}

// invalidate drops the workspace's entry after a write of this daemon.
func (c *countCache) invalidate(ws int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, ws)
	c.gen[ws]++
}

func (c *countCache) loadStats(ctx context.Context, ws int64, read bool) (store.Stats, error) {
	g, start := c.begin(ws)
	st, err := c.getStats(ctx, ws)
	if err != nil {
		return store.Stats{}, err
	}
	c.keep(ws, g, read, func(e *countEntry) { e.stats, e.statsAt = st, start })
	return st, nil
}

func (c *countCache) loadProjects(ctx context.Context, ws int64, read bool) ([]store.Project, error) {
	g, start := c.begin(ws)
	ps, err := c.getProjects(ctx, ws)
	if err != nil {
		return nil, err
	}
	c.keep(ws, g, read, func(e *countEntry) { e.projects, e.projectsAt = ps, start })
	return ps, nil
}

func (c *countCache) begin(ws int64) (uint64, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen[ws], time.Now()
}

// keep stores a loaded value unless the workspace was invalidated meanwhile,
// and starts the refresh loop if it is not running.
func (c *countCache) keep(ws int64, g uint64, read bool, set func(*countEntry)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen[ws] != g {
		return
	}
	e := c.entries[ws]
	if e == nil {
		if !read {
			return // dropped while a refresh ran
		}
		e = &countEntry{}
		c.entries[ws] = e
	}
	set(e)
	if read {
		e.readAt = time.Now()
	}
	if !c.running && !c.closed {
		c.running = true
		go c.loop()
	}
}

// close stops background refreshes (the loop ends at its next tick), so
// nothing queries the store once the server is closed.
func (c *countCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
}

// loop refreshes, every quarter ttl, the entries due to expire before the
// next tick that were read in the last keepWarm, drops the others, and ends
// when no entries are left.
func (c *countCache) loop() {
	tick := c.ttl / 4
	t := time.NewTicker(tick)
	defer t.Stop()
	for range t.C {
		now := time.Now()
		var stats, projects []int64
		c.mu.Lock()
		for ws, e := range c.entries {
			if now.Sub(e.readAt) > c.keepWarm {
				delete(c.entries, ws)
				continue
			}
			if !e.statsAt.IsZero() && now.Sub(e.statsAt) >= c.ttl-tick {
				stats = append(stats, ws)
			}
			if !e.projectsAt.IsZero() && now.Sub(e.projectsAt) >= c.ttl-tick {
				projects = append(projects, ws)
			}
		}
		if len(c.entries) == 0 || c.closed {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), c.ttl)
		for _, ws := range stats {
			_, _ = c.loadStats(ctx, ws, false) // on failure the entry expires and a read retries
		}
		for _, ws := range projects {
			_, _ = c.loadProjects(ctx, ws, false)
		}
		cancel()
	}
}

// countTTL is how old a served count may be; see countCache.
const countTTL = 4 * time.Second

// newCounts makes the server's count cache; s.store and s.activity must be set.
func (s *Server) newCounts() *countCache {
	return newCountCache(countTTL, s.store.Stats, func(ctx context.Context, ws int64) ([]store.Project, error) {
		// Counts this daemon holds are written first, so the list is current.
		s.activity.flush()
		return s.store.ListProjects(ctx, ws)
	})
}
