package loaders

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

// countingStore serves entities named e0…eN and counts the batch reads and keys.
type countingStore struct {
	calls, keys atomic.Int64
}

func (s *countingStore) Entities(_ context.Context, ids []string) ([]*graph.Entity, error) {
	s.calls.Add(1)
	s.keys.Add(int64(len(ids)))
	out := make([]*graph.Entity, len(ids))
	for i, id := range ids {
		if id != "missing" {
			out[i] = &graph.Entity{ID: id, Name: "name of " + id}
		}
	}
	return out, nil
}

func (s *countingStore) Sources(_ context.Context, ids []string) ([]*graph.Source, error) {
	s.calls.Add(1)
	var out []*graph.Source
	for _, id := range ids {
		out = append(out, &graph.Source{ID: id, Title: id})
	}
	return out, nil
}

// TestConcurrentLoadsAreDeduplicated loads 200 ends (100 distinct ids) from parallel
// goroutines, as graphql-go runs sibling resolvers: every id is read once, and loads
// issued together share batches. (How many batches depends on scheduling; the
// deterministic proof of batching is TestPrefetchNeedsNoWait.)
func TestConcurrentLoadsAreDeduplicated(t *testing.T) {
	store := &countingStore{}
	l := New(store)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("e%d", i%100)
			e, err := l.Entity(ctx, id)
			if err != nil || e.ID != id {
				t.Errorf("Entity(%s) = %v, %v", id, e, err)
			}
		}()
	}
	wg.Wait()
	if got := store.keys.Load(); got != 100 {
		t.Errorf("read %d keys, want each of the 100 distinct ids once", got)
	}
	if got := store.calls.Load(); got > 100 {
		t.Errorf("%d store reads for 100 distinct ids", got)
	}
}

// TestPrefetchNeedsNoWait: after Prefetch, loads are cache hits (dataloader returns a
// cached thunk at once): no further store read, so no batch window either.
func TestPrefetchNeedsNoWait(t *testing.T) {
	store := &countingStore{}
	l := New(store)
	ctx := context.Background()
	ids := make([]string, 0, 400)
	for i := range 200 {
		ids = append(ids, "hub", fmt.Sprintf("leaf%d", i))
	}
	if err := l.Prefetch(ctx, ids); err != nil {
		t.Fatal(err)
	}
	if got := store.calls.Load(); got != 1 {
		t.Fatalf("Prefetch made %d reads, want 1", got)
	}
	if got := store.keys.Load(); got != 201 {
		t.Fatalf("Prefetch read %d keys, want 201 distinct", got)
	}
	for _, id := range ids {
		if _, err := l.Entity(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if got := store.calls.Load(); got != 1 {
		t.Errorf("loads after Prefetch made %d more reads", got-1)
	}
	// A second Prefetch of the same ids reads nothing.
	if err := l.Prefetch(ctx, ids); err != nil || store.calls.Load() != 1 {
		t.Errorf("repeated Prefetch read the store again (%d reads, err %v)", store.calls.Load(), err)
	}
}

func TestMissingEntityIsNotFound(t *testing.T) {
	l := New(&countingStore{})
	if _, err := l.Entity(context.Background(), "missing"); graph.ErrorCode(err) != graph.ENOTFOUND {
		t.Errorf("Entity(missing) error = %v, want NOT_FOUND", err)
	}
	srcs, err := l.Sources(context.Background(), []string{"a", "b"})
	if err != nil || len(srcs) != 2 || srcs[1].ID != "b" {
		t.Errorf("Sources = %v, %v", srcs, err)
	}
}
