package ingest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

// cyReference is the element as a map encoded by encoding/json: what the appenders must
// write byte for byte.
func cyReference(group string, data map[string]any) string {
	raw, err := json.Marshal(map[string]any{"group": group, "data": data})
	if err != nil {
		panic(err)
	}
	return string(raw)
}

func cyNodeReference(e *graph.Entity) string {
	data := map[string]any{"id": e.ID, "label": e.Name, "kind": e.Kind, "name": e.Name}
	if e.Country != "" {
		data["country"] = e.Country
	}
	if len(e.Aliases) > 0 {
		data["aliases"] = e.Aliases
	}
	if len(e.Identifiers) > 0 {
		data["identifiers"] = e.Identifiers
	}
	cyCommonReference(data, e.Sources, e.Properties, e.ValidFrom, e.ValidTo)
	return cyReference("nodes", data)
}

func cyEdgeReference(r *graph.Relationship) string {
	data := map[string]any{"id": r.ID, "source": r.From, "target": r.To, "label": r.Type, "type": r.Type}
	for k, v := range map[string]*float64{"share": r.Share, "shareMin": r.ShareMin, "shareMax": r.ShareMax, "confidence": r.Confidence} {
		if v != nil {
			data[k] = *v
		}
	}
	if r.ShareMinExclusive {
		data["shareMinExclusive"] = true
	}
	if r.ShareMaxExclusive {
		data["shareMaxExclusive"] = true
	}
	cyCommonReference(data, r.Sources, r.Properties, r.ValidFrom, r.ValidTo)
	return cyReference("edges", data)
}

func cyCommonReference(data map[string]any, sources []string, props json.RawMessage, from, to graph.Date) {
	if len(sources) > 0 {
		data["sources"] = sources
	}
	if len(props) > 0 {
		data["properties"] = props
	}
	if !from.IsZero() {
		data["validFrom"] = from
	}
	if !to.IsZero() {
		data["validTo"] = to
	}
}

// TestCytoscapeMatchesEncodingJSON: on random entities and relationships (escapes,
// non-ASCII, tiny and huge numbers, every optional field present or not) the appenders
// write exactly what encoding/json writes for the element as a map.
func TestCytoscapeMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	texts := []string{"a", "Ningbo Zhaobao", "北方稀土", "<b>&amp;</b>", "quote\"back\\slash", "tab\there\nline", "\u2028sep", "bad\xffutf8", ""}
	text := func() string { return texts[rng.IntN(len(texts)-1)] } // never empty
	maybe := func() bool { return rng.IntN(2) == 0 }
	num := func() *float64 {
		if maybe() {
			return nil
		}
		xs := []float64{0, 1, 0.4, 1.0 / 3, 1e-7, 2.5e-9, 1e21, 123456789, 0.000001, math.SmallestNonzeroFloat64}
		x := xs[rng.IntN(len(xs))]
		return &x
	}
	date := func() graph.Date {
		if maybe() {
			return graph.Date{}
		}
		return graph.MustParseDate(fmt.Sprintf("20%02d-%02d-%02d", rng.IntN(30), 1+rng.IntN(12), 1+rng.IntN(28)))
	}
	props := func() json.RawMessage {
		if maybe() {
			return nil
		}
		return json.RawMessage(`{ "volumeTpa": 100000000, "note": "<ok> & fine", "nested": {"a": [1, 2.5e-8]} }`)
	}
	list := func() []string {
		var out []string
		for range rng.IntN(3) {
			out = append(out, text())
		}
		return out
	}
	for i := range 2000 {
		e := &graph.Entity{ID: text(), Kind: text(), Name: text(), Aliases: list(), Sources: list(), Properties: props(), ValidFrom: date(), ValidTo: date()}
		if maybe() {
			e.Country = "CN"
		}
		for range rng.IntN(3) {
			e.Identifiers = append(e.Identifiers, graph.Identifier{Scheme: text(), Value: text()})
		}
		if got, want := string(AppendCytoscapeNode(nil, e)), cyNodeReference(e); got != want {
			t.Fatalf("node %d %+v:\n got %s\nwant %s", i, e, got, want)
		}
		r := &graph.Relationship{ID: text(), Type: text(), From: text(), To: text(), Share: num(), ShareMin: num(), ShareMax: num(), Confidence: num(),
			ShareMinExclusive: maybe(), ShareMaxExclusive: maybe(), Sources: list(), Properties: props(), ValidFrom: date(), ValidTo: date()}
		if got, want := string(AppendCytoscapeEdge(nil, r)), cyEdgeReference(r); got != want {
			t.Fatalf("edge %d %+v:\n got %s\nwant %s", i, r, got, want)
		}
	}
	var elems []map[string]any
	if err := json.Unmarshal(AppendCytoscapeElements(nil, []*graph.Entity{{ID: "a", Kind: "Company", Name: "A"}}, []*graph.Relationship{{ID: "r", Type: "OWNS", From: "a", To: "a"}}), &elems); err != nil || len(elems) != 2 {
		t.Fatalf("elements array: %v %v", elems, err)
	}
}
