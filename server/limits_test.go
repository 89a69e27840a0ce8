package server

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
	"go.uber.org/zap"
)

// gqlWith posts query with variables and an Accept header and decodes the answer.
func (ts *testServer) gqlWith(tb testing.TB, query string, vars map[string]any, accept string) (int, string, gqlResponse) {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	status, header, raw := ts.doAccept(tb, string(body), accept)
	var out gqlResponse
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		tb.Fatalf("response is not JSON: %s", raw)
	}
	return status, header, out
}

// doAccept posts a GraphQL body without a key (so that nothing but the request itself
// reads the store) and returns the status, the Retry-After header and the body.
func (ts *testServer) doAccept(tb testing.TB, body, accept string) (int, string, string) {
	tb.Helper()
	status, header, raw := ts.send(tb, "POST", "/graphql", map[string]string{"Content-Type": "application/json", "Accept": accept}, body)
	return status, header.Get("Retry-After"), raw
}

// TestCostRefusedBeforeWork: a request whose estimate is above the budget is refused
// with LIMIT_EXCEEDED, its message giving estimate and budget, and the store is not
// read at all; the estimate follows the arguments, variables included.
func TestCostRefusedBeforeWork(t *testing.T) {
	ts := newTestServer(t, Config{Limits: RequestLimits{MaxCost: 10_000}})
	for _, c := range []struct {
		name, query string
		vars        map[string]any
	}{
		{"aliased traversals", `{ a: owners(of: "nzb") { entity { id } } b: owners(of: "nzb") { entity { id } } }`, nil},
		{"depth from a variable", `query($d: Int) { subgraph(ids: ["nre"], depth: $d) { entities { id } } }`, map[string]any{"d": 5}},
		{"depth from a variable default", `query($d: Int = 5) { subgraph(ids: ["nre"], depth: $d) { entities { id } } }`, nil},
		{"many start ids", `{ subgraph(ids: ["nre","nzb","weld"], depth: 4) { entities { id } } }`, nil},
		{"pages in pages", `{ entities(first: 1000) { edges { node { relationships(first: 1000) { edges { node { id } } } } } } }`, nil},
		{"in a fragment", `query { ...F } fragment F on Query { ownership(owner: "nre", target: "nzb") { direct } }`, nil},
	} {
		before := ts.store.ReadTransactions()
		status, _, out := ts.gqlWith(t, c.query, c.vars, "application/graphql-response+json")
		if status != 400 || firstCode(out) != graph.ELIMIT || !strings.Contains(out.Errors[0].Message, "above this server's budget of 10000") {
			t.Errorf("%s: %d %+v, want 400 LIMIT_EXCEEDED naming the budget", c.name, status, out.Errors)
		}
		if after := ts.store.ReadTransactions(); after != before {
			t.Errorf("%s: the refused request read the store (%d read transactions)", c.name, after-before)
		}
	}
	// The same shapes within the budget run.
	for _, c := range []struct {
		query string
		vars  map[string]any
	}{
		{`query($d: Int) { subgraph(ids: ["nre"], depth: $d) { entities { id } } }`, map[string]any{"d": 2}},
		{`{ entities(first: 10) { edges { node { relationships(first: 10) { edges { node { id } } } } } } }`, nil},
		{`{ entity(id: "nre") { name } }`, nil},
	} {
		if status, _, out := ts.gqlWith(t, c.query, c.vars, ""); status != 200 || len(out.Errors) > 0 {
			t.Errorf("%s %v: %d %+v, want it to run", c.query, c.vars, status, out.Errors)
		}
	}
}

// TestAliasAndLengthCaps: too many aliases (counted through fragments) and too long a
// document are LIMIT_EXCEEDED.
func TestAliasAndLengthCaps(t *testing.T) {
	ts := newTestServer(t, Config{Limits: RequestLimits{MaxAliases: 10}})
	var b strings.Builder
	b.WriteString("{")
	for i := range 11 {
		fmt.Fprintf(&b, " a%d: entity(id: \"nre\") { id }", i)
	}
	b.WriteString(" }")
	fragments := `{ x: stats { ...F } y: stats { ...F } } fragment F on GraphStats { a: entities b: entities c: entities d: entities e: entities f: relationships }`
	long := "{ entity(id: \"nre\") { id } }" + strings.Repeat(" ", 70<<10)
	for name, q := range map[string]string{"11 aliases": b.String(), "aliases through fragments": fragments, "70 KiB": long} {
		status, _, out := ts.gqlWith(t, q, nil, "")
		if status != 200 || firstCode(out) != graph.ELIMIT {
			t.Errorf("%s: %d %+v, want LIMIT_EXCEEDED", name, status, out.Errors)
		}
	}
	if status, _, out := ts.gqlWith(t, `{ a: entity(id: "nre") { id } b: entity(id: "nzb") { id } }`, nil, ""); status != 200 || len(out.Errors) > 0 {
		t.Errorf("two aliases: %d %+v", status, out.Errors)
	}
	// graphql-go's nesting cap is a limit too.
	deep := "{ entity(id: \"nre\") {" + strings.Repeat(" relationships { edges { node { from {", 5) + " id" + strings.Repeat(" } } } }", 5) + " } }"
	if _, _, out := ts.gqlWith(t, deep, nil, ""); firstCode(out) != graph.ELIMIT {
		t.Errorf("a document nested 20 deep: %+v, want LIMIT_EXCEEDED", out.Errors)
	}
}

// TestExpensiveRequestsShareFewSlots: while every slot for expensive requests is taken,
// another expensive request waits BusyWait and then gets 503 LIMIT_EXCEEDED with
// Retry-After, while a cheap point read still runs; once a slot frees, it runs.
func TestExpensiveRequestsShareFewSlots(t *testing.T) {
	ts := newTestServer(t, Config{})
	schema, err := ParseSchema(schemaSDL(t), ts.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := newGuard(RequestLimits{MaxExpensive: 2, ExpensiveCost: 1000, BusyWait: 50e6}, schema, ts.store)
	srv := httptest.NewServer(handleGraphQL(zap.NewNop(), Config{}.withDefaults(), ts.store, schema, g, newMetrics(ts.store)))
	defer srv.Close()
	probe := &testServer{Server: srv, store: ts.store}

	// Two expensive requests are running (they hold the slots).
	g.expensive <- struct{}{}
	g.expensive <- struct{}{}
	expensive := `{ owners(of: "nzb") { entity { id } } }`
	status, retry, raw := probe.doAccept(t, `{"query":`+jsonString(expensive)+`}`, "")
	if status != 503 || retry == "" || !strings.Contains(raw, `"LIMIT_EXCEEDED"`) || !strings.Contains(raw, "busy") {
		t.Fatalf("expensive request while the slots are taken = %d Retry-After %q %s, want 503 LIMIT_EXCEEDED with Retry-After", status, retry, raw)
	}
	status, _, raw = probe.doAccept(t, `{"query":"{ entity(id: \"nre\") { name } }"}`, "")
	if status != 200 || !strings.Contains(raw, `"name"`) {
		t.Fatalf("cheap read while the slots are taken = %d %s", status, raw)
	}
	<-g.expensive // one finishes
	status, _, raw = probe.doAccept(t, `{"query":`+jsonString(expensive)+`}`, "")
	if status != 200 || strings.Contains(raw, "errors") {
		t.Fatalf("expensive request with a free slot = %d %s", status, raw)
	}
	// The handler releases its slot when it returns, which may be just after the client
	// has the answer.
	for i := 0; len(g.expensive) != 1; i++ {
		if i == 100 {
			t.Fatalf("the finished request kept its slot: %d slots taken, want 1", len(g.expensive))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestIntrospectionSwitch: introspection works by default and is FORBIDDEN when
// disabled; __typename stays.
func TestIntrospectionSwitch(t *testing.T) {
	const q = `{ __schema { queryType { name } } }`
	open := newTestServer(t, Config{})
	if status, _, out := open.gqlWith(t, q, nil, ""); status != 200 || len(out.Errors) > 0 || !strings.Contains(string(out.Data), "Query") {
		t.Fatalf("introspection by default = %d %+v %s", status, out.Errors, out.Data)
	}
	closed := newTestServer(t, Config{Limits: RequestLimits{NoIntrospection: true}})
	for _, q := range []string{q, `{ __type(name: "Entity") { name } }`, `query { ...F } fragment F on Query { __schema { types { name } } }`} {
		if status, _, out := closed.gqlWith(t, q, nil, ""); status != 403 || firstCode(out) != graph.EFORBIDDEN {
			t.Errorf("%s with introspection off = %d %+v, want 403 FORBIDDEN", q, status, out.Errors)
		}
	}
	if status, _, out := closed.gqlWith(t, `{ __typename entity(id: "nre") { __typename id } }`, nil, ""); status != 200 || len(out.Errors) > 0 {
		t.Errorf("__typename with introspection off = %d %+v", status, out.Errors)
	}
}

// TestSavedQueryRunsAreCosted: a saved query run over REST is costed with its
// parameters: refused (400 LIMIT_EXCEEDED, nothing read) above the budget, run below.
func TestSavedQueryRunsAreCosted(t *testing.T) {
	ts := newTestServer(t, Config{Limits: RequestLimits{MaxCost: 10_000}})
	ts.mustSave(t, map[string]any{"name": "around", "query": `query($d: Int = 1) { subgraph(ids: ["nre"], depth: $d) { entities { id } } }`})
	before := ts.store.ReadTransactions()
	status, _, body := ts.request(t, "GET", "/queries/around?d=6", "", "")
	if status != 400 || !strings.Contains(body, `"LIMIT_EXCEEDED"`) || !strings.Contains(body, "budget of 10000") {
		t.Fatalf("GET /queries/around?d=6 = %d %s, want 400 LIMIT_EXCEEDED", status, body)
	}
	// One read: the saved query itself; the traversal never ran.
	if n := ts.store.ReadTransactions() - before; n != 1 {
		t.Errorf("the refused run opened %d read transactions, want 1 (loading the saved query)", n)
	}
	if status, _, body := ts.request(t, "GET", "/queries/around?d=2", "", ""); status != 200 || !strings.Contains(body, `"nre"`) {
		t.Errorf("GET /queries/around?d=2 = %d %s", status, body)
	}
}

// BenchmarkGuardAdmit measures what the limits cost a typical request before it runs:
// parsing the document again and walking it.
func BenchmarkGuardAdmit(b *testing.B) {
	ts := newTestServer(b, Config{})
	schema, err := ParseSchema(schemaSDL(b), ts.store, nil)
	if err != nil {
		b.Fatal(err)
	}
	g := newGuard(RequestLimits{}, schema, ts.store)
	const q = `{ entity(id:"northern-zhaobao-magnets") { name relationships(direction: IN, types: ["OWNS"]) { edges { node { from { id name } share validFrom } } } } }`
	for b.Loop() {
		_, release, refused := g.admit(b.Context(), mediaJSON, q, "", nil)
		if refused != nil {
			b.Fatal(refused.message)
		}
		release()
	}
}
