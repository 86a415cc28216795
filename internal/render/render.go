// Package render is TinyCRM's terminal presentation, shared by the tinycrm
// CLI and the TUI: project badges in their colours, status labels, money,
// counts, relative times and aligned tables.
//
// Every decision that depends on the terminal (colour or not, the current
// time) lives in a [Theme] value that the caller builds once with [New] and
// passes around; the package keeps no state of its own. It must not do I/O
// beyond writing to the io.Writer it is handed, and it must not decide by
// itself whether the output is a terminal: the caller tells it.
package render

import (
	"image/color"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
)

// Options configure a Theme.
type Options struct {
	// Color turns ANSI colours and text attributes on. Decide it with
	// [ColorEnabled].
	Color bool
	// Now is the clock relative times are measured against; nil means
	// time.Now.
	Now func() time.Time
}

// Theme renders values for one output: with colours or without.
type Theme struct {
	color bool
	now   func() time.Time

	bold, dim, warn, bad, good, header lipgloss.Style
	statuses                           map[string]lipgloss.Style
}

// Status colours, chosen to read on dark and light backgrounds.
const (
	colorGood    = "#2fb344" // paid
	colorTrial   = "#3b82f6" // trialing
	colorFree    = "#8b949e" // free
	colorBad     = "#e5484d" // churned, errors
	colorWarn    = "#e5a50a" // warnings
	colorUnknown = "#888888" // a badge whose colour is not valid hex
)

// New builds a Theme.
func New(o Options) Theme {
	t := Theme{color: o.Color, now: o.Now}
	if t.now == nil {
		t.now = time.Now
	}
	s := lipgloss.NewStyle()
	t.bold = s.Bold(true)
	t.dim = s.Faint(true)
	t.warn = s.Foreground(lipgloss.Color(colorWarn)).Bold(true)
	t.bad = s.Foreground(lipgloss.Color(colorBad))
	t.good = s.Foreground(lipgloss.Color(colorGood))
	t.header = s.Bold(true)
	t.statuses = map[string]lipgloss.Style{
		"paid":     s.Foreground(lipgloss.Color(colorGood)),
		"trialing": s.Foreground(lipgloss.Color(colorTrial)),
		"free":     s.Foreground(lipgloss.Color(colorFree)),
		"churned":  s.Foreground(lipgloss.Color(colorBad)),
	}
	return t
}

// ColorEnabled decides whether output to a stream should be coloured: only
// on a terminal, never when NO_COLOR is set to anything non-empty
// (https://no-color.org) or TERM is "dumb". CLICOLOR_FORCE=1 forces colour
// even when not on a terminal, as many tools do.
func ColorEnabled(getenv func(string) string, isTerminal bool) bool {
	if getenv("NO_COLOR") != "" {
		return false
	}
	if f := getenv("CLICOLOR_FORCE"); f != "" && f != "0" {
		return true
	}
	if getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal
}

// Color reports whether the theme emits colours.
func (t Theme) Color() bool { return t.color }

// Now returns the theme's current time.
func (t Theme) Now() time.Time { return t.now() }

// style applies st when colours are on.
func (t Theme) style(st lipgloss.Style, s string) string {
	if !t.color || s == "" {
		return s
	}
	return st.Render(s)
}

// Bold renders s in bold.
func (t Theme) Bold(s string) string { return t.style(t.bold, s) }

// Dim renders s faint: secondary information.
func (t Theme) Dim(s string) string { return t.style(t.dim, s) }

// Warn renders s as a warning (bold amber).
func (t Theme) Warn(s string) string { return t.style(t.warn, s) }

// Bad renders s as an error or a loss (red).
func (t Theme) Bad(s string) string { return t.style(t.bad, s) }

// Good renders s as a success (green).
func (t Theme) Good(s string) string { return t.style(t.good, s) }

// Header renders a table header cell or a section title.
func (t Theme) Header(s string) string { return t.style(t.header, s) }

// Badge renders a project badge: the name on its colour (hex, such as
// "#e69f00") with a readable text colour, one cell of padding each side;
// without colour it is "[Name]". Both forms are the name's width plus two.
func (t Theme) Badge(name, hex string) string {
	name = Sanitize(name)
	if !t.color {
		return "[" + name + "]"
	}
	bg := parseHex(hex)
	fg := lipgloss.Color("#ffffff")
	if isLight(bg) {
		fg = lipgloss.Color("#111111")
	}
	return lipgloss.NewStyle().Background(bg).Foreground(fg).Render(" " + name + " ")
}

// parseHex reads "#rrggbb" or "#rgb"; anything else is a neutral grey.
func parseHex(s string) color.Color {
	h := strings.TrimPrefix(s, "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) != 6 {
		return lipgloss.Color(colorUnknown)
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return lipgloss.Color(colorUnknown)
	}
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

// isLight reports whether c is light enough to need dark text on it
// (relative luminance, WCAG weights, on 8-bit channels).
func isLight(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	lum := 0.2126*float64(r>>8) + 0.7152*float64(g>>8) + 0.0722*float64(b>>8)
	return lum > 150
}

// Status renders a status label: paid green, trialing blue, free grey,
// churned red, others plain; "" as "-".
func (t Theme) Status(s string) string {
	if s == "" {
		return t.Dim("-")
	}
	if st, ok := t.statuses[s]; ok {
		return t.style(st, s)
	}
	return s
}

// Since renders how long ago ts was, against the theme's clock: see
// [RelTime].
func (t Theme) Since(ts time.Time) string { return RelTime(t.now(), ts) }

// RelTime renders how long before now t was, in the largest whole unit:
// "just now" (under a minute), "5m ago", "3h ago", "3d ago" (under 30 days),
// "4mo ago" (under a year), "2y ago". A time in the future reads "in 5m"
// (under a minute: "just now"); the zero time reads "never".
func RelTime(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		s = strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 24*time.Hour:
		s = strconv.Itoa(int(d/time.Hour)) + "h"
	case d < 30*24*time.Hour:
		s = strconv.Itoa(int(d/(24*time.Hour))) + "d"
	case d < 365*24*time.Hour:
		s = strconv.Itoa(int(d/(30*24*time.Hour))) + "mo"
	default:
		s = strconv.Itoa(int(d/(365*24*time.Hour))) + "y"
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// Money renders an amount of dollars: "$9", "$19.50", "$1,234", "-$5"
// (cents only when there are some, rounded to the cent).
func Money(v float64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	cents := int64(v*100 + 0.5)
	s := "$" + Count(cents/100)
	if c := cents % 100; c != 0 {
		s += "." + strconv.FormatInt(c/10, 10) + strconv.FormatInt(c%10, 10)
	}
	if neg && cents != 0 {
		return "-" + s
	}
	return s
}

// Count renders a whole number with thousands separators: "1,204".
func Count[T ~int | ~int64](n T) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Plural renders "1 customer", "2 customers", with the count separated by
// thousands.
func Plural[T ~int | ~int64](n T, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Count(n) + " " + many
}

// Percent renders a fraction 0..1 as "42%" (or "4.2%" below 10 %).
func Percent(f float64) string {
	p := f * 100
	if p > 0 && p < 10 {
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}
