package tui

import (
	"context"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/internal/render"
)

// key routes a key press to the current mode.
func (m *model) key(msg tea.KeyPressMsg) tea.Cmd {
	if msg.String() == "ctrl+c" {
		return tea.Quit
	}
	switch m.mode {
	case modeSearch:
		return m.searchKey(msg)
	case modeWhere:
		return m.whereKey(msg)
	case modeExport:
		return m.exportKey(msg)
	case modeProjects, modeStatus, modeSort:
		return m.pickerKey(msg)
	case modeDetail:
		return m.detailKey(msg)
	case modeHelp:
		k := m.sh.keys
		if key.Matches(msg, k.Quit) && msg.String() == "q" {
			return tea.Quit
		}
		if key.Matches(msg, k.Back, k.Help) {
			m.mode = modeList
		}
		return nil
	}
	return m.listKey(msg)
}

// listKey handles the customer list's keys.
func (m *model) listKey(msg tea.KeyPressMsg) tea.Cmd {
	k, sh, l := m.sh.keys, m.sh, m.list
	m.setNote("", false)
	page := max(m.tableHeight()-1, 1)
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Up):
		return l.move(sh, m.f, -1)
	case key.Matches(msg, k.Down):
		return l.move(sh, m.f, 1)
	case key.Matches(msg, k.PageUp):
		return l.move(sh, m.f, -page)
	case key.Matches(msg, k.PageDown):
		return l.move(sh, m.f, page)
	case key.Matches(msg, k.Top):
		return l.top(sh, m.f)
	case key.Matches(msg, k.Bottom):
		return l.bottom(sh, m.f)
	case key.Matches(msg, k.Refresh):
		return m.refresh()
	case key.Matches(msg, k.Help):
		m.mode = modeHelp
	case key.Matches(msg, k.Back):
		// Nothing to back out of.
	case key.Matches(msg, k.Search):
		m.mode = modeSearch
		m.prompt = newPrompt(sh, "search", m.f.Search, "email or name", filter.MaxSearchLen)
	case key.Matches(msg, k.Where):
		m.mode = modeWhere
		m.prompt = newPrompt(sh, "where", whereSource(m.f.Where), "plan=pro, mrr>=9", maxWhereInput)
	case key.Matches(msg, k.Export):
		m.mode = modeExport
		m.prompt = newPrompt(sh, "export to", sh.exportPath("tinycrm-export-"+sh.now().Format("2006-01-02")+".csv"), "path.csv or path.jsonl", 4096)
	case key.Matches(msg, k.Multi):
		f := m.f
		if f.MinProjects >= 2 {
			f.MinProjects = 0
		} else {
			f.MinProjects = 2
		}
		return m.setFilter(f)
	case key.Matches(msg, k.Clear):
		// x clears the filters, not the order: the sort is how the list
		// reads, set with o (the filter line shows it apart, without the
		// "x clears" hint when it is all there is).
		if filtersOnly(m.f).Describe() == "" {
			return nil
		}
		return m.setFilter(filter.Filter{Sort: m.f.Sort})
	case key.Matches(msg, k.Projects):
		m.mode = modeProjects
		m.picker = m.projectPicker()
	case key.Matches(msg, k.Status):
		m.mode = modeStatus
		items := make([]pickItem, 0, 8)
		for _, s := range m.statusChoices() {
			items = append(items, pickItem{value: s, label: sh.styles.Status(s)})
		}
		m.picker = newPicker("Status: any of", items, true, m.f.Statuses)
	case key.Matches(msg, k.Sort):
		m.mode = modeSort
		m.picker = sortPicker(m.f.Sort)
	case key.Matches(msg, k.Open):
		if c, ok := l.current(); ok {
			m.detailSeq++
			m.detail = &detail{seq: m.detailSeq, summary: c}
			m.mode = modeDetail
			return fetchDetail(sh.src, m.detailSeq, c.ID)
		}
	}
	return nil
}

func (m *model) closePrompt() {
	m.prompt = nil
	m.mode = modeList
}

// searchKey: every edit searches again after a short pause; enter keeps
// the search, esc restores the one from before.
func (m *model) searchKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.sh.keys
	switch {
	case key.Matches(msg, k.Cancel):
		prev := m.prompt.prev
		m.closePrompt()
		if m.f.Search != prev {
			m.f.Search = prev
			m.searchSeq++
			return m.reload()
		}
		return nil
	case key.Matches(msg, k.Apply):
		m.closePrompt()
		return nil
	}
	return m.edit(msg)
}

// edit passes a key or a paste to the open prompt and reacts to a change
// of its text: the search searches again after a pause, a where input
// that showed an error checks again, the export path forgets its error.
func (m *model) edit(msg tea.Msg) tea.Cmd {
	if p, ok := msg.(tea.PasteMsg); ok && m.mode == modeWhere {
		v := []rune(m.prompt.value())
		before := string(v[:min(max(m.prompt.ti.Position(), 0), len(v))])
		msg = tea.PasteMsg{Content: pastedWhere(p.Content, before)}
	}
	changed, cmd := m.prompt.update(msg)
	if !changed {
		return cmd
	}
	switch m.mode {
	case modeSearch:
		f := m.f
		f.Search = strings.TrimSpace(m.prompt.value())
		if err := f.Validate(); err != nil {
			m.prompt.err = err
			return cmd
		}
		m.prompt.err = nil
		if f.Search == m.f.Search {
			return cmd
		}
		m.f = f
		m.searchSeq++
		return tea.Batch(cmd, m.sh.after(searchDebounce, searchMsg{seq: m.searchSeq}))
	case modeWhere:
		if m.prompt.err != nil { // once wrong, say as soon as it is right
			_, m.prompt.err = m.withWhere(m.prompt.value())
		}
	case modeExport:
		m.prompt.err = nil
	}
	return cmd
}

// whereKey: enter parses; a malformed expression stays in the input with
// its error and is never sent.
func (m *model) whereKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.sh.keys
	switch {
	case key.Matches(msg, k.Cancel):
		m.closePrompt()
		return nil
	case key.Matches(msg, k.Apply):
		f, err := m.withWhere(m.prompt.value())
		if err != nil {
			m.prompt.err = err
			return nil
		}
		m.closePrompt()
		return m.setFilter(f)
	}
	return m.edit(msg)
}

// withWhere is the filter with every where-expression replaced by those
// of src (see parseWheres); a blank src removes them all.
func (m *model) withWhere(src string) (filter.Filter, error) {
	f := m.f
	ws, err := parseWheres(src)
	if err != nil {
		return f, err
	}
	f.Where = ws
	return f, f.Validate()
}

// exportKey: enter starts streaming the current view to the file.
func (m *model) exportKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.sh.keys
	switch {
	case key.Matches(msg, k.Cancel):
		m.closePrompt()
		return nil
	case key.Matches(msg, k.Apply):
		path := strings.TrimSpace(m.prompt.value())
		if path == "" {
			m.prompt.err = errString("type a file name")
			return nil
		}
		path = m.sh.exportPath(path)
		if m.exporting != nil {
			m.prompt.err = errString("an export is still running")
			return nil
		}
		format := client.FormatCSV
		if strings.HasSuffix(path, ".jsonl") || strings.HasSuffix(path, ".json") {
			format = client.FormatJSONL
		}
		m.closePrompt()
		ctx, cancel := context.WithCancel(context.Background())
		m.exporting = cancel
		m.setPathNote("exporting "+m.describe()+" to ", path, "…", false)
		// The file keeps the order on screen: an export given no sort
		// would come by id instead (docs/api.md).
		f := m.f
		f.Sort.Key = f.Sort.Column()
		return exportTo(ctx, m.sh.src, f, format, path)
	}
	return m.edit(msg)
}

// errString is a plain error message.
type errString string

func (e errString) Error() string { return string(e) }

// pickerKey drives the project, status and sort pickers.
func (m *model) pickerKey(msg tea.KeyPressMsg) tea.Cmd {
	if m.mode == modeSort && key.Matches(msg, m.sh.keys.Reverse) {
		m.picker.cursor ^= 1 // items come in pairs: natural, reversed
		return nil
	}
	switch m.picker.update(m.sh.keys, msg, m.bodyHeight()) {
	case pickCancel:
		m.mode, m.picker = modeList, nil
	case pickApply:
		chosen := m.picker.chosen()
		f := m.f
		switch m.mode {
		case modeProjects:
			f.Projects = chosen
		case modeStatus:
			f.Statuses = chosen
		case modeSort:
			if len(chosen) == 1 {
				s, err := filter.ParseSort(chosen[0])
				if err == nil && s == (filter.Sort{Key: filter.SortLastSeen}) {
					s = filter.Sort{}
				}
				f.Sort = s
			}
		}
		m.mode, m.picker = modeList, nil
		return m.setFilter(f)
	}
	return nil
}

// detailKey: scrolling, r to reload, esc back, q quit.
func (m *model) detailKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.sh.keys
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Refresh):
		m.detailSeq++
		m.detail.seq, m.detail.err = m.detailSeq, nil
		return fetchDetail(m.sh.src, m.detailSeq, m.detail.summary.ID)
	}
	if m.detail.update(m.sh, msg, m.bodyHeight()) {
		gone := client.IsNotFound(m.detail.err)
		m.mode, m.detail = modeList, nil
		if gone { // the list still shows the customer: load it again
			return m.refresh()
		}
	}
	return nil
}

// projectPicker lists the workspace's projects with their badges.
func (m *model) projectPicker() *picker {
	items := make([]pickItem, 0, len(m.projects))
	st := m.sh.styles
	for _, p := range m.projects {
		items = append(items, pickItem{value: p.Slug, label: st.Badge(p.Name, p.Color, 0),
			hint: p.Slug + " · " + render.Plural(p.Customers, "customer", "customers"),
			fit:  func(width int) string { return st.Badge(p.Name, p.Color, width) }})
	}
	// Slugs in the filter that the server did not list (yet) stay choosable.
	for _, s := range m.f.Projects {
		if !slices.ContainsFunc(items, func(it pickItem) bool { return it.value == s }) {
			items = append(items, pickItem{value: s, label: "[" + s + "]"})
		}
	}
	p := newPicker("Projects: member of all selected", items, true, m.f.Projects)
	p.empty = `No projects yet: tinycrm projects create "My App"`
	return p
}

// sortNames are each sort key's directions in words: natural, reversed.
var sortNames = map[filter.SortKey][2]string{
	filter.SortLastSeen:  {"last active, newest first", "last active, oldest first"},
	filter.SortEmail:     {"email, A to Z", "email, Z to A"},
	filter.SortName:      {"name, A to Z", "name, Z to A"},
	filter.SortProjects:  {"projects, most first", "projects, fewest first"},
	filter.SortMRR:       {"MRR, biggest first", "MRR, smallest first"},
	filter.SortFirstSeen: {"first seen, newest first", "first seen, oldest first"},
}

// sortName is a sort in words, as the sort picker says it.
func sortName(s filter.Sort) string {
	d, ok := sortNames[s.Column()]
	if !ok {
		return s.String()
	}
	if s.Reverse {
		return d[1]
	}
	return d[0]
}

// sortPicker offers every sort key in both directions, natural first.
func sortPicker(cur filter.Sort) *picker {
	var items []pickItem
	for _, k := range filter.SortKeys() {
		d := sortNames[k]
		items = append(items,
			pickItem{value: string(k), label: d[0], hint: string(k)},
			pickItem{value: "-" + string(k), label: d[1], hint: "-" + string(k)})
	}
	sel := filter.Sort{Key: cur.Column(), Reverse: cur.Reverse}.String()
	return newPicker("Sort by", items, false, []string{sel})
}
