package graph

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"go.uber.org/zap"
)

// Options configure a Store. The zero value (plus Dir) is a durable store for serving.
type Options struct {
	// Dir is the folder of the Badger store. Ignored when InMemory.
	Dir string
	// InMemory keeps everything in memory (tests).
	InMemory bool
	// NoSync turns off Badger's SyncWrites. Only for bulk loads and tests: a write
	// acknowledged with NoSync may be lost when the machine (not just the process) dies.
	NoSync bool
	// ReadOnly opens the store for reading only; several processes may do so at once.
	ReadOnly bool
	// Limits bound every read; zero fields take their defaults.
	Limits Limits
	// Logger receives Badger's warnings and errors; nil discards them.
	Logger *zap.Logger
	// MemTableSize and BlockCacheSize override Badger's (64 MiB and 256 MiB by default;
	// 8 MiB each when InMemory). The memtable size also caps one atomic write batch
	// (about 15 % of it).
	MemTableSize, BlockCacheSize int64
	// CacheSize is how many bytes of decoded entity records and adjacency lists reads
	// keep for one another (readCache): 0 takes the default, 64 MiB (8 MiB when
	// InMemory); a negative size turns the cache off.
	CacheSize int64
	// BaseTableSize overrides Badger's BaseTableSize (2 MiB), the SSTable size of level 1,
	// doubled each level down: a StreamLoad writes tables of 32 times it. Badger's table
	// builder holds twice a table in the Go heap, up to 16 tables at once, so a bulk load
	// into 64 MiB tables peaks some 1 GiB higher than into 8 MiB ones. Tables of any size
	// are read alike; it is an option of the process that opens the store, not of the store.
	BaseTableSize int64
	// JournalRetention is how long the deletion journal (journal.go) keeps what a write
	// deleted: an incremental backup must follow the one before it within this time.
	// 0 keeps everything; `lodestone serve` passes --journal-retention (default
	// DefaultJournalRetention, 30 days), the one-shot commands 0.
	JournalRetention time.Duration
	// ChangesRetention is how long the change log (changes.go) keeps a commit: a reader
	// may resume from any sequence within this time. 0 keeps everything; `lodestone
	// serve` passes --changes-retention (default DefaultChangesRetention, 7 days), the
	// one-shot commands 0.
	ChangesRetention time.Duration
	// Now is the store's clock: it says which day "today" is where a read is asked for
	// no date (relationships valid today). nil takes time.Now; tests set a fixed clock.
	Now func() time.Time
}

// DefaultCacheSize is Options.CacheSize's default for a store on disk.
const DefaultCacheSize = 64 << 20

// Store is the knowledge graph kept in Badger. It is safe for concurrent use: reads run
// in parallel on snapshots, writes are applied one at a time through Apply.
type Store struct {
	db     *badger.DB
	dir    string // "" when in memory
	limits Limits
	log    *zap.Logger

	writeMu sync.Mutex               // serializes every write (see Apply and lockWrites)
	cache   *readCache               // nil when Options.CacheSize < 0
	state   atomic.Pointer[registry] // immutable snapshot, replaced after each commit
	closed  atomic.Bool
	reads   atomic.Uint64 // read transactions opened
	gcStop  chan struct{}
	gcDone  chan struct{}
	// journalRetention is Options.JournalRetention, changesRetention
	// Options.ChangesRetention (0: nothing is pruned).
	journalRetention, changesRetention time.Duration
	// commits wakes WaitCommit after every commit; recent keeps the last commits and
	// changesFloor the log's floor in memory (changes.go).
	commits      commitSignal
	recent       recentCommits
	changesFloor atomic.Uint64
	// noChangeLog turns the change log off, for the benchmarks that measure its cost
	// only: nothing else sets it.
	noChangeLog bool
	// interrupted is true when the store is at version 0 but holds graph records: what a
	// bulk load killed while writing leaves (ErrInterruptedLoad).
	interrupted bool
	// now is Options.Now (time.Now when unset).
	now func() time.Time
}

// today returns the current UTC day by the store's clock (Options.Now).
func (s *Store) today() Date { return DateOf(s.now()) }

// ErrInterruptedLoad is returned by every write but a bulk load, and reported by Check,
// on a store that a bulk load left unfinished: only rerunning the load (which empties
// the store and starts over) or removing the folder makes it usable.
var ErrInterruptedLoad = &Error{Code: EINVALID, Message: "this store holds the remains of a bulk load that did not finish (version 0 with graph records); rerun the same `lodestone import` into it, which starts the load over, or remove the folder"}

// hasKeys reports whether db holds a key of family fam.
func hasKeys(db *badger.DB, fam byte) bool {
	found := false
	db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{fam}})
		defer it.Close()
		it.Rewind()
		found = it.Valid()
		return nil
	})
	return found
}

// registry is the store's small in-memory state: name ↔ id maps of relationship types and
// entity kinds, counters, and the version. It is immutable once published.
type registry struct {
	types     map[string]uint16
	typeNames []string // index = type id; 0 unused
	kinds     map[string]uint16
	kindNames []string
	stats     counters
	nextNID   uint64
	nextRID   uint64
	version   uint64
}

// counters are the counts stats and totalCount report, kept exact by every write.
type counters struct {
	// Entities counts entities by kind, then country ("" when unset).
	Entities map[string]map[string]int `json:"entities"`
	// Relationships counts relationships by type.
	Relationships map[string]int `json:"relationships"`
}

func (r *registry) clone() *registry {
	c := *r
	c.types = maps.Clone(r.types)
	c.typeNames = append([]string(nil), r.typeNames...)
	c.kinds = maps.Clone(r.kinds)
	c.kindNames = append([]string(nil), r.kindNames...)
	c.stats.Entities = make(map[string]map[string]int, len(r.stats.Entities))
	for k, m := range r.stats.Entities {
		c.stats.Entities[k] = maps.Clone(m)
	}
	c.stats.Relationships = maps.Clone(r.stats.Relationships)
	return &c
}

// ErrClosed is returned by operations on a closed Store.
var ErrClosed = errors.New("graph: store is closed")

// Open opens (creating when needed) the store in opts.Dir, or an in-memory store. It
// refuses a store written with another key layout version.
func Open(opts Options) (*Store, error) {
	bo := badger.DefaultOptions(opts.Dir).
		WithExternalMagic(formatVersion).
		WithSyncWrites(!opts.NoSync && !opts.InMemory).
		WithReadOnly(opts.ReadOnly).
		WithNumCompactors(2).
		WithMetricsEnabled(false).
		WithLogger(badgerLogger{opts.Logger})
	if opts.InMemory {
		bo = bo.WithDir("").WithValueDir("").WithInMemory(true).
			WithMemTableSize(8 << 20).WithBlockCacheSize(8 << 20).WithNumMemtables(2).
			WithNumLevelZeroTables(2).WithNumLevelZeroTablesStall(4)
	} else {
		bo = bo.WithNumMemtables(3)
	}
	if opts.MemTableSize > 0 {
		bo = bo.WithMemTableSize(opts.MemTableSize)
	}
	if opts.BaseTableSize > 0 {
		bo = bo.WithBaseTableSize(opts.BaseTableSize)
	}
	if opts.BlockCacheSize > 0 {
		bo = bo.WithBlockCacheSize(opts.BlockCacheSize)
	}
	if opts.Logger == nil {
		bo = bo.WithLogger(nil)
	}
	bo.Compression = options.Snappy
	db, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("graph: open store %q: %w", opts.Dir, err)
	}
	cacheSize := opts.CacheSize
	if cacheSize == 0 {
		cacheSize = DefaultCacheSize
		if opts.InMemory {
			cacheSize = 8 << 20
		}
	}
	cache, err := newReadCache(cacheSize)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("graph: read cache: %w", err)
	}
	s := &Store{db: db, limits: opts.Limits.WithDefaults(), log: opts.Logger, cache: cache, journalRetention: opts.JournalRetention, changesRetention: opts.ChangesRetention, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if !opts.InMemory {
		s.dir = opts.Dir
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	reg, err := s.loadRegistry(opts.ReadOnly)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.state.Store(reg)
	if err := s.loadChangesFloor(); err != nil {
		db.Close()
		return nil, err
	}
	if reg.version == 0 {
		s.interrupted = hasKeys(db, famNode) || hasKeys(db, famOut)
	}
	if !opts.InMemory && !opts.ReadOnly {
		s.gcStop, s.gcDone = make(chan struct{}), make(chan struct{})
		go s.gcLoop(5 * time.Minute)
	}
	return s, nil
}

// Close flushes and closes the store. It is safe to call more than once.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.commits.broadcast() // waiters see the store closed
	if s.gcStop != nil {
		close(s.gcStop)
		<-s.gcDone
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	defer s.cache.close()
	return s.db.Close()
}

// Limits returns the caps this store applies to reads.
func (s *Store) Limits() Limits { return s.limits }

// Version returns the number of write batches applied so far.
func (s *Store) Version() uint64 { return s.state.Load().version }

// ReadTransactions returns how many read transactions the store has opened: one per
// point read, batch read, page or traversal.
func (s *Store) ReadTransactions() uint64 { return s.reads.Load() }

// Ping reports whether the store answers reads.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(metaFormat)
		return err
	})
}

// gcLoop runs Badger's value-log GC every interval until Close.
func (s *Store) gcLoop(interval time.Duration) {
	defer close(s.gcDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.gcStop:
			return
		case <-t.C:
			for s.db.RunValueLogGC(0.5) == nil {
			}
			if s.journalRetention > 0 {
				if n, err := s.PruneJournal(time.Now().Add(-s.journalRetention)); err != nil && !errors.Is(err, ErrClosed) {
					s.log.Warn("pruning the deletion journal", zap.Error(err))
				} else if n > 0 {
					s.log.Info("pruned the deletion journal", zap.Int("entries", n), zap.Duration("retention", s.journalRetention))
				}
			}
			if s.changesRetention > 0 {
				if n, err := s.PruneChanges(time.Now().Add(-s.changesRetention)); err != nil && !errors.Is(err, ErrClosed) {
					s.log.Warn("pruning the change log", zap.Error(err))
				} else if n > 0 {
					s.log.Info("pruned the change log", zap.Int("commits", n), zap.Duration("retention", s.changesRetention))
				}
			}
		}
	}
}

func (s *Store) loadRegistry(readOnly bool) (*registry, error) {
	reg := &registry{
		types: map[string]uint16{}, typeNames: []string{""},
		kinds: map[string]uint16{}, kindNames: []string{""},
		stats: counters{Entities: map[string]map[string]int{}, Relationships: map[string]int{}},
	}
	err := s.db.View(func(txn *badger.Txn) error {
		get := func(k []byte) ([]byte, error) {
			item, err := txn.Get(k)
			if errors.Is(err, badger.ErrKeyNotFound) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			return item.ValueCopy(nil)
		}
		v, err := get(metaFormat)
		if err != nil || v == nil {
			return err
		}
		if len(v) != 2 || binary.BigEndian.Uint16(v) != formatVersion {
			return fmt.Errorf("graph: store format %x is not version %d", v, formatVersion)
		}
		for _, m := range []struct {
			key []byte
			fn  func([]byte) error
		}{
			{metaNextNID, func(b []byte) error { reg.nextNID = binary.BigEndian.Uint64(b); return nil }},
			{metaNextRID, func(b []byte) error { reg.nextRID = binary.BigEndian.Uint64(b); return nil }},
			{metaVersion, func(b []byte) error { reg.version = binary.BigEndian.Uint64(b); return nil }},
			{metaStats, func(b []byte) error { return json.Unmarshal(b, &reg.stats) }},
			{metaTypes, func(b []byte) error { return json.Unmarshal(b, &reg.types) }},
			{metaKinds, func(b []byte) error { return json.Unmarshal(b, &reg.kinds) }},
		} {
			b, err := get(m.key)
			if err != nil {
				return err
			}
			if b == nil {
				continue
			}
			if err := m.fn(b); err != nil {
				return fmt.Errorf("graph: read %s: %w", m.key, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	reg.typeNames = names(reg.types)
	reg.kindNames = names(reg.kinds)
	if reg.stats.Entities == nil {
		reg.stats.Entities = map[string]map[string]int{}
	}
	if reg.stats.Relationships == nil {
		reg.stats.Relationships = map[string]int{}
	}
	if reg.version == 0 && !readOnly {
		// A new store: write the format marker so that the layout is fenced from now on.
		err := s.db.Update(func(txn *badger.Txn) error {
			return txn.Set(metaFormat, u16(nil, formatVersion))
		})
		if err != nil {
			return nil, fmt.Errorf("graph: initialize store: %w", err)
		}
	}
	return reg, nil
}

func names(ids map[string]uint16) []string {
	out := []string{""}
	for name, id := range ids {
		for int(id) >= len(out) {
			out = append(out, "")
		}
		out[id] = name
	}
	return out
}

// badgerLogger adapts zap to Badger's Logger interface (which wants Warningf).
type badgerLogger struct{ l *zap.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	if b.l != nil {
		b.l.Sugar().Errorf("badger: "+f, a...)
	}
}
func (b badgerLogger) Warningf(f string, a ...any) {
	if b.l != nil {
		b.l.Sugar().Warnf("badger: "+f, a...)
	}
}
func (b badgerLogger) Infof(f string, a ...any)  {}
func (b badgerLogger) Debugf(f string, a ...any) {}

// Compact merges the store's LSM tree into as few levels as it can (Badger Flatten), so
// that a read seeks fewer tables. It is worth running once after a bulk load; it rewrites
// the data and takes time proportional to the store's size.
func (s *Store) Compact() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	return s.db.Flatten(2)
}
