package graph_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/synth"
)

// benchCompanies is the size of the synthetic graph the benchmarks read: 100 000
// companies, about 150 000 entities and 300 000 relationships.
const benchCompanies = 100_000

var (
	benchOnce  sync.Once
	benchStore *graph.Store
	benchErr   error
)

// openBenchStore bulk loads the synthetic graph once per test binary.
func openBenchStore(b *testing.B) *graph.Store {
	b.Helper()
	benchOnce.Do(func() {
		benchStore, benchErr = graph.Open(graph.Options{InMemory: true, MemTableSize: 64 << 20, BlockCacheSize: 64 << 20})
		if benchErr != nil {
			return
		}
		cfg := synth.Config{Companies: benchCompanies, Seed: 1}
		_, benchErr = benchStore.BulkLoad(context.Background(), func(emit func(graph.Record) error) error {
			return synth.Generate(cfg, emit)
		}, nil)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchStore
}

// BenchmarkEntityRead reads random companies by id, each in its own read transaction.
func BenchmarkEntityRead(b *testing.B) {
	s := openBenchStore(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Entity(ctx, synth.CompanyID(rng.IntN(benchCompanies))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDirectOwners pages the OWNS relationships into random companies.
func BenchmarkDirectOwners(b *testing.B) {
	s := openBenchStore(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 3))
	f := graph.RelationshipFilter{Direction: graph.In, Types: []string{"OWNS"}}
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := s.EntityRelationships(ctx, synth.CompanyID(rng.IntN(benchCompanies)), f, 50, "", false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearch searches for a company name prefix.
func BenchmarkSearch(b *testing.B) {
	s := openBenchStore(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Search(ctx, "zhaobao magnet", "", 10); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamLoad loads the synthetic graph of 10,000 companies (15 k entities, 30 k
// relationships) into an empty in-memory store with StreamLoad, generating it anew each
// time (synth.Generate is a small part of the time).
func BenchmarkStreamLoad(b *testing.B) {
	cfg := synth.Config{Companies: 10_000, Seed: 1}
	var records int
	for b.Loop() {
		s, err := graph.Open(graph.Options{InMemory: true, MemTableSize: 64 << 20, BlockCacheSize: 8 << 20})
		if err != nil {
			b.Fatal(err)
		}
		st, err := s.StreamLoad(context.Background(), func(emit func(graph.Record) error) error { return synth.Generate(cfg, emit) }, nil)
		if err != nil {
			b.Fatal(err)
		}
		records = st.Sources + st.Entities + st.Relationships
		s.Close()
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
