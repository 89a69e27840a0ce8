package graph

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
)

// TraversalStats adds up the work of the reads run with a context that carries it (see
// WithTraversalStats): relationships visited and reads that ran out of their visit
// budget or deadline. It lets a caller measure traversals without the store knowing
// about any metrics library. It is safe for concurrent use; the zero value is ready.
type TraversalStats struct {
	reads     atomic.Int64
	visits    atomic.Int64
	exhausted atomic.Int64
}

// Reads returns the number of read transactions counted.
func (t *TraversalStats) Reads() int64 { return t.reads.Load() }

// Visits returns the relationships examined by the reads counted.
func (t *TraversalStats) Visits() int64 { return t.visits.Load() }

// Exhausted returns how many of the reads counted ran out of their visit budget or
// deadline; each one either returned Truncated results or failed with ELIMIT.
func (t *TraversalStats) Exhausted() int64 { return t.exhausted.Load() }

type statsKey struct{}

// WithTraversalStats returns a context whose reads add their work to t. A context
// derived from it reports to t too, unless given its own TraversalStats.
func WithTraversalStats(ctx context.Context, t *TraversalStats) context.Context {
	return context.WithValue(ctx, statsKey{}, t)
}

// recordRead adds the work of one finished view, whose function returned err, to the
// TraversalStats of ctx, if any. The read ran out of budget when the view did, or when an
// in-memory step budget did (the error says so).
func recordRead(ctx context.Context, v *txnView, err error) {
	t, _ := ctx.Value(statsKey{}).(*TraversalStats)
	if t == nil {
		return
	}
	t.reads.Add(1)
	t.visits.Add(int64(v.visits))
	if v.exhausted || budgetExhausted(err) {
		t.exhausted.Add(1)
	}
}

// StorageStats describes the Badger database under a Store, for monitoring.
type StorageStats struct {
	// LSMBytes and VLogBytes are the sizes of the LSM tree's tables and of the value-log
	// files (their apparent size: the current value-log file is preallocated while open).
	LSMBytes, VLogBytes int64
	// Tables counts the SSTables across every level; Levels counts the levels.
	Tables, Levels int
	// BlockCacheHits and BlockCacheMisses count lookups of Badger's block cache since
	// the store opened (zero when the cache is off).
	BlockCacheHits, BlockCacheMisses uint64
	// IndexCacheHits and IndexCacheMisses count lookups of its index cache.
	IndexCacheHits, IndexCacheMisses uint64
	// Reads counts the read transactions opened since the store opened.
	Reads uint64
	// ReadCacheHits and ReadCacheMisses count lookups of the store's read cache of
	// entity records and adjacency lists (zero when it is off).
	ReadCacheHits, ReadCacheMisses uint64
}

// StorageStats returns the current StorageStats. It is cheap (no scan) and safe to call
// at any time before Close.
func (s *Store) StorageStats() StorageStats {
	st := StorageStats{Reads: s.reads.Load()}
	if s.cache != nil {
		st.ReadCacheHits, st.ReadCacheMisses = s.cache.hits.Load(), s.cache.misses.Load()
	}
	for _, l := range s.db.Levels() {
		st.Levels++
		st.Tables += l.NumTables
		st.LSMBytes += l.Size
	}
	st.VLogBytes = s.vlogSize()
	if m := s.db.BlockCacheMetrics(); m != nil {
		st.BlockCacheHits, st.BlockCacheMisses = m.Hits(), m.Misses()
	}
	if m := s.db.IndexCacheMetrics(); m != nil {
		st.IndexCacheHits, st.IndexCacheMisses = m.Hits(), m.Misses()
	}
	return st
}

// diskSize returns the sizes of the LSM tree (its tables) and of the value log. Badger's
// own DB.Size reads them from its expvar metrics, which the store turns off, so they are
// measured here.
func (s *Store) diskSize() (lsm, vlog int64) {
	for _, l := range s.db.Levels() {
		lsm += l.Size
	}
	return lsm, s.vlogSize()
}

// vlogSize adds up the bytes the value-log files of the store's folder occupy on disk
// (0 in memory). Their length would overstate it: Badger maps each file at its full
// ValueLogFileSize and leaves the unwritten part sparse.
func (s *Store) vlogSize() int64 {
	if s.dir == "" {
		return 0
	}
	files, _ := filepath.Glob(filepath.Join(s.dir, "*.vlog"))
	var n int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			n += bytesOnDisk(fi)
		}
	}
	return n
}

// DiskUsage returns the bytes the files under dir occupy on disk, as du counts them
// (st_blocks × 512 where the platform reports blocks): a store's sparse value-log file
// counts what it holds, not its 2 GiB length. Files it cannot stat count 0.
func DiskUsage(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += bytesOnDisk(fi)
			}
		}
		return nil
	})
	return n
}
