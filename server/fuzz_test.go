package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/seed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// fuzzMethods and fuzzPaths are what FuzzGraphQLHandler picks a request's method and
// path from: the GraphQL endpoint and the saved-query REST endpoint (which also writes
// CSV).
var (
	fuzzMethods = []string{http.MethodPost, http.MethodGet, http.MethodPut, http.MethodOptions, http.MethodHead, http.MethodDelete}
	fuzzPaths   = []string{"/graphql", "/queries/company-owners", "/queries/entities-by-kind-and-country", "/queries/nope"}
)

// graphQLSeeds are realistic documents, from the README and the schema, plus broken ones.
var graphQLSeeds = []string{
	`{ entity(id:"northern-zhaobao-magnets") { name relationships(direction: IN, types: ["OWNS"]) { edges { node { from { id name } share validFrom } } } } }`,
	`{ search(text: "北方稀土") { score entity { id name country aliases } } }`,
	`{ entities(kind: "Company", country: "CN", first: 20) { totalCount pageInfo { hasNextPage endCursor } edges { node { id name } } } }`,
	`{ entities(first: 2, after: "AQID") { edges { cursor } } }`,
	`{ owners(of: "northern-zhaobao-magnets") { entity { id name } direct integrated depth controls } ultimateController(of: "northern-zhaobao-magnets") { controller { name } share } }`,
	`{ ownership(owner: "baotou-steel", target: "northern-zhaobao-magnets", asOf: "2024-11-30") { direct integrated controls paths { length share entities { name } } } }`,
	`{ exposure(of: "ev-traction-motor", country: "CN") { share entities { name } } supplyPaths(from: "bayan-obo-mine", to: "ev-traction-motor", avoidCountries: ["CN"]) { length } }`,
	`{ subgraph(ids: ["mp-materials"], depth: 2) { truncated entities { id } relationships { id type from { id } to { id } share properties } } }`,
	`{ shortestPath(from: "mp-materials", to: "shenghe-resources") { length } stats { entities relationships byType { type count } } }`,
	`{ subgraph(ids: ["mp-materials"], depth: 99999, limit: -1) { truncated } }`,
	`{ runSavedQuery(name: "company-owners", variables: {company: "mp-materials"}) savedQueries { name } }`,
	`mutation { upsertEntity(input: {id: "acme", kind: "Company", name: "Acme", country: "DE"}) { id } upsertRelationship(input: {type: "OWNS", from: "acme", to: "mp-materials", share: 1.5}) { id } }`,
	`mutation($e: [EntityInput!]) { importGraph(entities: $e) { entities } }`,
	`mutation { deleteEntity(id: "acme", cascade: true) deleteRelationship(id: "nope") }`,
	`mutation { saveQuery(input: {name: "x", query: "{ stats { entities } }"}) { name } }`,
	`query Q($id: ID!) { entity(id: $id) { ...F } } fragment F on Entity { id name properties identifiers { scheme value } }`,
	`{ __schema { types { name fields { name } } } }`,
	`{ a: entity(id: "a") { b: entity { id } } }`,
	strings.Repeat("{ entity(id: \"x\") ", 50) + strings.Repeat("}", 50),
	`{`,
	"",
}

// newFuzzHandler returns the real handler over an in-memory store holding the seed graph
// and its saved queries, and the log it writes errors to.
func newFuzzHandler(tb testing.TB) (http.Handler, *observer.ObservedLogs) {
	tb.Helper()
	ctx := context.Background()
	store, err := graph.Open(graph.Options{InMemory: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	if _, err := seed.Load(ctx, store); err != nil {
		tb.Fatal(err)
	}
	core, logs := observer.New(zapcore.ErrorLevel)
	log := zap.New(core)
	schema, err := ParseSchema(schemaSDL(tb), store, log)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := seed.LoadQueries(ctx, store, func(q *graph.SavedQuery) (*graph.SavedQuery, error) { return PrepareSavedQuery(schema, q) }); err != nil {
		tb.Fatal(err)
	}
	h, err := NewServer(log, Config{RequestTimeout: 5 * time.Second, MaxBodyBytes: 64 << 10}, store, schemaSDL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return h, logs
}

// FuzzGraphQLHandler: whatever the method, path, query string, headers and body, the
// handler answers below 500, a JSON answer is valid JSON whose errors all carry a code
// other than INTERNAL, a CSV answer parses, and nothing is logged as an error (panics
// are logged and turned into INTERNAL, so they fail here too).
func FuzzGraphQLHandler(f *testing.F) {
	for _, q := range graphQLSeeds {
		body, _ := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"id": "mp-materials", "e": []any{map[string]any{"id": "z", "kind": "K", "name": "Z"}}}})
		f.Add(uint8(0), uint8(0), "", "application/json", "", "", string(body))
		f.Add(uint8(1), uint8(0), "query="+url.QueryEscape(q)+"&variables=%7B%22id%22%3A%22nre%22%7D", "", "application/graphql-response+json", "", "")
	}
	f.Add(uint8(0), uint8(0), "", "application/json", "application/graphql-response+json", "Bearer x", `{"query":"{ entity(id: 1) { id } }"}`)
	f.Add(uint8(0), uint8(0), "", "application/json", "", "", `{"query": 42, "variables": []}`)
	f.Add(uint8(0), uint8(0), "", "application/json", "", "", `{"query":"{ stats { entities } }"}{"query":"x"}`)
	f.Add(uint8(0), uint8(0), "", "application/json", "", "", `{"query":"query($v: JSON){ runSavedQuery(name: \"company-owners\", variables: $v) }","variables":{"v":{"company":[[[[]]]]}}}`)
	f.Add(uint8(0), uint8(0), "", "application/json", "", "", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`)
	f.Add(uint8(0), uint8(0), "", "text/plain; charset=\"", "text/html", "", `{}`)
	f.Add(uint8(0), uint8(0), "", "application/json", "", "", strings.Repeat("[", 10000))
	f.Add(uint8(1), uint8(1), "company=mp-materials&format=csv", "", "text/csv", "", "")
	f.Add(uint8(0), uint8(2), "format=csv", "application/json", "", "", `{"kind":"Company","country":"CN"}`)
	f.Add(uint8(1), uint8(2), "kind=Company&country=CN&first=-5", "", "", "", "")
	f.Add(uint8(1), uint8(1), "company=mp-materials&asOf=2024-02-30&format=xml", "", "", "", "")
	f.Add(uint8(3), uint8(0), "", "", "", "", "")

	h, logs := newFuzzHandler(f)
	f.Fuzz(func(t *testing.T, method, path uint8, rawQuery, contentType, accept, auth, body string) {
		r := httptest.NewRequest(fuzzMethods[int(method)%len(fuzzMethods)], fuzzPaths[int(path)%len(fuzzPaths)], strings.NewReader(body))
		r.URL.RawQuery = rawQuery
		for k, v := range map[string]string{"Content-Type": contentType, "Accept": accept, "Authorization": auth} {
			if strings.ContainsAny(v, "\r\n\x00") { // net/http refuses such headers before any handler
				return
			}
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		serveAndCheck(t, h, logs, r, body)
	})
}

// FuzzGraphQLDocument fuzzes GraphQL documents and variables inside well-formed requests
// (POST JSON, or GET parameters), so that the fuzzer explores parsing, validation and
// resolvers rather than the JSON envelope. The checks are FuzzGraphQLHandler's.
func FuzzGraphQLDocument(f *testing.F) {
	for _, q := range graphQLSeeds {
		f.Add(q, `{"id":"mp-materials","e":[{"id":"z","kind":"K","name":"Z"}]}`, false)
		f.Add(q, `{"id":"nre"}`, true)
	}
	f.Add(`query($ids: [ID!]!, $d: Int) { subgraph(ids: $ids, depth: $d, limit: 10000) { truncated } }`, `{"ids":["mp-materials","x\u0000"],"d":12}`, false)
	f.Add(`query($a: String) { entities(first: 1000, after: $a) { edges { cursor } } }`, `{"a":"////"}`, true)
	f.Add(`query($t: String!) { search(text: $t, first: 1000) { score } }`, `{"t":"\u00e9\u0301 北"}`, true)
	f.Add(`mutation($in: RelationshipInput!) { upsertRelationship(input: $in) { id } }`, `{"in":{"type":"OWNS","from":"mp-materials","to":"mp-materials","shareMin":0.9,"shareMax":0.1}}`, false)
	f.Add(`mutation($in: EntityInput!) { upsertEntity(input: $in) { id } }`, `{"in":{"id":" x","kind":"K","name":"N","properties":{"a":[1e999]},"validFrom":"2024-02-30"}}`, false)
	f.Add(`{ owners(of: "northern-zhaobao-magnets", threshold: -1, maxDepth: 13) { depth } }`, `null`, true)

	h, logs := newFuzzHandler(f)
	f.Fuzz(func(t *testing.T, query, variables string, get bool) {
		var r *http.Request
		if get {
			v := url.Values{"query": {query}}
			if variables != "" {
				v.Set("variables", variables)
			}
			r = httptest.NewRequest(http.MethodGet, "/graphql?"+v.Encode(), nil)
		} else {
			vars := json.RawMessage(variables)
			if !json.Valid(vars) {
				vars = nil
			}
			body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
			if err != nil {
				return
			}
			r = httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
		}
		serveAndCheck(t, h, logs, r, query+" "+variables)
	})
}

// serveAndCheck serves r and fails t unless the answer is below 500, nothing was logged
// as an error, a JSON answer is valid JSON whose errors carry a code other than
// INTERNAL, and a CSV answer parses. what describes the request in failure messages.
func serveAndCheck(t *testing.T, h http.Handler, logs *observer.ObservedLogs, r *http.Request, what string) {
	t.Helper()
	logs.TakeAll()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)

	resp := w.Result()
	got, _ := io.ReadAll(resp.Body)
	req := fmt.Sprintf("%s %s (Content-Type %q, Accept %q) %q", r.Method, r.URL, r.Header.Get("Content-Type"), r.Header.Get("Accept"), what)
	if resp.StatusCode >= 500 {
		t.Fatalf("%s: status %d %s", req, resp.StatusCode, got)
	}
	if errs := logs.TakeAll(); len(errs) > 0 {
		t.Fatalf("%s logged %q: %v", req, errs[0].Message, errs[0].ContextMap())
	}
	if r.Method == http.MethodHead {
		return
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch mt {
	case mediaJSON, mediaGraphQLResponse:
		var out struct {
			Errors []struct {
				Message    string
				Extensions struct{ Code string }
			}
		}
		if err := json.Unmarshal(got, &out); err != nil {
			t.Fatalf("%s: answer %q is not JSON: %v", req, got, err)
		}
		for _, e := range out.Errors {
			if e.Extensions.Code == "" || e.Extensions.Code == graph.EINTERNAL {
				t.Fatalf("%s: error %q has code %q", req, e.Message, e.Extensions.Code)
			}
		}
	case "text/csv":
		if _, err := csv.NewReader(bytes.NewReader(got)).ReadAll(); err != nil {
			t.Fatalf("%s: CSV answer %q does not parse: %v", req, got, err)
		}
	}
}
