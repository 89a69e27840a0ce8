package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// newLoggedServer is newTestServer with its log kept in memory.
func newLoggedServer(tb testing.TB, cfg Config) (*testServer, *observer.ObservedLogs) {
	tb.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	return serveFixture(tb, graph.Options{InMemory: true}, zap.New(core), cfg), logs
}

// The secrets a client sends: one as a variable, one as a literal in the document.
const (
	secretVariable = "secret-variable-4711"
	secretLiteral  = "secret-literal-0815"
)

const secretQuery = `query FindIt($text: String!) { search(text: $text) { entity { id } } other: search(text: "` + secretLiteral + `") { entity { id } } }`

// postWithID posts secretQuery with its variable and a request id.
func postWithID(tb testing.TB, url, id string) {
	tb.Helper()
	body, _ := json.Marshal(map[string]any{"query": secretQuery, "variables": map[string]any{"text": secretVariable}})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		tb.Fatalf("status %d", resp.StatusCode)
	}
}

func TestSlowQueryLog(t *testing.T) {
	for _, c := range []struct {
		threshold time.Duration
		want      int
	}{{0, 0}, {time.Hour, 0}, {time.Nanosecond, 1}} {
		ts, logs := newLoggedServer(t, Config{SlowQuery: c.threshold})
		postWithID(t, ts.URL, "req-slow-1")
		slow := logs.FilterMessage("slow query").All()
		if len(slow) != c.want {
			t.Errorf("SlowQuery %v: %d slow-query entries, want %d", c.threshold, len(slow), c.want)
			continue
		}
		if c.want == 0 {
			continue
		}
		e := slow[0]
		fields := e.ContextMap()
		if e.Level != zapcore.WarnLevel || fields["operation"] != "FindIt" || fields["query_hash"] != queryHash(secretQuery) ||
			fields["outcome"] != "ok" || fields["request_id"] != "req-slow-1" || fields["duration"] == nil {
			t.Errorf("slow-query entry: level %v, fields %v; want warn, operation FindIt, the document's hash, outcome ok, request id, duration", e.Level, fields)
		}
		for _, entry := range logs.All() {
			text := fmt.Sprint(entry.Message, entry.ContextMap())
			if strings.Contains(text, secretVariable) || strings.Contains(text, secretLiteral) || strings.Contains(text, "search(") {
				t.Errorf("log entry %q holds the query or its variables: %s", entry.Message, text)
			}
		}
	}
}

func TestTracingOffByDefault(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp) // even a global provider is not used unless configured
	defer otel.SetTracerProvider(prev)

	ts := newTestServer(t, Config{})
	postWithID(t, ts.URL, "req-untraced")
	if n := len(rec.Ended()); n != 0 {
		t.Errorf("%d spans without Config.Tracer, want none", n)
	}
}

func TestTracingSpansWithoutValues(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())

	ts, _ := newLoggedServer(t, Config{Tracer: OTelTracer(tp)})
	postWithID(t, ts.URL, "req-traced")
	names := map[string]int{}
	var opName string
	for _, s := range rec.Ended() {
		names[s.Name()]++
		for _, a := range s.Attributes() {
			v := a.Value.Emit()
			if a.Key == "graphql.operationName" {
				opName = v
			}
			if strings.Contains(v, secretVariable) || strings.Contains(v, secretLiteral) || strings.Contains(v, "search(") {
				t.Errorf("span %q attribute %s = %q holds the query or a value", s.Name(), a.Key, v)
			}
		}
	}
	if names["GraphQL Request"] != 1 || names["GraphQL Validate"] != 1 || names["Field: GraphQL field: Query.search"] != 2 {
		t.Errorf("spans %v, want one request, one validation and one per search field (2)", names)
	}
	if opName != "FindIt" {
		t.Errorf("graphql.operationName = %q, want FindIt", opName)
	}
}
