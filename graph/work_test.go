package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// ringBatch is n companies in one strongly connected ownership component: each holds
// 51 % of the next and, with chords, 30 % of the one seven further on.
func ringBatch(n int, chords bool) *Batch {
	b := &Batch{}
	id := func(i int) string { return fmt.Sprintf("r%05d", i%n) }
	for i := range n {
		b.Entities = append(b.Entities, Entity{ID: id(i), Kind: "Company", Name: "Ring " + id(i)})
	}
	for i := range n {
		b.Relationships = append(b.Relationships, Relationship{Type: TypeOwns, From: id(i), To: id(i + 1), Share: fptr(0.51)})
		if chords {
			b.Relationships = append(b.Relationships, Relationship{Type: TypeOwns, From: id(i), To: id(i + 7), Share: fptr(0.3)})
		}
	}
	return b
}

// applyRing stores ringBatch(n, true) in batches small enough for one transaction.
func applyRing(tb testing.TB, s *Store, n int) {
	tb.Helper()
	b := ringBatch(n, true)
	for len(b.Entities) > 0 {
		k := min(len(b.Entities), 1000)
		MustApply(tb, s, &Batch{Entities: b.Entities[:k]})
		b.Entities = b.Entities[k:]
	}
	for len(b.Relationships) > 0 {
		k := min(len(b.Relationships), 1000)
		MustApply(tb, s, &Batch{Relationships: b.Relationships[:k]})
		b.Relationships = b.Relationships[k:]
	}
}

func TestWorkIsSharedByEveryRead(t *testing.T) {
	s := MustOpenStore(t)
	applyRing(t, s, 500)
	// Unbounded, one owners query of the ring costs this much.
	free := NewWork(1<<40, 0)
	if _, err := s.Owners(WithWork(context.Background(), free), StakeQuery{Of: "r00000", MaxDepth: 10}); err != nil {
		t.Fatal(err)
	}
	one := free.Used()
	if one < 1000 { // 1,000 relationships read at least
		t.Fatalf("one owners query used %d work units; want at least 1,000", one)
	}
	// A budget of two and a half such queries: the first two answer, the third stops,
	// and the fourth is refused before it reads anything.
	w := NewWork(one*5/2, 0)
	ctx := WithWork(context.Background(), w)
	for i := range 2 {
		if _, err := s.Owners(ctx, StakeQuery{Of: "r00000", MaxDepth: 10}); err != nil {
			t.Fatalf("query %d within the budget: %v", i+1, err)
		}
	}
	for i := 2; i < 4; i++ {
		_, err := s.Owners(ctx, StakeQuery{Of: "r00000", MaxDepth: 10})
		if ErrorCode(err) != ELIMIT || !strings.Contains(err.Error(), "work budget") {
			t.Fatalf("query %d past the budget: %v; want LIMIT_EXCEEDED naming the work budget", i+1, err)
		}
	}
	if got := w.Used(); got > w.Limit()+workCheckEvery+seekUnits+prefetchBatch {
		t.Errorf("used %d of a budget of %d: more than one batch past it", got, w.Limit())
	}
}

func TestWorkStopsTheSolvers(t *testing.T) {
	// Without chords: a ring's simple paths are few, so every analytic finishes without
	// a budget; the control searches alone are quadratic in its size.
	b := ringBatch(2000, false)
	var ents []*Entity
	var rels []*Relationship
	for i := range b.Entities {
		ents = append(ents, &b.Entities[i])
	}
	for i := range b.Relationships {
		rels = append(rels, &b.Relationships[i])
	}
	for _, tc := range []struct {
		name string
		run  func(v view) error
	}{
		{"owners", func(v view) error { _, err := ownersOf(v, "r00000", 0, 10); return err }},
		{"holdings", func(v view) error { _, err := holdingsOf(v, "r00000", 0, 1); return err }},
		{"ultimateController", func(v view) error { _, err := ultimateControllerOf(v, "r00000"); return err }},
		{"beneficialOwners", func(v view) error { _, err := beneficialOwnersOf(v, "r00000", 0.25); return err }},
		{"ownership", func(v view) error { _, err := ownershipOf(v, "r00000", "r01000"); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			free := newMemView(t, Date{}, Limits{MaxVisits: 1 << 30}, ents, rels)
			if err := tc.run(free); err != nil {
				t.Fatalf("without a budget: %v", err)
			}
			if free.charged == 0 {
				t.Fatalf("charged nothing: the solver does not count its work")
			}
			capped := newMemView(t, Date{}, Limits{MaxVisits: 1 << 30}, ents, rels)
			capped.chargeLimit = free.charged / 2
			err := tc.run(capped)
			if ErrorCode(err) != ELIMIT {
				t.Fatalf("with half the work it needs (%d of %d units): %v; want LIMIT_EXCEEDED", capped.chargeLimit, free.charged, err)
			}
			if capped.charged > capped.chargeLimit+free.charged/4 {
				t.Errorf("went on for %d units past a limit of %d", capped.charged-capped.chargeLimit, capped.chargeLimit)
			}
		})
	}
}

func TestWorkDeadlineAndCancellation(t *testing.T) {
	s := MustOpenStore(t)
	applyRing(t, s, 3000)
	q := StakeQuery{Of: "r00000", MaxDepth: 10}

	w := NewWork(1<<40, time.Nanosecond)
	time.Sleep(time.Millisecond)
	_, err := s.Owners(WithWork(context.Background(), w), q)
	if ErrorCode(err) != ELIMIT || !strings.Contains(err.Error(), "ran out of time") {
		t.Fatalf("past the work deadline: %v; want LIMIT_EXCEEDED, out of time", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Owners(WithWork(ctx, NewWork(1<<40, 0)), q)
	if err == nil {
		t.Fatal("a canceled request answered")
	}
	if !errors.Is(err, context.Canceled) && ErrorCode(err) != ELIMIT {
		t.Fatalf("canceled: %v; want the cancellation or LIMIT_EXCEEDED", err)
	}
}

func TestWorkOneReadAtATime(t *testing.T) {
	w := NewWork(100, 0)
	end, err := w.begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	second := make(chan error, 1)
	go func() {
		end2, err := w.begin(context.Background())
		if err == nil {
			end2()
		}
		second <- err
	}()
	select {
	case <-second:
		t.Fatal("a second read of the same request started while the first ran")
	case <-time.After(20 * time.Millisecond):
	}
	end()
	if err := <-second; err != nil {
		t.Fatalf("the second read, once the first ended: %v", err)
	}
	// A spent budget refuses a read before it starts.
	w.add(101)
	if _, err := w.begin(context.Background()); ErrorCode(err) != ELIMIT {
		t.Fatalf("begin on a spent budget: %v; want LIMIT_EXCEEDED", err)
	}
}

func TestAnalyticsResultCap(t *testing.T) {
	s, err := Open(Options{InMemory: true, Limits: Limits{MaxSubgraph: 5}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	applyRing(t, s, 20)
	ctx := context.Background()
	for name, run := range map[string]func() error{
		"owners":   func() error { _, err := s.Owners(ctx, StakeQuery{Of: "r00000", MaxDepth: 12}); return err },
		"holdings": func() error { _, err := s.Holdings(ctx, StakeQuery{Of: "r00000", MaxDepth: 12}); return err },
	} {
		if err := run(); ErrorCode(err) != ELIMIT || !strings.Contains(err.Error(), "result cap of 5") {
			t.Errorf("%s of a 20-company ring with a result cap of 5: %v; want LIMIT_EXCEEDED naming the cap", name, err)
		}
	}
	if got, err := s.Owners(ctx, StakeQuery{Of: "r00000", MaxDepth: 2}); err != nil || len(got) > 5 {
		t.Errorf("owners within 2 hops: %d stakes, %v; want an answer within the cap", len(got), err)
	}
}
