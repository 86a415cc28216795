package tui

import (
	tea "charm.land/bubbletea/v2"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/internal/render"
)

// list is the customer list on screen: a pager of rows, the cursor and the
// scroll offset. It is anchored at the top (the filter's order), or, after
// G, at the end: keyset pages cannot skip to the end, so the end is
// fetched as the first pages of the reversed order and shown upside down.
// Row indexes count in the fetched order either way.
type list struct {
	pg     *pager
	back   bool // anchored at the end
	pos    int  // the cursor's row
	off    int  // first row of the screen (forward) or last (back)
	loaded bool // the first page of the current list has arrived
	err    error
	keepID int64 // after a refresh, the customer the cursor should stay on
}

func newList(sh *shared) *list {
	return &list{pg: newPager(sh.opts.PageSize, sh.opts.MaxPages)}
}

// sent is the filter sent to the source: the view's filter, reversed when
// the list is anchored at its end.
func (l *list) sent(f filter.Filter) filter.Filter {
	if l.back {
		f.Sort = filter.Sort{Key: f.Sort.Column(), Reverse: !f.Sort.Reverse}
	}
	return f
}

// reset starts the list over for a new filter or anchor.
func (l *list) reset(sh *shared, f filter.Filter, back bool) tea.Cmd {
	if back != l.back {
		l.pg.pages = nil // the old rows are in the other order
	}
	l.back = back
	l.pg.reset()
	l.pos, l.off, l.loaded, l.err, l.keepID = 0, 0, false, nil, 0
	return l.fetch(sh, f)
}

// refresh refetches the rows around the cursor, keeping it on the same
// customer when they are still in the list.
func (l *list) refresh(sh *shared, f filter.Filter) tea.Cmd {
	if len(l.pg.pages) == 0 || !l.loaded {
		return l.reset(sh, f, l.back)
	}
	if c, ok := l.pg.row(l.pos); ok {
		l.keepID = c.ID
	}
	l.pg.refresh(l.pos)
	return l.fetch(sh, f)
}

// fetch asks for the pages the cursor needs.
func (l *list) fetch(sh *shared, f filter.Filter) tea.Cmd {
	need := l.pg.needs(l.pos)
	if len(need) == 0 {
		return nil
	}
	sent := l.sent(f)
	cmds := make([]tea.Cmd, 0, len(need))
	for _, n := range need {
		cmds = append(cmds, fetchPage(sh.src, sent, l.pg.gen, n, l.pg.size, l.pg.cursors[n]))
	}
	return tea.Batch(cmds...)
}

// onPage takes a fetched page; replies for another list are dropped.
func (l *list) onPage(sh *shared, f filter.Filter, msg pageMsg) tea.Cmd {
	if msg.err != nil {
		if l.pg.failed(msg.gen, msg.page) {
			l.err = msg.err
		}
		return nil
	}
	if !l.pg.accept(msg.gen, msg.page, msg.res, l.pos) {
		return nil
	}
	l.err = nil
	l.loaded = true
	if l.keepID != 0 {
		if i, ok := l.pg.find(l.keepID); ok {
			l.pos = i
			l.keepID = 0
		} else if l.pg.settled() {
			l.keepID = 0
		}
	}
	l.clamp()
	return l.fetch(sh, f)
}

// clamp keeps the cursor on a row in the window.
func (l *list) clamp() {
	first, end := l.pg.span()
	if end == first {
		l.pos = first
		return
	}
	l.pos = min(max(l.pos, first), end-1)
}

// move moves the cursor by delta rows on screen (down is positive).
func (l *list) move(sh *shared, f filter.Filter, delta int) tea.Cmd {
	if l.back {
		delta = -delta
	}
	l.keepID = 0 // the user moved: a refresh must not pull the cursor back
	l.pos += delta
	l.clamp()
	l.pg.trim(l.pos)
	return l.fetch(sh, f)
}

// top and bottom jump to the first or last row on screen. Within reach
// they just move; otherwise the list starts over from that end.
func (l *list) top(sh *shared, f filter.Filter) tea.Cmd    { return l.jump(sh, f, l.back) }
func (l *list) bottom(sh *shared, f filter.Filter) tea.Cmd { return l.jump(sh, f, !l.back) }

// jump goes to the end (toEnd) or the start of the fetched order.
func (l *list) jump(sh *shared, f filter.Filter, toEnd bool) tea.Cmd {
	if toEnd {
		if n, ok := l.pg.total(); ok {
			l.pos = n - 1
			l.clamp()
			return nil
		}
		return l.reset(sh, f, !l.back)
	}
	if first, end := l.pg.span(); first == 0 && end > 0 && !l.pg.resetting {
		l.pos = 0
		l.pg.trim(0)
		return l.fetch(sh, f)
	}
	return l.reset(sh, f, l.back)
}

// visible returns the rows on a screen of height rows, top to bottom, and
// the index of the cursor's among them (-1 when it is not shown).
func (l *list) visible(height int) ([]client.Customer, int) {
	if height <= 0 {
		return nil, -1
	}
	if l.pos < l.off {
		l.off = l.pos
	}
	if l.pos >= l.off+height {
		l.off = l.pos - height + 1
	}
	if n, ok := l.pg.total(); ok {
		l.off = max(min(l.off, n-height), 0)
	}
	rows := make([]client.Customer, 0, height)
	sel := -1
	for i := range height {
		idx := l.off + i
		if l.back {
			idx = l.off + height - 1 - i
		}
		c, ok := l.pg.row(idx)
		if !ok {
			continue
		}
		if idx == l.pos {
			sel = len(rows)
		}
		rows = append(rows, c)
	}
	return rows, sel
}

// current is the customer under the cursor.
func (l *list) current() (client.Customer, bool) { return l.pg.row(l.pos) }

// empty reports whether the list is known to have no rows.
func (l *list) empty() bool {
	n, ok := l.pg.total()
	return l.loaded && ok && n == 0
}

// position describes where the cursor is, for the status line. total is
// the length of the list when the model knows it (see model.knownTotal),
// which may come from counts a little older than the rows: the row shown
// never passes it.
func (l *list) position(total int, known bool) string {
	if !l.loaded || (known && total == 0) {
		return ""
	}
	row := l.pos + 1
	if known && l.back {
		row = total - l.pos
	}
	if known {
		row = max(row, 1)
		return "row " + render.Count(row) + " of " + render.Count(max(total, row))
	}
	if l.back {
		if l.pos == 0 {
			return "last row"
		}
		return "row " + render.Count(l.pos+1) + " from the end"
	}
	return "row " + render.Count(row)
}
