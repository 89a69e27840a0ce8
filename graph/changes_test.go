package graph

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// allChanges reads the whole log (after 0), unfiltered.
func allChanges(tb testing.TB, s *Store, f ChangeFilter) []Commit {
	tb.Helper()
	page, err := s.Changes(context.Background(), ChangesQuery{After: 0, First: 1000, Filter: f})
	if err != nil {
		tb.Fatal(err)
	}
	return page.Commits
}

// describe renders the changes of commits as "seq:op kind id" lines, to compare.
func describe(cs []Commit) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%d%s:", c.Seq, map[bool]string{true: " bulk"}[c.Bulk])
		for _, ch := range c.Changes {
			fmt.Fprintf(&b, " %s %s %s", ch.Op, ch.Kind, ch.ID)
			if ch.Op == OpDelete && ch.Kind == KindRelationshipItem {
				fmt.Fprintf(&b, "(%s %s→%s)", ch.Type, ch.From, ch.To)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestChangeLog: every committed write is one commit, in order and without gaps, with
// the new state of what it upserted and the identity of what it deleted (cascades
// included); API keys are in the log but never shown; refused writes leave nothing.
func TestChangeLog(t *testing.T) {
	s := MustOpenStore(t)
	ctx := WithActor(context.Background(), "key1")
	MustApply(t, s, smallGraph())
	if _, err := s.Apply(ctx, &Batch{Entities: []Entity{{ID: "bad", Kind: "Company"}}}); err == nil {
		t.Fatal("an entity without a name was accepted")
	}
	if _, err := s.Apply(ctx, &Batch{Entities: []Entity{{ID: "x", Kind: "Company", Name: "X"}}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateAPIKey(ctx, RoleReader, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveQuery(ctx, &SavedQuery{Name: "q", Query: `{ stats { entities } }`}); err != nil {
		t.Fatal(err)
	}
	MustApply(t, s, &Batch{DeleteRelationships: []string{"o2"}})
	MustApply(t, s, &Batch{DeleteEntities: []EntityDelete{{ID: "nzb", Cascade: true}}})
	if err := s.DeleteSavedQuery(ctx, "q", false); err != nil {
		t.Fatal(err)
	}

	got := allChanges(t, s, ChangeFilter{})
	// The recent commits kept in memory and the log in the store give the same pages.
	for _, f := range []ChangeFilter{{}, {IDs: []string{"nzb"}}, {Kinds: []ItemKind{KindSavedQueryItem}}} {
		for after := uint64(0); after <= s.Seq(); after++ {
			for _, first := range []int{1, 2, 100} {
				q := ChangesQuery{After: after, First: first, Filter: f}
				var mem ChangesPage
				if !s.changesFromMemory(q, &mem) {
					t.Fatalf("after %d: the recent commits do not cover the log", after)
				}
				saved := s.recent.list
				s.recent.list = nil
				disk, err := s.Changes(context.Background(), q)
				s.recent.list = saved
				if err != nil {
					t.Fatal(err)
				}
				if describe(mem.Commits) != describe(disk.Commits) || mem.HasNext != disk.HasNext || mem.Through != disk.Through || mem.Seq != disk.Seq {
					t.Fatalf("%+v: memory %s %v %d, store %s %v %d", q, describe(mem.Commits), mem.HasNext, mem.Through, describe(disk.Commits), disk.HasNext, disk.Through)
				}
			}
		}
	}
	want := `1: UPSERT SOURCE src-test UPSERT ENTITY nre UPSERT ENTITY nzb UPSERT ENTITY zhaobao UPSERT ENTITY societe UPSERT ENTITY lynas UPSERT ENTITY weld UPSERT RELATIONSHIP o1 UPSERT RELATIONSHIP o2 UPSERT RELATIONSHIP OPERATES:lynas->weld UPSERT RELATIONSHIP s1
2: UPSERT ENTITY x
3:
4: UPSERT SAVED_QUERY q
5: DELETE RELATIONSHIP o2(OWNS zhaobao→nzb)
6: DELETE RELATIONSHIP o1(OWNS nre→nzb) DELETE RELATIONSHIP s1(SUPPLIES weld→nzb) DELETE ENTITY nzb
7: DELETE SAVED_QUERY q
`
	if d := describe(got); d != want {
		t.Fatalf("the log:\n%s\nwant\n%s", d, want)
	}
	if s.Seq() != 7 {
		t.Errorf("Seq() = %d, want 7", s.Seq())
	}
	c := got[1]
	if c.Actor != "key1" || c.At.IsZero() || time.Since(c.At) > time.Minute {
		t.Errorf("commit 2: actor %q, at %v; want key1, now", c.Actor, c.At)
	}
	if e := c.Changes[0].Entity; e == nil || e.Name != "X" {
		t.Errorf("commit 2's upsert carries %+v, want the entity's new state", e)
	}
	if q := got[3].Changes[0].SavedQuery; q == nil || q.Version != 1 || q.Query != `{ stats { entities } }` {
		t.Errorf("commit 4 carries saved query %+v", q)
	}
	if got[0].Actor != "" {
		t.Errorf("commit 1 was made without an actor, the log says %q", got[0].Actor)
	}

	// Filters keep a commit when one of its changes matches, and only those changes.
	for _, tc := range []struct {
		f    ChangeFilter
		want string
	}{
		{ChangeFilter{IDs: []string{"nzb"}}, "1: UPSERT ENTITY nzb UPSERT RELATIONSHIP o1 UPSERT RELATIONSHIP o2 UPSERT RELATIONSHIP s1\n5: DELETE RELATIONSHIP o2(OWNS zhaobao→nzb)\n6: DELETE RELATIONSHIP o1(OWNS nre→nzb) DELETE RELATIONSHIP s1(SUPPLIES weld→nzb) DELETE ENTITY nzb\n"},
		{ChangeFilter{Types: []string{"SUPPLIES"}}, "1: UPSERT RELATIONSHIP s1\n6: DELETE RELATIONSHIP s1(SUPPLIES weld→nzb)\n"},
		{ChangeFilter{Kinds: []ItemKind{KindSavedQueryItem}}, "4: UPSERT SAVED_QUERY q\n7: DELETE SAVED_QUERY q\n"},
		{ChangeFilter{IDs: []string{"weld"}, Types: []string{"OPERATES"}}, "1: UPSERT RELATIONSHIP OPERATES:lynas->weld\n"},
	} {
		if d := describe(allChanges(t, s, tc.f)); d != tc.want {
			t.Errorf("filter %+v:\n%s\nwant\n%s", tc.f, d, tc.want)
		}
	}

	// Paging: after and first.
	page, err := s.Changes(ctx, ChangesQuery{After: 2, First: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Commits) != 2 || page.Commits[0].Seq != 3 || page.Commits[1].Seq != 4 || !page.HasNext || page.Seq != 7 {
		t.Errorf("after 2, first 2: %s hasNext %v seq %d", describe(page.Commits), page.HasNext, page.Seq)
	}
	if _, err := s.Changes(ctx, ChangesQuery{First: 100_000}); ErrorCode(err) != ELIMIT {
		t.Errorf("first above the cap: %v, want LIMIT_EXCEEDED", err)
	}
}

// TestChangeLogBulkLoad: a bulk load into an empty store is one commit that says so.
func TestChangeLogBulkLoad(t *testing.T) {
	s := MustOpenStore(t)
	if _, err := s.StreamLoad(context.Background(), batchRecords(smallGraph()), nil); err != nil {
		t.Fatal(err)
	}
	MustApply(t, s, &Batch{Entities: []Entity{{ID: "x", Kind: "Company", Name: "X"}}})
	if d := describe(allChanges(t, s, ChangeFilter{})); d != "1 bulk:\n2: UPSERT ENTITY x\n" {
		t.Errorf("the log after a bulk load:\n%s", d)
	}
	if d := describe(allChanges(t, s, ChangeFilter{IDs: []string{"x"}})); d != "2: UPSERT ENTITY x\n" {
		t.Errorf("a filter by id leaves the bulk commit out, since it names no id:\n%s", d)
	}
}

// TestChangeLogPruningAndBackup: pruning keeps the newest commit and records the floor;
// reading from before the floor is INVALID_INPUT naming the oldest kept sequence; a backup
// and restore carries the log and the floor.
func TestChangeLogPruningAndBackup(t *testing.T) {
	s := MustOpenStore(t)
	for i := range 5 {
		MustApply(t, s, &Batch{Entities: []Entity{{ID: fmt.Sprint("e", i), Kind: "Company", Name: "E"}}})
	}
	n, err := s.PruneChanges(time.Now().Add(time.Hour))
	if err != nil || n != 4 {
		t.Fatalf("PruneChanges: %d, %v; want the 4 commits before the newest", n, err)
	}
	ctx := context.Background()
	_, err = s.Changes(ctx, ChangesQuery{After: 3, First: 10})
	if e, ok := err.(*Error); !ok || e.Code != EINVALID || e.Field != "after" || !strings.Contains(e.Message, "oldest sequence still kept is 5") {
		t.Fatalf("after a pruned sequence: %v; want INVALID_INPUT naming 5", err)
	}
	page, err := s.Changes(ctx, ChangesQuery{After: 4, First: 10})
	if err != nil || describe(page.Commits) != "5: UPSERT ENTITY e4\n" {
		t.Fatalf("after the floor: %v %s", err, describe(page.Commits))
	}
	if n, _ := s.PruneChanges(time.Now().Add(-time.Hour)); n != 0 {
		t.Errorf("pruning before every commit's time deleted %d", n)
	}

	var buf bytes.Buffer
	if _, err := s.Backup(ctx, &buf, 0); err != nil {
		t.Fatal(err)
	}
	restored := MustOpenStore(t)
	if _, err := restored.Restore(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	page, err = restored.Changes(ctx, ChangesQuery{After: 4, First: 10})
	if err != nil || describe(page.Commits) != "5: UPSERT ENTITY e4\n" || page.Seq != 5 {
		t.Fatalf("restored log: %v %s seq %d", err, describe(page.Commits), page.Seq)
	}
	if _, err := restored.Changes(ctx, ChangesQuery{After: 0, First: 10}); ErrorCode(err) != EINVALID {
		t.Errorf("the restored floor: %v, want INVALID_INPUT", err)
	}
	MustApply(t, restored, &Batch{Entities: []Entity{{ID: "after", Kind: "Company", Name: "A"}}})
	page, _ = restored.Changes(ctx, ChangesQuery{After: 5, First: 10})
	if describe(page.Commits) != "6: UPSERT ENTITY after\n" {
		t.Errorf("a write after restore continues the sequence: %s", describe(page.Commits))
	}
}
