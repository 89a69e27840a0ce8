package ingest

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/lodestone-kg/lodestone/graph"
)

// The Cytoscape.js element encoding, shared by the cytoscape export and the `elements`
// field of the GraphQL API: an entity is {"data":{…},"group":"nodes"} and a relationship
// {"data":{…},"group":"edges"}, exactly what cy.add() takes. The data keys are written in
// alphabetical order, empty ones left out, with the bytes encoding/json would write for
// the same map (the same escaping of <, > and &, the same number format), but without a
// map or reflection per element: a visualizer's subgraph of thousands of elements is
// written in a few milliseconds.
//
//	nodes: aliases, country, id, identifiers, kind, label (the name), name, properties,
//	       sources, validFrom, validTo
//	edges: confidence, id, label (the type), properties, share, shareMax,
//	       shareMaxExclusive, shareMin, shareMinExclusive, source, sources, target, type,
//	       validFrom, validTo
//
// A relationship built from its adjacency entry (graph.Relationship.Thin) has no
// properties, sources or confidence, so its element has none either.

// AppendCytoscapeNode appends e's element to b.
func AppendCytoscapeNode(b []byte, e *graph.Entity) []byte {
	b = append(b, `{"data":{`...)
	k := cyKeys{b: b}
	if len(e.Aliases) > 0 {
		k.key("aliases")
		k.b = appendStrings(k.b, e.Aliases)
	}
	if e.Country != "" {
		k.str("country", e.Country)
	}
	k.str("id", e.ID)
	if len(e.Identifiers) > 0 {
		k.key("identifiers")
		k.b = append(k.b, '[')
		for i, id := range e.Identifiers {
			if i > 0 {
				k.b = append(k.b, ',')
			}
			k.b = append(k.b, `{"scheme":`...)
			k.b = appendJSONString(k.b, id.Scheme)
			k.b = append(k.b, `,"value":`...)
			k.b = appendJSONString(k.b, id.Value)
			k.b = append(k.b, '}')
		}
		k.b = append(k.b, ']')
	}
	k.str("kind", e.Kind)
	k.str("label", e.Name)
	k.str("name", e.Name)
	k.common(e.Properties, e.Sources, e.ValidFrom, e.ValidTo)
	return append(k.b, `},"group":"nodes"}`...)
}

// AppendCytoscapeEdge appends r's element to b.
func AppendCytoscapeEdge(b []byte, r *graph.Relationship) []byte {
	b = append(b, `{"data":{`...)
	k := cyKeys{b: b}
	k.num("confidence", r.Confidence)
	k.str("id", r.ID)
	k.str("label", r.Type)
	if len(r.Properties) > 0 {
		k.raw("properties", r.Properties)
	}
	k.num("share", r.Share)
	k.num("shareMax", r.ShareMax)
	if r.ShareMaxExclusive {
		k.key("shareMaxExclusive")
		k.b = append(k.b, "true"...)
	}
	k.num("shareMin", r.ShareMin)
	if r.ShareMinExclusive {
		k.key("shareMinExclusive")
		k.b = append(k.b, "true"...)
	}
	k.str("source", r.From)
	if len(r.Sources) > 0 {
		k.key("sources")
		k.b = appendStrings(k.b, r.Sources)
	}
	k.str("target", r.To)
	k.str("type", r.Type)
	k.common(nil, nil, r.ValidFrom, r.ValidTo)
	return append(k.b, `},"group":"edges"}`...)
}

// AppendCytoscapeElements appends the JSON array of the elements of ents and rels, nodes
// first, to b.
func AppendCytoscapeElements(b []byte, ents []*graph.Entity, rels []*graph.Relationship) []byte {
	b = append(b, '[')
	for i, e := range ents {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendCytoscapeNode(b, e)
	}
	for i, r := range rels {
		if i > 0 || len(ents) > 0 {
			b = append(b, ',')
		}
		b = AppendCytoscapeEdge(b, r)
	}
	return append(b, ']')
}

// cyKeys writes the members of one object, a comma before each but the first.
type cyKeys struct {
	b    []byte
	some bool
}

func (k *cyKeys) key(name string) {
	if k.some {
		k.b = append(k.b, ',')
	}
	k.some = true
	k.b = append(k.b, '"')
	k.b = append(k.b, name...)
	k.b = append(k.b, `":`...)
}

func (k *cyKeys) str(name, v string) {
	k.key(name)
	k.b = appendJSONString(k.b, v)
}

func (k *cyKeys) num(name string, v *float64) {
	if v != nil {
		k.key(name)
		k.b = appendJSONFloat(k.b, *v)
	}
}

// raw writes a stored JSON value as encoding/json writes a json.RawMessage: compacted,
// with <, > and & escaped.
func (k *cyKeys) raw(name string, v json.RawMessage) {
	k.key(name)
	raw, err := json.Marshal(v)
	if err != nil {
		raw = []byte("null") // the store validates properties; this is not reached
	}
	k.b = append(k.b, raw...)
}

// common writes the keys nodes and edges share, in their places in the order above:
// properties and sources (nodes only: edges write theirs in their own places), then
// validFrom and validTo.
func (k *cyKeys) common(props json.RawMessage, sources []string, from, to graph.Date) {
	if len(props) > 0 {
		k.raw("properties", props)
	}
	if len(sources) > 0 {
		k.key("sources")
		k.b = appendStrings(k.b, sources)
	}
	if !from.IsZero() {
		k.str("validFrom", from.String())
	}
	if !to.IsZero() {
		k.str("validTo", to.String())
	}
}

func appendStrings(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONString appends s as encoding/json writes a string: plain ASCII without
// quotes, backslashes, control characters or <, > and & directly, anything else through
// encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			raw, _ := json.Marshal(s)
			return append(b, raw...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONFloat appends f as encoding/json writes a float64 (its floatEncoder): the
// shortest form, in exponent notation only for very small or large magnitudes.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, "null"...) // the store refuses these; never reached
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
