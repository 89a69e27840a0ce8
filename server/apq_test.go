package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

// apolloHeaders are the headers Apollo Client's HttpLink sends.
var apolloHeaders = map[string]string{
	"Content-Type": "application/json",
	"Accept":       "application/graphql-response+json,application/json;q=0.9",
}

func sha(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

// apqBody is a POST body as Apollo Client's persisted-query link builds it: the query
// only when asked to include it.
func apqBody(op, query, hash string, vars map[string]any) string {
	if vars == nil {
		vars = map[string]any{}
	}
	body := map[string]any{"operationName": op, "variables": vars,
		"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}}
	if query != "" {
		body["query"] = query
	}
	raw, _ := json.Marshal(body)
	return string(raw)
}

// apqGET is the URL of a hash-only GET (useGETForHashedQueries).
func apqGET(op, hash string, vars map[string]any) string {
	if vars == nil {
		vars = map[string]any{}
	}
	v, _ := json.Marshal(vars)
	ext, _ := json.Marshal(map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}})
	return "/graphql?" + url.Values{"operationName": {op}, "variables": {string(v)}, "extensions": {string(ext)}}.Encode()
}

// notFound reports whether a response is the APQ PersistedQueryNotFound answer.
func notFound(out gqlResponse) bool {
	return len(out.Errors) == 1 && out.Errors[0].Message == "PersistedQueryNotFound" &&
		out.Errors[0].Extensions["code"] == "PERSISTED_QUERY_NOT_FOUND" && len(out.Data) == 0
}

// TestAPQApolloClientFlow drives the automatic persisted queries protocol exactly as
// Apollo Client sends it.
func TestAPQApolloClientFlow(t *testing.T) {
	ts := newTestServer(t, Config{})
	// Apollo Client prints the document and adds __typename before hashing it.
	doc := "query Entity($id: ID!) {\n  entity(id: $id) {\n    name\n    __typename\n  }\n}"
	hash := sha(doc)
	vars := map[string]any{"id": "nre"}
	want := `{"entity":{"name":"China Northern Rare Earth","__typename":"Entity"}}`

	// 1. The hash alone, by POST and by GET: not known yet.
	for _, method := range []string{"POST", "GET"} {
		path, body := "/graphql", apqBody("Entity", "", hash, vars)
		if method == "GET" {
			path, body = apqGET("Entity", hash, vars), ""
		}
		status, h, raw := ts.do(t, method, path, apolloHeaders, body)
		if out := decodeResponse(t, raw); status != 200 || !notFound(out) {
			t.Fatalf("hash-only %s of an unknown hash: %d %s; want 200 PersistedQueryNotFound", method, status, raw)
		}
		if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, mediaGraphQLResponse) {
			t.Errorf("Content-Type %q, want %s", ct, mediaGraphQLResponse)
		}
	}

	// 2. The retry with the query and the extensions runs and registers it.
	status, _, raw := ts.do(t, "POST", "/graphql", apolloHeaders, apqBody("Entity", doc, hash, vars))
	if out := decodeResponse(t, raw); status != 200 || len(out.Errors) > 0 || string(out.Data) != want {
		t.Fatalf("retry with the query: %d %s; want data %s", status, raw, want)
	}

	// 3. Later hash-only requests hit the cache, with any variables.
	for _, tc := range []struct {
		method string
		vars   map[string]any
		want   string
	}{
		{"GET", vars, want},
		{"POST", vars, want},
		{"POST", map[string]any{"id": "nzb"}, `{"entity":{"name":"Northern Zhaobao Magnets","__typename":"Entity"}}`},
	} {
		path, body := "/graphql", apqBody("Entity", "", hash, tc.vars)
		if tc.method == "GET" {
			path, body = apqGET("Entity", hash, tc.vars), ""
		}
		status, _, raw := ts.do(t, tc.method, path, apolloHeaders, body)
		if out := decodeResponse(t, raw); status != 200 || len(out.Errors) > 0 || string(out.Data) != tc.want {
			t.Errorf("hash-only %s %v after registration: %d %s; want %s", tc.method, tc.vars, status, raw, tc.want)
		}
	}

	// 4. Refusals.
	other := "{ stats { entities } }"
	tests := []struct {
		name, body, message string
	}{
		{"hash mismatch", apqBody("", other, hash, nil), "provided sha does not match query"},
		{"upper-case hash", apqBody("", other, strings.ToUpper(sha(other)), nil), "sha256Hash must be"},
		{"version 2", strings.Replace(apqBody("", other, sha(other), nil), `"version":1`, `"version":2`, 1), "PersistedQueryNotSupported"},
		{"not a hash", apqBody("", "", "abc", nil), "sha256Hash must be"},
		{"persistedQuery not an object", `{"extensions":{"persistedQuery":"abc"}}`, "must be an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, raw := ts.do(t, "POST", "/graphql", apolloHeaders, tt.body)
			out := decodeResponse(t, raw)
			if status != 400 || len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != graph.EINVALID || !strings.Contains(out.Errors[0].Message, tt.message) {
				t.Errorf("%s: %d %s; want 400 INVALID_INPUT with %q", tt.body, status, raw, tt.message)
			}
		})
	}
	// A mismatched document was not registered under the hash it claimed.
	_, _, raw = ts.do(t, "POST", "/graphql", apolloHeaders, apqBody("", "", sha(other), nil))
	if !notFound(decodeResponse(t, raw)) {
		t.Errorf("the refused document was cached: %s", raw)
	}
}

// TestAPQSavedQueryByHash checks that a saved query's document runs by its hash alone,
// with no registration round trip.
func TestAPQSavedQueryByHash(t *testing.T) {
	ts := newTestServer(t, Config{})
	saved := ts.mustSave(t, map[string]any{"name": "companies", "query": entitiesDoc})
	status, _, raw := ts.do(t, "POST", "/graphql", apolloHeaders, apqBody("Entities", "", saved.SaveQuery.Sha256Hash, map[string]any{"kind": "Facility"}))
	if out := decodeResponse(t, raw); status != 200 || string(out.Data) != `{"entities":{"totalCount":1,"edges":[{"node":{"id":"weld","name":"Mount Weld"}}]}}` {
		t.Errorf("hash-only request of a saved document: %d %s", status, raw)
	}
}

func TestAPQCacheBounds(t *testing.T) {
	c := newAPQCache(2, 10)
	c.put("a", "1234")
	c.put("b", "1234")
	c.get("a") // a is now the most recently used
	c.put("c", "12")
	if _, ok := c.get("b"); ok {
		t.Error("the least recently used entry survived an entry-count eviction")
	}
	if _, ok := c.get("a"); !ok {
		t.Error("a recently used entry was evicted")
	}
	c.put("d", "123456789") // 9 bytes: a and c must go to stay within 10
	if got, want := c.len(), 1; got != want {
		t.Errorf("after a byte eviction the cache holds %d entries, want %d", got, want)
	}
	c.put("huge", strings.Repeat("x", 11))
	if _, ok := c.get("huge"); ok {
		t.Error("a document larger than the cache was cached")
	}
}

// allowListServer returns a normal server and an allow-list server over the same store,
// with one saved query (companies) and one approved document.
func allowListServer(t *testing.T) (normal, allow *testServer, approved string) {
	normal = newTestServer(t, Config{})
	normal.mustSave(t, map[string]any{"name": "companies", "query": entitiesDoc})
	approved = `query Stats { stats { entities } }`
	var got struct {
		ApprovePersistedQuery struct{ Sha256Hash string }
	}
	normal.mustQuery(t, `mutation($q: String!) { approvePersistedQuery(query: $q) { sha256Hash } }`, map[string]any{"q": approved}, &got)
	if got.ApprovePersistedQuery.Sha256Hash != sha(approved) {
		t.Fatalf("approvePersistedQuery returned hash %s, want %s", got.ApprovePersistedQuery.Sha256Hash, sha(approved))
	}
	h, err := NewServer(nil, Config{SavedQueriesOnly: true}, normal.store, schemaSDL(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return normal, &testServer{Server: srv, store: normal.store}, approved
}

func TestAllowListMode(t *testing.T) {
	_, ts, approved := allowListServer(t)
	adHoc := `{ entity(id: "nre") { name } }`
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		want   string // data, or the error code
	}{
		{"ad-hoc query", "POST", "/graphql", `{"query": ` + quote(adHoc) + `}`, 403, graph.EFORBIDDEN},
		{"ad-hoc query over GET", "GET", "/graphql?query=" + url.QueryEscape(adHoc), "", 403, graph.EFORBIDDEN},
		{"ad-hoc mutation", "POST", "/graphql", `{"query": "mutation { deleteRelationship(id: \"own-nre\") }"}`, 403, graph.EFORBIDDEN},
		{"saveQuery is ad-hoc too", "POST", "/graphql", `{"query": ` + quote(saveMutation) + `, "variables": {"input": {"name": "x", "query": "{ stats { entities } }"}}}`, 403, graph.EFORBIDDEN},
		{"run saved mixed with an ad-hoc field", "POST", "/graphql", `{"query": "{ runSavedQuery(name: \"companies\", variables: {kind: \"Facility\"}) entity(id: \"nre\") { name } }"}`, 403, graph.EFORBIDDEN},
		{"APQ registration of an unapproved document", "POST", "/graphql", apqBody("", adHoc, sha(adHoc), nil), 403, graph.EFORBIDDEN},

		{"a saved document sent in full", "POST", "/graphql", `{"query": ` + quote(entitiesDoc) + `, "variables": {"kind": "Facility", "first": 1}}`, 200, `{"entities":{"totalCount":1,"edges":[{"node":{"id":"weld","name":"Mount Weld"}}]}}`},
		{"a saved document by hash", "POST", "/graphql", apqBody("", "", sha(entitiesDoc), map[string]any{"kind": "Facility"}), 200, `{"entities":{"totalCount":1,"edges":[{"node":{"id":"weld","name":"Mount Weld"}}]}}`},
		{"runSavedQuery", "POST", "/graphql", `{"query": "{ runSavedQuery(name: \"companies\", variables: {kind: \"Facility\"}) }"}`, 200, `{"runSavedQuery":{"entities":{"totalCount":1,"edges":[{"node":{"id":"weld","name":"Mount Weld"}}]}}}`},
		{"listing saved queries", "GET", "/graphql?query=" + url.QueryEscape(`{ savedQueries { name } q: savedQuery(name: "companies") { version } }`), "", 200, `{"savedQueries":[{"name":"companies"}],"q":{"version":1}}`},
		{"an approved document", "POST", "/graphql", `{"query": ` + quote(approved) + `}`, 200, `{"stats":{"entities":127}}`},
		{"an approved document by hash", "GET", apqGET("Stats", sha(approved), nil), "", 200, `{"stats":{"entities":127}}`},
		{"an approved document by hash and query", "POST", "/graphql", apqBody("Stats", approved, sha(approved), nil), 200, `{"stats":{"entities":127}}`},
		{"REST runs of saved queries", "GET", "/queries/companies?kind=Facility&first=1", "", 200, `{"entities":{"totalCount":1,"edges":[{"node":{"id":"weld","name":"Mount Weld"}}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, raw := ts.do(t, tt.method, tt.path, map[string]string{"Content-Type": "application/json"}, tt.body)
			out := decodeResponse(t, raw)
			if status != tt.status {
				t.Fatalf("%s %s %s: status %d, want %d; %s", tt.method, tt.path, tt.body, status, tt.status, raw)
			}
			if tt.status != 200 {
				if len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != tt.want || len(out.Data) > 0 {
					t.Errorf("errors %s, want one %s", raw, tt.want)
				}
				return
			}
			if len(out.Errors) > 0 || string(out.Data) != tt.want {
				t.Errorf("got %s, want data %s", raw, tt.want)
			}
		})
	}
	// The refused registration cached nothing: the hash alone is still unknown.
	_, _, raw := ts.do(t, "POST", "/graphql", apolloHeaders, apqBody("", "", sha(adHoc), nil))
	if !notFound(decodeResponse(t, raw)) {
		t.Errorf("hash-only request after a refused registration: %s, want PersistedQueryNotFound", raw)
	}
	// Revoking takes the document off the list.
	if err := ts.store.RevokePersistedQuery(context.Background(), sha(approved)); err != nil {
		t.Fatal(err)
	}
	if status, _, raw := ts.do(t, "POST", "/graphql", apolloHeaders, `{"query": `+quote(approved)+`}`); status != 403 {
		t.Errorf("a revoked document: %d %s, want 403", status, raw)
	}
}

func TestApproveAndRevokePersistedQuery(t *testing.T) {
	ts := newTestServer(t, Config{})
	_, out := ts.post(t, `mutation { approvePersistedQuery(query: "{ stats { nope } }") { sha256Hash } }`, nil, nil)
	if len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != graph.EINVALID || out.Errors[0].Extensions["field"] != "query" {
		t.Errorf("approving an invalid document: %+v, want INVALID_INPUT on query", out.Errors)
	}
	// A mutation may be approved (with required variables left to the run).
	doc := `mutation($id: ID!) { deleteRelationship(id: $id) }`
	var got struct {
		ApprovePersistedQuery struct{ Sha256Hash, Query string }
		PersistedQueries      []struct{ Sha256Hash string }
	}
	ts.mustQuery(t, `mutation($q: String!) { approvePersistedQuery(query: $q) { sha256Hash query } }`, map[string]any{"q": doc}, &got)
	if got.ApprovePersistedQuery.Sha256Hash != sha(doc) || got.ApprovePersistedQuery.Query != doc {
		t.Errorf("approvePersistedQuery = %+v", got.ApprovePersistedQuery)
	}
	ts.mustQuery(t, `{ persistedQueries { sha256Hash } }`, nil, &got)
	if len(got.PersistedQueries) != 1 || got.PersistedQueries[0].Sha256Hash != sha(doc) {
		t.Errorf("persistedQueries = %+v", got.PersistedQueries)
	}
	ts.mustQuery(t, `mutation($h: String!) { revokePersistedQuery(sha256Hash: $h) }`, map[string]any{"h": sha(doc)}, nil)
	_, out = ts.post(t, `mutation($h: String!) { revokePersistedQuery(sha256Hash: $h) }`, map[string]any{"h": sha(doc)}, nil)
	if len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != graph.ENOTFOUND {
		t.Errorf("revoking twice: %+v, want NOT_FOUND", out.Errors)
	}
}

func TestOnlySavedQueryFields(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want bool
	}{
		{`{ runSavedQuery(name: "a") }`, true},
		{`query Q($v: JSON) { a: runSavedQuery(name: "a", variables: $v) b: savedQuery(name: "b") { versions { query } } savedQueries { name } __typename }`, true},
		{`{ runSavedQuery(name: "a") entity(id: "x") { name } }`, false},
		{`{ ...F } fragment F on Query { runSavedQuery(name: "a") }`, false},
		{`mutation { runSavedQuery(name: "a") }`, false},
		{`{ persistedQueries { query } }`, false},
		{`{ runSavedQuery(name: "a") `, false},
	} {
		if got := onlySavedQueryFields(tc.doc); got != tc.want {
			t.Errorf("onlySavedQueryFields(%s) = %v, want %v", tc.doc, got, tc.want)
		}
	}
}

func quote(s string) string {
	raw, _ := json.Marshal(s)
	return string(raw)
}
