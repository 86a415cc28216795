package tui

import (
	"context"
	"errors"
	"slices"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/internal/render"
)

// mode is what the keyboard is talking to.
type mode int

const (
	modeList     mode = iota
	modeSearch        // typing in the live search
	modeWhere         // typing a where-expression
	modeExport        // typing the export path
	modeProjects      // project picker
	modeStatus        // status picker
	modeSort          // sort picker
	modeDetail        // one customer
	modeHelp          // full help
)

// model is the root: it owns the filter and the shared state, routes keys
// to the component of the current mode and replies to the one that asked.
type model struct {
	sh   *shared
	mode mode
	f    filter.Filter // the active filter, as shown and sent
	list *list
	help help.Model

	stats    *client.Stats
	statsSeq uint64
	projects []client.Project
	projSeq  uint64
	seen     map[string]bool // statuses seen in rows, for the status picker

	prompt    *prompt
	picker    *picker
	detail    *detail
	detailSeq uint64
	searchSeq uint64

	note      string // status line message, until the next key
	noteErr   bool
	notePath  string             // a path after note, shortened to fit the line
	noteTail  string             // text after notePath
	exporting context.CancelFunc // set while an export runs
}

func newModel(src Source, initial filter.Filter, opts Options) *model {
	sh := newShared(src, opts)
	m := &model{sh: sh, f: initial, seen: map[string]bool{}, help: help.New()}
	m.list = newList(sh)
	m.restyle()
	return m
}

// stop releases what outlives a frame (a running export).
func (m *model) stop() {
	if m.exporting != nil {
		m.exporting()
	}
}

func (m *model) restyle() {
	m.help.Styles = m.sh.styles.Help
	m.help.SetWidth(m.sh.width)
	if m.prompt != nil {
		m.prompt.ti.SetStyles(m.sh.styles.Input)
	}
}

// Init asks for the background colour (to pick light or dark styles),
// lays text out by grapheme clusters and loads everything.
func (m *model) Init() tea.Cmd {
	return tea.Batch(tea.RequestBackgroundColor, graphemeLayout, m.loadMeta(), m.list.reset(m.sh, m.f, false), m.tick())
}

// graphemeLayout has Bubble Tea's renderer measure text by grapheme
// clusters, as lipgloss and the TUI do (ansi.StringWidth, ansi.Truncate),
// and turn on the terminal's grapheme mode (2027) where there is one; the
// renderer takes this report as the terminal's. Bubble Tea does so by
// itself only when the terminal answers that it has mode 2027. Otherwise
// it counts code points: a family emoji 👩‍👩‍👧‍👦 (four joined by ZWJ) is 8
// cells to it but 2 to the TUI and to terminals that join emoji, such as
// tmux, so a row lost its last cells and kept cells of an older frame.
func graphemeLayout() tea.Msg {
	return tea.ModeReportMsg{Mode: ansi.ModeUnicodeCore, Value: ansi.ModeSet}
}

// tick schedules the next automatic refresh.
func (m *model) tick() tea.Cmd {
	if m.sh.opts.RefreshEvery < 0 {
		return nil
	}
	return m.sh.after(m.sh.opts.RefreshEvery, tickMsg{})
}

// loadMeta fetches the header's counts and the projects.
func (m *model) loadMeta() tea.Cmd {
	m.statsSeq++
	m.projSeq++
	return tea.Batch(fetchStats(m.sh.src, m.statsSeq), fetchProjects(m.sh.src, m.projSeq))
}

// Update routes a message.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.sh.width, m.sh.height = max(msg.Width, 20), max(msg.Height, 8)
		m.restyle()
		if m.prompt != nil {
			m.prompt.resize(m.sh.width)
		}
		return m, nil
	case tea.BackgroundColorMsg:
		m.sh.dark = msg.IsDark()
		m.sh.styles = newStyles(m.sh.dark, m.sh.opts.NoColor)
		m.restyle()
		return m, nil
	case pageMsg:
		for _, c := range msg.res.Customers {
			for _, p := range c.Projects {
				if p.Status != "" {
					m.seen[p.Status] = true
				}
			}
		}
		return m, m.list.onPage(m.sh, m.f, msg)
	case statsMsg:
		if msg.seq == m.statsSeq && msg.err == nil {
			m.stats = &msg.stats
		}
		return m, nil
	case projectsMsg:
		if msg.seq == m.projSeq && msg.err == nil {
			m.projects = msg.projects
		}
		return m, nil
	case detailMsg:
		if m.detail != nil && msg.seq == m.detail.seq {
			m.detail.err = msg.err
			if msg.err == nil {
				m.detail.data = &msg.detail
			}
		}
		return m, nil
	case exportMsg:
		m.exporting = nil
		var exists *existsError
		switch {
		case errors.As(msg.err, &exists):
			m.setPathNote("export failed: ", msg.path, " already exists; pick another name", true)
		case msg.err != nil:
			m.setPathNote("export failed: ", msg.path, ": "+render.Sanitize(msg.err.Error()), true)
		default:
			m.setPathNote("exported "+render.Plural(msg.rows, "customer", "customers")+" to ", msg.path, "", false)
		}
		return m, nil
	case searchMsg:
		if msg.seq != m.searchSeq {
			return m, nil // a newer keystroke is pending
		}
		return m, m.reload()
	case tickMsg:
		return m, tea.Batch(m.autoRefresh(), m.tick())
	case tea.KeyPressMsg:
		return m, m.key(msg)
	}
	if m.prompt != nil { // a paste, and the like
		return m, m.edit(msg)
	}
	return m, nil
}

// autoRefresh refreshes quietly, unless something is already loading.
func (m *model) autoRefresh() tea.Cmd {
	if m.list.pg.loading() || m.list.pg.resetting {
		return nil
	}
	cmds := []tea.Cmd{m.loadMeta(), m.list.refresh(m.sh, m.f)}
	if m.mode == modeDetail && m.detail != nil && m.detail.data != nil {
		cmds = append(cmds, fetchDetail(m.sh.src, m.detail.seq, m.detail.data.ID))
	}
	return tea.Batch(cmds...)
}

// refresh is r: everything again, and errors forgotten.
func (m *model) refresh() tea.Cmd {
	m.setNote("", false)
	return tea.Batch(m.loadMeta(), m.list.refresh(m.sh, m.f))
}

// setFilter makes f the active filter and reloads, unless the server
// would refuse it: an invalid filter is never sent.
func (m *model) setFilter(f filter.Filter) tea.Cmd {
	if err := f.Validate(); err != nil {
		m.setNote(err.Error(), true)
		return nil
	}
	m.f = f
	return m.reload()
}

// reload starts the list over from the top for the active filter.
func (m *model) reload() tea.Cmd { return m.list.reset(m.sh, m.f, false) }

func (m *model) setNote(s string, isErr bool) {
	m.note, m.noteErr, m.notePath, m.noteTail = s, isErr, "", ""
}

// setPathNote sets a note that names a file: prefix, path, tail.
func (m *model) setPathNote(prefix, path, tail string, isErr bool) {
	m.note, m.noteErr, m.notePath, m.noteTail = prefix, isErr, path, tail
}

// statusChoices are the statuses the picker offers: the well-known ones,
// those seen in rows and those already in the filter.
func (m *model) statusChoices() []string {
	out := []string{"paid", "trialing", "free", "churned"}
	var more []string
	for s := range m.seen {
		if !slices.Contains(out, s) {
			more = append(more, s)
		}
	}
	for _, s := range m.f.Statuses {
		if !slices.Contains(out, s) && !slices.Contains(more, s) {
			more = append(more, s)
		}
	}
	slices.Sort(more)
	return append(out, more...)
}
