package tui

import (
	"errors"
	"strings"

	"tinycrm.dev/tinycrm/filter"
)

// The where prompt edits every where-expression of the filter at once, so
// what it shows is what applies. Expressions are separated by ";": each
// needs a membership that meets all its conditions, and different
// expressions may be met by different memberships (SPEC §4, as repeated
// --where flags). Conditions within one expression are joined by "," or
// "and", as the filter parser reads them.

// whereSep separates expressions in the where prompt.
const whereSep = "; "

// maxWhereInput bounds the where prompt: every expression at its longest.
const maxWhereInput = filter.MaxWheres*filter.MaxWhereLen + (filter.MaxWheres-1)*len(whereSep)

// whereSource is the prompt text for the filter's expressions: each as
// typed, or in canonical form (which quotes a value holding ";") when it
// was built otherwise or would not split back whole.
func whereSource(ws []filter.Expr) string {
	parts := make([]string, 0, len(ws))
	for _, e := range ws {
		src := strings.TrimSpace(e.Source)
		if src == "" || len(splitWheres(src)) > 1 {
			src = e.String()
		}
		parts = append(parts, src)
	}
	return strings.Join(parts, whereSep)
}

// piece is one expression's text in the prompt and its byte offset.
type piece struct {
	text string
	off  int
}

// splitWheres splits the prompt text at each ";" outside a quoted value.
func splitWheres(src string) []piece {
	var out []piece
	start, quoted := 0, false
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case quoted && c == '\\':
			i++ // an escape: skip the escaped byte
		case c == '"':
			quoted = !quoted
		case !quoted && c == ';':
			out = append(out, piece{src[start:i], start})
			start = i + 1
		}
	}
	return append(out, piece{src[start:], start})
}

// parseWheres parses the prompt text into expressions; blank pieces are
// skipped. A syntax error names its position in the whole text.
func parseWheres(src string) ([]filter.Expr, error) {
	var out []filter.Expr
	for _, p := range splitWheres(src) {
		text := strings.TrimLeft(p.text, " \t\r\n")
		off := p.off + len(p.text) - len(text)
		text = strings.TrimRight(text, " \t\r\n")
		if text == "" {
			continue
		}
		e, err := filter.ParseWhere(text)
		if err != nil {
			var se *filter.SyntaxError
			if errors.As(err, &se) {
				return nil, &filter.SyntaxError{Pos: se.Pos + off, Msg: se.Msg}
			}
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// pastedWhere turns pasted lines into one line of the where prompt: a
// line break joins conditions with " and ", unless a separator ("," ";"
// or "and") is already there. The text input would otherwise turn each
// break into a space, which reads the next condition as part of a value
// ("plan=pro mrr>=9" is plan equal to "pro mrr>=9"). before is the text
// in front of the cursor.
func pastedWhere(content, before string) string {
	content = strings.ReplaceAll(content, "\r\n", "\n")
	content = strings.ReplaceAll(content, "\r", "\n")
	if !strings.Contains(content, "\n") {
		return content
	}
	var b strings.Builder
	prev := ""
	if strings.TrimSpace(before) != "" && strings.HasPrefix(strings.TrimLeft(content, " \t"), "\n") {
		prev = strings.TrimSpace(before) // a break first joins the paste to the text before
	}
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if prev != "" {
			b.WriteString(" ")
			if !joined(prev, line) {
				b.WriteString("and ")
			}
		}
		b.WriteString(line)
		prev = line
	}
	return b.String()
}

// joined reports whether two lines already have a separator between them.
func joined(a, b string) bool {
	la, lb := strings.ToLower(a), strings.ToLower(b)
	return strings.HasSuffix(a, ",") || strings.HasSuffix(a, ";") ||
		strings.HasPrefix(b, ",") || strings.HasPrefix(b, ";") ||
		la == "and" || strings.HasSuffix(la, " and") || lb == "and" || strings.HasPrefix(lb, "and ")
}
