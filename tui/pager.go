package tui

import "tinycrm.dev/tinycrm/client"

// pager holds a bounded window of consecutive pages of one customer list,
// so the TUI never holds more than maxPages·size rows however long the
// list is. Rows are addressed by their index in the list's order (which is
// the reversed sort when the list is anchored at its end, see model.back).
// Every page but the last holds exactly size rows (the server fills pages),
// so row i lives in page i/size.
//
// Keyset cursors cannot skip, so page n is fetched with the cursor the
// server gave with page n-1; the pager remembers the cursor of every page
// it has seen, so a page dropped from the window can be fetched again when
// the cursor comes back to it.
//
// Every fetch is tagged with gen, which changes whenever the list changes
// (a new filter, sort or anchor, or a refresh); replies of another
// generation are dropped.
type pager struct {
	size, maxPages int

	gen      uint64
	cursors  []string // cursors[n] fetches page n; cursors[0] is ""
	last     int      // index of the last page, -1 while unknown
	lo       int      // index of pages[0]
	pages    []page
	inflight map[int]bool
	// resetting: the pages belong to the previous list and are only shown
	// until the first page of the new one arrives.
	resetting bool
}

type page struct {
	rows  []client.Customer
	stale bool // from before a refresh: shown, but due to be fetched again
}

func newPager(size, maxPages int) *pager {
	return &pager{size: size, maxPages: maxPages, cursors: []string{""}, last: -1, inflight: map[int]bool{}}
}

// reset starts a new list (new filter, sort or anchor). The old rows stay
// visible while the first page of the new list loads, if they include the
// top.
func (p *pager) reset() {
	p.gen++
	p.cursors = []string{""}
	p.last = -1
	p.inflight = map[int]bool{}
	if p.lo != 0 {
		p.pages = nil
	}
	p.lo = 0
	p.resetting = len(p.pages) > 0
	for i := range p.pages {
		p.pages[i].stale = true
	}
}

// refresh refetches the pages around row pos in place: the old rows stay
// visible until their page is replaced. Pages further away are dropped.
func (p *pager) refresh(pos int) {
	p.gen++
	p.inflight = map[int]bool{}
	c := pos / p.size
	p.keep(c-1, c+1)
	for i := range p.pages {
		p.pages[i].stale = true
	}
	if len(p.pages) == 0 {
		p.pages = nil
		p.lo = min(max(c, 0), len(p.cursors)-1)
	}
}

// hi is one past the index of the window's last page.
func (p *pager) hi() int { return p.lo + len(p.pages) }

// needs returns the pages to fetch for the cursor at row pos, and marks
// them in flight: the cursor's page and its neighbours, fetched in chain
// order (a page whose cursor depends on a stale page waits for it).
func (p *pager) needs(pos int) []int {
	c := pos / p.size
	var out []int
	for _, n := range []int{c, c + 1, c - 1} {
		if n < 0 || (p.last >= 0 && n > p.last) || n >= len(p.cursors) || p.inflight[n] {
			continue
		}
		in := n >= p.lo && n < p.hi()
		switch {
		case p.resetting:
			if n != 0 {
				continue
			}
		case in && !p.pages[n-p.lo].stale:
			continue
		case in: // stale: its cursor must be fresh (the page before it is)
			if n > p.lo && p.pages[n-1-p.lo].stale {
				continue
			}
		case len(p.pages) > 0 && n != p.lo-1 && n != p.hi():
			continue // not adjacent: wait for the pages between
		}
		p.inflight[n] = true
		out = append(out, n)
	}
	return out
}

// accept stores a fetched page and reports whether it was used. A reply of
// another generation, or for a page that no longer fits the window around
// row pos, is dropped.
func (p *pager) accept(gen uint64, n int, pg client.CustomerPage, pos int) bool {
	if gen != p.gen {
		return false
	}
	delete(p.inflight, n)
	if p.resetting {
		p.pages, p.lo, p.resetting = nil, n, false
	}
	c := pos / p.size
	half := p.maxPages / 2
	if n < c-half || n > c+half {
		return false
	}
	fresh := page{rows: pg.Customers}
	switch {
	case len(p.pages) == 0:
		p.lo, p.pages = n, []page{fresh}
	case n >= p.lo && n < p.hi():
		p.pages[n-p.lo] = fresh
	case n == p.lo-1:
		p.pages = append([]page{fresh}, p.pages...)
		p.lo = n
	case n == p.hi():
		p.pages = append(p.pages, fresh)
	default:
		return false
	}
	// The next page's cursor: a refetched page may end elsewhere, so
	// cursors past it are forgotten (they are only needed going forward,
	// which chains from here again).
	if len(p.cursors) > n+1 {
		p.cursors = p.cursors[:n+1]
	}
	if pg.NextCursor == "" {
		p.last = n
		p.keep(p.lo, n)
	} else {
		p.cursors = append(p.cursors, pg.NextCursor)
		if p.last == n {
			p.last = -1
		}
	}
	p.keep(c-half, c+half)
	return true
}

// failed forgets that page n is in flight, after an error.
func (p *pager) failed(gen uint64, n int) bool {
	if gen != p.gen {
		return false
	}
	delete(p.inflight, n)
	return true
}

// keep drops the pages outside [from, to].
func (p *pager) keep(from, to int) {
	for len(p.pages) > 0 && p.lo < from {
		p.pages[0] = page{}
		p.pages = p.pages[1:]
		p.lo++
	}
	for len(p.pages) > 0 && p.hi()-1 > to {
		p.pages = p.pages[:len(p.pages)-1]
	}
	if len(p.pages) == 0 {
		p.pages = nil
	}
}

// trim drops pages far from row pos, after the cursor moved.
func (p *pager) trim(pos int) {
	half := p.maxPages / 2
	p.keep(pos/p.size-half, pos/p.size+half)
}

// row returns row i, if its page is in the window. While resetting, these
// are the previous list's rows, shown until the new list arrives.
func (p *pager) row(i int) (client.Customer, bool) {
	n := i / p.size
	if i < 0 || n < p.lo || n >= p.hi() {
		return client.Customer{}, false
	}
	rows := p.pages[n-p.lo].rows
	if off := i % p.size; off < len(rows) {
		return rows[off], true
	}
	return client.Customer{}, false
}

// span returns the rows in the window: [first, end).
func (p *pager) span() (first, end int) {
	if len(p.pages) == 0 {
		return 0, 0
	}
	first = p.lo * p.size
	end = (p.hi()-1)*p.size + len(p.pages[len(p.pages)-1].rows)
	return first, end
}

// held is the number of rows in memory.
func (p *pager) held() int {
	n := 0
	for _, pg := range p.pages {
		n += len(pg.rows)
	}
	return n
}

// total is the length of the list, once its last page has been seen.
func (p *pager) total() (int, bool) {
	if p.last < 0 || p.resetting {
		return 0, false
	}
	if p.last >= p.lo && p.last < p.hi() {
		return p.last*p.size + len(p.pages[p.last-p.lo].rows), true
	}
	return 0, false
}

// loading reports whether a fetch is in flight.
func (p *pager) loading() bool { return len(p.inflight) > 0 }

// settled reports whether no page is stale and nothing is in flight.
func (p *pager) settled() bool {
	if p.loading() || p.resetting {
		return false
	}
	for _, pg := range p.pages {
		if pg.stale {
			return false
		}
	}
	return true
}

// find returns the index of the customer with this id in the window.
func (p *pager) find(id int64) (int, bool) {
	for k, pg := range p.pages {
		if pg.stale {
			continue
		}
		for j, c := range pg.rows {
			if c.ID == id {
				return (p.lo+k)*p.size + j, true
			}
		}
	}
	return 0, false
}
