package tui

import (
	"errors"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/internal/render"
)

// prompt is a one-line text input: the live search, the where-expression
// and the export path. It only edits text; the root model decides what the
// text means.
type prompt struct {
	label string
	ti    textinput.Model
	prev  string // the value before the prompt opened, for esc
	err   error  // shown under the input; a *filter.SyntaxError gets a caret
}

func newPrompt(sh *shared, label, value, placeholder string, limit int) *prompt {
	ti := textinput.New()
	ti.Prompt = ""
	ti.Placeholder = placeholder
	ti.CharLimit = limit
	ti.SetStyles(sh.styles.Input)
	ti.SetValue(value)
	ti.CursorEnd()
	ti.Focus()
	p := &prompt{label: label, ti: ti, prev: value}
	p.resize(sh.width)
	return p
}

func (p *prompt) resize(width int) {
	p.ti.SetWidth(max(width-ansi.StringWidth(p.label)-2, 10))
}

func (p *prompt) value() string { return p.ti.Value() }

// update passes a message to the input and reports whether the text changed.
func (p *prompt) update(msg tea.Msg) (bool, tea.Cmd) {
	before := p.ti.Value()
	var cmd tea.Cmd
	p.ti, cmd = p.ti.Update(msg)
	return p.ti.Value() != before, cmd
}

// view renders the label and the input, then, when there is an error, a
// caret under the position it names and the message (wrapped, at most
// three lines).
func (p *prompt) view(sh *shared) string {
	st := sh.styles
	line := st.Accent.Render(p.label) + " " + p.ti.View()
	if p.err == nil {
		return line
	}
	var se *filter.SyntaxError
	msg := p.err.Error()
	if errors.As(p.err, &se) {
		msg = "position " + render.Count(se.Pos) + ": " + se.Msg
		if col, ok := p.caretColumn(se.Pos); ok {
			line += "\n" + strings.Repeat(" ", ansi.StringWidth(p.label)+1+col) + st.Caret.Render("^")
		}
	}
	msg = wrapMax(msg, sh.width, 3)
	return line + "\n" + st.Error.Render(msg)
}

// viewHeight is the number of lines view takes.
func (p *prompt) viewHeight(sh *shared) int { return strings.Count(p.view(sh), "\n") + 1 }

// caretColumn converts a 1-based byte position of the value into the cell
// column where the input shows it, when the input shows it.
func (p *prompt) caretColumn(pos int) (int, bool) {
	v := p.ti.Value()
	pos = min(max(pos-1, 0), len(v))
	col := ansi.StringWidth(v[:pos])
	if ansi.StringWidth(v) >= p.ti.Width() {
		return 0, false // scrolled: the columns no longer line up
	}
	return col, true
}
