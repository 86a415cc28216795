package tui

import (
	"image/color"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/internal/render"
)

// palette is every colour the TUI uses, picked for the terminal's
// background. Nothing outside this file names a colour, except project
// colours, which come from the server.
type palette struct {
	accent, muted, faint, err, ok, warn, selBg color.Color
}

func newPalette(dark bool) palette {
	ld := lipgloss.LightDark(dark)
	c := lipgloss.Color
	return palette{
		accent: ld(c("#5A4FCF"), c("#9D94FF")),
		muted:  ld(c("#6B6B6B"), c("#9A9A9A")),
		faint:  ld(c("#A8A8A8"), c("#5C5C5C")),
		err:    ld(c("#C0392B"), c("#FF6F61")),
		ok:     ld(c("#1E7B34"), c("#5FD787")),
		warn:   ld(c("#9A6700"), c("#FFB454")),
		selBg:  ld(c("#E3E0FF"), c("#37325E")),
	}
}

// Styles are all the TUI's styles, built in one place from one palette.
type Styles struct {
	noColor bool

	Title, Header, Muted, Faint, Bold     lipgloss.Style
	FilterLabel, Filter                   lipgloss.Style
	TableHeader, Row, Selected            lipgloss.Style
	Error, OK, Warn, Accent               lipgloss.Style
	Box, BoxTitle, Card, CardTitle, Caret lipgloss.Style
	Check                                 lipgloss.Style
	Help                                  help.Styles
	Input                                 textinput.Styles
	// theme renders badges, statuses and money exactly as the CLI does.
	theme render.Theme
	// badges and statuses memoize rendered badges (by name and colour) and
	// statuses: the table draws the same few on every row of every frame.
	// Only the model's goroutine renders, so they need no lock.
	badges   map[[2]string]string
	statuses map[string]string
	dot      string // the separator of statuses
	// selOn is the escape sequence that turns the selection on.
	selOn string
}

// newStyles builds the styles for a dark or light background; with
// noColor (NO_COLOR) they carry no colour at all and a project badge
// prints as [Name].
func newStyles(dark, noColor bool) Styles {
	p := newPalette(dark)
	fg := func(c color.Color) lipgloss.Style {
		if noColor {
			return lipgloss.NewStyle()
		}
		return lipgloss.NewStyle().Foreground(c)
	}
	s := Styles{noColor: noColor}
	s.Title = fg(p.accent).Bold(true)
	s.Header = lipgloss.NewStyle()
	s.Muted = fg(p.muted)
	s.Faint = fg(p.faint)
	s.Bold = lipgloss.NewStyle().Bold(true)
	s.FilterLabel = fg(p.muted)
	s.Filter = fg(p.accent)
	s.TableHeader = fg(p.muted).Bold(true)
	s.Row = lipgloss.NewStyle()
	if noColor {
		s.Selected = lipgloss.NewStyle().Reverse(true)
	} else {
		s.Selected = lipgloss.NewStyle().Background(p.selBg)
	}
	if r := s.Selected.Render("x"); strings.HasSuffix(r, "x\x1b[m") {
		s.selOn = strings.TrimSuffix(r, "x\x1b[m")
	}
	s.Error = fg(p.err).Bold(true)
	s.OK = fg(p.ok)
	s.Warn = fg(p.warn)
	s.Accent = fg(p.accent)
	s.Caret = fg(p.err).Bold(true)
	s.Check = fg(p.ok).Bold(true)
	border := lipgloss.RoundedBorder()
	s.Box = lipgloss.NewStyle().Border(border).Padding(0, 1)
	s.Card = lipgloss.NewStyle().Border(border).Padding(0, 1)
	if !noColor {
		s.Box = s.Box.BorderForeground(p.accent)
		s.Card = s.Card.BorderForeground(p.faint)
	}
	s.BoxTitle = s.Title
	s.CardTitle = s.Bold

	s.Help = help.DefaultStyles(dark)
	if noColor {
		plain := lipgloss.NewStyle()
		s.Help = help.Styles{Ellipsis: plain, ShortKey: plain, ShortDesc: plain, ShortSeparator: plain,
			FullKey: plain, FullDesc: plain, FullSeparator: plain}
	}
	s.Input = textinput.DefaultStyles(dark)
	s.Input.Cursor.Blink = false // a steady cursor: no timer messages, stable frames
	if noColor {
		plain := lipgloss.NewStyle()
		st := textinput.StyleState{Text: plain, Placeholder: plain, Suggestion: plain, Prompt: plain}
		s.Input.Focused, s.Input.Blurred = st, st
		s.Input.Cursor.Color = nil
	}
	s.Input.Focused.Prompt = s.Accent

	s.theme = render.New(render.Options{Color: !noColor})
	s.badges = map[[2]string]string{}
	s.statuses = map[string]string{}
	s.dot = s.theme.Dim("·")
	return s
}

// Status renders a membership status as the CLI does (paid green,
// trialing blue, free grey, churned red; "" as "-").
func (s Styles) Status(status string) string {
	if r, ok := s.statuses[status]; ok {
		return r
	}
	r := s.theme.Status(status)
	if len(s.statuses) < maxCache {
		s.statuses[status] = r
	}
	return r
}

// Statuses renders a customer's statuses in badge order, joined by "·",
// as the CLI does (render.Theme.Statuses), from the memo.
func (s Styles) Statuses(ms []client.Membership) string {
	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteString(s.dot)
		}
		b.WriteString(s.Status(m.Status))
	}
	return b.String()
}

// highlight renders s on the selection, continuously: the selection is
// turned on again after every reset inside s (a badge's or a status's
// colour), so the gaps between coloured pieces carry it too.
func (s Styles) highlight(str string) string {
	if s.selOn == "" {
		return s.Selected.Render(str)
	}
	str = strings.ReplaceAll(str, "\x1b[0m", "\x1b[m")
	return s.selOn + strings.ReplaceAll(str, "\x1b[m", "\x1b[m"+s.selOn) + "\x1b[m"
}

// MRR renders a customer's total MRR, a dim "-" when none, as the CLI does.
func (s Styles) MRR(v float64) string { return s.theme.MRR(v) }

// Badge renders a project badge as the CLI does: the name on the project's
// colour, or [Name] without colour. width > 0 cuts the name to fit that
// many cells in total.
func (s Styles) Badge(name, hex string, width int) string {
	name = render.Sanitize(name)
	if width > 0 {
		name = ansi.Truncate(name, max(width-2, 1), "…")
	}
	k := [2]string{name, hex}
	if r, ok := s.badges[k]; ok {
		return r
	}
	r := s.theme.Badge(name, hex)
	if len(s.badges) < maxCache {
		s.badges[k] = r
	}
	return r
}

// maxCache bounds each memo (a workspace has few projects and statuses;
// this only guards against a pathological one).
const maxCache = 1024

// badgeWidth is the cells a badge of name takes.
func badgeWidth(name string) int { return ansi.StringWidth(name) + 2 }

// pad fits a styled string into exactly w cells: cut with "…" or padded
// with spaces, on the right (or on the left when right is set).
func pad(s string, w int, right bool) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		// A wide character that does not fit leaves the cut a cell short.
		s = ansi.Truncate(s, w, "…")
		sw = ansi.StringWidth(s)
	}
	if right {
		return strings.Repeat(" ", w-sw) + s
	}
	return s + strings.Repeat(" ", w-sw)
}
