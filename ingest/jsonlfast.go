package ingest

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/lodestone-kg/lodestone/graph"
)

// decodeRecordFast decodes one line of native JSONL into rec without reflection, for the
// bulk import of large files (encoding/json was a fifth of its CPU). It handles the shape
// Lodestone writes: field names spelled exactly, each at most once, no null, one record
// per line. On anything else it returns false, and the caller decodes the line again
// with encoding/json, so that what is accepted and every error message stay exactly
// encoding/json's. When it returns true, rec equals what encoding/json would decode
// (FuzzDecodeRecordFast). b must be valid UTF-8 (decodeJSONLLine checks it first).
func decodeRecordFast(b []byte, rec *graph.Record) bool {
	p := &fastParser{b: b}
	if !p.byte('{') {
		return false
	}
	key, ok := p.key()
	if !ok {
		return false
	}
	switch key {
	case "source":
		rec.Source = &graph.Source{}
		ok = p.source(rec.Source)
	case "entity":
		rec.Entity = &graph.Entity{}
		ok = p.entity(rec.Entity)
	case "relationship":
		rec.Relationship = &graph.Relationship{}
		ok = p.relationship(rec.Relationship)
	default:
		return false
	}
	if !ok || !p.byte('}') {
		*rec = graph.Record{}
		return false
	}
	p.ws()
	if p.i != len(p.b) {
		*rec = graph.Record{}
		return false
	}
	return true
}

type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// byte skips white space and then c; false when c is not next.
func (p *fastParser) byte(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// peek skips white space and reports whether c is next, without consuming it.
func (p *fastParser) peek(c byte) bool {
	p.ws()
	return p.i < len(p.b) && p.b[p.i] == c
}

// str reads a string; strings with escapes are handed to encoding/json.
func (p *fastParser) str() (string, bool) {
	start, escaped, ok := p.strSpan()
	switch {
	case !ok:
		return "", false
	case !escaped:
		return string(p.b[start : p.i-1]), true
	}
	var s string
	if json.Unmarshal(p.b[start-1:p.i], &s) != nil {
		return "", false
	}
	return s, true
}

// strSpan reads a string: its contents are p.b[start:p.i-1], with escapes when escaped.
func (p *fastParser) strSpan() (start int, escaped, ok bool) {
	if !p.byte('"') {
		return 0, false, false
	}
	start = p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return start, escaped, true
		case c == '\\':
			escaped = true
			p.i += 2
		case c < 0x20:
			return 0, false, false
		default:
			p.i++
		}
	}
	return 0, false, false
}

// key reads an object key and its colon. The field names of records come back as
// constants, without allocating a string for each.
func (p *fastParser) key() (string, bool) {
	start, escaped, ok := p.strSpan()
	if ok && !escaped {
		if k, known := fieldName(p.b[start : p.i-1]); known {
			return k, p.byte(':')
		}
	}
	if !ok {
		return "", false
	}
	p.i = start - 1 // read it again as any string
	k, ok := p.str()
	return k, ok && p.byte(':')
}

// fieldName returns the constant equal to k when k is a field name of a record.
func fieldName(k []byte) (string, bool) {
	switch string(k) { // a switch on string(k) compares without converting
	case "id":
		return "id", true
	case "type":
		return "type", true
	case "from":
		return "from", true
	case "to":
		return "to", true
	case "share":
		return "share", true
	case "sources":
		return "sources", true
	case "validFrom":
		return "validFrom", true
	case "validTo":
		return "validTo", true
	case "kind":
		return "kind", true
	case "name":
		return "name", true
	case "aliases":
		return "aliases", true
	case "country":
		return "country", true
	case "identifiers":
		return "identifiers", true
	case "properties":
		return "properties", true
	case "scheme":
		return "scheme", true
	case "value":
		return "value", true
	case "confidence":
		return "confidence", true
	case "source":
		return "source", true
	case "entity":
		return "entity", true
	case "relationship":
		return "relationship", true
	}
	return "", false
}

// fields reads the members of an object whose '{' is next, calling field for each; a
// field name seen twice makes it fail (encoding/json would merge the two values).
func (p *fastParser) fields(field func(name string) bool) bool {
	if !p.byte('{') {
		return false
	}
	if p.byte('}') {
		return true
	}
	var seenBuf [16]string
	seen := seenBuf[:0]
	for {
		k, ok := p.key()
		if !ok || slices.Contains(seen, k) || !field(k) {
			return false
		}
		seen = append(seen, k)
		if p.byte('}') {
			return true
		}
		if !p.byte(',') {
			return false
		}
	}
}

func (p *fastParser) strs() ([]string, bool) {
	if !p.byte('[') {
		return nil, false
	}
	out := []string{}
	if p.byte(']') {
		return out, true
	}
	for {
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		if p.byte(']') {
			return out, true
		}
		if !p.byte(',') {
			return nil, false
		}
	}
}

func (p *fastParser) identifiers() ([]graph.Identifier, bool) {
	if !p.byte('[') {
		return nil, false
	}
	out := []graph.Identifier{}
	if p.byte(']') {
		return out, true
	}
	for {
		var id graph.Identifier
		ok := p.fields(func(k string) bool {
			var ok bool
			switch k {
			case "scheme":
				id.Scheme, ok = p.str()
			case "value":
				id.Value, ok = p.str()
			}
			return ok
		})
		if !ok {
			return nil, false
		}
		out = append(out, id)
		if p.byte(']') {
			return out, true
		}
		if !p.byte(',') {
			return nil, false
		}
	}
}

func (p *fastParser) date() (graph.Date, bool) {
	s, ok := p.str()
	if !ok {
		return graph.Date{}, false
	}
	d, err := graph.ParseDate(s)
	return d, err == nil
}

// number reads a JSON number as float64; nil when it is not one.
func (p *fastParser) number() *float64 {
	p.ws()
	start := p.i
	if p.i < len(p.b) && p.b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.b) && p.b[p.i] == '0':
		p.i++
	case p.i < len(p.b) && p.b[p.i] >= '1' && p.b[p.i] <= '9':
		p.digits()
	default:
		return nil
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if !p.digits() {
			return nil
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if !p.digits() {
			return nil
		}
	}
	f, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
	if err != nil {
		return nil
	}
	return &f
}

func (p *fastParser) digits() bool {
	start := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

func (p *fastParser) boolean() (v, ok bool) {
	p.ws()
	switch {
	case len(p.b)-p.i >= 4 && string(p.b[p.i:p.i+4]) == "true":
		p.i += 4
		return true, true
	case len(p.b)-p.i >= 5 && string(p.b[p.i:p.i+5]) == "false":
		p.i += 5
		return false, true
	}
	return false, false
}

// raw reads an object or array and returns a copy of its bytes, as json.RawMessage gets
// them; it relies on json.Valid for the validity of what lies between the brackets.
func (p *fastParser) raw() (json.RawMessage, bool) {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '{' && p.b[p.i] != '[' {
		return nil, false
	}
	start, depth := p.i, 0
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case '"':
			for p.i++; p.i < len(p.b) && p.b[p.i] != '"'; p.i++ {
				if p.b[p.i] == '\\' {
					p.i++
				}
			}
		}
		p.i++
		if depth == 0 {
			v := p.b[start:p.i]
			if !json.Valid(v) {
				return nil, false
			}
			return append(json.RawMessage(nil), v...), true
		}
	}
	return nil, false
}

func (p *fastParser) source(s *graph.Source) bool {
	return p.fields(func(k string) bool {
		var ok bool
		switch k {
		case "id":
			s.ID, ok = p.str()
		case "title":
			s.Title, ok = p.str()
		case "publisher":
			s.Publisher, ok = p.str()
		case "url":
			s.URL, ok = p.str()
		case "published":
			s.Published, ok = p.date()
		}
		return ok
	})
}

func (p *fastParser) entity(e *graph.Entity) bool {
	return p.fields(func(k string) bool {
		var ok bool
		switch k {
		case "id":
			e.ID, ok = p.str()
		case "kind":
			e.Kind, ok = p.str()
		case "name":
			e.Name, ok = p.str()
		case "aliases":
			e.Aliases, ok = p.strs()
		case "country":
			e.Country, ok = p.str()
		case "identifiers":
			e.Identifiers, ok = p.identifiers()
		case "properties":
			e.Properties, ok = p.raw()
		case "sources":
			e.Sources, ok = p.strs()
		case "validFrom":
			e.ValidFrom, ok = p.date()
		case "validTo":
			e.ValidTo, ok = p.date()
		}
		return ok
	})
}

func (p *fastParser) relationship(r *graph.Relationship) bool {
	return p.fields(func(k string) bool {
		var ok bool
		switch k {
		case "id":
			r.ID, ok = p.str()
		case "type":
			r.Type, ok = p.str()
		case "from":
			r.From, ok = p.str()
		case "to":
			r.To, ok = p.str()
		case "share":
			r.Share = p.number()
			ok = r.Share != nil
		case "shareMin":
			r.ShareMin = p.number()
			ok = r.ShareMin != nil
		case "shareMax":
			r.ShareMax = p.number()
			ok = r.ShareMax != nil
		case "confidence":
			r.Confidence = p.number()
			ok = r.Confidence != nil
		case "shareMinExclusive":
			r.ShareMinExclusive, ok = p.boolean()
		case "shareMaxExclusive":
			r.ShareMaxExclusive, ok = p.boolean()
		case "properties":
			r.Properties, ok = p.raw()
		case "sources":
			r.Sources, ok = p.strs()
		case "validFrom":
			r.ValidFrom, ok = p.date()
		case "validTo":
			r.ValidTo, ok = p.date()
		}
		return ok
	})
}
