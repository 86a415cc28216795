package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Fitting text into the terminal's width. A one-line element is never
// wrapped: it drops what matters least, or is cut with "…". Text that may
// take several lines wraps between words, never inside one.

// ellipsis marks text that was cut.
const ellipsis = "…"

// cut fits s (styled or not) into width cells, ending in "…" when cut.
func cut(s string, width int) string {
	return ansi.Truncate(s, max(width, 0), ellipsis)
}

// wrap breaks text (styled or not) into lines of at most width cells, at
// spaces; a word longer than a line is cut with "…" rather than broken.
func wrap(s string, width int) string {
	width = max(width, 1)
	lines := strings.Split(ansi.Wordwrap(s, width, ""), "\n")
	for i, l := range lines {
		lines[i] = cut(strings.TrimRight(l, " "), width)
	}
	return strings.Join(lines, "\n")
}

// wrapMax is wrap in at most n lines; text that does not fit ends in "…".
func wrapMax(s string, width, n int) string {
	lines := strings.Split(wrap(s, width), "\n")
	if len(lines) <= n {
		return strings.Join(lines, "\n")
	}
	lines = lines[:n]
	last := lines[n-1]
	if ansi.StringWidth(last+ellipsis) > width {
		last = ansi.Truncate(last, width-ansi.StringWidth(ellipsis), "")
	}
	lines[n-1] = last + ellipsis
	return strings.Join(lines, "\n")
}

// joinFit joins parts with sep, leaving out from the end the parts that
// do not fit in width cells; the first part is cut when it alone is too
// wide.
func joinFit(parts []string, sep string, width int) string {
	out := ""
	for i, p := range parts {
		next := p
		if i > 0 {
			next = out + sep + p
		}
		if ansi.StringWidth(next) > width {
			if i == 0 {
				return cut(p, width)
			}
			break
		}
		out = next
	}
	return out
}

// fitPath shortens a path to width cells by cutting its beginning, so the
// file name stays readable: "…/exports/tinycrm-export-2026-12-02.csv".
func fitPath(path string, width int) string {
	if ansi.StringWidth(path) <= width {
		return path
	}
	if width <= ansi.StringWidth(ellipsis) {
		return ellipsis
	}
	// Whole grapheme clusters off the start, as everywhere else.
	rest := ansi.TruncateLeft(path, ansi.StringWidth(path)-width+ansi.StringWidth(ellipsis), "")
	if i := strings.IndexByte(rest, '/'); i > 0 && i < len(rest)-1 {
		rest = rest[i:] // start at a directory: "…/name.csv"
	}
	return ellipsis + rest
}
