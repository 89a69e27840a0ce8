package graph

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cacheProbe reads entity id and the ids of the entities its OWNS relationships point to,
// in one read transaction, and says whether that transaction could use the cache.
func cacheProbe(t *testing.T, s *Store, id string) (name string, owned []string, cached bool) {
	t.Helper()
	err := s.read(context.Background(), Date{}, func(v *txnView) error {
		cached = v.cache != nil
		n, err := v.lookup(id)
		if err != nil {
			return err
		}
		e, err := v.entity(n)
		if err != nil {
			return err
		}
		name = e.Name
		var others []NodeID
		if err := v.arcs(n, Out, []string{"OWNS"}, func(a arc) bool {
			others = append(others, a.Other)
			return true
		}); err != nil {
			return err
		}
		for _, o := range others {
			oe, err := v.entity(o)
			if err != nil {
				return err
			}
			owned = append(owned, oe.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return name, owned, cached
}

// TestReadCacheRetiredByWrites reads through a warm cache, writes, and reads again: the
// second read must show the write, for entity records and adjacency lists alike.
func TestReadCacheRetiredByWrites(t *testing.T) {
	s := MustOpenStore(t)
	MustApply(t, s, smallGraph())
	for range 2 { // fill, then serve
		if name, owned, cached := cacheProbe(t, s, "nre"); !cached || name != "China Northern Rare Earth (Group) High-Tech Co., Ltd." || fmt.Sprint(owned) != "[nzb]" {
			t.Fatalf("before the write: %q %v (cache used: %v)", name, owned, cached)
		}
		s.cache.entries.Wait()
	}
	if s.cache.hits.Load() == 0 {
		t.Fatal("the second read found nothing in the cache")
	}
	MustApply(t, s, &Batch{
		Entities:      []Entity{{ID: "nre", Kind: "Company", Name: "Renamed", Country: "CN"}},
		Relationships: []Relationship{{ID: "o3", Type: "OWNS", From: "nre", To: "lynas", Share: fptr(0.1)}},
	})
	if name, owned, _ := cacheProbe(t, s, "nre"); name != "Renamed" || fmt.Sprint(owned) != "[nzb lynas]" {
		t.Fatalf("after the write: %q %v", name, owned)
	}
	s.cache.entries.Wait()
	MustApply(t, s, &Batch{DeleteRelationships: []string{"o1"}})
	if name, owned, _ := cacheProbe(t, s, "nre"); name != "Renamed" || fmt.Sprint(owned) != "[lynas]" {
		t.Fatalf("after the delete: %q %v", name, owned)
	}
}

// TestReadCacheOldSnapshot: a read that started before a write and reads after it sees
// its own snapshot, and what it puts in the cache is never served to later reads.
func TestReadCacheOldSnapshot(t *testing.T) {
	s := MustOpenStore(t)
	MustApply(t, s, smallGraph())
	started, written := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.read(context.Background(), Date{}, func(v *txnView) error {
			close(started)
			<-written
			n, err := v.lookup("nre")
			if err != nil {
				return err
			}
			e, err := v.entity(n)
			if err != nil {
				return err
			}
			if e.Name == "Renamed" {
				return fmt.Errorf("a snapshot taken before the write shows it")
			}
			return v.arcs(n, Out, nil, func(arc) bool { return true })
		})
	}()
	<-started
	MustApply(t, s, &Batch{
		Entities:            []Entity{{ID: "nre", Kind: "Company", Name: "Renamed", Country: "CN"}},
		DeleteRelationships: []string{"o1"},
	})
	close(written)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s.cache.entries.Wait()
	if name, owned, cached := cacheProbe(t, s, "nre"); !cached || name != "Renamed" || len(owned) != 0 {
		t.Fatalf("after the old snapshot filled the cache: %q %v (cache used: %v)", name, owned, cached)
	}
}

// TestReadCacheConcurrent runs readers against a writer under -race. Each write renames
// "a" and "b" to n<k> and moves a's one OWNS relationship to c<k>, in one batch; every
// read transaction must see a, b and a's relationship of the same write, whether they
// come from the cache or the store.
func TestReadCacheConcurrent(t *testing.T) {
	s := MustOpenStore(t)
	const writes = 60
	b := &Batch{Entities: []Entity{{ID: "a", Kind: "Company", Name: "n0"}, {ID: "b", Kind: "Company", Name: "n0"}}}
	for k := range writes + 1 {
		b.Entities = append(b.Entities, Entity{ID: fmt.Sprintf("c%d", k), Kind: "Company", Name: fmt.Sprintf("C %d", k)})
	}
	b.Relationships = []Relationship{{ID: "r0", Type: "OWNS", From: "a", To: "c0", Share: fptr(0.5)}}
	MustApply(t, s, b)

	var stop atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				err := s.read(context.Background(), Date{}, func(v *txnView) error {
					na, err := v.lookup("a")
					if err != nil {
						return err
					}
					nb, err := v.lookup("b")
					if err != nil {
						return err
					}
					ea, err := v.entity(na)
					if err != nil {
						return err
					}
					var owned []NodeID
					if err := v.arcs(na, Out, []string{"OWNS"}, func(a arc) bool { owned = append(owned, a.Other); return true }); err != nil {
						return err
					}
					eb, err := v.entity(nb)
					if err != nil {
						return err
					}
					if ea.Name != eb.Name || len(owned) != 1 {
						return fmt.Errorf("a is %q, b is %q, a owns %d entities", ea.Name, eb.Name, len(owned))
					}
					ec, err := v.entity(owned[0])
					if err != nil {
						return err
					}
					if want := "c" + ea.Name[1:]; ec.ID != want {
						return fmt.Errorf("a is %q but owns %s, want %s", ea.Name, ec.ID, want)
					}
					return nil
				})
				reads.Add(1)
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for k := 1; k <= writes; k++ {
		MustApply(t, s, &Batch{
			Entities:            []Entity{{ID: "a", Kind: "Company", Name: fmt.Sprintf("n%d", k)}, {ID: "b", Kind: "Company", Name: fmt.Sprintf("n%d", k)}},
			Relationships:       []Relationship{{ID: fmt.Sprintf("r%d", k), Type: "OWNS", From: "a", To: fmt.Sprintf("c%d", k), Share: fptr(0.5)}},
			DeleteRelationships: []string{fmt.Sprintf("r%d", k-1)},
		})
		time.Sleep(2 * time.Millisecond) // let readers fill the cache and use it
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s.cache.hits.Load() == 0 {
		t.Errorf("%d reads and no cache hit: the test did not exercise the cache", reads.Load())
	}
	t.Logf("%d reads, %d cache hits, %d misses", reads.Load(), s.cache.hits.Load(), s.cache.misses.Load())
}

// TestReadCacheOff: a negative CacheSize turns the cache off; reads still work.
func TestReadCacheOff(t *testing.T) {
	s, err := Open(Options{InMemory: true, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	MustApply(t, s, smallGraph())
	if name, owned, cached := cacheProbe(t, s, "nre"); cached || fmt.Sprint(owned) != "[nzb]" || name == "" {
		t.Fatalf("%q %v (cache used: %v)", name, owned, cached)
	}
}

// TestReadCacheSweepStopsLooking: a read that misses cacheMissesPerRead times reads the
// store directly from then on, and adds at most cacheFillsPerRead entries.
func TestReadCacheSweepStopsLooking(t *testing.T) {
	s := MustOpenStore(t)
	b := &Batch{}
	for i := range cacheMissesPerRead + 50 {
		b.Entities = append(b.Entities, Entity{ID: fmt.Sprintf("e%d", i), Kind: "Company", Name: fmt.Sprintf("E %d", i)})
	}
	MustApply(t, s, b)
	err := s.read(context.Background(), Date{}, func(v *txnView) error {
		for i := range cacheMissesPerRead + 50 {
			n, err := v.lookup(fmt.Sprintf("e%d", i))
			if err != nil {
				return err
			}
			if e, err := v.entity(n); err != nil || e.ID != fmt.Sprintf("e%d", i) {
				return fmt.Errorf("entity %d: %v, %v", i, e, err)
			}
		}
		if v.cacheLookups() || v.misses != cacheMissesPerRead {
			return fmt.Errorf("after %d misses the view still looks in the cache (%d counted)", cacheMissesPerRead+50, v.misses)
		}
		if got := v.fills.Load(); got != cacheFillsPerRead {
			return fmt.Errorf("%d fills, want the %d allowed", got, cacheFillsPerRead)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
