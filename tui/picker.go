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

// update handles a key.
func (p *picker) update(k keyMap, msg tea.KeyPressMsg) pickResult {
	switch {
	case key.Matches(msg, k.Cancel):
		return pickCancel
	case key.Matches(msg, k.Apply):
		return pickApply
	case key.Matches(msg, k.Up):
		p.cursor = max(p.cursor-1, 0)
	case key.Matches(msg, k.Down):
		p.cursor = max(min(p.cursor+1, len(p.items)-1), 0)
	case key.Matches(msg, k.Top):
		p.cursor = 0
	case key.Matches(msg, k.Bottom):
		p.cursor = max(len(p.items)-1, 0)
	case p.multi && key.Matches(msg, k.Toggle):
		if len(p.items) > 0 {
			v := p.items[p.cursor].value
			p.selected[v] = !p.selected[v]
		}
	}
	return pickOpen
}

// view renders the picker as a box of at most height lines.
func (p *picker) view(sh *shared, height int) string {
	st := sh.styles
	rows := max(height-4, 1) // border and title
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
	labelW := 0
	for _, it := range p.items {
		labelW = max(labelW, ansi.StringWidth(it.label))
	}
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
		line := mark + box + it.label
		if it.hint != "" {
			line = mark + box + pad(it.label, labelW, false) + "  " + st.Muted.Render(it.hint)
		}
		b.WriteString("\n" + pad(line, inner, false))
	}
	if n := len(p.items) - (p.off + rows); n > 0 {
		b.WriteString("\n" + st.Muted.Render("  ↓ "+render.Count(n)+" more"))
	}
	return st.Box.Width(min(inner+4, sh.width)).Render(b.String())
}
