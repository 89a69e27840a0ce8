package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

const saveMutation = `mutation($input: SavedQueryInput!) { saveQuery(input: $input) { name version sha256Hash parameters { name type required default } } }`

// savedParam is a QueryParameter as the API returns it.
type savedParam struct {
	Name     string          `json:"name"`
	Type     string          `json:"type"`
	Required bool            `json:"required"`
	Default  json.RawMessage `json:"default"`
}

type savedResult struct {
	SaveQuery struct {
		Name       string       `json:"name"`
		Version    int          `json:"version"`
		Sha256Hash string       `json:"sha256Hash"`
		Parameters []savedParam `json:"parameters"`
	} `json:"saveQuery"`
}

// mustSave saves a query through the GraphQL API and fails the test on any error.
func (ts *testServer) mustSave(tb testing.TB, input map[string]any) savedResult {
	tb.Helper()
	var out savedResult
	ts.mustQuery(tb, saveMutation, map[string]any{"input": input}, &out)
	return out
}

// do sends a request with the admin key (unless header names an Authorization of its
// own) and returns the status, the headers and the body.
func (ts *testServer) do(tb testing.TB, method, path string, header map[string]string, body string) (int, http.Header, string) {
	tb.Helper()
	if _, ok := header["Authorization"]; !ok && ts.token != "" {
		header = maps.Clone(header)
		if header == nil {
			header = map[string]string{}
		}
		header["Authorization"] = "Bearer " + ts.token
	}
	return ts.send(tb, method, path, header, body)
}

func decodeResponse(tb testing.TB, body string) gqlResponse {
	tb.Helper()
	var out gqlResponse
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		tb.Fatalf("response is not JSON: %s", body)
	}
	return out
}

// entitiesDoc lists entities of a kind; its parameters cover several types.
const entitiesDoc = `query Entities($kind: String!, $country: String, $first: Int = 10) {
  entities(kind: $kind, country: $country, first: $first) {
    totalCount
    edges { node { id name } }
  }
}`

func TestSaveQueryRefusesBadInput(t *testing.T) {
	ts := newTestServer(t, Config{})
	tests := []struct {
		name    string
		input   map[string]any
		field   string
		message string // a substring of the message
	}{
		{"unknown field", map[string]any{"name": "q", "query": "{\n  entity(id: \"nzb\") { nope }\n}"},
			"input.query", `Cannot query field "nope" on type "Entity". (line 2, column 23)`},
		{"syntax error", map[string]any{"name": "q", "query": "{ entity(id: \"nzb\") { name }"},
			"input.query", "does not validate"},
		{"wrong argument type", map[string]any{"name": "q", "query": `{ entities(first: "ten") { totalCount } }`},
			"input.query", "does not validate"},
		{"mutation", map[string]any{"name": "q", "query": `mutation { deleteRelationship(id: "own-nre") }`},
			"input.query", "is a mutation; saved queries must be queries"},
		{"subscription", map[string]any{"name": "q", "query": `subscription { changes { seq } }`},
			"input.query", "is a subscription; saved queries must be queries"},
		{"two operations", map[string]any{"name": "q", "query": `query A { stats { entities } } query B { stats { version } }`},
			"input.query", "holds 2 operations"},
		{"name not a slug", map[string]any{"name": "Company Owners", "query": `{ stats { entities } }`},
			"input.name", "not a valid name"},
		{"undeclared default", map[string]any{"name": "q", "query": entitiesDoc, "variables": map[string]any{"kindd": "Company"}},
			"input.variables.kindd", "declares no variable $kindd"},
		{"ill-typed default", map[string]any{"name": "q", "query": entitiesDoc, "variables": map[string]any{"first": "ten"}},
			"input.variables.first", `input.variables.first: must be an Int (a whole number within ±2³¹), got "ten"`},
		{"ill-typed default Float", map[string]any{"name": "q", "query": `query($d: Date) { entity(id: "nzb") { relationships(asOf: $d) { totalCount } } }`, "variables": map[string]any{"d": "2025-02-30"}},
			"input.variables.d", "must be a Date"},
		{"variables not an object", map[string]any{"name": "q", "query": entitiesDoc, "variables": []any{1}},
			"input.variables", "must be a JSON object"},
		{"reserved variable", map[string]any{"name": "q", "query": `query($format: String!) { search(text: $format) { score } }`},
			"input.query", "declares $format, a name reserved"},
		{"runs a saved query", map[string]any{"name": "q", "query": `{ x: runSavedQuery(name: "other") }`},
			"input.query", "cannot run saved queries"},
		{"duplicate tag", map[string]any{"name": "q", "query": `{ stats { entities } }`, "tags": []any{"a", "a"}},
			"input.tags[1]", "appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := ts.post(t, saveMutation, map[string]any{"input": tt.input}, nil)
			if status != 200 || len(out.Errors) != 1 {
				t.Fatalf("saveQuery(%v): status %d, errors %+v; want one error", tt.input, status, out.Errors)
			}
			e := out.Errors[0]
			if e.Extensions["code"] != graph.EINVALID || e.Extensions["field"] != tt.field || !strings.Contains(e.Message, tt.message) {
				t.Errorf("saveQuery(%v) error = %q %v, want INVALID_INPUT on %s containing %q", tt.input, e.Message, e.Extensions, tt.field, tt.message)
			}
		})
	}
	if qs, _ := ts.store.SavedQueries(context.Background(), ""); len(qs) != 0 {
		t.Errorf("refused saves stored %d queries", len(qs))
	}
}

func TestSaveQueryListsValidationProblemsWithLocations(t *testing.T) {
	ts := newTestServer(t, Config{})
	doc := "{\n  entity(id: \"nzb\") { nope }\n  stats { nada }\n}"
	_, out := ts.post(t, saveMutation, map[string]any{"input": map[string]any{"name": "q", "query": doc}}, nil)
	if len(out.Errors) != 1 {
		t.Fatalf("errors = %+v, want one", out.Errors)
	}
	raw, _ := json.Marshal(out.Errors[0].Extensions["problems"])
	want := `[{"locations":[{"column":23,"line":2}],"message":"Cannot query field \"nope\" on type \"Entity\"."},` +
		`{"locations":[{"column":11,"line":3}],"message":"Cannot query field \"nada\" on type \"GraphStats\"."}]`
	if string(raw) != want {
		t.Errorf("extensions.problems = %s, want %s", raw, want)
	}
	if !strings.Contains(out.Errors[0].Message, "and 1 more problem") {
		t.Errorf("message %q does not say more problems follow", out.Errors[0].Message)
	}
}

func TestSaveQueryParametersAndVersions(t *testing.T) {
	ts := newTestServer(t, Config{})
	v1 := ts.mustSave(t, map[string]any{"name": "companies", "description": "Companies of a country", "tags": []any{"lists"},
		"query": entitiesDoc, "variables": map[string]any{"country": "CN"}})
	if v1.SaveQuery.Version != 1 || v1.SaveQuery.Sha256Hash != graph.QueryHash(entitiesDoc) {
		t.Errorf("first save = %+v, want version 1 and the document's hash", v1.SaveQuery)
	}
	wantParams := []savedParam{
		{Name: "kind", Type: "String!", Required: true, Default: json.RawMessage("null")},
		{Name: "country", Type: "String", Default: json.RawMessage(`"CN"`)},
		{Name: "first", Type: "Int", Default: json.RawMessage(`10`)},
	}
	if !reflect.DeepEqual(v1.SaveQuery.Parameters, wantParams) {
		t.Errorf("parameters = %+v, want %+v", v1.SaveQuery.Parameters, wantParams)
	}

	v2doc := `query($kind: String!) { entities(kind: $kind) { totalCount } }`
	v2 := ts.mustSave(t, map[string]any{"name": "companies", "query": v2doc, "tags": []any{"lists", "new"}})
	if v2.SaveQuery.Version != 2 {
		t.Errorf("second save: version %d, want 2", v2.SaveQuery.Version)
	}

	var got struct {
		SavedQuery struct {
			Version  int
			Query    string
			Tags     []string
			Deleted  bool
			Path     string
			Versions []struct {
				Version     int
				Description *string
				Query       string
			}
		}
		Tagged []struct{ Name string }
		None   []struct{ Name string }
	}
	ts.mustQuery(t, `{ savedQuery(name: "companies") { version query tags deleted path versions { version description query } }
		tagged: savedQueries(tag: "new") { name } none: savedQueries(tag: "nothing") { name } }`, nil, &got)
	sq := got.SavedQuery
	if sq.Version != 2 || sq.Query != v2doc || sq.Deleted || sq.Path != "/queries/companies" || len(sq.Versions) != 2 {
		t.Fatalf("savedQuery = %+v", sq)
	}
	if sq.Versions[0].Version != 1 || sq.Versions[0].Query != entitiesDoc || deref(sq.Versions[0].Description) != "Companies of a country" ||
		sq.Versions[1].Version != 2 || sq.Versions[1].Description != nil {
		t.Errorf("versions = %+v, want v1 (with its description) then v2", sq.Versions)
	}
	if len(got.Tagged) != 1 || got.Tagged[0].Name != "companies" || len(got.None) != 0 {
		t.Errorf("savedQueries(tag) = %+v / %+v", got.Tagged, got.None)
	}

	// Each version runs its own document.
	var run struct{ Old, New json.RawMessage }
	ts.mustQuery(t, `{ old: runSavedQuery(name: "companies", version: 1, variables: {kind: "Company", first: 2})
		new: runSavedQuery(name: "companies", variables: {kind: "Company"}) }`, nil, &run)
	if got, want := string(run.Old), `{"entities":{"totalCount":5,"edges":[{"node":{"id":"nzb","name":"Northern Zhaobao Magnets"}},{"node":{"id":"nre","name":"China Northern Rare Earth"}}]}}`; got != want {
		t.Errorf("run version 1 (CN by default) = %s, want %s", got, want)
	}
	if got, want := string(run.New), `{"entities":{"totalCount":126}}`; got != want {
		t.Errorf("run latest = %s, want %s", got, want)
	}
	if qs, _ := ts.store.SavedQueries(context.Background(), ""); len(qs) != 1 {
		t.Errorf("store holds %d saved queries, want 1", len(qs))
	}
}

func TestRunSavedQueryErrors(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.mustSave(t, map[string]any{"name": "companies", "query": entitiesDoc})
	ts.mustSave(t, map[string]any{"name": "nested", "query": `query { ...Run } fragment Run on Query { runSavedQuery(name: "companies", variables: {kind: "Company"}) }`})
	tests := []struct {
		name, query, code, field string
	}{
		{"unknown name", `{ runSavedQuery(name: "nobody") }`, graph.ENOTFOUND, ""},
		{"unknown version", `{ runSavedQuery(name: "companies", version: 7, variables: {kind: "Company"}) }`, graph.ENOTFOUND, ""},
		{"version 0", `{ runSavedQuery(name: "companies", version: 0) }`, graph.EINVALID, "version"},
		{"missing parameter", `{ runSavedQuery(name: "companies") }`, graph.EINVALID, "variables.kind"},
		{"ill-typed parameter", `{ runSavedQuery(name: "companies", variables: {kind: "Company", first: "ten"}) }`, graph.EINVALID, "variables.first"},
		{"fractional Int", `{ runSavedQuery(name: "companies", variables: {kind: "Company", first: 1.5}) }`, graph.EINVALID, "variables.first"},
		{"unknown parameter", `{ runSavedQuery(name: "companies", variables: {kind: "Company", limit: 3}) }`, graph.EINVALID, "variables.limit"},
		{"variables not an object", `{ runSavedQuery(name: "companies", variables: [1]) }`, graph.EINVALID, "variables"},
		{"error inside the saved query", `{ runSavedQuery(name: "companies", variables: {kind: "Company", first: 100000}) }`, graph.ELIMIT, ""},
		{"saved query running a saved query", `{ runSavedQuery(name: "nested") }`, graph.EINVALID, "name"},
		{"malformed name", `{ runSavedQuery(name: "Bad Name") }`, graph.EINVALID, "name"},
		{"savedQuery with a malformed name", `{ savedQuery(name: "Bad Name") { name } }`, graph.EINVALID, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := ts.post(t, tt.query, nil, nil)
			if status != 200 || len(out.Errors) != 1 {
				t.Fatalf("%s: status %d, errors %+v; want one error", tt.query, status, out.Errors)
			}
			e := out.Errors[0]
			if e.Extensions["code"] != tt.code || (tt.field != "" && e.Extensions["field"] != tt.field) {
				t.Errorf("%s: error %q %v, want %s on %q", tt.query, e.Message, e.Extensions, tt.code, tt.field)
			}
		})
	}
}

func TestDeleteSavedQuery(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.mustSave(t, map[string]any{"name": "stats", "query": `{ stats { entities } }`})
	ts.mustSave(t, map[string]any{"name": "stats", "query": `{ stats { relationships } }`})
	ts.mustQuery(t, `mutation { deleteSavedQuery(name: "stats") }`, nil, nil)

	var got struct {
		Live    *struct{ Name string } `json:"live"`
		Deleted *struct {
			Deleted  bool
			Versions []struct{ Version int }
		} `json:"deleted"`
		All []struct{ Name string } `json:"all"`
	}
	ts.mustQuery(t, `{ live: savedQuery(name: "stats") { name } deleted: savedQuery(name: "stats", includeDeleted: true) { deleted versions { version } } all: savedQueries { name } }`, nil, &got)
	if got.Live != nil || got.Deleted == nil || !got.Deleted.Deleted || len(got.Deleted.Versions) != 2 || len(got.All) != 0 {
		t.Fatalf("after delete: %+v; want hidden, history of 2 versions kept", got)
	}
	if _, out := ts.post(t, `{ runSavedQuery(name: "stats") }`, nil, nil); len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != graph.ENOTFOUND {
		t.Errorf("run after delete: %+v, want NOT_FOUND", out.Errors)
	}
	if status, _, _ := ts.do(t, "GET", "/queries/stats", nil, ""); status != http.StatusNotFound {
		t.Errorf("GET /queries/stats after delete: %d, want 404", status)
	}
	if _, out := ts.post(t, `mutation { deleteSavedQuery(name: "stats") }`, nil, nil); len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != graph.ENOTFOUND {
		t.Errorf("second delete: %+v, want NOT_FOUND", out.Errors)
	}
	ts.mustQuery(t, `mutation { deleteSavedQuery(name: "stats", purge: true) }`, nil, nil)
	ts.mustQuery(t, `{ deleted: savedQuery(name: "stats", includeDeleted: true) { deleted } }`, nil, &got)
	if got.Deleted != nil {
		t.Errorf("after purge the history is still there: %+v", got.Deleted)
	}
	if _, out := ts.post(t, `mutation { deleteSavedQuery(name: "never") }`, nil, nil); len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != graph.ENOTFOUND {
		t.Errorf("delete of an unknown name: %+v, want NOT_FOUND", out.Errors)
	}
	// Mutations over GET are refused.
	status, _, _ := ts.do(t, "GET", "/graphql?query="+url.QueryEscape(`mutation { deleteSavedQuery(name: "x") }`), nil, "")
	if status != http.StatusMethodNotAllowed {
		t.Errorf("deleteSavedQuery over GET: %d, want 405", status)
	}
}

// restServer is a test server with a saved query whose parameters have every kind of
// type.
func restServer(t *testing.T, cfg Config) *testServer {
	ts := newTestServer(t, cfg)
	ts.mustSave(t, map[string]any{"name": "companies", "query": entitiesDoc, "tags": []any{"lists"}})
	ts.mustSave(t, map[string]any{"name": "relationships", "description": "An entity's relationships\nby type",
		"query": `query($id: ID!, $types: [String!], $direction: Direction = BOTH, $asOf: Date, $first: Int = 50) {
  entity(id: $id) { name relationships(types: $types, direction: $direction, asOf: $asOf, first: $first) { totalCount } }
}`})
	return ts
}

func TestRESTRunSavedQuery(t *testing.T) {
	ts := restServer(t, Config{})
	ts.mustSave(t, map[string]any{"name": "companies", "query": `query($kind: String!) { entities(kind: $kind) { totalCount } }`})
	json := map[string]string{"Content-Type": "application/json"}
	tests := []struct {
		name, method, path string
		header             map[string]string
		body               string
		status             int
		want               string // the data (200) or the error field (4xx)
	}{
		{"GET with parameters", "GET", "/queries/companies?kind=Company", nil, "", 200, `{"entities":{"totalCount":126}}`},
		{"old version", "GET", "/queries/companies/versions/1?kind=Company&country=AU&first=1", nil, "", 200, `{"entities":{"totalCount":0,"edges":[]}}`},
		{"POST JSON body", "POST", "/queries/relationships", json, `{"id": "nzb", "types": ["OWNS"], "direction": "IN"}`, 200, `{"entity":{"name":"Northern Zhaobao Magnets","relationships":{"totalCount":4}}}`},
		{"POST empty body uses defaults", "POST", "/queries/companies?kind=Facility", nil, "", 200, `{"entities":{"totalCount":1}}`},
		{"repeated list parameter", "GET", "/queries/relationships?id=nzb&types=OWNS&types=SUPPLIES", nil, "", 200, `{"entity":{"name":"Northern Zhaobao Magnets","relationships":{"totalCount":5}}}`},
		{"comma-separated list", "GET", "/queries/relationships?id=nzb&types=OWNS,SUPPLIES&direction=OUT", nil, "", 200, `{"entity":{"name":"Northern Zhaobao Magnets","relationships":{"totalCount":0}}}`},
		{"JSON array list", "GET", "/queries/relationships?id=nzb&types=" + url.QueryEscape(`["SUPPLIES"]`) + "&asOf=2025-01-01", nil, "", 200, `{"entity":{"name":"Northern Zhaobao Magnets","relationships":{"totalCount":1}}}`},
		{"entity not found is data, not an error", "GET", "/queries/relationships?id=ghost", nil, "", 200, `{"entity":null}`},

		{"unknown name", "GET", "/queries/nobody", nil, "", 404, ""},
		{"malformed name", "GET", "/queries/No_Body", nil, "", 404, ""},
		{"unknown version", "GET", "/queries/companies/versions/9?kind=Company", nil, "", 404, ""},
		{"version not a number", "GET", "/queries/companies/versions/latest", nil, "", 400, "version"},
		{"missing parameter", "GET", "/queries/relationships", nil, "", 400, "id"},
		{"ill-typed Int", "GET", "/queries/relationships?id=nzb&first=ten", nil, "", 400, "first"},
		{"Int out of range", "GET", "/queries/relationships?id=nzb&first=3000000000", nil, "", 400, "first"},
		{"ill-typed enum", "GET", "/queries/relationships?id=nzb&direction=SIDEWAYS", nil, "", 400, "direction"},
		{"ill-typed Date", "GET", "/queries/relationships?id=nzb&asOf=2025-13-01", nil, "", 400, "asOf"},
		{"not a list given twice", "GET", "/queries/relationships?id=nzb&id=nre", nil, "", 400, "id"},
		{"unknown parameter", "GET", "/queries/relationships?id=nzb&depth=2", nil, "", 400, "depth"},
		{"ill-typed in a POST body", "POST", "/queries/relationships", json, `{"id": "nzb", "first": "ten"}`, 400, "first"},
		{"missing in a POST body", "POST", "/queries/relationships", json, `{"types": ["OWNS"]}`, 400, "id"},
		{"POST body not an object", "POST", "/queries/relationships", json, `["nzb"]`, 400, "body"},
		{"POST body not JSON", "POST", "/queries/relationships", json, `id=nzb`, 400, "body"},
		{"unknown format", "GET", "/queries/companies?kind=Company&format=xml", nil, "", 400, "format"},
		{"error from the document", "GET", "/queries/relationships?id=nzb&first=5000", nil, "", 200, "LIMIT_EXCEEDED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := ts.do(t, tt.method, tt.path, tt.header, tt.body)
			if status != tt.status {
				t.Fatalf("%s %s: status %d, want %d; body %s", tt.method, tt.path, status, tt.status, body)
			}
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			out := decodeResponse(t, body)
			switch {
			case tt.status == 200 && tt.want == "LIMIT_EXCEEDED":
				if len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != graph.ELIMIT {
					t.Errorf("errors = %+v, want LIMIT_EXCEEDED in a 200", out.Errors)
				}
			case tt.status == 200:
				if len(out.Errors) > 0 || string(out.Data) != tt.want {
					t.Errorf("%s %s = %s, want data %s", tt.method, tt.path, body, tt.want)
				}
			case tt.status == 404:
				if len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != graph.ENOTFOUND {
					t.Errorf("errors = %+v, want NOT_FOUND", out.Errors)
				}
			default:
				if len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != graph.EINVALID ||
					out.Errors[0].Extensions["field"] != tt.want || !strings.Contains(out.Errors[0].Message, tt.want) {
					t.Errorf("errors = %+v, want INVALID_INPUT naming %s", out.Errors, tt.want)
				}
			}
		})
	}
	if status, h, _ := ts.do(t, "PUT", "/queries/companies", nil, ""); status != http.StatusMethodNotAllowed || h.Get("Allow") != "GET, POST" {
		t.Errorf("PUT /queries/companies: %d Allow %q, want 405 GET, POST", status, h.Get("Allow"))
	}
}

func TestRESTCSV(t *testing.T) {
	ts := newTestServer(t, Config{})
	b := &graph.Batch{}
	for _, e := range []struct{ id, name, cc string }{
		{"t1", "Acme, Inc.", "US"},
		{"t2", `The "Best" Magnets`, "DE"},
		{"t3", "Line one\nLine two", ""},
		{"t4", "北方稀土 (China Northern Rare Earth)", "CN"},
	} {
		b.Entities = append(b.Entities, graph.Entity{ID: e.id, Kind: "Test", Name: e.name, Country: e.cc})
	}
	b.Entities[3].Aliases = []string{"北方稀土", "NRE"}
	b.Entities[0].Identifiers = []graph.Identifier{{Scheme: "LEI", Value: "X1"}, {Scheme: "NYSE", Value: "ACME"}}
	if _, err := ts.store.Apply(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	ts.mustSave(t, map[string]any{"name": "tests", "query": `query($kind: String!) {
  entities(kind: $kind) { totalCount edges { node { id name country aliases identifiers { scheme value } } } }
}`})
	// Rows come in the store's order for a kind: by country ("" first).
	want := "node.id,node.name,node.country,node.aliases,node.identifiers.scheme,node.identifiers.value\n" +
		"t3,\"Line one\nLine two\",,,,\n" +
		"t4,北方稀土 (China Northern Rare Earth),CN,北方稀土; NRE,,\n" +
		"t2,\"The \"\"Best\"\" Magnets\",DE,,,\n" +
		"t1,\"Acme, Inc.\",US,,LEI; NYSE,X1; ACME\n"
	for _, tt := range []struct {
		name, path string
		header     map[string]string
	}{
		{"format=csv", "/queries/tests?kind=Test&format=csv", nil},
		{"Accept: text/csv", "/queries/tests?kind=Test", map[string]string{"Accept": "text/csv"}},
		{"POST with format=csv", "/queries/tests?format=csv", map[string]string{"Content-Type": "application/json"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			method, body := "GET", ""
			if strings.HasPrefix(tt.name, "POST") {
				method, body = "POST", `{"kind": "Test"}`
			}
			status, h, got := ts.do(t, method, tt.path, tt.header, body)
			if status != 200 || got != want {
				t.Fatalf("%s %s: status %d, body\n%s\nwant\n%s", method, tt.path, status, got, want)
			}
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv; charset=utf-8") {
				t.Errorf("Content-Type %q, want text/csv; charset=utf-8", ct)
			}
			recs, err := csv.NewReader(strings.NewReader(got)).ReadAll()
			if err != nil || len(recs) != 5 || recs[1][1] != "Line one\nLine two" || recs[3][1] != `The "Best" Magnets` || recs[4][5] != "X1; ACME" {
				t.Errorf("CSV does not read back: %q, %v", recs, err)
			}
		})
	}
	// A response with errors stays JSON, whatever the format.
	status, h, body := ts.do(t, "GET", "/queries/tests?format=csv", nil, "")
	if status != 400 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || !strings.Contains(body, "kind") {
		t.Errorf("missing parameter with format=csv: %d %s %s, want a JSON 400", status, h.Get("Content-Type"), body)
	}
}

func TestListAndOpenAPI(t *testing.T) {
	ts := restServer(t, Config{Version: "1.2.3"})
	status, _, body := ts.do(t, "GET", "/queries", nil, "")
	var list struct {
		Queries []savedQueryInfo `json:"queries"`
	}
	if err := json.Unmarshal([]byte(body), &list); status != 200 || err != nil {
		t.Fatalf("GET /queries: %d %s", status, body)
	}
	if len(list.Queries) != 2 || list.Queries[0].Name != "companies" || list.Queries[1].Name != "relationships" ||
		list.Queries[1].Path != "/queries/relationships" || len(list.Queries[1].Parameters) != 5 || list.Queries[0].Tags[0] != "lists" {
		t.Errorf("GET /queries = %+v", list.Queries)
	}
	_, _, body = ts.do(t, "GET", "/queries?tag=lists", nil, "")
	json.Unmarshal([]byte(body), &list)
	if len(list.Queries) != 1 || list.Queries[0].Name != "companies" {
		t.Errorf("GET /queries?tag=lists = %+v", list.Queries)
	}

	status, _, body = ts.do(t, "GET", "/queries/openapi.json", nil, "")
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); status != 200 || err != nil {
		t.Fatalf("GET /queries/openapi.json: %d %s", status, body)
	}
	if doc["openapi"] != "3.1.0" || doc["info"].(map[string]any)["version"] != "1.2.3" {
		t.Errorf("openapi header = %v %v", doc["openapi"], doc["info"])
	}
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/queries", "/queries/companies", "/queries/relationships"} {
		if paths[p] == nil {
			t.Errorf("OpenAPI has no path %s", p)
		}
	}
	get := paths["/queries/relationships"].(map[string]any)["get"].(map[string]any)
	if get["operationId"] != "relationships" || get["summary"] != "An entity's relationships" {
		t.Errorf("operation = %v / %v", get["operationId"], get["summary"])
	}
	params := map[string]string{}
	for _, p := range get["parameters"].([]any) {
		pm := p.(map[string]any)
		s, _ := json.Marshal(pm["schema"])
		params[pm["name"].(string)] = fmt.Sprintf("%v %s", pm["required"], s)
	}
	wantParams := map[string]string{
		"id":        `true {"type":"string"}`,
		"types":     `false {"items":{"type":"string"},"type":"array"}`,
		"direction": `false {"default":"BOTH","enum":["OUT","IN","BOTH"],"type":"string"}`,
		"asOf":      `false {"format":"date","type":"string"}`,
		"first":     `false {"default":50,"format":"int32","type":"integer"}`,
		"format":    `false {"enum":["json","csv"],"type":"string"}`,
	}
	if !reflect.DeepEqual(params, wantParams) {
		t.Errorf("GET parameters =\n%v\nwant\n%v", params, wantParams)
	}
	post := paths["/queries/relationships"].(map[string]any)["post"].(map[string]any)
	schema, _ := json.Marshal(post["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)["required"])
	if string(schema) != `["id"]` {
		t.Errorf("POST body required = %s, want [\"id\"]", schema)
	}
}

// TestSavedQueryCSVHeaderFromProperties runs the case end to end: a saved query over
// REST whose rows are an entity's properties, with a key a spreadsheet would run.
func TestSavedQueryCSVHeaderFromProperties(t *testing.T) {
	ts := newTestServer(t, Config{})
	b := &graph.Batch{Entities: []graph.Entity{{ID: "props", Kind: "Company", Name: "Props",
		Properties: json.RawMessage(`{"=HYPERLINK(\"http://evil.example\",\"x\")":["-1","@a"]}`)}}}
	if _, err := ts.store.Apply(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	ts.mustSave(t, map[string]any{"name": "props", "query": `query($id: ID!) { entity(id: $id) { properties } }`})
	status, _, body := ts.do(t, "GET", "/queries/props?id=props&format=csv", nil, "")
	if status != 200 {
		t.Fatalf("GET /queries/props?format=csv = %d %s", status, body)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	want := [][]string{{`'=HYPERLINK("http://evil.example","x")`}, {"'-1"}, {"'@a"}}
	if err != nil || len(recs) != len(want) || recs[0][0] != want[0][0] || recs[1][0] != want[1][0] || recs[2][0] != want[2][0] {
		t.Fatalf("CSV = %q (%v), want the cells %q", body, err, want)
	}
}
