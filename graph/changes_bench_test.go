package graph_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/synth"
)

// The cost of the change log: the same writes with it and without it (graph.SetChangeLogOff, which
// only these benchmarks use). Run with
//
//	go test ./graph -run XXX -bench 'ChangeLog' -benchtime 2000x -count 3
//
// and compare the log=on and log=off lines.

// BenchmarkChangeLogApply applies batches of 10 entities and 10 OWNS relationships
// between them to a store on disk that syncs every write, as `lodestone serve` runs it.
func BenchmarkChangeLogApply(b *testing.B) {
	for _, on := range []bool{true, false} {
		b.Run(fmt.Sprintf("log=%v", map[bool]string{true: "on", false: "off"}[on]), func(b *testing.B) {
			s, err := graph.Open(graph.Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			graph.SetChangeLogOff(s, !on)
			ctx := context.Background()
			share := 0.3
			i := 0
			for b.Loop() {
				batch := &graph.Batch{}
				for k := range 10 {
					batch.Entities = append(batch.Entities, graph.Entity{ID: fmt.Sprintf("e%d-%d", i, k), Kind: "Company", Name: fmt.Sprintf("Company %d %d", i, k), Country: "CN"})
				}
				for k := 1; k < 10; k++ {
					batch.Relationships = append(batch.Relationships, graph.Relationship{Type: graph.TypeOwns, From: fmt.Sprintf("e%d-%d", i, k-1), To: fmt.Sprintf("e%d-%d", i, k), Share: &share})
				}
				if _, err := s.Apply(ctx, batch); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkChangeLogBulkLoad bulk-loads 20,000 synthetic companies (about 30,000
// entities and 60,000 relationships): a bulk load is one commit, so the log adds one
// record to it.
func BenchmarkChangeLogBulkLoad(b *testing.B) {
	for _, on := range []bool{true, false} {
		b.Run(fmt.Sprintf("log=%v", map[bool]string{true: "on", false: "off"}[on]), func(b *testing.B) {
			for b.Loop() {
				s, err := graph.Open(graph.Options{Dir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				graph.SetChangeLogOff(s, !on)
				cfg := synth.Config{Companies: 20_000, Seed: 1}
				if _, err := s.StreamLoad(context.Background(), func(emit func(graph.Record) error) error { return synth.Generate(cfg, emit) }, nil); err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}
