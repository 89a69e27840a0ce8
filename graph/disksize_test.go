package graph

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestStoreBytesCountsDisk checks that Stats.StoreBytes counts the bytes the store
// occupies on disk, not the length of Badger's sparse value-log file (its 2 GiB mapping).
func TestStoreBytesCountsDisk(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b := &Batch{Entities: []Entity{{ID: "a", Kind: "Company", Name: "A"}, {ID: "b", Kind: "Company", Name: "B"}}}
	if _, err := s.Apply(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.vlog"))
	var length int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			length += fi.Size()
		}
	}
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, limit := st.StoreBytes, int64(64<<20); got <= 0 || got > limit {
		t.Errorf("StoreBytes = %d with value-log files %d bytes long, want between 1 and %d", got, length, limit)
	}
	if got, limit := DiskUsage(dir), int64(256<<20); got <= 0 || got > limit {
		t.Errorf("DiskUsage(%s) = %d with value-log files %d bytes long, want between 1 and %d", dir, got, length, limit)
	}
}
