package server

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

// TestSubgraphShape: what a visualizer gets needs no reshaping: entities de-duplicated,
// every relationship's ends among the entities, the start always present.
func TestSubgraphShape(t *testing.T) {
	ts := newTestServer(t, Config{})
	var got struct {
		Subgraph struct {
			Truncated     bool
			Entities      []struct{ ID string }
			Relationships []struct {
				ID       string
				From, To struct{ ID string }
			}
		}
	}
	ts.mustQuery(t, `{ subgraph(ids: ["nzb", "weld"], depth: 2, asOf: "2025-06-01") { truncated entities { id } relationships { id from { id } to { id } } } }`, nil, &got)
	sg := got.Subgraph
	ids := map[string]bool{}
	for _, e := range sg.Entities {
		if ids[e.ID] {
			t.Errorf("entity %s listed twice", e.ID)
		}
		ids[e.ID] = true
	}
	for _, want := range []string{"nzb", "weld", "nre", "zb", "torin", "souwest"} {
		if !ids[want] {
			t.Errorf("subgraph lacks %s: %v", want, ids)
		}
	}
	seen := map[string]bool{}
	for _, r := range sg.Relationships {
		if seen[r.ID] || !ids[r.From.ID] || !ids[r.To.ID] {
			t.Errorf("relationship %+v repeated or with an end outside the entities", r)
		}
		seen[r.ID] = true
	}
	if len(sg.Relationships) != 5 || sg.Truncated {
		t.Errorf("relationships = %d truncated %v, want 5 (four owners and the supply link), not truncated", len(sg.Relationships), sg.Truncated)
	}
	ts.mustQuery(t, `{ subgraph(ids: ["hub"], depth: 1, limit: 10) { truncated entities { id } relationships { id from { id } to { id } } } }`, nil, &got)
	if !got.Subgraph.Truncated || len(got.Subgraph.Entities) != 10 || got.Subgraph.Entities[0].ID != "hub" {
		t.Errorf("capped subgraph: truncated %v with %d entities starting %v", got.Subgraph.Truncated, len(got.Subgraph.Entities), got.Subgraph.Entities[:1])
	}
}

func TestOwnershipFields(t *testing.T) {
	ts := newTestServer(t, Config{})
	var got struct {
		Ownership struct {
			Direct, Integrated, IntegratedMin, IntegratedMax float64
			Controls                                         bool
			Paths                                            []struct {
				Length   int
				Share    float64
				Entities []struct{ ID string }
			}
		}
		UltimateController *struct{ Share float64 }
		Owners             []struct {
			Entity     struct{ ID string }
			Integrated float64
			Depth      int
			Certain    bool
		}
		BeneficialOwners []struct {
			Entity     struct{ ID string }
			Integrated float64
		}
		Holdings []struct{ Entity struct{ ID string } }
	}
	ts.mustQuery(t, `{
		ownership(owner: "nre", target: "nzb") { direct integrated integratedMin integratedMax controls paths { length share entities { id } } }
		ultimateController(of: "nzb") { share }
		owners(of: "nzb", threshold: 0.2) { entity { id } integrated depth certain }
		beneficialOwners(of: "nzb") { entity { id } integrated }
		holdings(of: "hub", threshold: 0.5, maxDepth: 1) { entity { id } }
	}`, nil, &got)
	o := got.Ownership
	if o.Direct != 0.4 || o.Integrated != 0.4 || o.IntegratedMin != 0.4 || o.IntegratedMax != 0.4 || o.Controls {
		t.Errorf("ownership(nre, nzb) = %+v", o)
	}
	if len(o.Paths) != 1 || o.Paths[0].Length != 1 || o.Paths[0].Share != 0.4 || len(o.Paths[0].Entities) != 2 {
		t.Errorf("paths = %+v", o.Paths)
	}
	if got.UltimateController != nil {
		t.Errorf("ultimateController of a JV with no majority = %+v, want null", got.UltimateController)
	}
	if len(got.Owners) != 2 || got.Owners[0].Entity.ID != "nre" || got.Owners[1].Entity.ID != "zb" || got.Owners[0].Depth != 1 || !got.Owners[0].Certain {
		t.Errorf("owners(nzb, 0.2) = %+v", got.Owners)
	}
	if len(got.BeneficialOwners) != 2 {
		t.Errorf("beneficialOwners(nzb, 0.25) = %+v, want nre and zb", got.BeneficialOwners)
	}
	if len(got.Holdings) != 120 {
		t.Errorf("holdings(hub) = %d, want 120", len(got.Holdings))
	}
}

func TestTraversalLimitsAndErrors(t *testing.T) {
	ts := newTestServer(t, Config{})
	tests := []struct {
		query, code, field string
	}{
		{`{ subgraph(ids: ["nzb"], depth: 13) { truncated } }`, graph.ELIMIT, "depth"},
		{`{ subgraph(ids: ["nzb"], limit: 20000) { truncated } }`, graph.ELIMIT, "limit"},
		{`{ subgraph(ids: ["ghost"]) { truncated } }`, graph.ENOTFOUND, ""},
		{`{ shortestPath(from: "nzb", to: "nre", maxDepth: 50) { length } }`, graph.ELIMIT, "maxDepth"},
		{`{ paths(from: "nzb", to: "nre", first: 5000) { length } }`, graph.ELIMIT, "first"},
		{`{ owners(of: "nzb", threshold: 1.5) { depth } }`, graph.EINVALID, "threshold"},
		{`{ owners(of: "ghost") { depth } }`, graph.ENOTFOUND, ""},
		{`{ ownership(owner: "nzb", target: "nzb") { direct } }`, graph.EINVALID, "target"},
		{`{ exposure(of: "nzb", country: "china") { share } }`, graph.EINVALID, "country"},
	}
	for _, tt := range tests {
		_, out := ts.post(t, tt.query, nil, nil)
		if len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != tt.code || tt.field != "" && out.Errors[0].Extensions["field"] != tt.field {
			t.Errorf("%s: errors %+v, want %s on %q", tt.query, out.Errors, tt.code, tt.field)
		}
	}
}

func TestPathsAndExposureFields(t *testing.T) {
	ts := newTestServer(t, Config{})
	var got struct {
		ShortestPath *struct {
			Length        int
			Entities      []struct{ ID string }
			Relationships []struct{ Type string }
		}
		Paths    []struct{ Length int }
		None     *struct{ Length int } `json:"none"`
		Exposure struct {
			Share    float64
			Entities []struct{ ID string }
			Paths    []struct{ Length int }
		}
		SupplyChain struct {
			Entities []struct{ ID string }
		}
	}
	ts.mustQuery(t, `{
		shortestPath(from: "weld", to: "nre") { length entities { id } relationships { type } }
		paths(from: "nre", to: "nzb") { length }
		none: shortestPath(from: "weld", to: "hub") { length }
		exposure(of: "nzb", country: "AU", asOf: "2019-06-01") { share entities { id } paths { length } }
		supplyChain(of: "nzb", asOf: "2019-06-01") { entities { id } }
	}`, nil, &got)
	if p := got.ShortestPath; p == nil || p.Length != 2 || p.Entities[0].ID != "weld" || p.Entities[2].ID != "nre" {
		t.Errorf("shortestPath(weld, nre) = %+v", p)
	}
	if len(got.Paths) != 1 || got.Paths[0].Length != 1 || got.None != nil {
		t.Errorf("paths = %+v, none = %+v", got.Paths, got.None)
	}
	x := got.Exposure
	if math.Abs(x.Share-1) > 1e-12 || len(x.Entities) != 1 || x.Entities[0].ID != "weld" || len(x.Paths) != 1 {
		t.Errorf("exposure(nzb, AU) in 2019 = %+v, want all of it through Mount Weld", x)
	}
	var ids []string
	for _, e := range got.SupplyChain.Entities {
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, ",") != "nzb,weld" {
		t.Errorf("supplyChain(nzb) in 2019 = %v", ids)
	}
}

// TestSubgraphRelationshipFields checks that a subgraph answers the same whether its
// relationships come from adjacency entries (no record-only field selected) or from
// records (properties, sources or confidence selected, here through a fragment), and that
// a thin relationship still answers a record-only field.
func TestSubgraphRelationshipFields(t *testing.T) {
	ts := newTestServer(t, Config{})
	const common = `id type from { id } to { id } share shareMin shareMax validFrom validTo`
	type rel struct {
		ID, Type           string
		From, To           struct{ ID string }
		Share              *float64
		ShareMin, ShareMax *float64
		ValidFrom, ValidTo *string
		Properties         map[string]any
		Sources            []struct{ ID string }
	}
	var thin, full struct {
		Subgraph struct{ Relationships []rel }
	}
	ts.mustQuery(t, `{ subgraph(ids: ["nzb"], depth: 1) { relationships { `+common+` } } }`, nil, &thin)
	ts.mustQuery(t, `{ subgraph(ids: ["nzb"], depth: 1) { relationships { ...R } } } fragment R on Relationship { `+common+` properties sources { id } }`, nil, &full)
	if len(thin.Subgraph.Relationships) != 5 || len(full.Subgraph.Relationships) != 5 {
		t.Fatalf("relationships: %d thin, %d full, want 5", len(thin.Subgraph.Relationships), len(full.Subgraph.Relationships))
	}
	for i, f := range full.Subgraph.Relationships {
		th := thin.Subgraph.Relationships[i]
		f.Properties, f.Sources = nil, nil
		if !reflect.DeepEqual(th, f) {
			t.Errorf("relationship %d: thin %+v, full %+v", i, th, f)
		}
	}
	byID := map[string]rel{}
	for _, r := range full.Subgraph.Relationships {
		byID[r.ID] = r
	}
	if got := byID["sup-1"]; got.Properties["material"] != "ndpr-oxide" || got.ShareMin == nil || *got.ShareMin != 0.1 {
		t.Errorf("sup-1 from its record: %+v", got)
	}
	if got := byID["own-nre"]; len(got.Sources) != 1 || got.Sources[0].ID != "src-a" || got.ValidFrom == nil || *got.ValidFrom != "2024-12-01" {
		t.Errorf("own-nre from its record: %+v", got)
	}

	// A thin relationship asked for a record-only field reads the record.
	r := newRelationshipResolver(&graph.Relationship{ID: "sup-1", Type: "SUPPLIES", From: "weld", To: "nzb", Thin: true},
		NewResolver(ts.store), context.Background(), nil)
	if p := r.Properties(); p == nil || !strings.Contains(string(p.raw), "ndpr-oxide") {
		t.Errorf("thin relationship's properties = %v, want the record's", p)
	}
}
