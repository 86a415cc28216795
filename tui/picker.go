package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/internal/render"
)

// picker is a list to choose from: several items (projects, statuses),
// toggled with space, or one (sort), taken with enter.
type picker struct {
	title    string
	items    []pickItem
	multi    bool
	cursor   int
	off      int // first item shown
	selected map[string]bool
	empty    string // said when there are no items
}

type pickItem struct {
	value string // what the filter gets
	label string // rendered label (may be styled)
	hint  string // muted text after the label
	// fit, when set, renders the label in at most width cells (a project
	// badge with its name cut); otherwise a label too wide is cut.
	fit func(width int) string
}

// pickResult is what a key did to the picker.
type pickResult int

const (
	pickOpen pickResult = iota
	pickApply
	pickCancel
)

func newPicker(title string, items []pickItem, multi bool, selected []string) *picker {
	p := &picker{title: title, items: items, multi: multi, selected: map[string]bool{}}
	for _, v := range selected {
		p.selected[v] = true
	}
	if !multi {
		for i, it := range items {
			if p.selected[it.value] {
				p.cursor = i
			}
		}
	}
	return p
}

// chosen returns the selected values in item order (multi), or the item
// under the cursor (single).
func (p *picker) chosen() []string {
	if !p.multi {
		if len(p.items) == 0 {
			return nil
		}
		return []string{p.items[p.cursor].value}
	}
	var out []string
	for _, it := range p.items {
		if p.selected[it.value] {
			out = append(out, it.value)
		}
	}
	return out
}

// update handles a key; height is the lines the picker is shown in.
// It moves as the table does (SPEC §6: ↑↓ jk, pgup pgdn, g G).
func (p *picker) update(k keyMap, msg tea.KeyPressMsg, height int) pickResult {
	last := max(len(p.items)-1, 0)
	switch {
	case key.Matches(msg, k.Cancel):
		return pickCancel
	case key.Matches(msg, k.Apply):
		return pickApply
	case key.Matches(msg, k.Up):
		p.cursor = max(p.cursor-1, 0)
	case key.Matches(msg, k.Down):
		p.cursor = min(p.cursor+1, last)
	case key.Matches(msg, k.PageUp):
		p.cursor = max(p.cursor-pickerRows(height), 0)
	case key.Matches(msg, k.PageDown):
		p.cursor = min(p.cursor+pickerRows(height), last)
	case key.Matches(msg, k.Top):
		p.cursor = 0
	case key.Matches(msg, k.Bottom):
		p.cursor = last
	case p.multi && key.Matches(msg, k.Toggle):
		if len(p.items) > 0 {
			v := p.items[p.cursor].value
			p.selected[v] = !p.selected[v]
		}
	}
	return pickOpen
}

// pickerRows is the items a picker shows in height lines: the rest is
// the border, the title and the "↓ N more" line.
func pickerRows(height int) int { return max(height-4, 1) }

// view renders the picker as a box of at most height lines.
func (p *picker) view(sh *shared, height int) string {
	st := sh.styles
	rows := pickerRows(height)
	if p.cursor < p.off {
		p.off = p.cursor
	}
	if p.cursor >= p.off+rows {
		p.off = p.cursor - rows + 1
	}
	var b strings.Builder
	b.WriteString(st.BoxTitle.Render(p.title))
	if len(p.items) == 0 {
		b.WriteString("\n" + st.Muted.Render(p.empty))
	}
	inner := max(min(sh.width-4, 60), 10)
	lead := 2 // the cursor mark
	if p.multi {
		lead += len("[ ] ")
	}
	// The labels get the room the widest hint leaves: a long project name
	// is cut, as on the cards, rather than push every hint out.
	labelW, hintW := 0, 0
	for _, it := range p.items {
		labelW = max(labelW, ansi.StringWidth(it.label))
		hintW = max(hintW, ansi.StringWidth(it.hint))
	}
	room := inner - lead
	if hintW > 0 {
		room = max(room-2-hintW, minCutBadge)
	}
	labelW = min(labelW, room)
	for i := p.off; i < len(p.items) && i < p.off+rows; i++ {
		it := p.items[i]
		mark := "  "
		if i == p.cursor {
			mark = st.Accent.Render("›") + " "
		}
		box := ""
		if p.multi {
			box = "[ ] "
			if p.selected[it.value] {
				box = "[" + st.Check.Render("x") + "] "
			}
		}
		label := it.label
		if it.fit != nil && ansi.StringWidth(label) > labelW {
			label = it.fit(labelW)
		}
		line := mark + box + label
		if it.hint != "" {
			line = mark + box + pad(label, labelW, false) + "  " + st.Muted.Render(it.hint)
		}
		b.WriteString("\n" + pad(line, inner, false))
	}
	if n := len(p.items) - (p.off + rows); n > 0 {
		b.WriteString("\n" + st.Muted.Render("  ↓ "+render.Count(n)+" more"))
	}
	return st.Box.Width(min(inner+4, sh.width)).Render(b.String())
}
