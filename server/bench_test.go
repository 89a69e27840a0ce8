package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/synth"
)

const benchCompanies = 100_000

var (
	benchOnce   sync.Once
	benchServer *httptest.Server
	benchErr    error
)

// openBenchServer serves a bulk-loaded synthetic graph of benchCompanies companies.
func openBenchServer(b *testing.B) *httptest.Server {
	b.Helper()
	benchOnce.Do(func() {
		store, err := graph.Open(graph.Options{InMemory: true, MemTableSize: 64 << 20, BlockCacheSize: 64 << 20})
		if err != nil {
			benchErr = err
			return
		}
		cfg := synth.Config{Companies: benchCompanies, Seed: 1}
		if _, benchErr = store.BulkLoad(context.Background(), func(emit func(graph.Record) error) error {
			return synth.Generate(cfg, emit)
		}, nil); benchErr != nil {
			return
		}
		h, err := NewServer(nil, Config{}, store, schemaSDL(b))
		if err != nil {
			benchErr = err
			return
		}
		benchServer = httptest.NewServer(h)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchServer
}

func benchQuery(b *testing.B, query string, vars func() map[string]any) {
	ts := openBenchServer(b)
	client := ts.Client()
	b.ResetTimer()
	for b.Loop() {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars()})
		resp, err := client.Post(ts.URL+"/graphql", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || bytes.Contains(raw, []byte(`"errors"`)) {
			b.Fatalf("status %d: %s", resp.StatusCode, raw)
		}
	}
}

// BenchmarkHTTPEntityRead is BenchmarkEntityRead of package graph through HTTP and
// GraphQL: one client on loopback.
func BenchmarkHTTPEntityRead(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	benchQuery(b, `query($id: ID!) { entity(id: $id) { id name kind country } }`, func() map[string]any {
		return map[string]any{"id": synth.CompanyID(rng.IntN(benchCompanies))}
	})
}

// BenchmarkHTTPDirectOwners asks for a random company's owners with their names.
func BenchmarkHTTPDirectOwners(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 3))
	benchQuery(b, `query($id: ID!) { entity(id: $id) { relationships(direction: IN, types: ["OWNS"]) { edges { node { from { id name } share } } } } }`, func() map[string]any {
		return map[string]any{"id": synth.CompanyID(rng.IntN(benchCompanies))}
	})
}

// BenchmarkHTTPSubgraph3Hop asks for the 3-hop neighbourhood (up to 200 entities) of a
// random company, drawn as a visualizer would.
func BenchmarkHTTPSubgraph3Hop(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 4))
	benchQuery(b, `query($id:ID!){ subgraph(ids: [$id], depth: 3, limit: 200) { truncated entities { id name } relationships { id type from { id } to { id } } } }`, func() map[string]any {
		return map[string]any{"id": synth.CompanyID(rng.IntN(benchCompanies))}
	})
}

// BenchmarkHTTPOwnersDeep asks for the owners of a company at the bottom of a deep pyramid.
func BenchmarkHTTPOwnersDeep(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 5))
	deep := synth.DeepCompanies(synth.Config{Companies: benchCompanies, Seed: 1})
	benchQuery(b, `query($id:ID!){ owners(of: $id) { entity { id name } direct integrated depth controls } }`, func() map[string]any {
		return map[string]any{"id": deep[rng.IntN(len(deep))]}
	})
}

// BenchmarkHTTPSubgraph3HopElements is BenchmarkHTTPSubgraph3Hop asking for the
// Cytoscape.js elements instead of the typed fields.
func BenchmarkHTTPSubgraph3HopElements(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 4))
	benchQuery(b, `query($id:ID!){ subgraph(ids: [$id], depth: 3, limit: 200) { truncated elements } }`, func() map[string]any {
		return map[string]any{"id": synth.CompanyID(rng.IntN(benchCompanies))}
	})
}

// bigSubgraph is a subgraph of 10,000 entities: the 12-hop neighbourhood of the graph's
// first company, capped by limit.
const bigSubgraph = `{ subgraph(ids: ["co-0000000"], depth: 12, limit: 10000) { truncated %s } }`

// BenchmarkHTTPSubgraph10kTyped draws a 10,000-entity subgraph with the typed fields.
func BenchmarkHTTPSubgraph10kTyped(b *testing.B) {
	benchQuery(b, fmt.Sprintf(bigSubgraph, `entities { id name kind country } relationships { id type share from { id } to { id } }`), func() map[string]any { return nil })
}

// BenchmarkHTTPSubgraph10kElements draws the same subgraph as Cytoscape.js elements.
func BenchmarkHTTPSubgraph10kElements(b *testing.B) {
	benchQuery(b, fmt.Sprintf(bigSubgraph, `elements`), func() map[string]any { return nil })
}
