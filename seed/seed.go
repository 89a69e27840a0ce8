// Package seed holds Lodestone's seed graph — the rare-earth / NdFeB magnet value chain,
// built from a news article and public facts, every fact citing its source — embedded in
// the binary, and loads it into an empty store.
package seed

import (
	"bytes"
	"context"
	_ "embed"

	"github.com/lodestone-kg/lodestone/graph"
)

//go:embed magnets.jsonl
var magnets []byte

// Batch returns the seed graph as one write batch.
func Batch() (*graph.Batch, error) {
	b := &graph.Batch{}
	err := graph.ReadJSONL(bytes.NewReader(magnets), func(_ int, rec graph.Record) error {
		b.Add(rec)
		return nil
	})
	return b, err
}

// Load writes the seed graph into s when s holds no entities yet, in one atomic batch,
// and reports whether it did. Loading is idempotent: a store that already has data
// (seeded or not) is left alone.
func Load(ctx context.Context, s *graph.Store) (bool, error) {
	st, err := s.Stats(ctx)
	if err != nil {
		return false, err
	}
	if st.Entities > 0 {
		return false, nil
	}
	b, err := Batch()
	if err != nil {
		return false, err
	}
	if _, err := s.Apply(ctx, b); err != nil {
		return false, err
	}
	return true, nil
}
