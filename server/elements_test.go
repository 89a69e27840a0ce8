package server

import (
	"fmt"
	"slices"
	"testing"
)

// cyElement is one element of an elements array, as a visualizer reads it.
type cyElement struct {
	Group string         `json:"group"`
	Data  map[string]any `json:"data"`
}

// TestElementsMatchTheTypedFields: for subgraph, supplyChain, shortestPath, paths and
// the analytics' paths, elements lists exactly the entities and relationships of the
// typed fields, each once, nodes before edges, every edge's ends among the nodes, with
// the typed values (label, kind, country; type, share, source, target).
func TestElementsMatchTheTypedFields(t *testing.T) {
	ts := newTestServer(t, Config{})
	const typed = `entities { id name kind country } relationships { id type share from { id } to { id } } elements`
	type graphJSON struct {
		Entities []struct {
			ID, Name, Kind string
			Country        *string
		}
		Relationships []struct {
			ID, Type string
			Share    *float64
			From, To struct{ ID string }
		}
		Elements []cyElement
	}
	var out struct {
		Subgraph     graphJSON
		SupplyChain  graphJSON
		ShortestPath graphJSON
		Paths        []graphJSON
		Ownership    struct{ Paths []graphJSON }
	}
	ts.mustQuery(t, `{
		subgraph(ids: ["nzb", "hub"], depth: 1) { `+typed+` }
		supplyChain(of: "nzb") { `+typed+` }
		shortestPath(from: "weld", to: "torin") { `+typed+` }
		paths(from: "nre", to: "nzb", direction: OUT) { `+typed+` }
		ownership(owner: "nre", target: "nzb") { paths { `+typed+` } }
	}`, nil, &out)
	check := func(name string, g graphJSON) {
		t.Helper()
		nodes, edges := map[string]map[string]any{}, map[string]map[string]any{}
		for i, el := range g.Elements {
			id, _ := el.Data["id"].(string)
			switch el.Group {
			case "nodes":
				if len(edges) > 0 {
					t.Errorf("%s: node %q at %d comes after an edge", name, id, i)
				}
				if nodes[id] != nil {
					t.Errorf("%s: node %q twice", name, id)
				}
				nodes[id] = el.Data
			case "edges":
				if edges[id] != nil {
					t.Errorf("%s: edge %q twice", name, id)
				}
				edges[id] = el.Data
			default:
				t.Errorf("%s: element %d has group %q", name, i, el.Group)
			}
		}
		ids := map[string]bool{}
		for _, e := range g.Entities {
			ids[e.ID] = true
			n := nodes[e.ID]
			country := ""
			if e.Country != nil {
				country = *e.Country
			}
			if n == nil || n["label"] != e.Name || n["kind"] != e.Kind || (country != "") != (n["country"] == country) {
				t.Errorf("%s: entity %+v, node %v", name, e, n)
			}
		}
		if len(nodes) != len(ids) {
			t.Errorf("%s: %d nodes for %d distinct entities", name, len(nodes), len(ids))
		}
		rels := map[string]bool{}
		for _, r := range g.Relationships {
			rels[r.ID] = true
			d := edges[r.ID]
			// The typed share is the exact share or a range's midpoint; an edge carries
			// the exact share, or the range as shareMin and shareMax.
			typedShare, edgeShare := "<nil>", fmt.Sprint(d["share"])
			if r.Share != nil {
				typedShare = fmt.Sprint(*r.Share)
			}
			if lo, ok := d["shareMin"].(float64); ok {
				edgeShare = fmt.Sprint((lo + d["shareMax"].(float64)) / 2)
			}
			if d == nil || d["type"] != r.Type || d["source"] != r.From.ID || d["target"] != r.To.ID || edgeShare != typedShare {
				t.Errorf("%s: relationship %+v, edge %v", name, r, d)
			}
			if nodes[r.From.ID] == nil || nodes[r.To.ID] == nil {
				t.Errorf("%s: edge %q has an end outside the nodes", name, r.ID)
			}
		}
		if len(edges) != len(rels) {
			t.Errorf("%s: %d edges for %d distinct relationships", name, len(edges), len(rels))
		}
	}
	check("subgraph", out.Subgraph)
	check("supplyChain", out.SupplyChain)
	check("shortestPath", out.ShortestPath)
	for i, p := range out.Paths {
		check(fmt.Sprintf("paths[%d]", i), p)
	}
	for i, p := range out.Ownership.Paths {
		check(fmt.Sprintf("ownership.paths[%d]", i), p)
	}
	if len(out.Subgraph.Elements) < 120 || len(out.Paths) == 0 || len(out.ShortestPath.Elements) == 0 {
		t.Fatalf("too little to compare: %d subgraph elements, %d paths", len(out.Subgraph.Elements), len(out.Paths))
	}

	// Asked alone, elements is the same array.
	var alone struct {
		Subgraph struct{ Elements []cyElement }
	}
	ts.mustQuery(t, `{ subgraph(ids: ["nzb", "hub"], depth: 1) { elements } }`, nil, &alone)
	key := func(els []cyElement) []string {
		var out []string
		for _, e := range els {
			out = append(out, fmt.Sprint(e.Group, e.Data["id"]))
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(key(alone.Subgraph.Elements), key(out.Subgraph.Elements)) {
		t.Errorf("elements alone differ from elements asked with the typed fields")
	}
}
