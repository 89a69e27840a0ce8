package graph

import (
	"context"
	"fmt"
	"testing"
)

// chainStore holds a chain c0 → c1 → … → c(n-1) of OWNS relationships.
func chainStore(tb testing.TB, n int, lim Limits) *Store {
	tb.Helper()
	s, err := Open(Options{InMemory: true, Limits: lim})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	b := &Batch{}
	for i := range n {
		b.Entities = append(b.Entities, Entity{ID: fmt.Sprintf("c%d", i), Kind: "Company", Name: fmt.Sprintf("Company %d", i)})
		if i > 0 {
			b.Relationships = append(b.Relationships, Relationship{Type: "OWNS", From: fmt.Sprintf("c%d", i-1), To: fmt.Sprintf("c%d", i), Share: fptr(0.6)})
		}
	}
	MustApply(tb, s, b)
	return s
}

func TestTraversalStatsCountsVisitsAndExhaustion(t *testing.T) {
	s := chainStore(t, 30, Limits{MaxVisits: 10})
	q := SubgraphQuery{IDs: []string{"c0"}, Depth: 12, Direction: Both, Limit: 100}

	// Within budget: visits counted, nothing exhausted.
	var small TraversalStats
	g, err := s.Subgraph(WithTraversalStats(context.Background(), &small), SubgraphQuery{IDs: []string{"c0"}, Depth: 2, Direction: Both, Limit: 100})
	if err != nil || g.Truncated {
		t.Fatalf("Subgraph depth 2: truncated %v, err %v", g != nil && g.Truncated, err)
	}
	if small.Reads() != 1 || small.Visits() == 0 || small.Exhausted() != 0 {
		t.Errorf("depth 2: reads %d visits %d exhausted %d, want 1, >0, 0", small.Reads(), small.Visits(), small.Exhausted())
	}

	// Out of budget, partial result: counted as exhausted.
	var big TraversalStats
	g, err = s.Subgraph(WithTraversalStats(context.Background(), &big), q)
	if err != nil || !g.Truncated {
		t.Fatalf("Subgraph depth 12 with MaxVisits 10: truncated %v, err %v; want a truncated result", g != nil && g.Truncated, err)
	}
	if big.Exhausted() != 1 || big.Visits() <= small.Visits() {
		t.Errorf("depth 12: exhausted %d visits %d, want 1 and more than %d", big.Exhausted(), big.Visits(), small.Visits())
	}

	// Out of budget, ELIMIT: counted as exhausted too.
	var owners TraversalStats
	_, err = s.Owners(WithTraversalStats(context.Background(), &owners), StakeQuery{Of: "c29", MaxDepth: 12})
	if ErrorCode(err) != ELIMIT {
		t.Fatalf("Owners(c29) with MaxVisits 10: error %v, want %s", err, ELIMIT)
	}
	if owners.Exhausted() != 1 {
		t.Errorf("Owners over budget: exhausted %d, want 1", owners.Exhausted())
	}

	// An argument above a cap is ELIMIT too, but no traversal ran out of budget.
	var capped TraversalStats
	_, err = s.Subgraph(WithTraversalStats(context.Background(), &capped), SubgraphQuery{IDs: []string{"c0"}, Depth: 1000, Limit: 10})
	if ErrorCode(err) != ELIMIT || capped.Exhausted() != 0 {
		t.Errorf("Subgraph depth 1000: error %v exhausted %d, want %s and 0", err, capped.Exhausted(), ELIMIT)
	}

	// A context without stats changes nothing.
	if _, err := s.Subgraph(context.Background(), q); err != nil {
		t.Errorf("Subgraph without stats: %v", err)
	}
}

func TestStorageStatsAndStoreBytes(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	MustApply(t, s, smallGraph())
	st := s.StorageStats()
	if st.Levels == 0 || st.VLogBytes == 0 {
		t.Errorf("StorageStats = %+v, want levels and a value log", st)
	}
	stats, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stats.StoreBytes == 0 || stats.StoreBytes != st.LSMBytes+st.VLogBytes {
		t.Errorf("Stats.StoreBytes = %d, want LSM %d + value log %d > 0", stats.StoreBytes, st.LSMBytes, st.VLogBytes)
	}
	if _, err := s.Entity(context.Background(), "nre"); err != nil {
		t.Fatal(err)
	}
	if got := s.StorageStats().Reads; got == 0 {
		t.Errorf("StorageStats().Reads = 0 after a read")
	}
}
