package server

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

// request sends method path with body (JSON when not empty) and the Authorization
// header auth ("" for none); it returns the status, headers and body.
func (ts *testServer) request(tb testing.TB, method, path, auth, body string) (int, http.Header, string) {
	tb.Helper()
	header := map[string]string{"Authorization": auth}
	if body != "" {
		header["Content-Type"] = "application/json"
	}
	return ts.send(tb, method, path, header, body)
}

// gql posts a GraphQL document with the Authorization header auth and decodes the answer.
func (ts *testServer) gql(tb testing.TB, auth, query string) (int, gqlResponse) {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	status, _, raw := ts.request(tb, "POST", "/graphql", auth, string(body))
	var out gqlResponse
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		tb.Fatalf("response is not JSON: %s", raw)
	}
	return status, out
}

func firstCode(out gqlResponse) string {
	if len(out.Errors) == 0 {
		return ""
	}
	code, _ := out.Errors[0].Extensions["code"].(string)
	return code
}

func mustKey(tb testing.TB, store *graph.Store, role graph.Role) (*graph.APIKey, string) {
	tb.Helper()
	k, token, err := store.CreateAPIKey(context.Background(), role, string(role)+" key")
	if err != nil {
		tb.Fatal(err)
	}
	return k, "Bearer " + token
}

const upsertProbe = `mutation { upsertEntity(input: {id: "probe", kind: "Company", name: "Probe"}) { id } }`

// TestMutationsNeedAWriterKey: without a key a mutation is UNAUTHENTICATED, with a reader
// key FORBIDDEN, and neither writes anything; a writer key writes; a revoked or unknown
// key gets 401 with WWW-Authenticate even for a read.
func TestMutationsNeedAWriterKey(t *testing.T) {
	ts := newTestServer(t, Config{})
	_, reader := mustKey(t, ts.store, graph.RoleReader)
	writerKey, writer := mustKey(t, ts.store, graph.RoleWriter)

	for _, c := range []struct{ name, auth, code string }{
		{"anonymous", "", graph.EUNAUTHENTICATED},
		{"reader", reader, graph.EFORBIDDEN},
	} {
		status, out := ts.gql(t, c.auth, upsertProbe)
		if status != 200 || firstCode(out) != c.code || !strings.Contains(out.Errors[0].Message, "writer") {
			t.Errorf("%s upsertEntity = %d %+v, want 200 with %s naming the writer role", c.name, status, out.Errors, c.code)
		}
		if _, err := ts.store.Entity(t.Context(), "probe"); graph.ErrorCode(err) != graph.ENOTFOUND {
			t.Fatalf("%s upsertEntity wrote the entity (%v)", c.name, err)
		}
	}
	// Reads stay open to anonymous clients and to readers.
	for _, auth := range []string{"", reader} {
		if status, out := ts.gql(t, auth, `{ entity(id: "nre") { id } }`); status != 200 || len(out.Errors) > 0 {
			t.Errorf("read with %q = %d %+v", auth, status, out.Errors)
		}
	}
	if status, out := ts.gql(t, writer, upsertProbe); status != 200 || len(out.Errors) > 0 {
		t.Fatalf("writer upsertEntity = %d %+v", status, out.Errors)
	}
	if _, err := ts.store.Entity(t.Context(), "probe"); err != nil {
		t.Fatalf("the writer's upsert is not in the store: %v", err)
	}

	if _, err := ts.store.RevokeAPIKey(t.Context(), writerKey.ID); err != nil {
		t.Fatal(err)
	}
	for name, auth := range map[string]string{"revoked": writer, "unknown": "Bearer lsk_0123456789abcdef_" + strings.Repeat("ab", 32), "malformed": "Bearer nope", "basic": "Basic dXNlcjpwYXNz"} {
		status, header, body := ts.request(t, "POST", "/graphql", auth, `{"query":"{ entity(id: \"nre\") { id } }"}`)
		if status != 401 || !strings.HasPrefix(header.Get("WWW-Authenticate"), "Bearer") || !strings.Contains(body, graph.EUNAUTHENTICATED) {
			t.Errorf("%s key: %d %q %s, want 401 UNAUTHENTICATED with WWW-Authenticate: Bearer", name, status, header.Get("WWW-Authenticate"), body)
		}
	}
}

// TestEveryMutationChecksItsRole calls every mutation resolver as an anonymous reader:
// each must refuse with UNAUTHENTICATED before it looks at its arguments, so that a new
// mutation without a role check fails here.
func TestEveryMutationChecksItsRole(t *testing.T) {
	ts := newTestServer(t, Config{})
	ctx := context.WithValue(t.Context(), principalKey{}, principal{role: graph.RoleReader})
	m := reflect.ValueOf(NewResolver(ts.store).Mutation())
	if m.NumMethod() < 9 {
		t.Fatalf("found %d mutation methods; the reflection is looking at the wrong type", m.NumMethod())
	}
	for i := range m.NumMethod() {
		name := m.Type().Method(i).Name
		mt := m.Method(i).Type()
		if mt.NumIn() < 1 || mt.In(0) != reflect.TypeFor[context.Context]() {
			continue // a helper, not a resolver
		}
		args := []reflect.Value{reflect.ValueOf(ctx)}
		for j := 1; j < mt.NumIn(); j++ {
			args = append(args, reflect.Zero(mt.In(j)))
		}
		res := m.Method(i).Call(args)
		err, _ := res[len(res)-1].Interface().(error)
		if graph.ErrorCode(err) != graph.EUNAUTHENTICATED {
			t.Errorf("%s as an anonymous reader = %v, want UNAUTHENTICATED", name, err)
		}
	}
}

// TestAdminEndpointsNeedAnAdminKey: import, backup, key management and the export of
// the whole graph need an admin key (401 without, 403 with a lower role); a subgraph export is a read.
func TestAdminEndpointsNeedAnAdminKey(t *testing.T) {
	ts := newTestServer(t, Config{})
	_, writer := mustKey(t, ts.store, graph.RoleWriter)
	_, admin := mustKey(t, ts.store, graph.RoleAdmin)
	for _, c := range []struct {
		method, path, auth string
		status             int
	}{
		{"GET", "/admin/backup", "", 401},
		{"GET", "/admin/backup", writer, 403},
		{"GET", "/admin/backup", admin, 200},
		{"POST", "/admin/import?format=jsonl", "", 401},
		{"POST", "/admin/import?format=jsonl", writer, 403},
		{"GET", "/admin/keys", "", 401},
		{"GET", "/admin/keys", writer, 403},
		{"GET", "/admin/keys", admin, 200},
		{"POST", "/admin/keys", writer, 403},
		{"POST", "/admin/keys/00000000000000ff/revoke", "", 401},
		{"POST", "/admin/keys/00000000000000ff/revoke", writer, 403},
		{"GET", "/export?format=jsonl", "", 401},
		{"GET", "/export?format=jsonl", writer, 403},
		{"GET", "/export?format=jsonl", admin, 200},
		{"GET", "/export?format=jsonl&seeds=nzb&depth=1", "", 200},
		{"GET", "/export?format=jsonl&seeds=nzb&depth=50", writer, 400},
		{"GET", "/export?format=jsonl&seeds=nzb&depth=50", admin, 200},
	} {
		status, header, body := ts.request(t, c.method, c.path, c.auth, "")
		if status != c.status {
			t.Errorf("%s %s with %.20q = %d %.200s, want %d", c.method, c.path, c.auth, status, body, c.status)
		}
		if status == 401 && header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s: 401 without WWW-Authenticate", c.method, c.path)
		}
		if status == 403 && !strings.Contains(body, `"code":"FORBIDDEN"`) {
			t.Errorf("%s %s: 403 body %s", c.method, c.path, body)
		}
	}
	// The admin import goes through.
	status, _, body := ts.request(t, "POST", "/admin/import?format=jsonl", admin,
		`{"entity":{"id":"imported","kind":"Company","name":"Imported"}}`+"\n")
	if status != 200 {
		t.Fatalf("admin import = %d %s", status, body)
	}
}

// TestAuthRequiredMode: every request but the health probes needs a key.
func TestAuthRequiredMode(t *testing.T) {
	ts := newTestServer(t, Config{Auth: AuthRequired})
	_, reader := mustKey(t, ts.store, graph.RoleReader)
	for _, path := range []string{"/graphql?query=%7Bstats%7Bentities%7D%7D", "/queries", "/export?format=jsonl&seeds=nzb"} {
		if status, header, body := ts.request(t, "GET", path, "", ""); status != 401 || header.Get("WWW-Authenticate") == "" || !strings.Contains(body, graph.EUNAUTHENTICATED) {
			t.Errorf("anonymous GET %s = %d %s, want 401 UNAUTHENTICATED", path, status, body)
		}
		if status, _, body := ts.request(t, "GET", path, reader, ""); status != 200 {
			t.Errorf("reader GET %s = %d %s, want 200", path, status, body)
		}
	}
	// The probes and the explorer's files hold no data; the page asks for a key on 401.
	for _, path := range []string{"/healthz", "/readyz", "/", "/ui/app.js", "/graphiql"} {
		if status, _, _ := ts.request(t, "GET", path, "", ""); status != 200 {
			t.Errorf("anonymous GET %s = %d, want 200", path, status)
		}
	}
}

// TestAnonymousWrites: the local-development switch lets requests without a key write,
// and is refused for an address beyond loopback.
func TestAnonymousWrites(t *testing.T) {
	ts := newTestServer(t, Config{AnonymousWrites: true})
	if status, out := ts.gql(t, "", upsertProbe); status != 200 || len(out.Errors) > 0 {
		t.Fatalf("anonymous write with AnonymousWrites = %d %+v", status, out.Errors)
	}
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true}, {"[::1]:8080", true}, {"localhost:8080", true},
		{":8080", false}, {"0.0.0.0:8080", false}, {"192.0.2.7:8080", false}, {"example.com:80", false}, {"garbage", false},
	} {
		err := Config{AnonymousWrites: true}.CheckListenAddr(c.addr)
		if (err == nil) != c.ok {
			t.Errorf("CheckListenAddr(%q) with anonymous writes = %v, want ok %v", c.addr, err, c.ok)
		}
		if err := (Config{}).CheckListenAddr(c.addr); err != nil {
			t.Errorf("CheckListenAddr(%q) without anonymous writes = %v", c.addr, err)
		}
	}
}

// TestCORSAllowsTheAuthorizationHeader: a browser may send the key cross-origin, and
// credentials are never allowed, with a listed origin or with "*".
func TestCORSAllowsTheAuthorizationHeader(t *testing.T) {
	for _, origins := range [][]string{{"https://viz.example"}, {"*"}} {
		ts := newTestServer(t, Config{CORSOrigins: origins})
		req, _ := http.NewRequest("OPTIONS", ts.URL+"/graphql", nil)
		req.Header.Set("Origin", "https://viz.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
		if resp.Header.Get("Access-Control-Allow-Origin") == "" || !strings.Contains(allowed, "authorization") {
			t.Errorf("origins %v: preflight with Authorization: Allow-Origin %q, Allow-Headers %q", origins, resp.Header.Get("Access-Control-Allow-Origin"), allowed)
		}
		if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("origins %v: credentials allowed", origins)
		}
	}
}
