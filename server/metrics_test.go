package server

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape GETs /metrics and parses the text format.
func scrape(tb testing.TB, base string) map[string]*dto.MetricFamily {
	tb.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("GET /metrics = %d %s", resp.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		tb.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// metricValue returns the value of the series of family name whose labels include
// labels (a histogram's sample count), and whether there is one.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// newLimitedServer is newTestServer over a store with a visit budget of maxVisits.
func newLimitedServer(tb testing.TB, cfg Config, maxVisits int) *testServer {
	tb.Helper()
	return serveFixture(tb, graph.Options{InMemory: true, Limits: graph.Limits{MaxVisits: maxVisits}}, nil, cfg)
}

func TestMetricsCountRequestsByOperationAndOutcome(t *testing.T) {
	ts := newLimitedServer(t, Config{}, 50)
	for range 3 {
		ts.mustQuery(t, `query Owners { owners(of: "nzb") { entity { id } } }`, nil, nil)
	}
	ts.mustQuery(t, `{ entity(id: "nzb") { name } }`, nil, nil)
	if _, out := ts.post(t, `query Missing { entity(id: "nope") { relationships { totalCount } } }`, nil, nil); len(out.Errors) != 0 {
		t.Logf("Missing: %+v", out.Errors) // entity returns null for an unknown id
	}
	_, out := ts.post(t, `query TooDeep($d: Int) { subgraph(ids: ["nzb"], depth: $d) { entities { id } } }`, map[string]any{"d": 1000}, nil)
	if len(out.Errors) == 0 || out.Errors[0].Extensions["code"] != graph.ELIMIT {
		t.Fatalf("depth 1000: errors %+v, want %s", out.Errors, graph.ELIMIT)
	}
	ts.post(t, `query Broken { nosuchfield }`, nil, nil)
	ts.mustQuery(t, `mutation Add { upsertEntity(input: {id: "new", kind: "Company", name: "New Co"}) { id } }`, nil, nil)

	fams := scrape(t, ts.URL)
	for _, c := range []struct {
		op, outcome string
		want        float64
	}{
		{"Owners", "ok", 3},
		{"anonymous", "ok", 1},
		{"TooDeep", graph.ELIMIT, 1},
		{"Broken", graph.EINVALID, 1},
		{"Add", "ok", 1},
	} {
		got, ok := metricValue(fams, "lodestone_graphql_requests_total", map[string]string{"operation": c.op, "outcome": c.outcome})
		if !ok || got != c.want {
			t.Errorf("lodestone_graphql_requests_total{operation=%q,outcome=%q} = %v (present %v), want %v", c.op, c.outcome, got, ok, c.want)
		}
	}
	for _, c := range []struct {
		typ, op string
		want    float64
	}{
		{"query", "Owners", 3},
		{"mutation", "Add", 1},
		{"invalid", "Broken", 1},
	} {
		got, ok := metricValue(fams, "lodestone_graphql_request_duration_seconds", map[string]string{"type": c.typ, "operation": c.op})
		if !ok || got != c.want {
			t.Errorf("duration histogram {type=%q,operation=%q} count = %v (present %v), want %v", c.typ, c.op, got, ok, c.want)
		}
	}
	if got, _ := metricValue(fams, "lodestone_http_requests_total", map[string]string{"route": "POST /graphql", "code": "200"}); got < 8 {
		t.Errorf(`lodestone_http_requests_total{route="POST /graphql",code="200"} = %v, want at least 8`, got)
	}
	if got, ok := metricValue(fams, "lodestone_traversal_visits", map[string]string{"field": "Query.owners"}); !ok || got != 3 {
		t.Errorf(`lodestone_traversal_visits{field="Query.owners"} count = %v (present %v), want 3`, got, ok)
	}
	// Store size, counts and Badger internals, read at scrape time; Go and process.
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64 // -1: any value
	}{
		{"lodestone_entities", map[string]string{"kind": "Company"}, 127},
		{"lodestone_entities", map[string]string{"kind": "Facility"}, 1},
		{"lodestone_relationships", map[string]string{"type": "OWNS"}, 124},
		{"lodestone_store_bytes", map[string]string{"part": "lsm"}, -1},
		{"lodestone_badger_tables", nil, -1},
		{"lodestone_badger_cache_lookups_total", map[string]string{"cache": "block", "result": "hit"}, -1},
		{"lodestone_store_reads_total", nil, -1},
		{"lodestone_import_running", nil, 0},
		{"go_goroutines", nil, -1},
		{"process_resident_memory_bytes", nil, -1},
	} {
		got, ok := metricValue(fams, c.name, c.labels)
		if !ok || c.want >= 0 && got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if got, _ := metricValue(fams, "lodestone_read_cache_lookups_total", map[string]string{"result": "miss"}); got < 1 {
		t.Errorf(`lodestone_read_cache_lookups_total{result="miss"} = %v, want at least the first owners query's`, got)
	}
	if _, ok := metricValue(fams, "lodestone_read_cache_lookups_total", map[string]string{"result": "hit"}); !ok {
		t.Error(`lodestone_read_cache_lookups_total{result="hit"} is missing`)
	}
	if got, _ := metricValue(fams, "lodestone_store_reads_total", nil); got < 5 {
		t.Errorf("lodestone_store_reads_total = %v, want at least the 5 reads made", got)
	}
	if got, _ := metricValue(fams, "lodestone_http_requests_total", map[string]string{"route": "GET /metrics"}); got != 0 {
		// The scrape is counted after it is written.
		t.Errorf(`lodestone_http_requests_total{route="GET /metrics"} = %v in the first scrape, want 0`, got)
	}
	fams = scrape(t, ts.URL)
	if got, _ := metricValue(fams, "lodestone_http_requests_total", map[string]string{"route": "GET /metrics", "code": "200"}); got != 1 {
		t.Errorf(`lodestone_http_requests_total{route="GET /metrics",code="200"} = %v after one scrape, want 1`, got)
	}
}

func TestMetricsCountTraversalTruncations(t *testing.T) {
	ts := newLimitedServer(t, Config{}, 50) // hub has 120 relationships
	var data struct {
		Subgraph struct{ Truncated bool }
	}
	ts.mustQuery(t, `{ subgraph(ids: ["nzb"], depth: 1) { truncated } }`, nil, &data)
	if data.Subgraph.Truncated {
		t.Fatal("subgraph of nzb is truncated with a budget of 50")
	}
	if got, _ := metricValue(scrape(t, ts.URL), "lodestone_traversal_truncations_total", map[string]string{"field": "Query.subgraph"}); got != 0 {
		t.Errorf("truncations after a whole subgraph = %v, want 0", got)
	}
	for range 2 {
		ts.mustQuery(t, `{ subgraph(ids: ["hub"], depth: 1) { truncated } }`, nil, &data)
		if !data.Subgraph.Truncated {
			t.Fatal("subgraph of hub is not truncated with a budget of 50")
		}
	}
	_, out := ts.post(t, `{ holdings(of: "hub") { entity { id } } }`, nil, nil)
	if len(out.Errors) == 0 || out.Errors[0].Extensions["code"] != graph.ELIMIT {
		t.Fatalf("holdings of hub with a budget of 50: errors %+v, want %s", out.Errors, graph.ELIMIT)
	}
	fams := scrape(t, ts.URL)
	for field, want := range map[string]float64{"Query.subgraph": 2, "Query.holdings": 1} {
		if got, _ := metricValue(fams, "lodestone_traversal_truncations_total", map[string]string{"field": field}); got != want {
			t.Errorf("lodestone_traversal_truncations_total{field=%q} = %v, want %v", field, got, want)
		}
	}
	if got, _ := metricValue(fams, "lodestone_traversal_visits", map[string]string{"field": "Query.subgraph"}); got != 3 {
		t.Errorf(`lodestone_traversal_visits{field="Query.subgraph"} count = %v, want 3`, got)
	}
}

func TestMetricsOperationLabelsAreBounded(t *testing.T) {
	store, err := graph.Open(graph.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	m := newMetrics(store)
	for i := range maxOperationLabels + 50 {
		m.observeGraphQL(fmt.Sprintf("Op%d", i), "query", "ok", 0)
	}
	m.observeGraphQL("not a name {", "query", "ok", 0)
	m.observeGraphQL("Op0", "query", "ok", 0) // a known name keeps its label
	ops := map[string]bool{}
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "lodestone_graphql_requests_total" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, lp := range s.GetLabel() {
				if lp.GetName() == "operation" {
					ops[lp.GetValue()] = true
				}
			}
		}
	}
	if got, want := len(ops), maxOperationLabels+1; got != want {
		t.Errorf("distinct operation labels = %d, want %d (the cap plus other)", got, want)
	}
	if !ops[opOther] || !ops["Op0"] || ops["not a name {"] || ops[fmt.Sprintf("Op%d", maxOperationLabels)] {
		t.Errorf("operation labels: other %v, Op0 %v, invalid name %v, name past the cap %v; want true, true, false, false",
			ops[opOther], ops["Op0"], ops["not a name {"], ops[fmt.Sprintf("Op%d", maxOperationLabels)])
	}
}

func TestMetricsShowImportProgress(t *testing.T) {
	ts := newTestServer(t, Config{})
	// An import blocked on its upload is running: /metrics shows it.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	done := make(chan int)
	go func() {
		req, _ := http.NewRequest("POST", ts.URL+"/admin/import?format=jsonl", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+ts.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	w, _ := mw.CreateFormFile("file", "graph.jsonl")
	w.Write([]byte(`{"entity":{"id":"imp-1","kind":"Company","name":"Imported One"}}` + "\n"))
	var running float64
	for range 200 {
		if running, _ = metricValue(scrape(t, ts.URL), "lodestone_import_running", nil); running == 1 {
			break
		}
	}
	if running != 1 {
		t.Errorf("lodestone_import_running = %v while an upload is in progress, want 1", running)
	}
	mw.Close()
	pw.Close()
	if status := <-done; status != 200 {
		t.Fatalf("import status %d", status)
	}
	if got, _ := metricValue(scrape(t, ts.URL), "lodestone_import_running", nil); got != 0 {
		t.Errorf("lodestone_import_running = %v after the import, want 0", got)
	}
}

func TestMetricsEndpointIsText(t *testing.T) {
	ts := newTestServer(t, Config{})
	ts.mustQuery(t, `{ entity(id: "nzb") { id } }`, nil, nil)
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || !strings.Contains(b.String(), "# TYPE lodestone_graphql_requests_total counter") {
		t.Errorf("GET /metrics: Content-Type %q, body without the request counter:\n%.500s", ct, b.String())
	}
}
