package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file reads the little that saved and persisted queries need to know about a
// GraphQL document — its operations, their types, variable definitions and top-level
// fields — because graphql-go keeps its query parser internal. It is run only on
// documents that graphql-go has validated, or to decide whether one may run at all (the
// allow-list), so it is strict: anything it does not understand is an error, never a
// guess.

// gqlDocument is what this file extracts from a GraphQL document.
type gqlDocument struct {
	ops []*gqlOperation
}

// gqlOperation is one operation of a document.
type gqlOperation struct {
	typ  string // "query", "mutation" or "subscription"
	name string
	vars []*varDef
	// fields are the names (not aliases) of the top-level fields; spreads is set when the
	// top-level selection also holds fragments, whose fields are not listed.
	fields  []string
	spreads bool
}

// varDef is a variable definition: $name: type = default.
type varDef struct {
	name       string
	typ        typeRef
	hasDefault bool
	def        any // JSON-like: nil, bool, json.Number, string, []any, map[string]any
}

// typeRef is a GraphQL type reference: a named type or a list, maybe non-null.
type typeRef struct {
	name    string   // the named type; "" for a list
	elem    *typeRef // the element type of a list
	nonNull bool
}

func (t typeRef) String() string {
	s := t.name
	if t.elem != nil {
		s = "[" + t.elem.String() + "]"
	}
	if t.nonNull {
		s += "!"
	}
	return s
}

// named returns the named type under every list and non-null wrapper.
func (t typeRef) named() string {
	for t.elem != nil {
		t = *t.elem
	}
	return t.name
}

// parseTypeRef reads a type written as in a document ("[String!]!").
func parseTypeRef(s string) (typeRef, error) {
	p := newDocParser(s)
	t, err := p.typeRef(0)
	if err == nil && p.tok.kind != tokEOF {
		err = p.errorf("unexpected %s after the type", p.tok)
	}
	return t, err
}

// parseDocument reads the operations of a GraphQL executable document.
func parseDocument(src string) (*gqlDocument, error) {
	p := newDocParser(src)
	doc := &gqlDocument{}
	for p.tok.kind != tokEOF {
		switch {
		case p.tok.kind == tokString: // a description
			p.next()
		case p.is("{"):
			op := &gqlOperation{typ: "query"}
			if err := p.topSelection(op); err != nil {
				return nil, err
			}
			doc.ops = append(doc.ops, op)
		case p.tok.kind == tokName && (p.tok.val == "query" || p.tok.val == "mutation" || p.tok.val == "subscription"):
			op, err := p.operation()
			if err != nil {
				return nil, err
			}
			doc.ops = append(doc.ops, op)
		case p.tok.kind == tokName && p.tok.val == "fragment":
			if err := p.fragment(); err != nil {
				return nil, err
			}
		default:
			return nil, p.errorf("unexpected %s; a definition starts with query, mutation, subscription, fragment or {", p.tok)
		}
		if p.err != nil {
			return nil, p.err
		}
	}
	if p.err != nil {
		return nil, p.err
	}
	if len(doc.ops) == 0 {
		return nil, errors.New("the document has no operation")
	}
	return doc, nil
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokPunct
	tokName
	tokInt
	tokFloat
	tokString
)

type token struct {
	kind tokKind
	val  string // punctuator, name, number text, or the decoded string
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of document"
	case tokString:
		return "string"
	}
	return strconv.Quote(t.val)
}

// docParser is a recursive-descent parser over a GraphQL lexer.
type docParser struct {
	src string
	pos int
	tok token
	err error // the first lexing error; tok is then EOF
}

// maxNesting bounds the nesting of selections, lists and objects.
const maxNesting = 128

func newDocParser(src string) *docParser {
	p := &docParser{src: src}
	p.next()
	return p
}

func (p *docParser) errorf(format string, args ...any) error {
	line := 1 + strings.Count(p.src[:min(p.pos, len(p.src))], "\n")
	return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
}

func (p *docParser) is(punct string) bool { return p.tok.kind == tokPunct && p.tok.val == punct }

func (p *docParser) expect(punct string) error {
	if !p.is(punct) {
		return p.errorf("expected %q, found %s", punct, p.tok)
	}
	p.next()
	return nil
}

func (p *docParser) name() (string, error) {
	if p.tok.kind != tokName {
		return "", p.errorf("expected a name, found %s", p.tok)
	}
	n := p.tok.val
	p.next()
	return n, nil
}

// next reads the next token into p.tok.
func (p *docParser) next() {
	if p.err != nil {
		return
	}
	s := p.src
	for p.pos < len(s) {
		c := s[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			p.pos++
			continue
		case c == '#':
			for p.pos < len(s) && s[p.pos] != '\n' && s[p.pos] != '\r' {
				p.pos++
			}
			continue
		case strings.HasPrefix(s[p.pos:], "\uFEFF"):
			p.pos += 3
			continue
		}
		break
	}
	if p.pos >= len(s) {
		p.tok = token{kind: tokEOF}
		return
	}
	start := p.pos
	c := s[p.pos]
	switch {
	case strings.HasPrefix(s[p.pos:], "..."):
		p.pos += 3
		p.tok = token{tokPunct, "..."}
	case strings.IndexByte("!$&():=@[]{}|", c) >= 0:
		p.pos++
		p.tok = token{tokPunct, string(c)}
	case c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		for p.pos < len(s) && isNameByte(s[p.pos]) {
			p.pos++
		}
		p.tok = token{tokName, s[start:p.pos]}
	case c == '-' || c >= '0' && c <= '9':
		p.number()
	case strings.HasPrefix(s[p.pos:], `"""`):
		p.blockString()
	case c == '"':
		p.quotedString()
	default:
		r, _ := utf8.DecodeRuneInString(s[p.pos:])
		p.fail(p.errorf("unexpected character %q", r))
	}
}

func (p *docParser) fail(err error) {
	if p.err == nil {
		p.err = err
	}
	p.tok = token{kind: tokEOF}
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number reads an IntValue or FloatValue.
func (p *docParser) number() {
	s, start := p.src, p.pos
	if s[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(s) && isDigit(s[p.pos]) {
			p.pos++
			n++
		}
		return n
	}
	intStart := p.pos
	if digits() == 0 || (s[intStart] == '0' && p.pos-intStart > 1) {
		p.fail(p.errorf("malformed number %q", s[start:p.pos]))
		return
	}
	kind := tokInt
	if p.pos < len(s) && s[p.pos] == '.' {
		p.pos++
		kind = tokFloat
		if digits() == 0 {
			p.fail(p.errorf("malformed number %q", s[start:p.pos]))
			return
		}
	}
	if p.pos < len(s) && (s[p.pos] == 'e' || s[p.pos] == 'E') {
		p.pos++
		kind = tokFloat
		if p.pos < len(s) && (s[p.pos] == '+' || s[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			p.fail(p.errorf("malformed number %q", s[start:p.pos]))
			return
		}
	}
	if p.pos < len(s) && (s[p.pos] == '.' || s[p.pos] == '_' || s[p.pos] >= 'A' && s[p.pos] <= 'Z' || s[p.pos] >= 'a' && s[p.pos] <= 'z') {
		p.fail(p.errorf("malformed number %q", s[start:p.pos+1]))
		return
	}
	p.tok = token{kind, s[start:p.pos]}
}

// quotedString reads a "…" string, decoding its escapes.
func (p *docParser) quotedString() {
	s := p.src
	p.pos++ // opening quote
	var b strings.Builder
	for {
		if p.pos >= len(s) || s[p.pos] == '\n' || s[p.pos] == '\r' {
			p.fail(p.errorf("unterminated string"))
			return
		}
		c := s[p.pos]
		switch {
		case c == '"':
			p.pos++
			p.tok = token{tokString, b.String()}
			return
		case c == '\\':
			if p.pos+1 >= len(s) {
				p.fail(p.errorf("unterminated string"))
				return
			}
			e := s[p.pos+1]
			p.pos += 2
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, ok := p.unicodeEscape()
				if !ok {
					p.fail(p.errorf("malformed \\u escape"))
					return
				}
				b.WriteRune(r)
			default:
				p.fail(p.errorf("unknown escape \\%c", e))
				return
			}
		default:
			r, size := utf8.DecodeRuneInString(s[p.pos:])
			if r == utf8.RuneError && size == 1 {
				p.fail(p.errorf("invalid UTF-8 in a string"))
				return
			}
			b.WriteString(s[p.pos : p.pos+size])
			p.pos += size
		}
	}
}

// unicodeEscape reads the XXXX of \uXXXX (with a following \uXXXX for a surrogate pair)
// or the {X…} of \u{X…}.
func (p *docParser) unicodeEscape() (rune, bool) {
	s := p.src
	if p.pos < len(s) && s[p.pos] == '{' {
		end := strings.IndexByte(s[p.pos:], '}')
		if end < 2 || end > 7 {
			return 0, false
		}
		v, err := strconv.ParseUint(s[p.pos+1:p.pos+end], 16, 32)
		p.pos += end + 1
		if err != nil || v > utf8.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
			return 0, false
		}
		return rune(v), true
	}
	hex4 := func() (rune, bool) {
		if p.pos+4 > len(s) {
			return 0, false
		}
		v, err := strconv.ParseUint(s[p.pos:p.pos+4], 16, 32)
		if err != nil {
			return 0, false
		}
		p.pos += 4
		return rune(v), true
	}
	r, ok := hex4()
	if !ok {
		return 0, false
	}
	if r >= 0xD800 && r <= 0xDBFF { // high surrogate: a low one must follow
		if !strings.HasPrefix(s[p.pos:], `\u`) {
			return 0, false
		}
		p.pos += 2
		lo, ok := hex4()
		if !ok || lo < 0xDC00 || lo > 0xDFFF {
			return 0, false
		}
		return (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000, true
	}
	if r >= 0xDC00 && r <= 0xDFFF {
		return 0, false
	}
	return r, true
}

// blockString reads a """…""" string and returns its value as the specification
// defines it: common indentation removed, leading and trailing blank lines dropped.
func (p *docParser) blockString() {
	s := p.src
	p.pos += 3
	var raw strings.Builder
	for {
		if p.pos >= len(s) {
			p.fail(p.errorf("unterminated block string"))
			return
		}
		switch {
		case strings.HasPrefix(s[p.pos:], `\"""`):
			raw.WriteString(`"""`)
			p.pos += 4
		case strings.HasPrefix(s[p.pos:], `"""`):
			p.pos += 3
			p.tok = token{tokString, blockStringValue(raw.String())}
			return
		default:
			raw.WriteByte(s[p.pos])
			p.pos++
		}
	}
}

func blockStringValue(raw string) string {
	lines := strings.Split(strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(raw), "\n")
	indent := -1
	for _, l := range lines[1:] {
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if n < len(l) && (indent < 0 || n < indent) {
			indent = n
		}
	}
	if indent > 0 {
		for i := 1; i < len(lines); i++ {
			if len(lines[i]) >= indent {
				lines[i] = lines[i][indent:]
			} else {
				lines[i] = ""
			}
		}
	}
	blank := func(l string) bool { return strings.TrimLeft(l, " \t") == "" }
	for len(lines) > 0 && blank(lines[0]) {
		lines = lines[1:]
	}
	for len(lines) > 0 && blank(lines[len(lines)-1]) {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// operation reads query|mutation|subscription Name? VariableDefinitions? Directives? SelectionSet.
func (p *docParser) operation() (*gqlOperation, error) {
	op := &gqlOperation{typ: p.tok.val}
	p.next()
	if p.tok.kind == tokName {
		op.name = p.tok.val
		p.next()
	}
	if p.is("(") {
		p.next()
		for !p.is(")") {
			v, err := p.varDef()
			if err != nil {
				return nil, err
			}
			for _, w := range op.vars {
				if w.name == v.name {
					return nil, p.errorf("variable $%s is defined twice", v.name)
				}
			}
			op.vars = append(op.vars, v)
		}
		p.next()
		if len(op.vars) == 0 {
			return nil, p.errorf("empty variable definitions")
		}
	}
	if err := p.directives(false); err != nil {
		return nil, err
	}
	return op, p.topSelection(op)
}

// varDef reads $name: Type (= ConstValue)? Directives?.
func (p *docParser) varDef() (*varDef, error) {
	if err := p.expect("$"); err != nil {
		return nil, err
	}
	n, err := p.name()
	if err != nil {
		return nil, err
	}
	if err := p.expect(":"); err != nil {
		return nil, err
	}
	t, err := p.typeRef(0)
	if err != nil {
		return nil, err
	}
	v := &varDef{name: n, typ: t}
	if p.is("=") {
		p.next()
		if v.def, err = p.value(true, 0); err != nil {
			return nil, err
		}
		v.hasDefault = true
	}
	return v, p.directives(true)
}

func (p *docParser) typeRef(depth int) (typeRef, error) {
	if depth > maxNesting {
		return typeRef{}, p.errorf("type nested too deeply")
	}
	var t typeRef
	if p.is("[") {
		p.next()
		elem, err := p.typeRef(depth + 1)
		if err != nil {
			return t, err
		}
		if err := p.expect("]"); err != nil {
			return t, err
		}
		t.elem = &elem
	} else {
		n, err := p.name()
		if err != nil {
			return t, err
		}
		t.name = n
	}
	if p.is("!") {
		p.next()
		t.nonNull = true
	}
	return t, nil
}

// value reads a Value (a ConstValue when isConst) as JSON-like Go data; enum values
// become strings, numbers json.Number.
func (p *docParser) value(isConst bool, depth int) (any, error) {
	if depth > maxNesting {
		return nil, p.errorf("value nested too deeply")
	}
	t := p.tok
	switch {
	case t.kind == tokInt || t.kind == tokFloat:
		p.next()
		return json.Number(t.val), nil
	case t.kind == tokString:
		p.next()
		return t.val, nil
	case t.kind == tokName:
		p.next()
		switch t.val {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		return t.val, nil
	case p.is("$"):
		if isConst {
			return nil, p.errorf("a default value cannot use a variable")
		}
		p.next()
		_, err := p.name()
		return nil, err
	case p.is("["):
		p.next()
		list := []any{}
		for !p.is("]") {
			if p.tok.kind == tokEOF {
				return nil, p.errorf("unterminated list")
			}
			v, err := p.value(isConst, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		p.next()
		return list, nil
	case p.is("{"):
		p.next()
		obj := map[string]any{}
		for !p.is("}") {
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			v, err := p.value(isConst, depth+1)
			if err != nil {
				return nil, err
			}
			obj[n] = v
		}
		p.next()
		return obj, nil
	}
	return nil, p.errorf("expected a value, found %s", t)
}

// directives reads (@name Arguments?)*.
func (p *docParser) directives(isConst bool) error {
	for p.is("@") {
		p.next()
		if _, err := p.name(); err != nil {
			return err
		}
		if p.is("(") {
			if err := p.arguments(isConst); err != nil {
				return err
			}
		}
	}
	return nil
}

// arguments reads ( name: Value … ).
func (p *docParser) arguments(isConst bool) error {
	p.next() // (
	for !p.is(")") {
		if _, err := p.name(); err != nil {
			return err
		}
		if err := p.expect(":"); err != nil {
			return err
		}
		if _, err := p.value(isConst, 0); err != nil {
			return err
		}
	}
	p.next()
	return nil
}

// fragment reads fragment Name on Type Directives? SelectionSet.
func (p *docParser) fragment() error {
	p.next()
	if _, err := p.name(); err != nil {
		return err
	}
	if p.tok.kind != tokName || p.tok.val != "on" {
		return p.errorf("expected \"on\", found %s", p.tok)
	}
	p.next()
	if _, err := p.name(); err != nil {
		return err
	}
	if err := p.directives(false); err != nil {
		return err
	}
	return p.selectionSet(nil, 0)
}

// topSelection reads an operation's selection set, recording its top-level fields.
func (p *docParser) topSelection(op *gqlOperation) error {
	return p.selectionSet(op, 0)
}

// selectionSet reads { Selection+ }; when op is not nil, it records the fields read.
func (p *docParser) selectionSet(op *gqlOperation, depth int) error {
	if depth > maxNesting {
		return p.errorf("selections nested too deeply")
	}
	if err := p.expect("{"); err != nil {
		return err
	}
	if p.is("}") {
		return p.errorf("empty selection set")
	}
	for !p.is("}") {
		switch {
		case p.tok.kind == tokEOF:
			return p.errorf("unterminated selection set")
		case p.is("..."):
			p.next()
			if op != nil {
				op.spreads = true
			}
			inline := true
			if p.tok.kind == tokName && p.tok.val == "on" {
				p.next()
				if _, err := p.name(); err != nil {
					return err
				}
			} else if p.tok.kind == tokName {
				p.next() // a fragment spread
				inline = false
			}
			if err := p.directives(false); err != nil {
				return err
			}
			if inline {
				if err := p.selectionSet(nil, depth+1); err != nil {
					return err
				}
			}
		default:
			n, err := p.name()
			if err != nil {
				return err
			}
			if p.is(":") { // n was an alias
				p.next()
				if n, err = p.name(); err != nil {
					return err
				}
			}
			if op != nil {
				op.fields = append(op.fields, n)
			}
			if p.is("(") {
				if err := p.arguments(false); err != nil {
					return err
				}
			}
			if err := p.directives(false); err != nil {
				return err
			}
			if p.is("{") {
				if err := p.selectionSet(nil, depth+1); err != nil {
					return err
				}
			}
		}
	}
	p.next()
	return nil
}
