package graph

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// TestInterruptedBulkLoadIsRefused: a store left at version 0 with graph records (what a
// bulk load killed while writing leaves) refuses every ordinary write, so that nothing
// (the seed graph on serve, say) is written over the remains; check names it, and a
// rerun of the bulk load starts over and makes the store usable.
func TestInterruptedBulkLoadIsRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	// The remains: an entity record and an adjacency entry, no version.
	if err := s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(nodeKey(1), []byte("partial")); err != nil {
			return err
		}
		return txn.Set(adjPrefix(famOut, 1, 1), []byte{})
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Apply(ctx, smallGraph()); !errors.Is(err, ErrInterruptedLoad) {
		t.Fatalf("Apply on an interrupted bulk load: %v; want ErrInterruptedLoad", err)
	}
	rep, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) == 0 || !strings.Contains(rep.Problems[0], "bulk load that did not finish") {
		t.Fatalf("Check: %q; want the interrupted load named first", rep.Problems)
	}
	each := batchRecords(smallGraph())
	if _, err := s.StreamLoad(ctx, each, nil); err != nil {
		t.Fatalf("rerunning the bulk load: %v", err)
	}
	if _, err := s.Apply(ctx, &Batch{Entities: []Entity{{ID: "after", Kind: "Company", Name: "After"}}}); err != nil {
		t.Fatalf("Apply after the rerun: %v", err)
	}
	if rep, err := s.Check(ctx); err != nil || len(rep.Problems) > 0 {
		t.Fatalf("Check after the rerun: %v %q", err, rep.Problems)
	}
}
