package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestServeExportsTracesAndMetrics runs `lodestone serve` with an OTLP endpoint in the
// environment: a query's spans reach the collector by shutdown, and /metrics counts it.
func TestServeExportsTracesAndMetrics(t *testing.T) {
	var mu sync.Mutex
	var posts []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts = append(posts, r.Method+" "+r.URL.Path+" "+string(b))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()

	base, stop := startServe(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL}, "--in-memory", "--seed=false")
	var out struct{ Stats struct{ Entities int } }
	postQuery(t, base, `query CountThem { stats { entities } }`, &out)
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `lodestone_graphql_requests_total{operation="CountThem",outcome="ok"} 1`; !strings.Contains(string(metrics), want) {
		t.Errorf("/metrics lacks %s", want)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) == 0 || !strings.HasPrefix(posts[0], "POST /v1/traces ") || !strings.Contains(posts[0], "CountThem") {
		t.Errorf("collector got %d requests (first %.80q), want a POST /v1/traces naming CountThem", len(posts), strings.Join(posts, ""))
	}
}

// TestServeDoesNotTraceByDefault: without --otel or an OTLP endpoint, nothing is sent.
func TestServeDoesNotTraceByDefault(t *testing.T) {
	if tracingWanted(false, func(string) string { return "" }) {
		t.Fatal("tracing is on without --otel or an OTLP endpoint")
	}
	for _, env := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		if !tracingWanted(false, func(k string) string {
			if k == env {
				return "http://collector:4318"
			}
			return ""
		}) {
			t.Errorf("tracing is off with %s set", env)
		}
	}
}
