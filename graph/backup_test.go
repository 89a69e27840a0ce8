package graph

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// TestBackupRestore: a full backup restores into an empty store key for key; an
// incremental backup (with an update and deletes) restores on top of it; the registry is
// right afterwards (stats, new ids continue where the original's did).
func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	orig := MustOpenStore(t)
	MustApply(t, orig, smallGraph())

	var full bytes.Buffer
	since, err := orig.Backup(ctx, &full, 0)
	if err != nil {
		t.Fatal(err)
	}
	if since == 0 {
		t.Fatalf("Backup returned since 0")
	}
	restored := MustOpenStore(t)
	h, err := restored.Restore(ctx, bytes.NewReader(full.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if h.Since != 0 || h.StoreVersion != 1 {
		t.Errorf("full backup header = %+v, want since 0, store version 1", h)
	}
	if got, want := dump(t, restored), dump(t, orig); got != want {
		t.Fatalf("restored store differs:\norig     %s\nrestored %s", want, got)
	}

	// Changes after the full backup: an update, a new entity, deletes.
	b := smallGraph()
	MustApply(t, orig, &Batch{
		Entities:            []Entity{{ID: "nzb", Kind: "Company", Name: "Northern Zhaobao (renamed)", Country: "CN"}, {ID: "extra", Kind: "Company", Name: "Extra Co"}},
		Relationships:       []Relationship{{ID: "o3", Type: "OWNS", From: "extra", To: "lynas", Share: fptr(0.1)}},
		DeleteRelationships: []string{"o2"},
	})
	MustApply(t, orig, &Batch{DeleteEntities: []EntityDelete{{ID: b.Entities[3].ID}}})
	var incr bytes.Buffer
	next, err := orig.Backup(ctx, &incr, since)
	if err != nil {
		t.Fatal(err)
	}
	if next <= since {
		t.Errorf("incremental Backup returned %d, want > %d", next, since)
	}
	if incr.Len() >= full.Len()+200 {
		t.Logf("incremental backup is %d bytes, full %d", incr.Len(), full.Len())
	}
	if _, err := restored.Restore(ctx, bytes.NewReader(incr.Bytes())); err != nil {
		t.Fatal(err)
	}
	if got, want := dump(t, restored), dump(t, orig); got != want {
		t.Fatalf("store restored from full + incremental differs:\norig     %s\nrestored %s", want, got)
	}
	so, _ := orig.Stats(ctx)
	sr, _ := restored.Stats(ctx)
	if so.Entities != sr.Entities || so.Relationships != sr.Relationships || so.Version != sr.Version {
		t.Errorf("stats after restore = %+v, original %+v", sr, so)
	}
	// The registry was reloaded: the next entity gets the same internal id in both.
	add := &Batch{Entities: []Entity{{ID: "after", Kind: "Mine", Name: "After Restore", Country: "AU"}}}
	MustApply(t, orig, add)
	MustApply(t, restored, &Batch{Entities: []Entity{{ID: "after", Kind: "Mine", Name: "After Restore", Country: "AU"}}})
	if got, want := dump(t, restored), dump(t, orig); got != want {
		t.Fatalf("a write after restore differs:\norig     %s\nrestored %s", want, got)
	}
}

func TestRestoreRefuses(t *testing.T) {
	ctx := context.Background()
	orig := MustOpenStore(t)
	MustApply(t, orig, smallGraph())
	var full, incr bytes.Buffer
	since, err := orig.Backup(ctx, &full, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := orig.Backup(ctx, &incr, since); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		store   func() *Store
		input   string
		wantErr string
	}{
		{"not a backup", func() *Store { return MustOpenStore(t) }, "hello\n", "not a Lodestone backup"},
		{"full into non-empty", func() *Store { return orig }, full.String(), "a full backup restores into an empty store"},
		{"incremental first", func() *Store { return MustOpenStore(t) }, incr.String(), "restore the full backup it follows first"},
		{"other format", func() *Store { return MustOpenStore(t) }, strings.Replace(full.String(), fmt.Sprintf(`"storeFormat":%d`, formatVersion), `"storeFormat":9`, 1), "store format 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.store()
			before := dump(t, s)
			_, err := s.Restore(ctx, strings.NewReader(tc.input))
			if ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Restore error = %v, want INVALID_INPUT containing %q", err, tc.wantErr)
			}
			if got := dump(t, s); got != before {
				t.Errorf("a refused restore changed the store")
			}
		})
	}
}

// TestIncrementalBackupAfterCompaction: a deletion reaches an incremental backup even
// when compaction has dropped Badger's deletion markers (and every older version of the
// keys) before the backup is taken. The graph is bulk loaded, so its tables sit at the
// bottom level (StreamLoad); the deletes are flushed to level 0 by reopening the store, and Flatten
// compacts them into the bottom level, where nothing lies below to keep a marker for.
func TestIncrementalBackupAfterCompaction(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	orig, err := Open(Options{Dir: dir, NoSync: true, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	b := smallGraph()
	// 400 more entities, deleted in one write: their thousands of keys make Restore load
	// the deletion markers in several lists.
	var fillers []EntityDelete
	for i := range 400 {
		id := fmt.Sprintf("filler-%d", i)
		b.Entities = append(b.Entities, Entity{ID: id, Kind: "Company", Name: fmt.Sprintf("Filler Holdings %d", i), Country: "AU"})
		fillers = append(fillers, EntityDelete{ID: id})
	}
	if _, err := orig.StreamLoad(ctx, batchRecords(b), nil); err != nil {
		t.Fatal(err)
	}
	var full bytes.Buffer
	since, err := orig.Backup(ctx, &full, 0)
	if err != nil {
		t.Fatal(err)
	}
	gone := b.Entities[3].ID
	MustApply(t, orig, &Batch{
		Entities:            []Entity{{ID: "nzb", Kind: "Company", Name: "Northern Zhaobao (renamed)", Country: "CN"}},
		DeleteRelationships: []string{"o2"},
	})
	MustApply(t, orig, &Batch{DeleteEntities: append(fillers, EntityDelete{ID: gone})})
	if err := orig.Close(); err != nil {
		t.Fatal(err)
	}
	if orig, err = Open(Options{Dir: dir, NoSync: true, CacheSize: -1}); err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	if err := orig.db.Flatten(1); err != nil {
		t.Fatal(err)
	}
	// The premise: no version of the deleted entity's id key is left, not even a marker.
	err = orig.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.AllVersions = true
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Seek(nodeIDKey(gone)); it.ValidForPrefix(nodeIDKey(gone)); it.Next() {
			return fmt.Errorf("compaction kept version %d of %q (deleted: %v); the test needs it dropped", it.Item().Version(), it.Item().Key(), it.Item().IsDeletedOrExpired())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var incr bytes.Buffer
	if _, err := orig.Backup(ctx, &incr, since); err != nil {
		t.Fatal(err)
	}
	restored := MustOpenStore(t)
	for _, bk := range []*bytes.Buffer{&full, &incr} {
		if _, err := restored.Restore(ctx, bytes.NewReader(bk.Bytes())); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := dump(t, restored), dump(t, orig); got != want {
		t.Fatalf("store restored from full + incremental differs:\norig     %s\nrestored %s", want, got)
	}
	if _, err := restored.Entity(ctx, gone); ErrorCode(err) != ENOTFOUND {
		t.Errorf("Entity(%s) after restore: %v, want ENOTFOUND", gone, err)
	}
}

// TestJournalPruning: pruning drops journal entries older than the cutoff and nothing
// else (the store version and the graph stay); an incremental backup since a version
// the pruned entries followed is then refused before anything is written, and one since
// a later version is taken.
func TestJournalPruning(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	MustApply(t, s, smallGraph())
	var full bytes.Buffer
	since, err := s.Backup(ctx, &full, 0)
	if err != nil {
		t.Fatal(err)
	}
	MustApply(t, s, &Batch{DeleteRelationships: []string{"o2"}})
	journal := func() int {
		n := 0
		s.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{famJournal}})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				n++
			}
			return nil
		})
		return n
	}
	if n := journal(); n != 1 {
		t.Fatalf("the journal holds %d entries after one delete, want 1", n)
	}
	version, before := s.Version(), dump(t, s)
	gen, _ := s.cache.generation()
	if n, err := s.PruneJournal(time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("pruning before an hour ago = %d, %v; want 0, nil", n, err)
	}
	if again, _ := s.cache.generation(); again != gen {
		t.Errorf("pruning nothing retired the read cache (generation %d → %d)", gen, again)
	}
	if _, err := s.Backup(ctx, io.Discard, since); err != nil {
		t.Fatalf("incremental backup with the journal whole: %v", err)
	}
	if n, err := s.PruneJournal(time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("pruning before an hour from now = %d, %v; want 1, nil", n, err)
	}
	if n := journal(); n != 0 {
		t.Errorf("the journal holds %d entries after pruning, want 0", n)
	}
	if s.Version() != version {
		t.Errorf("pruning moved the store version %d → %d", version, s.Version())
	}
	strip := func(d string) string {
		var keep []string
		for _, l := range strings.Split(d, "\n") {
			if !strings.HasPrefix(l, `"J`) && !strings.HasPrefix(l, `"Mjournal`) {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if got, want := strip(dump(t, s)), strip(before); got != want {
		t.Errorf("pruning changed the graph:\nbefore %s\nafter  %s", want, got)
	}
	var incr bytes.Buffer
	_, err = s.Backup(ctx, &incr, since)
	if ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), "take a full backup") || incr.Len() != 0 {
		t.Fatalf("incremental backup since %d after pruning: %v, %d bytes written; want EINVALID naming a full backup, nothing written", since, err, incr.Len())
	}
	next, err := s.Backup(ctx, io.Discard, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backup(ctx, io.Discard, next); err != nil {
		t.Errorf("incremental backup since the latest full one: %v", err)
	}
}
