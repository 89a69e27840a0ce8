package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
	"go.uber.org/zap"
)

// schemaSDL is the real schema; parsing it against the resolvers in every test makes
// SDL/resolver drift fail CI.
func schemaSDL(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile("../schema.graphql")
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func fptr(f float64) *float64 { return &f }

// fixture is a small graph: a JV with four owners, a supply link, a hub with 120
// relationships, sources.
func fixture() *graph.Batch {
	src := graph.Source{ID: "src-a", Title: "Metalnomist report", Publisher: "Metalnomist", URL: "https://example.org/a", Published: graph.MustParseDate("2024-12-01")}
	b := &graph.Batch{Sources: []graph.Source{src}}
	ent := func(id, kind, name, cc string, aliases ...string) {
		b.Entities = append(b.Entities, graph.Entity{ID: id, Kind: kind, Name: name, Country: cc, Aliases: aliases, Sources: []string{"src-a"}})
	}
	ent("nzb", "Company", "Northern Zhaobao Magnets", "CN")
	ent("nre", "Company", "China Northern Rare Earth", "CN", "北方稀土")
	ent("zb", "Company", "Ningbo Zhaobao Magnet", "CN")
	ent("torin", "Company", "Suzhou Torin Drive", "CN")
	ent("souwest", "Company", "Ningbo Souwest Magnet", "CN")
	ent("weld", "Facility", "Mount Weld", "AU")
	b.Entities[1].Identifiers = []graph.Identifier{{Scheme: "SSE", Value: "600111"}}
	jv := graph.MustParseDate("2024-12-01")
	for _, o := range []struct {
		from  string
		share float64
	}{{"nre", 0.4}, {"zb", 0.35}, {"torin", 0.125}, {"souwest", 0.125}} {
		b.Relationships = append(b.Relationships, graph.Relationship{ID: "own-" + o.from, Type: "OWNS", From: o.from, To: "nzb", Share: fptr(o.share), ValidFrom: jv, Sources: []string{"src-a"}})
	}
	b.Relationships = append(b.Relationships, graph.Relationship{ID: "sup-1", Type: "SUPPLIES", From: "weld", To: "nzb",
		Properties: json.RawMessage(`{"material":"ndpr-oxide","volumeTpa":100}`), ShareMin: fptr(0.1), ShareMax: fptr(0.3)})
	ent("hub", "Company", "Hub Holdings", "US")
	for i := range 120 {
		id := fmt.Sprintf("leaf-%03d", i)
		ent(id, "Company", fmt.Sprintf("Leaf %d", i), "US")
		b.Relationships = append(b.Relationships, graph.Relationship{Type: "OWNS", From: "hub", To: id, Share: fptr(0.5)})
	}
	return b
}

type testServer struct {
	*httptest.Server
	store *graph.Store
	// token is an admin API key that post and do send (auth_test.go sends its own).
	token string
}

func newTestServer(tb testing.TB, cfg Config) *testServer {
	tb.Helper()
	return serveFixture(tb, graph.Options{InMemory: true}, nil, cfg)
}

// serveFixture serves the fixture graph, in a store opened with opts, through
// NewServer(log, cfg); the server's token is a fresh admin key.
func serveFixture(tb testing.TB, opts graph.Options, log *zap.Logger, cfg Config) *testServer {
	tb.Helper()
	store, err := graph.Open(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	if _, err := store.Apply(context.Background(), fixture()); err != nil {
		tb.Fatal(err)
	}
	_, token, err := store.CreateAPIKey(context.Background(), graph.RoleAdmin, "tests")
	if err != nil {
		tb.Fatal(err)
	}
	h, err := NewServer(log, cfg, store, schemaSDL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(h)
	tb.Cleanup(ts.Close)
	return &testServer{Server: ts, store: store, token: token}
}

// send sends method path with body and exactly the headers in header (an empty value
// sends no header), and returns the status, the headers and the body. The other request
// helpers (do, request, doAccept) build on it.
func (ts *testServer) send(tb testing.TB, method, path string, header map[string]string, body string) (int, http.Header, string) {
	tb.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(raw)
}

// gqlResponse is a decoded GraphQL response.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// post sends a GraphQL POST and decodes the answer into data; it returns the status and
// the raw response.
func (ts *testServer) post(tb testing.TB, query string, vars map[string]any, data any) (int, gqlResponse) {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", ts.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if ts.token != "" {
		req.Header.Set("Authorization", "Bearer "+ts.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		tb.Fatalf("response is not JSON: %s", raw)
	}
	if data != nil && len(out.Data) > 0 {
		if err := json.Unmarshal(out.Data, data); err != nil {
			tb.Fatalf("decode data %s: %v", out.Data, err)
		}
	}
	return resp.StatusCode, out
}

// mustQuery posts query and fails on any error.
func (ts *testServer) mustQuery(tb testing.TB, query string, vars map[string]any, data any) {
	tb.Helper()
	status, out := ts.post(tb, query, vars, data)
	if status != 200 || len(out.Errors) > 0 {
		tb.Fatalf("query %s: status %d, errors %+v", query, status, out.Errors)
	}
}

func TestSchemaMatchesResolvers(t *testing.T) {
	store, err := graph.Open(graph.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := ParseSchema(schemaSDL(t), store, nil); err != nil {
		t.Fatalf("schema.graphql does not match the resolvers: %v", err)
	}
}

func TestQueryEntity(t *testing.T) {
	ts := newTestServer(t, Config{})
	var got struct {
		Entity struct {
			ID, Kind, Name string
			Aliases        []string
			Country        string
			Identifiers    []struct{ Scheme, Value string }
			Sources        []struct{ ID, Title, Publisher, URL, Published string }
			Relationships  struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						From  struct{ ID string }
						Share float64
					}
				}
			}
		}
		Missing *struct{ ID string }
	}
	ts.mustQuery(t, `{ entity(id:"nre") { id kind name aliases country identifiers { scheme value }
		sources { id title publisher url published }
		relationships(direction: OUT) { totalCount edges { node { from { id } share } } } }
		missing: entity(id:"nope") { id } }`, nil, &got)
	e := got.Entity
	if e.ID != "nre" || e.Kind != "Company" || e.Country != "CN" || len(e.Aliases) != 1 || e.Aliases[0] != "北方稀土" {
		t.Errorf("entity = %+v", e)
	}
	if len(e.Identifiers) != 1 || e.Identifiers[0].Value != "600111" {
		t.Errorf("identifiers = %+v", e.Identifiers)
	}
	if len(e.Sources) != 1 || e.Sources[0].Publisher != "Metalnomist" || e.Sources[0].Published != "2024-12-01" {
		t.Errorf("sources = %+v", e.Sources)
	}
	if e.Relationships.TotalCount != 1 || e.Relationships.Edges[0].Node.Share != 0.4 {
		t.Errorf("relationships = %+v", e.Relationships)
	}
	if got.Missing != nil {
		t.Errorf("entity(nope) = %+v, want null", got.Missing)
	}
}

// TestJVOwners is the question of the README: the JV's four owners and their shares.
func TestJVOwners(t *testing.T) {
	ts := newTestServer(t, Config{})
	var got struct {
		Entity struct {
			Relationships struct {
				Edges []struct {
					Node struct {
						From  struct{ ID string }
						Share float64
					}
				}
			}
		}
	}
	ts.mustQuery(t, `{ entity(id:"nzb") { name relationships(direction: IN, types: ["OWNS"]) { edges { node { from { id } share } } } } }`, nil, &got)
	shares := map[string]float64{}
	for _, e := range got.Entity.Relationships.Edges {
		shares[e.Node.From.ID] = e.Node.Share
	}
	want := map[string]float64{"nre": 0.4, "zb": 0.35, "torin": 0.125, "souwest": 0.125}
	if fmt.Sprint(shares) != fmt.Sprint(want) {
		t.Errorf("owners = %v, want %v", shares, want)
	}
	// Before the JV was formed it had no owners.
	ts.mustQuery(t, `{ entity(id:"nzb") { relationships(direction: IN, types: ["OWNS"], asOf: "2024-11-30") { edges { node { id } } } } }`, nil, &got)
	if n := len(got.Entity.Relationships.Edges); n != 0 {
		t.Errorf("owners before the JV = %d, want 0", n)
	}
}

func TestRelationshipField(t *testing.T) {
	ts := newTestServer(t, Config{})
	var got struct {
		Relationship struct {
			ID, Type           string
			From, To           struct{ ID string }
			Share              float64
			ShareMin, ShareMax float64
			Properties         map[string]any
			ValidFrom, ValidTo *string
			Confidence         *float64
		}
		Missing *struct{ ID string } `json:"missing"`
	}
	ts.mustQuery(t, `{ relationship(id:"sup-1") { id type from { id } to { id } share shareMin shareMax properties validFrom validTo confidence }
		missing: relationship(id:"nope") { id } }`, nil, &got)
	r := got.Relationship
	if r.Type != "SUPPLIES" || r.From.ID != "weld" || r.To.ID != "nzb" || r.Properties["material"] != "ndpr-oxide" {
		t.Errorf("relationship = %+v", r)
	}
	if r.ShareMin != 0.1 || r.ShareMax != 0.3 || r.Share < 0.2-1e-12 || r.Share > 0.2+1e-12 {
		t.Errorf("share %v [%v, %v], want midpoint 0.2 of [0.1, 0.3]", r.Share, r.ShareMin, r.ShareMax)
	}
	if r.ValidFrom != nil || r.Confidence != nil || got.Missing != nil {
		t.Errorf("nulls: validFrom %v confidence %v missing %v", r.ValidFrom, r.Confidence, got.Missing)
	}
}

// TestEntitiesPagination pages through a filter with several page sizes: the pages are
// disjoint, complete, and totalCount agrees.
func TestEntitiesPagination(t *testing.T) {
	ts := newTestServer(t, Config{})
	type page struct {
		Entities struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage     bool
				HasPreviousPage bool
				EndCursor       *string
			}
			Edges []struct {
				Cursor string
				Node   struct{ ID, Country string }
			}
		}
	}
	for _, first := range []int{1, 7, 50, 200} {
		for _, filter := range []map[string]any{{}, {"country": "US"}, {"kind": "Company", "country": "CN"}, {"kind": "Facility"}} {
			seen := map[string]bool{}
			var after any
			total := -1
			for pages := 0; ; pages++ {
				vars := map[string]any{"first": first, "after": after, "kind": filter["kind"], "country": filter["country"]}
				var p page
				ts.mustQuery(t, `query($first:Int,$after:String,$kind:String,$country:String){ entities(first:$first, after:$after, kind:$kind, country:$country) {
					totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id country } } } }`, vars, &p)
				total = p.Entities.TotalCount
				for _, e := range p.Entities.Edges {
					if seen[e.Node.ID] {
						t.Fatalf("first=%d %v: %s on two pages", first, filter, e.Node.ID)
					}
					if c, ok := filter["country"]; ok && e.Node.Country != c {
						t.Fatalf("filter %v returned %+v", filter, e.Node)
					}
					seen[e.Node.ID] = true
				}
				if p.Entities.PageInfo.HasPreviousPage != (after != nil) {
					t.Errorf("hasPreviousPage = %v on page %d", p.Entities.PageInfo.HasPreviousPage, pages)
				}
				if !p.Entities.PageInfo.HasNextPage {
					break
				}
				after = *p.Entities.PageInfo.EndCursor
				if pages > 200 {
					t.Fatal("pagination does not end")
				}
			}
			if len(seen) != total || total == 0 {
				t.Errorf("first=%d %v: paged %d entities, totalCount %d", first, filter, len(seen), total)
			}
		}
	}
	// Caps are refused, not clamped.
	_, out := ts.post(t, `{ entities(first: 5000) { totalCount } }`, nil, nil)
	if len(out.Errors) == 0 || out.Errors[0].Extensions["code"] != graph.ELIMIT {
		t.Errorf("first above cap: errors %+v, want LIMIT_EXCEEDED", out.Errors)
	}
	_, out = ts.post(t, `{ entities(after: "%%%") { totalCount } }`, nil, nil)
	if len(out.Errors) == 0 || out.Errors[0].Extensions["code"] != graph.EINVALID || out.Errors[0].Extensions["field"] != "after" {
		t.Errorf("bad cursor: errors %+v, want INVALID_INPUT on after", out.Errors)
	}
}

func TestRelationshipsPagination(t *testing.T) {
	ts := newTestServer(t, Config{})
	seen := map[string]bool{}
	var after any
	for {
		var p struct {
			Entity struct {
				Relationships struct {
					TotalCount int
					PageInfo   struct {
						HasNextPage bool
						EndCursor   *string
					}
					Edges []struct{ Node struct{ ID string } }
				}
			}
		}
		ts.mustQuery(t, `query($after:String){ entity(id:"hub") { relationships(first: 25, after: $after) {
			totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } }`, map[string]any{"after": after}, &p)
		rc := p.Entity.Relationships
		if rc.TotalCount != 120 {
			t.Fatalf("totalCount = %d, want 120", rc.TotalCount)
		}
		for _, e := range rc.Edges {
			if seen[e.Node.ID] {
				t.Fatalf("%s on two pages", e.Node.ID)
			}
			seen[e.Node.ID] = true
		}
		if !rc.PageInfo.HasNextPage {
			break
		}
		after = *rc.PageInfo.EndCursor
	}
	if len(seen) != 120 {
		t.Errorf("paged %d relationships, want 120", len(seen))
	}
}

func TestSearchAndIdentifiers(t *testing.T) {
	ts := newTestServer(t, Config{})
	var got struct {
		Search []struct {
			Entity struct{ ID string }
			Score  float64
		}
		ByID []struct{ ID string } `json:"entitiesByIdentifier"`
	}
	ts.mustQuery(t, `{ search(text: "北方稀土") { entity { id } score } entitiesByIdentifier(scheme: "SSE", value: "600111") { id } }`, nil, &got)
	if len(got.Search) == 0 || got.Search[0].Entity.ID != "nre" || len(got.ByID) != 1 || got.ByID[0].ID != "nre" {
		t.Errorf("search/identifier = %+v", got)
	}
	ts.mustQuery(t, `{ search(text: "zhaobao", kind: "Company", first: 1) { entity { id } score } }`, nil, &got)
	if len(got.Search) != 1 {
		t.Errorf("search first:1 = %+v", got.Search)
	}
}

func TestStats(t *testing.T) {
	ts := newTestServer(t, Config{})
	var got struct {
		Stats struct {
			Entities, Relationships int
			ByKind                  []struct {
				Kind  string
				Count int
			}
			ByType []struct {
				Type  string
				Count int
			}
			StoreBytes  float64
			Version     float64
			GeneratedAt string
		}
	}
	ts.mustQuery(t, `{ stats { entities relationships byKind { kind count } byType { type count } storeBytes version generatedAt } }`, nil, &got)
	s := got.Stats
	// Version 2: the fixture batch, then the API key newTestServer creates (a write too).
	if s.Entities != 127 || s.Relationships != 125 || s.Version != 2 || s.GeneratedAt == "" {
		t.Errorf("stats = %+v", s)
	}
	if fmt.Sprint(s.ByType) != "[{OWNS 124} {SUPPLIES 1}]" || fmt.Sprint(s.ByKind) != "[{Company 126} {Facility 1}]" {
		t.Errorf("byType %v byKind %v", s.ByType, s.ByKind)
	}
}

func TestMutations(t *testing.T) {
	ts := newTestServer(t, Config{})
	var got map[string]any
	ts.mustQuery(t, `mutation { upsertEntity(input: {id: "dod", kind: "Government", name: "US Department of Defense", country: "US",
		aliases: ["DoD"], identifiers: [{scheme: "Wikidata", value: "Q11209"}], properties: {budget: 1, tags: ["a"]},
		sources: [{title: "Reuters", publisher: "Reuters", published: "2025-07-10"}], validFrom: "1947-09-18"}) { id name properties sources { id title } } }`, nil, &got)
	ts.mustQuery(t, `mutation { upsertRelationship(input: {type: "OWNS", from: "dod", to: "nre", share: 0.15, validFrom: "2025-07-10", confidence: 0.9,
		properties: {basis: "as-converted"}}) { id share from { id } to { name } } }`, nil, &got)
	rel := got["upsertRelationship"].(map[string]any)
	if rel["id"] != "OWNS:dod->nre" || rel["share"] != 0.15 {
		t.Errorf("upsertRelationship = %v", rel)
	}
	// Re-sending the same fact updates it.
	ts.mustQuery(t, `mutation { upsertRelationship(input: {type: "OWNS", from: "dod", to: "nre", share: 0.2}) { id share } }`, nil, &got)
	var check struct {
		Relationship struct {
			Share     float64
			ValidFrom *string
		}
		Entity struct {
			Properties map[string]any
			Sources    []struct{ Title string }
		}
	}
	ts.mustQuery(t, `{ relationship(id: "OWNS:dod->nre") { share validFrom } entity(id: "dod") { properties sources { title } } }`, nil, &check)
	if check.Relationship.Share != 0.2 || check.Relationship.ValidFrom != nil {
		t.Errorf("after update relationship = %+v", check.Relationship)
	}
	if check.Entity.Properties["budget"] != 1.0 || len(check.Entity.Sources) != 1 || check.Entity.Sources[0].Title != "Reuters" {
		t.Errorf("entity = %+v", check.Entity)
	}
	// deleteEntity without cascade is refused while relationships exist.
	_, out := ts.post(t, `mutation { deleteEntity(id: "dod") }`, nil, nil)
	if len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != graph.EINVALID || !strings.Contains(out.Errors[0].Message, "cascade") {
		t.Errorf("deleteEntity without cascade: %+v", out.Errors)
	}
	ts.mustQuery(t, `mutation { deleteRelationship(id: "OWNS:dod->nre") }`, nil, &got)
	ts.mustQuery(t, `mutation { deleteEntity(id: "dod") }`, nil, &got)
	ts.mustQuery(t, `mutation { deleteEntity(id: "nre", cascade: true) }`, nil, &got)
	_, out = ts.post(t, `mutation { deleteRelationship(id: "own-nre") }`, nil, nil)
	if len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != graph.ENOTFOUND {
		t.Errorf("deleting a cascaded relationship: %+v, want NOT_FOUND", out.Errors)
	}
	_, out = ts.post(t, `mutation { deleteEntity(id: "ghost") }`, nil, nil)
	if len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != graph.ENOTFOUND {
		t.Errorf("deleteEntity(ghost): %+v, want NOT_FOUND", out.Errors)
	}
	// importGraph: entities and relationships between them, atomically.
	ts.mustQuery(t, `mutation { importGraph(entities: [{id: "x1", kind: "Company", name: "X1"}, {id: "x2", kind: "Company", name: "X2"}],
		relationships: [{type: "OWNS", from: "x1", to: "x2", shareMin: 0.25, shareMax: 0.5}]) { entities relationships } }`, nil, &got)
	if fmt.Sprint(got["importGraph"]) != "map[entities:2 relationships:1]" {
		t.Errorf("importGraph = %v", got["importGraph"])
	}
}

// TestValidationErrors sends each kind of bad input: INVALID_INPUT naming the field, and
// nothing stored (the store version does not move).
func TestValidationErrors(t *testing.T) {
	ts := newTestServer(t, Config{})
	long := strings.Repeat("x", 257)
	tests := []struct {
		name, query, field string
	}{
		{"unknown from", `mutation { upsertRelationship(input: {type: "OWNS", from: "ghost", to: "nzb", share: 0.1}) { id } }`, "input.from"},
		{"unknown to", `mutation { upsertRelationship(input: {type: "OWNS", from: "nre", to: "ghost"}) { id } }`, "input.to"},
		{"share above 1", `mutation { upsertRelationship(input: {type: "OWNS", from: "nre", to: "nzb", share: 1.4}) { id } }`, "input.share"},
		{"share below 0", `mutation { upsertRelationship(input: {type: "OWNS", from: "nre", to: "nzb", share: -0.4}) { id } }`, "input.share"},
		{"min above max", `mutation { upsertRelationship(input: {type: "OWNS", from: "nre", to: "nzb", shareMin: 0.5, shareMax: 0.25}) { id } }`, "input.shareMin"},
		{"validFrom after validTo", `mutation { upsertRelationship(input: {type: "OWNS", from: "nre", to: "nzb", validFrom: "2025-01-02", validTo: "2025-01-01"}) { id } }`, "input.validFrom"},
		{"entity dates", `mutation { upsertEntity(input: {id: "e", kind: "Company", name: "E", validFrom: "2025-01-02", validTo: "2024-01-01"}) { id } }`, "input.validFrom"},
		{"empty id", `mutation { upsertEntity(input: {id: "", kind: "Company", name: "E"}) { id } }`, "input.id"},
		{"empty name", `mutation { upsertEntity(input: {id: "e", kind: "Company", name: ""}) { id } }`, "input.name"},
		{"long id", `mutation { upsertEntity(input: {id: "` + long + `", kind: "Company", name: "E"}) { id } }`, "input.id"},
		{"control character", `mutation { upsertEntity(input: {id: "a\u0007b", kind: "Company", name: "E"}) { id } }`, "input.id"},
		{"NUL", `mutation { upsertEntity(input: {id: "a\u0000b", kind: "Company", name: "E"}) { id } }`, "input.id"},
		{"country", `mutation { upsertEntity(input: {id: "e", kind: "Company", name: "E", country: "China"}) { id } }`, "input.country"},
		{"source title", `mutation { upsertEntity(input: {id: "e", kind: "Company", name: "E", sources: [{title: ""}]}) { id } }`, "input.sources[0].title"},
		{"import atomic", `mutation { importGraph(entities: [{id: "ok", kind: "Company", name: "OK"}], relationships: [{type: "OWNS", from: "ok", to: "ghost"}]) { entities } }`, "relationships[0].to"},
		{"import bad entity", `mutation { importGraph(entities: [{id: "ok", kind: "Company", name: "OK"}, {id: "", kind: "Company", name: "X"}]) { entities } }`, "entities[1].id"},
		{"import duplicate", `mutation { importGraph(entities: [{id: "ok", kind: "Company", name: "OK"}, {id: "ok", kind: "Company", name: "X"}]) { entities } }`, "entities[1].id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ts.store.Version()
			status, out := ts.post(t, tt.query, nil, nil)
			if status != 200 || len(out.Errors) != 1 {
				t.Fatalf("status %d errors %+v", status, out.Errors)
			}
			e := out.Errors[0]
			if e.Extensions["code"] != graph.EINVALID || e.Extensions["field"] != tt.field || !strings.Contains(e.Message, tt.field) {
				t.Errorf("error = %+v, want INVALID_INPUT on %s", e, tt.field)
			}
			if after := ts.store.Version(); after != before {
				t.Errorf("store version moved from %d to %d: something was written", before, after)
			}
		})
	}
	// Type errors are caught by GraphQL validation: INVALID_INPUT too.
	_, out := ts.post(t, `mutation { upsertRelationship(input: {type: "OWNS", from: "nre", to: "nzb", share: "lots"}) { id } }`, nil, nil)
	if len(out.Errors) == 0 || out.Errors[0].Extensions["code"] != graph.EINVALID {
		t.Errorf("share as string: %+v", out.Errors)
	}
	_, out = ts.post(t, `query($d: Date) { entity(id: "nzb") { relationships(asOf: $d) { totalCount } } }`, map[string]any{"d": "2025-02-30"}, nil)
	if len(out.Errors) == 0 || out.Errors[0].Extensions["code"] != graph.EINVALID {
		t.Errorf("impossible date: %+v", out.Errors)
	}
}

// TestHTTPProtocol checks GraphQL over HTTP: methods, media types, status codes.
func TestHTTPProtocol(t *testing.T) {
	ts := newTestServer(t, Config{MaxBodyBytes: 4096})
	do := func(method, path, ctype, accept, body string) (int, http.Header, string) {
		t.Helper()
		return ts.send(t, method, path, map[string]string{"Content-Type": ctype, "Accept": accept}, body)
	}
	q := url.QueryEscape(`{ entity(id:"nzb") { name } }`)
	mut := url.QueryEscape(`mutation { deleteEntity(id:"weld", cascade: true) }`)
	gqlResp := "application/graphql-response+json"
	tests := []struct {
		name, method, path, ctype, accept, body string
		status                                  int
		contains                                string
	}{
		{"GET query", "GET", "/graphql?query=" + q, "", "", "", 200, "Northern Zhaobao"},
		{"GET with variables", "GET", "/graphql?query=" + url.QueryEscape(`query($id:ID!){ entity(id:$id) { name } }`) + "&variables=" + url.QueryEscape(`{"id":"nre"}`), "", "", "", 200, "China Northern"},
		{"GET bad variables", "GET", "/graphql?query=" + q + "&variables=nope", "", "", "", 400, "variables"},
		{"GET mutation refused", "GET", "/graphql?query=" + mut, "", "", "", 405, "POST"},
		{"GET no query", "GET", "/graphql", "", "", "", 400, "no query"},
		{"POST", "POST", "/graphql", "application/json", "", `{"query":"{ entity(id:\"nzb\") { name } }"}`, 200, "Northern Zhaobao"},
		{"POST graphql-response+json", "POST", "/graphql", "application/json", gqlResp, `{"query":"{ stats { entities } }"}`, 200, "entities"},
		{"not JSON", "POST", "/graphql", "application/json", "", `{query:`, 400, "not a JSON object"},
		{"JSON but no query", "POST", "/graphql", "application/json", "", `{"variables":{}}`, 400, "no query"},
		{"query not a string", "POST", "/graphql", "application/json", "", `{"query": 5}`, 400, "wrong type"},
		{"wrong content type", "POST", "/graphql", "text/plain", "", `{"query":"{ stats { entities } }"}`, 415, "Content-Type"},
		{"body too large", "POST", "/graphql", "application/json", "", `{"query":"` + strings.Repeat(" ", 5000) + `{ stats { entities } }"}`, 413, "larger"},
		{"syntax error, application/json", "POST", "/graphql", "application/json", "", `{"query":"{ entity(id: }"}`, 200, "INVALID_INPUT"},
		{"syntax error, graphql-response+json", "POST", "/graphql", "application/json", gqlResp, `{"query":"{ entity(id: }"}`, 400, "INVALID_INPUT"},
		{"unknown field, graphql-response+json", "POST", "/graphql", "application/json", gqlResp, `{"query":"{ nope }"}`, 400, "INVALID_INPUT"},
		{"not acceptable", "POST", "/graphql", "application/json", "text/html", `{"query":"{ stats { entities } }"}`, 406, "Accept"},
		{"PUT", "PUT", "/graphql", "application/json", "", `{}`, 405, "GET, POST"},
		{"healthz", "GET", "/healthz", "", "", "", 200, "ok"},
		{"readyz", "GET", "/readyz", "", "", "", 200, "ready"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := do(tt.method, tt.path, tt.ctype, tt.accept, tt.body)
			if status != tt.status || !strings.Contains(body, tt.contains) {
				t.Errorf("%s %s = %d %s, want %d containing %q", tt.method, tt.path, status, body, tt.status, tt.contains)
			}
			if header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id in the response")
			}
			if strings.Contains(body, "goroutine") || strings.Contains(body, ".go:") {
				t.Errorf("response leaks internals: %s", body)
			}
			if tt.accept == gqlResp && !strings.HasPrefix(header.Get("Content-Type"), gqlResp) {
				t.Errorf("Content-Type = %q, want %s", header.Get("Content-Type"), gqlResp)
			}
		})
	}
	// The refused GET mutation did not delete anything.
	var got struct{ Entity *struct{ ID string } }
	ts.mustQuery(t, `{ entity(id:"weld") { id } }`, nil, &got)
	if got.Entity == nil {
		t.Error("a mutation sent with GET was executed")
	}
}

func TestCORS(t *testing.T) {
	ts := newTestServer(t, Config{CORSOrigins: []string{"https://viz.example"}})
	for _, tt := range []struct {
		origin, want string
	}{{"https://viz.example", "https://viz.example"}, {"https://evil.example", ""}} {
		req, _ := http.NewRequest("OPTIONS", ts.URL+"/graphql", nil)
		req.Header.Set("Origin", tt.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tt.want {
			t.Errorf("preflight from %s: Allow-Origin = %q, want %q", tt.origin, got, tt.want)
		}
		if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Error("credentials must not be allowed")
		}
	}
}

func TestRecoverPanics(t *testing.T) {
	h := recoverPanics(zap.NewNop(), http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("secret detail at /home/x.go:12") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret") || !strings.Contains(rec.Body.String(), "INTERNAL") {
		t.Errorf("panic answer = %d %s", rec.Code, rec.Body)
	}
}

// TestNestedReadsAreBatched: 120 relationships whose from/to are selected cost a
// constant number of store reads, not two per relationship.
func TestNestedReadsAreBatched(t *testing.T) {
	ts := newTestServer(t, Config{})
	before := ts.store.ReadTransactions()
	var got struct {
		Entity struct {
			Relationships struct {
				Edges []struct {
					Node struct{ From, To struct{ ID, Name string } }
				}
			}
		}
	}
	ts.mustQuery(t, `{ entity(id:"hub") { relationships(first: 200) { edges { node { from { id name } to { id name } } } } } }`, nil, &got)
	reads := ts.store.ReadTransactions() - before
	if n := len(got.Entity.Relationships.Edges); n != 120 {
		t.Fatalf("edges = %d, want 120", n)
	}
	for _, e := range got.Entity.Relationships.Edges {
		if e.Node.From.ID != "hub" || !strings.HasPrefix(e.Node.To.ID, "leaf-") || e.Node.To.Name == "" {
			t.Fatalf("edge = %+v", e)
		}
	}
	if reads > 4 {
		t.Errorf("the query took %d store reads, want at most 4 (entity, page, one prefetch, sources)", reads)
	}
}
