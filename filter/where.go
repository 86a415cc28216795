package filter

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of one where-expression.
const (
	MaxWhereLen = 1024 // bytes in one expression
	MaxConds    = 20   // conditions in one expression
	MaxKeyLen   = 64   // bytes in a params key
	MaxTokenLen = 32   // bytes in a status token
)

// Reserved condition keys: they name membership columns, not params.
const (
	KeyStatus    = "status"
	KeyFirstSeen = "first_seen"
	KeyLastSeen  = "last_seen"
)

// Expr is one parsed where-expression: conditions that must all hold for the
// same membership.
type Expr struct {
	// Source is the text the expression was parsed from; Cond.Pos counts in
	// it. It is empty for an Expr built by hand.
	Source string
	Conds  []Cond
}

// Cond is one condition of an [Expr].
type Cond struct {
	Key   string // as written: a params key or a reserved key (see Field)
	Op    Op
	Value Value // the zero Value for Exists and NotExists
	Pos   int   // 1-based byte column of Key in Expr.Source; 0 if built by hand
}

// Field says what a condition's key refers to.
type Field uint8

// The fields a condition can test.
const (
	FieldParam     Field = iota // a top-level key of the membership's params
	FieldStatus                 // the membership's status column ("" = none)
	FieldFirstSeen              // the membership's first_seen column
	FieldLastSeen               // the membership's last_seen column
)

// Field reports whether c tests a params key or one of the membership's
// columns.
func (c Cond) Field() Field {
	switch c.Key {
	case KeyStatus:
		return FieldStatus
	case KeyFirstSeen:
		return FieldFirstSeen
	case KeyLastSeen:
		return FieldLastSeen
	}
	return FieldParam
}

// String names the field: "param", "status", "first_seen" or "last_seen".
func (f Field) String() string {
	switch f {
	case FieldParam:
		return "param"
	case FieldStatus:
		return KeyStatus
	case FieldFirstSeen:
		return KeyFirstSeen
	case FieldLastSeen:
		return KeyLastSeen
	}
	return "Field(" + strconv.Itoa(int(f)) + ")"
}

// Op is a condition's operator.
type Op uint8

// The operators of a condition. The zero Op is invalid.
const (
	Eq        Op = iota + 1 // =
	Ne                      // !=
	Gt                      // >
	Ge                      // >=
	Lt                      // <
	Le                      // <=
	Contains                // ~ : case-insensitive substring
	Exists                  // postfix "exists": the key is present
	NotExists               // postfix "!exists": the key is absent
)

// String returns the operator's source token, such as ">=" or "!exists".
func (o Op) String() string {
	switch o {
	case Eq:
		return "="
	case Ne:
		return "!="
	case Gt:
		return ">"
	case Ge:
		return ">="
	case Lt:
		return "<"
	case Le:
		return "<="
	case Contains:
		return "~"
	case Exists:
		return "exists"
	case NotExists:
		return "!exists"
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// HasValue reports whether the operator takes a value (all but Exists and
// NotExists).
func (o Op) HasValue() bool { return o >= Eq && o <= Contains }

// ValueKind is the type of a condition's value.
type ValueKind uint8

// The kinds of a value.
const (
	NoValue ValueKind = iota // the operator takes no value
	Number                   // JSON number syntax; Num holds it, Text the literal
	Date                     // ISO date or RFC 3339 timestamp; Time holds it
	Text                     // anything else, and every quoted value
)

// String names the kind: "none", "number", "date" or "text".
func (k ValueKind) String() string {
	switch k {
	case NoValue:
		return "none"
	case Number:
		return "number"
	case Date:
		return "date"
	case Text:
		return "text"
	}
	return "ValueKind(" + strconv.Itoa(int(k)) + ")"
}

// Value is a condition's typed value.
type Value struct {
	Kind ValueKind
	// Text is the value as written, unquoted and unescaped. For a Number it
	// is the exact literal (bind it as numeric rather than using Num when
	// exactness matters); for a Date, the literal date or timestamp.
	Text string
	Num  float64   // for Number
	Time time.Time // for Date, in UTC; midnight for a date-only value
}

// DateOnly reports whether v is a Date written as YYYY-MM-DD, which stands
// for the whole UTC day rather than an instant. A hand-built Date with no
// Text is date-only when its Time is a UTC midnight.
func (v Value) DateOnly() bool {
	return v.Kind == Date && (len(v.Text) == len(dateLayout) || v.Text == "" && v.Time.Equal(v.Time.Truncate(24*time.Hour)))
}

// Span returns the time range [from, to) a Date value stands for: the whole
// UTC day for a date-only value, and the instant from == to for a timestamp.
// The store compares a time x with a date-only value so that day counts as
// one unit: = is from ≤ x < to, != is x < from or x ≥ to, > is x ≥ to,
// >= is x ≥ from, < is x < from and <= is x < to. A timestamp compares
// directly with Time. Span returns zero times for other kinds.
func (v Value) Span() (from, to time.Time) {
	if v.Kind != Date {
		return time.Time{}, time.Time{}
	}
	if v.DateOnly() {
		return v.Time, v.Time.AddDate(0, 0, 1)
	}
	return v.Time, v.Time
}

// Equal reports whether two values have the same kind and content. Number
// values are equal when their numbers are; Date values when their times are
// and both are date-only or both are not.
func (v Value) Equal(w Value) bool {
	if v.Kind != w.Kind {
		return false
	}
	switch v.Kind {
	case Number:
		return v.Num == w.Num
	case Date:
		return v.Time.Equal(w.Time) && v.DateOnly() == w.DateOnly()
	case Text:
		return v.Text == w.Text
	}
	return true
}

// literal is the value's source form without quoting.
func (v Value) literal() string {
	if v.Text != "" || v.Kind == Text {
		return v.Text
	}
	switch v.Kind {
	case Number:
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	case Date:
		t := v.Time.UTC()
		if v.DateOnly() {
			return t.Format(dateLayout)
		}
		return t.Format(time.RFC3339Nano)
	}
	return ""
}

// Equal reports whether two conditions test the same thing; positions are
// ignored.
func (c Cond) Equal(d Cond) bool {
	return c.Key == d.Key && c.Op == d.Op && c.Value.Equal(d.Value)
}

// Equal reports whether two expressions have equal conditions in the same
// order; sources and positions are ignored.
func (e Expr) Equal(f Expr) bool {
	if len(e.Conds) != len(f.Conds) {
		return false
	}
	for i := range e.Conds {
		if !e.Conds[i].Equal(f.Conds[i]) {
			return false
		}
	}
	return true
}

// String renders the condition in canonical form: "mrr>=9", "plan exists",
// `name~"chen, alice"`. Values are quoted only when a bare word would not
// parse back to the same value.
func (c Cond) String() string {
	switch c.Op {
	case Exists, NotExists:
		return c.Key + " " + c.Op.String()
	}
	lit := c.Value.literal()
	forcedText := c.Op == Contains || c.Field() == FieldStatus
	if c.Value.Kind == Text && !(bareOK(lit) && (forcedText || typeBare(lit) == Text)) {
		lit = quote(lit)
	}
	return c.Key + c.Op.String() + lit
}

// String renders the expression in canonical form: its conditions joined by
// ", ". Parsing the result gives an Expr equal to e.
func (e Expr) String() string {
	var b strings.Builder
	for i, c := range e.Conds {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.String())
	}
	return b.String()
}

// SyntaxError is a malformed where-expression.
type SyntaxError struct {
	Pos int    // 1-based byte position in the expression; len+1 means its end
	Msg string // what is wrong and, where it helps, what to write instead
}

// Error returns "where: position N: " and the message.
func (e *SyntaxError) Error() string {
	return "where: position " + strconv.Itoa(e.Pos) + ": " + e.Msg
}

const (
	dateLayout  = "2006-01-02"
	opList      = "(=, !=, >, >=, <, <=, ~, exists, !exists)"
	keyCharsMsg = `letters, digits, "_", "." and "-"`
)

// ParseWhere parses one where-expression (see the package documentation for
// the grammar). Errors are [*SyntaxError]s naming a position.
func ParseWhere(src string) (Expr, error) {
	p := parser{src: src}
	conds, err := p.parse()
	if err != nil {
		return Expr{}, err
	}
	return Expr{Source: src, Conds: conds}, nil
}

type parser struct {
	src string
	i   int // byte offset of the next unread byte
}

func (p *parser) errAt(off int, format string, args ...any) error {
	return &SyntaxError{Pos: off + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse() ([]Cond, error) {
	src := p.src
	if len(src) > MaxWhereLen {
		return nil, p.errAt(MaxWhereLen, "expression is longer than %d bytes", MaxWhereLen)
	}
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRuneInString(src[i:])
		if r == utf8.RuneError && n == 1 {
			return nil, p.errAt(i, "invalid UTF-8")
		}
		if isControl(r) && !isSpace(src[i]) {
			return nil, p.errAt(i, "control character %q is not allowed", r)
		}
		i += n
	}
	p.skipSpace()
	if p.i == len(src) {
		return nil, p.errAt(p.i, "empty expression; write conditions like plan=pro, mrr>=9")
	}
	var conds []Cond
	for {
		if len(conds) == MaxConds {
			return nil, p.errAt(p.i, "more than %d conditions in one expression", MaxConds)
		}
		c, err := p.cond()
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
		sep, err := p.separator()
		if err != nil {
			return nil, err
		}
		if sep == "" {
			return conds, nil
		}
		p.skipSpace()
		if p.i == len(src) || src[p.i] == ',' {
			return nil, p.errAt(p.i, "expected a condition after %q", sep)
		}
	}
}

// separator consumes what follows a condition: the end (""), "," or "and".
func (p *parser) separator() (string, error) {
	start := p.i
	p.skipSpace()
	switch {
	case p.i == len(p.src):
		return "", nil
	case p.src[p.i] == ',':
		p.i++
		return ",", nil
	case p.i > start && p.andAt(p.i):
		p.i += 3
		return "and", nil
	}
	return "", p.errAt(p.i, `expected "," or "and" before %q`, p.excerpt(p.i))
}

// andAt reports whether a joining "and" starts at off, given whitespace
// before it.
func (p *parser) andAt(off int) bool {
	s := p.src[off:]
	return len(s) >= 3 && strings.EqualFold(s[:3], "and") && (len(s) == 3 || isSpace(s[3]))
}

// condEnd returns the end of "key OP" (such as "mrr>=") when one starts at
// s[off:], else 0: in a bare value after a space it means a forgotten ","
// or "and" (plan=pro mrr>=9).
func condEnd(s string, off int) int {
	i := off
	for i < len(s) && isKeyChar(s[i]) {
		i++
	}
	if i == off {
		return 0
	}
	for i < len(s) && isSpace(s[i]) && i-off < 256 {
		i++
	}
	for _, op := range []string{"!=", ">=", "<=", "=", ">", "<", "~"} {
		if strings.HasPrefix(s[i:], op) {
			return i + len(op)
		}
	}
	return 0
}

func (p *parser) skipSpace() {
	for p.i < len(p.src) && isSpace(p.src[p.i]) {
		p.i++
	}
}

// excerpt is a short piece of the source at off, for messages.
func (p *parser) excerpt(off int) string {
	s := p.src[off:]
	end := 0
	for end < len(s) && end < 16 && !isSpace(s[end]) {
		_, n := utf8.DecodeRuneInString(s[end:])
		end += n
	}
	if end == 0 && len(s) > 0 {
		_, end = utf8.DecodeRuneInString(s)
	}
	return s[:end]
}

// runeAt is the character at off, for messages.
func (p *parser) runeAt(off int) string {
	_, n := utf8.DecodeRuneInString(p.src[off:])
	return p.src[off : off+n]
}

func (p *parser) cond() (Cond, error) {
	src := p.src
	start := p.i
	for p.i < len(src) && isKeyChar(src[p.i]) {
		p.i++
	}
	key := src[start:p.i]
	if key == "" {
		switch {
		case p.i < len(src) && strings.IndexByte("=!<>~", src[p.i]) >= 0:
			return Cond{}, p.errAt(p.i, "expected a key before %q", p.runeAt(p.i))
		case p.i < len(src) && src[p.i] == '"':
			return Cond{}, p.errAt(p.i, "expected a key (%s); keys are not quoted", keyCharsMsg)
		}
		return Cond{}, p.errAt(p.i, "expected a key (%s), found %q", keyCharsMsg, p.excerpt(p.i))
	}
	if len(key) > MaxKeyLen {
		return Cond{}, p.errAt(start, "key %q… is longer than %d bytes", key[:16], MaxKeyLen)
	}
	c := Cond{Key: key, Pos: start + 1}
	if p.i < len(src) && !isSpace(src[p.i]) && strings.IndexByte("=!<>~", src[p.i]) < 0 {
		return Cond{}, p.errAt(p.i, "unexpected %q in key %q; keys are %s", p.runeAt(p.i), key, keyCharsMsg)
	}
	spaced := p.i
	p.skipSpace()
	spaced = p.i - spaced

	opPos := p.i
	op, ok := p.op(spaced > 0)
	if !ok {
		if strings.EqualFold(key, "and") && spaced > 0 {
			return Cond{}, p.errAt(start, `expected a condition before "and"`)
		}
		if p.i == len(src) {
			return Cond{}, p.errAt(p.i, "expected an operator %s after %q", opList, key)
		}
		return Cond{}, p.errAt(p.i, "expected an operator %s after %q, found %q", opList, key, p.excerpt(p.i))
	}
	c.Op = op
	if !op.HasValue() {
		if err := p.checkExists(c, opPos); err != nil {
			return Cond{}, err
		}
		return c, nil
	}
	v, valPos, err := p.value(op)
	if err != nil {
		return Cond{}, err
	}
	if err := p.typeValue(&c, v, valPos, opPos); err != nil {
		return Cond{}, err
	}
	return c, nil
}

// op reads an operator; the postfix keywords need whitespace before them,
// since they would otherwise be part of the key.
func (p *parser) op(spaced bool) (Op, bool) {
	s := p.src[p.i:]
	word := func(w string) bool {
		return len(s) >= len(w) && strings.EqualFold(s[:len(w)], w) &&
			(len(s) == len(w) || isSpace(s[len(w)]) || s[len(w)] == ',')
	}
	var op Op
	n := 0
	switch {
	case strings.HasPrefix(s, ">="):
		op, n = Ge, 2
	case strings.HasPrefix(s, "<="):
		op, n = Le, 2
	case strings.HasPrefix(s, "!="):
		op, n = Ne, 2
	case strings.HasPrefix(s, ">"):
		op, n = Gt, 1
	case strings.HasPrefix(s, "<"):
		op, n = Lt, 1
	case strings.HasPrefix(s, "="):
		op, n = Eq, 1
	case strings.HasPrefix(s, "~"):
		op, n = Contains, 1
	case strings.HasPrefix(s, "!") && word("!exists"):
		op, n = NotExists, len("!exists")
	case spaced && word("exists"):
		op, n = Exists, len("exists")
	default:
		return 0, false
	}
	p.i += n
	return op, true
}

func (p *parser) checkExists(c Cond, opPos int) error {
	switch c.Field() {
	case FieldFirstSeen, FieldLastSeen:
		return p.errAt(opPos, "%s always exists; compare it with a date, like %s>=2026-03-01", c.Key, c.Key)
	}
	return nil
}

// value reads the value after an operator and returns it with its offset.
func (p *parser) value(op Op) (rawValue, int, error) {
	src := p.src
	opEnd := p.i
	p.skipSpace()
	pos := p.i
	if p.i == len(src) || src[p.i] == ',' || (p.i > opEnd && p.andAt(p.i)) {
		return rawValue{}, pos, p.errAt(p.i, "expected a value after %q", op.String())
	}
	if src[p.i] == '"' {
		s, err := p.quoted()
		return rawValue{text: s, quoted: true}, pos, err
	}
	if strings.IndexByte("=!<>~", src[p.i]) >= 0 {
		return rawValue{}, pos, p.errAt(p.i, "unexpected %q after operator %q; quote the value if it really starts with %q",
			src[p.i:p.i+1], op.String(), src[p.i:p.i+1])
	}
	if src[p.i] == '\'' {
		// SQL's quotes would otherwise become part of the value, and
		// plan='pro' would quietly match nothing.
		return rawValue{}, pos, p.errAt(p.i, `values are quoted with double quotes, like plan="pro"; to match a leading "'", quote the value: "'..."`)
	}
	end := p.i
	for p.i < len(src) && src[p.i] != ',' {
		if src[p.i] == '"' {
			return rawValue{}, pos, p.errAt(p.i, `unexpected '"' inside a bare value; quote the whole value and escape quotes as \"`)
		}
		if isSpace(src[p.i]) {
			j := p.i
			for j < len(src) && isSpace(src[j]) {
				j++
			}
			if j < len(src) && p.andAt(j) {
				break
			}
			if k := condEnd(src, j); k > 0 {
				return rawValue{}, pos, p.errAt(j, `%q looks like the start of another condition; join conditions with "," or " and ", or quote the value if it holds %q`,
					src[j:k], src[j:k])
			}
			p.i = j
			continue
		}
		p.i++
		end = p.i
	}
	text := src[pos:end]
	p.i = end
	return rawValue{text: text}, pos, nil
}

type rawValue struct {
	text   string
	quoted bool
}

// quoted reads a double-quoted string starting at p.i.
func (p *parser) quoted() (string, error) {
	src := p.src
	open := p.i
	p.i++
	var b strings.Builder
	for p.i < len(src) {
		switch ch := src[p.i]; ch {
		case '"':
			p.i++
			return b.String(), nil
		case '\\':
			if p.i+1 < len(src) && (src[p.i+1] == '"' || src[p.i+1] == '\\') {
				b.WriteByte(src[p.i+1])
				p.i += 2
				continue
			}
			if p.i+1 == len(src) {
				return "", p.errAt(open, "unterminated quoted value")
			}
			return "", p.errAt(p.i, `unknown escape \%s in quoted value; only \" and \\ are escapes`, p.runeAt(p.i+1))
		default:
			b.WriteByte(ch)
			p.i++
		}
	}
	return "", p.errAt(open, `unterminated quoted value; close it with '"'`)
}

// typeValue checks v against the key and operator and stores it in c.
func (p *parser) typeValue(c *Cond, v rawValue, valPos, opPos int) error {
	switch c.Field() {
	case FieldStatus:
		switch c.Op {
		case Gt, Ge, Lt, Le:
			return p.errAt(opPos, "status has no order; use =, !=, ~, exists or !exists")
		}
		if !IsStatus(v.text) {
			return p.errAt(valPos, "%q is not a status token (lowercase letters, digits, \"_\" and \"-\", at most %d)", v.text, MaxTokenLen)
		}
		c.Value = Value{Kind: Text, Text: v.text}
		return nil
	case FieldFirstSeen, FieldLastSeen:
		if c.Op == Contains {
			return p.errAt(opPos, "%s is a time; compare it with =, !=, >, >=, < or <=", c.Key)
		}
		if v.quoted || typeBare(v.text) != Date {
			return p.errAt(valPos, "%s needs a date, written without quotes: YYYY-MM-DD or an RFC 3339 time like 2026-03-01T09:00:00Z (for ages, use active_within or inactive_for)", c.Key)
		}
	}
	if c.Op == Contains {
		if v.text == "" {
			return p.errAt(valPos, "~ needs a non-empty value")
		}
		c.Value = Value{Kind: Text, Text: v.text}
		return nil
	}
	if v.quoted {
		c.Value = Value{Kind: Text, Text: v.text}
		return nil
	}
	val, msg := typedValue(v.text)
	if msg != "" {
		return p.errAt(valPos, "%s", msg)
	}
	c.Value = val
	return nil
}

// typedValue types a bare word; msg explains a word that looks like a number
// or a date but is not a valid one.
func typedValue(s string) (Value, string) {
	switch typeBare(s) {
	case Number:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || (f == 0 && strings.ContainsAny(mantissa(s), "123456789")) {
			return Value{}, fmt.Sprintf("number %s is out of range", s)
		}
		return Value{Kind: Number, Text: s, Num: f}, ""
	case Date:
		t, err := parseDate(s)
		if err != nil {
			return Value{}, fmt.Sprintf("%q is not a valid date or time; use YYYY-MM-DD or RFC 3339 like 2026-03-01T09:00:00Z", s)
		}
		return Value{Kind: Date, Text: s, Time: t}, ""
	}
	return Value{Kind: Text, Text: s}, ""
}

// typeBare says how a bare word is typed by its shape alone: a word shaped
// like a date is a Date even when it is not a valid one.
func typeBare(s string) ValueKind {
	if isJSONNumber(s) {
		return Number
	}
	if looksLikeDate(s) {
		return Date
	}
	return Text
}

func mantissa(s string) string {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		return s[:i]
	}
	return s
}

func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// looksLikeDate reports whether s is shaped like YYYY-MM-DD, optionally
// followed by "T" and more (an RFC 3339 timestamp).
func looksLikeDate(s string) bool {
	if len(s) < 10 {
		return false
	}
	for i := range 10 {
		if i == 4 || i == 7 {
			if s[i] != '-' {
				return false
			}
		} else if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) == 10 || s[10] == 'T'
}

func parseDate(s string) (time.Time, error) {
	if len(s) == len(dateLayout) {
		return time.Parse(dateLayout, s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// bareOK reports whether s can be written as a bare word and read back as
// the same text.
func bareOK(s string) bool {
	if s == "" || isSpace(s[0]) || isSpace(s[len(s)-1]) || strings.IndexByte("=!<>~'", s[0]) >= 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == ',' || s[i] == '"' || s[i] == ';':
			// ";" separates expressions where several share one line
			// (the TUI's where prompt), so a value holding one is quoted.
			return false
		case isSpace(s[i]):
			j := i
			for j < len(s) && isSpace(s[j]) {
				j++
			}
			t := s[j:]
			if len(t) >= 3 && strings.EqualFold(t[:3], "and") && (len(t) == 3 || isSpace(t[3])) || condEnd(s, j) > 0 {
				return false
			}
		}
	}
	return true
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// IsParamKey reports whether s is a params key (SPEC §3),
// [A-Za-z0-9_.-]{1,64}.
func IsParamKey(s string) bool {
	if len(s) == 0 || len(s) > MaxKeyLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isKeyChar(s[i]) {
			return false
		}
	}
	return true
}

// IsStatus reports whether s is a status token (SPEC §2),
// [a-z0-9_-]{1,32}.
func IsStatus(s string) bool {
	if len(s) == 0 || len(s) > MaxTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// IsSlug reports whether s has the shape of a project slug (SPEC §2),
// [a-z0-9-]{1,40}.
func IsSlug(s string) bool {
	if len(s) == 0 || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
