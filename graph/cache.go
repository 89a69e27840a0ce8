package graph

import (
	"sync/atomic"

	"github.com/dgraph-io/ristretto/v2"
)

// readCache keeps decoded entity records and adjacency lists for every read transaction
// of the store, so that a traversal through parts of the graph that other requests have
// just visited (the upper levels of an ownership pyramid, the entities next to a busy
// country) neither seeks nor decodes them in Badger again. It is bounded in bytes, and
// ristretto chooses what stays (TinyLFU admission, sampled LFU eviction).
//
// Consistency comes from the write funnel, not from per-key invalidation. Every write
// that changes the store's data holds writeMu and brackets its commit with beginWrite
// and endWrite (lockWrites), which advance gen to an odd and then to the next even
// number. A read transaction uses the cache only when gen was the same even number just
// before and just after the transaction started (generation): then no write was
// committing around its start, so its snapshot is exactly the store as of that
// generation. Entries are tagged with the generation they were read in and are served
// to transactions of that generation only; any write therefore retires every entry at
// once. That suits a store read far more often than written, which is what caching is
// for; a steady stream of writes makes the cache miss, never answer wrongly.
type readCache struct {
	gen          atomic.Uint64
	entries      *ristretto.Cache[[]byte, *cacheEntry]
	hits, misses atomic.Uint64
}

// cacheEntry is one cached value: an entity record (key nodeKey) or the complete list of
// adjacency entries under one adjacency prefix (key that prefix). Both are shared by
// every reader of the generation and must not be modified.
type cacheEntry struct {
	gen  uint64
	ent  *Entity
	arcs []cachedArc
	// withIDs: the arcs' payloads carry the relationships' public ids (when the store's
	// payloads have them); a list read without is no use to a view that wants them.
	withIDs bool
}

// cachedArc is one adjacency entry as stored: its type id, far end, relationship and
// hot payload (with the relationship's public id when the payload carries it).
type cachedArc struct {
	typ   uint16
	other NodeID
	rid   RelID
	h     hot
}

// cacheFillsPerRead is how many entries one read transaction may add to the cache. A
// traversal that sweeps thousands of entities (a shortestPath between far-apart
// companies) would otherwise pay for filling the cache with what the next request is
// unlikely to need, and push out what it does need; past this many it only reads.
const cacheFillsPerRead = 64

// cacheMissesPerRead is how many cache misses a read transaction tolerates before it
// stops looking (txnView.cacheLookups).
const cacheMissesPerRead = 256

// maxCachedArcs is the longest adjacency list the cache keeps. A hub's list is read
// rarely compared to its size and would push out thousands of ordinary entries.
const maxCachedArcs = 512

// Approximate sizes, in bytes, that entries are charged to the cache's budget: the Go
// structures plus ristretto's own bookkeeping per item.
const (
	cacheItemCost   = 160
	cachedArcCost   = 88
	cachedEntityMin = 200
)

// newReadCache returns a cache of about maxBytes, or nil (no cache) for maxBytes ≤ 0.
func newReadCache(maxBytes int64) (*readCache, error) {
	if maxBytes <= 0 {
		return nil, nil
	}
	entries, err := ristretto.NewCache(&ristretto.Config[[]byte, *cacheEntry]{
		// Ten counters per item the budget can hold, as ristretto recommends.
		NumCounters:        max(10*maxBytes/cachedEntityMin, 1000),
		MaxCost:            maxBytes,
		BufferItems:        64,
		IgnoreInternalCost: true, // the costs below include ristretto's share
	})
	if err != nil {
		return nil, err
	}
	return &readCache{entries: entries}, nil
}

// beginWrite and endWrite bracket every change of the store's data (lockWrites).
func (c *readCache) beginWrite() {
	if c != nil {
		c.gen.Add(1)
	}
}

func (c *readCache) endWrite() {
	if c != nil {
		c.gen.Add(1)
	}
}

// generation returns gen when it is even (no write committing), for comparing with gen
// again once the read transaction has started; ok is false otherwise.
func (c *readCache) generation() (gen uint64, ok bool) {
	if c == nil {
		return 0, false
	}
	g := c.gen.Load()
	return g, g%2 == 0
}

// stillAt reports whether gen is still the current generation.
func (c *readCache) stillAt(gen uint64) bool { return c.gen.Load() == gen }

func (c *readCache) close() {
	if c != nil {
		c.entries.Close()
	}
}

// entity returns the cached record of the entity with key k read in generation gen.
func (c *readCache) entity(gen uint64, k []byte) (*Entity, bool) {
	e, ok := c.entries.Get(k)
	if !ok || e.gen != gen || e.ent == nil {
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	return e.ent, true
}

func (c *readCache) putEntity(gen uint64, k []byte, e *Entity) {
	c.entries.Set(k, &cacheEntry{gen: gen, ent: e}, cacheItemCost+entityCost(e))
}

// arcs returns the cached adjacency list under prefix read in generation gen, with the
// relationships' ids when withIDs.
func (c *readCache) arcs(gen uint64, prefix []byte, withIDs bool) ([]cachedArc, bool) {
	e, ok := c.entries.Get(prefix)
	if !ok || e.gen != gen || e.ent != nil || (withIDs && !e.withIDs) {
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	return e.arcs, true
}

func (c *readCache) putArcs(gen uint64, prefix []byte, arcs []cachedArc, withIDs bool) {
	cost := int64(cacheItemCost + len(prefix))
	for i := range arcs {
		cost += cachedArcCost + int64(len(arcs[i].h.id)+len(arcs[i].h.material))
	}
	c.entries.Set(prefix, &cacheEntry{gen: gen, arcs: arcs, withIDs: withIDs}, cost)
}

func entityCost(e *Entity) int64 {
	n := cachedEntityMin + len(e.ID) + len(e.Kind) + len(e.Name) + len(e.Country) + len(e.Properties)
	for _, a := range e.Aliases {
		n += 16 + len(a)
	}
	for _, id := range e.Identifiers {
		n += 32 + len(id.Scheme) + len(id.Value)
	}
	for _, s := range e.Sources {
		n += 16 + len(s)
	}
	return int64(n)
}

// lockWrites takes the write lock for a change of the store's data and tells the read
// cache, which readers bypass until the returned unlock has run.
func (s *Store) lockWrites() (unlock func()) {
	s.writeMu.Lock()
	s.cache.beginWrite()
	return func() {
		s.cache.endWrite()
		s.writeMu.Unlock()
	}
}
