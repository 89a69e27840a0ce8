package server

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
	gqlast "github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// TestCostModel checks each term of the cost model (cost.go) on the default limits:
// V = 200,000 visits, R = 10,000 results, depth cap 12, first cap 1,000.
func TestCostModel(t *testing.T) {
	ts := newTestServer(t, Config{})
	schema, err := ParseSchema(schemaSDL(t), ts.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	const V, R = 200_000.0, 10_000.0
	saved := func(name string, version int, vars map[string]any) (string, map[string]any, bool) {
		if name != "deep" {
			return "", nil, false
		}
		d := 12.0
		if x, ok := asNumber(vars["d"]); ok {
			d = x
		}
		return `query($d: Int = 12) { subgraph(ids: ["nzb"], depth: $d) { truncated } }`, map[string]any{"d": d}, true
	}
	for _, c := range []struct {
		name, query string
		vars        map[string]any
		want        float64
	}{
		{"plain fields", `{ entity(id: "nzb") { id name } }`, nil, 3},
		// A connection's first multiplies its edges, not totalCount or pageInfo.
		{"a page's totalCount is one scan", `{ entity(id: "nzb") { relationships(first: 50) { totalCount } } }`, nil, 1 + 1 + V},
		{"edges are multiplied by first", `{ entity(id: "nzb") { relationships(first: 50) { edges { node { id } } } } }`, nil, 1 + 1 + 1 + 50*(1+1)},
		{"totalCount under each of 9 neighbours", `{ entity(id: "nzb") { relationships(first: 9) { edges { node { from { relationships(first: 1) { totalCount } } } } } } }`, nil,
			1 + 1 + 1 + 9*(1+1+1+V)},
		{"entities' totalCount is a counter", `{ entities(kind: "Company") { totalCount } }`, nil, 2},
		// The ownership analytics solve their whole component, whatever maxDepth.
		{"owners at maxDepth 1", `{ owners(of: "nzb", maxDepth: 1) { integrated } }`, nil, V + R*1},
		{"ultimateController", `{ ultimateController(of: "nzb") { share } }`, nil, V + 1},
		{"ownership paths", `{ ownership(owner: "nre", target: "nzb") { paths { length } } }`, nil, V + 1 + 100*1},
		{"traversal depth 2", `{ subgraph(ids: ["nzb"], depth: 2) { truncated } }`, nil, 64 + 1},
		{"subgraph lists at its limit", `{ subgraph(ids: ["nzb"], depth: 1, limit: 30) { entities { id } } }`, nil, 8 + 1 + 30*1},
		{"elements of a subgraph: each entity and relationship once", `{ subgraph(ids: ["nzb"], depth: 1, limit: 30) { elements } }`, nil, 8 + 2*30},
		{"path lists at maxDepth + 1", `{ shortestPath(from: "nzb", to: "nre", maxDepth: 3) { entities { id } } }`, nil, 512 + 1 + 4*1},
		{"search by its text", `{ search(text: "magnet") { score } }`, nil, float64(graph.SearchCost("magnet")) + 10},
		{"a search text over the cap costs nothing: the store refuses it", `query($t: String!) { search(text: $t) { score } }`, map[string]any{"t": strings.Repeat("x", 500)}, 1 + 10},
		{"runSavedQuery costs its document", `{ runSavedQuery(name: "deep", variables: {d: 2}) }`, nil, 1 + 64 + 1},
		{"runSavedQuery from variables", `query($v: JSON) { runSavedQuery(name: "deep", variables: $v) }`, map[string]any{"v": map[string]any{"d": 12}}, 1 + V + 1},
		{"runSavedQuery of an unknown query", `{ runSavedQuery(name: "nope") }`, nil, 1},
		{"fragments count per spread", `{ a: owners(of: "nzb") { ...S } b: owners(of: "nzb") { ...S } } fragment S on Stake { integrated }`, nil, 2 * (V + R)},
	} {
		doc, err := parser.ParseQuery(&gqlast.Source{Input: c.query})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		est, ok := estimateCost(schema, doc, "", c.vars, ts.store.Limits(), saved)
		if !ok || est.cost != c.want {
			t.Errorf("%s: estimate %v (ok %v), want %v", c.name, est.cost, ok, c.want)
		}
	}
}

// TestRunSavedQueryCostedLikeREST: a saved query refused over REST for its cost is
// refused over GraphQL too, by runSavedQuery, with the same estimate (plus the
// runSavedQuery field itself), and nothing runs — with its variables given, or taken
// from the saved document's defaults.
func TestRunSavedQueryCostedLikeREST(t *testing.T) {
	ts := newTestServer(t, Config{Limits: RequestLimits{MaxCost: 100_000}})
	for name, doc := range map[string]string{
		"deep":     `query($id: ID!) { subgraph(ids: [$id], depth: 12) { truncated } }`,
		"defaults": `query($id: ID!, $d: Int = 12) { subgraph(ids: [$id], depth: $d, limit: 10000) { entities { id } } }`,
	} {
		status, resp := ts.post(t, `mutation($in: SavedQueryInput!) { saveQuery(input: $in) { name } }`, map[string]any{"in": map[string]any{"name": name, "query": doc}}, nil)
		if status != 200 || len(resp.Errors) > 0 {
			t.Fatalf("saveQuery: %d %+v", status, resp.Errors)
		}
		_, header, restBody := ts.send(t, "GET", "/queries/"+name+"?id=nzb", nil, "")
		before := ts.store.ReadTransactions()
		_, gqlHeader, _ := ts.send(t, "POST", "/graphql", map[string]string{"Content-Type": "application/json"},
			gqlBody(`query($v: JSON) { runSavedQuery(name: "`+name+`", variables: $v) }`, map[string]any{"v": map[string]any{"id": "nzb"}}))
		if after := ts.store.ReadTransactions(); after != before+1 { // the saved query's lookup for the estimate
			t.Errorf("%s: the refused runSavedQuery made %d read transactions; want only the lookup", name, after-before)
		}
		if !strings.Contains(restBody, "LIMIT_EXCEEDED") {
			t.Fatalf("%s over REST: %s; want LIMIT_EXCEEDED", name, restBody)
		}
		rest, gql := workEstimate(t, header.Get(WorkHeader)), workEstimate(t, gqlHeader.Get(WorkHeader))
		if gql != rest+1 || gql <= 100_000 {
			t.Errorf("%s: REST estimate %v, GraphQL %v; want GraphQL = REST + 1, over the budget", name, rest, gql)
		}
	}
}

// workEstimate returns the estimate of a WorkHeader value.
func workEstimate(tb testing.TB, header string) float64 {
	tb.Helper()
	v, _, _ := strings.Cut(strings.TrimPrefix(header, "estimate="), ";")
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		tb.Fatalf("%s %q: %v", WorkHeader, header, err)
	}
	return x
}

// TestTimeoutIsLimitExceeded: a request that runs out of time is LIMIT_EXCEEDED ("the
// request ran out of time"), HTTP 200 in both media types, like other limits — whether
// the work budget's time or the request timeout ends it.
func TestTimeoutIsLimitExceeded(t *testing.T) {
	for _, cfg := range []Config{
		{Limits: RequestLimits{WorkTime: time.Nanosecond}},
		{RequestTimeout: time.Nanosecond},
	} {
		ts := newTestServer(t, cfg)
		for _, accept := range []string{"", "application/graphql-response+json"} {
			status, _, out := ts.gqlWith(t, `{ owners(of: "nzb") { integrated } }`, nil, accept)
			if status != http.StatusOK || firstCode(out) != graph.ELIMIT || !strings.Contains(out.Errors[0].Message, "ran out of time") {
				t.Errorf("%+v, Accept %q: %d %+v; want 200 LIMIT_EXCEEDED, out of time", cfg, accept, status, out.Errors)
			}
		}
	}
}

// TestWorkHeader: every GraphQL answer says what it was estimated to cost and what it
// did, in work units.
func TestWorkHeader(t *testing.T) {
	ts := newTestServer(t, Config{})
	_, header, _ := ts.send(t, "POST", "/graphql", map[string]string{"Content-Type": "application/json"}, gqlBody(`{ owners(of: "nzb") { integrated } }`, nil))
	got := header.Get(WorkHeader)
	if !strings.HasPrefix(got, "estimate=210000; used=") || strings.Contains(got, "used=0;") || !strings.HasSuffix(got, "budget=5000000") {
		t.Errorf("%s: %q; want the estimate, a non-zero use and the budget", WorkHeader, got)
	}
}
