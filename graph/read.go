package graph

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"
)

// read runs fn on a view of one read transaction: relationships valid on asOf (today
// by the store's clock when zero), the store's limits, and a deadline that is the earlier of ctx's and the
// store's traversal timeout.
func (s *Store) read(ctx context.Context, asOf Date, fn func(v *txnView) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.reads.Add(1)
	if asOf.IsZero() {
		asOf = s.today()
	}
	work := WorkFrom(ctx)
	if work != nil {
		end, err := work.begin(ctx)
		if err != nil {
			return err
		}
		defer end()
	}
	deadline := time.Now().Add(s.limits.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if work != nil && !work.deadline.IsZero() && work.deadline.Before(deadline) {
		deadline = work.deadline
	}
	gen, cacheOK := s.cache.generation()
	return s.db.View(func(txn *badger.Txn) error {
		v := &txnView{txn: txn, reg: s.state.Load(), day: asOf.days, lim: s.limits,
			ctx: ctx, deadline: deadline, work: work}
		if cacheOK && s.cache.stillAt(gen) {
			v.cache, v.gen = s.cache, gen
		}
		defer v.closeIterators()
		err := fn(v)
		if v.pending > 0 && work != nil {
			work.add(v.pending)
		}
		if err != nil && work != nil && budgetExhausted(err) && work.Spent() {
			err = work.Exhausted() // say which budget ran out: the request's, not the traversal's
		}
		recordRead(ctx, v, err)
		return err
	})
}

// txnView is the Badger-backed view: one read transaction, one date, one budget.
type txnView struct {
	txn      *badger.Txn
	reg      *registry
	day      int32
	lim      Limits
	ctx      context.Context
	deadline time.Time
	visits   int
	// work is the request's budget (nil: none); pending counts the units not yet added
	// to it (charge).
	work    *Work
	pending int
	// exhausted is set once spend has reported errBudget (TraversalStats counts it).
	exhausted bool
	// relIDs makes arcs carry the relationships' public ids (wantRelIDs).
	relIDs bool
	ents   map[NodeID]*Entity
	rels   map[RelID]*Relationship
	// cache, when not nil, holds records and adjacency lists of generation gen, the one
	// txn's snapshot belongs to (readCache).
	cache  *readCache
	gen    uint64
	fills  atomic.Int32 // entries this view added to the cache (cacheFillsPerRead)
	misses int          // lookups that missed (cacheLookups), counted by the view's goroutine
	// idle holds adjacency iterators for reuse. Creating a Badger iterator costs more
	// than a short scan on a large store (it visits every table of every level), so a
	// traversal that expands hundreds of entities seeks one iterator again and again.
	// A scan nested in another's callback takes a second one.
	idle, all []*badger.Iterator
}

func (v *txnView) iterator() *badger.Iterator {
	if n := len(v.idle); n > 0 {
		it := v.idle[n-1]
		v.idle = v.idle[:n-1]
		return it
	}
	it := v.txn.NewIterator(badger.IteratorOptions{})
	v.all = append(v.all, it)
	return it
}

func (v *txnView) closeIterators() {
	for _, it := range v.all {
		it.Close()
	}
	v.all, v.idle = nil, nil
}

func (v *txnView) limits() Limits { return v.lim }

func (v *txnView) wantRelIDs() { v.relIDs = true }

func (v *txnView) lookup(id string) (NodeID, error) {
	item, err := v.txn.Get(nodeIDKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, Errorf(ENOTFOUND, "no entity with id %q", id)
	}
	if err != nil {
		return 0, err
	}
	var n NodeID
	err = item.Value(func(b []byte) error {
		if len(b) != 8 {
			return errors.New("graph: malformed id index entry")
		}
		n = NodeID(binary.BigEndian.Uint64(b))
		return nil
	})
	return n, err
}

func (v *txnView) entity(n NodeID) (*Entity, error) {
	if e, ok := v.ents[n]; ok {
		return e, nil
	}
	e, err := v.readEntity(n)
	if err != nil {
		return nil, err
	}
	v.keepEntity(n, e)
	v.pending++ // a decoded record is work; the next spend or charge looks at the budget
	return e, nil
}

// keepEntity remembers e, the record of n, for the rest of the transaction.
func (v *txnView) keepEntity(n NodeID, e *Entity) {
	if v.ents == nil {
		v.ents = map[NodeID]*Entity{}
	}
	v.ents[n] = e
}

// readEntity returns the record of n from the read cache, or from the store.
func (v *txnView) readEntity(n NodeID) (*Entity, error) {
	if e, ok := v.cachedEntity(n); ok {
		return e, nil
	}
	return v.loadEntity(n)
}

// cachedEntity returns the record of n if the read cache holds it, and counts a miss
// when it does not.
func (v *txnView) cachedEntity(n NodeID) (*Entity, bool) {
	if !v.cacheLookups() {
		return nil, false
	}
	e, ok := v.cache.entity(v.gen, nodeKey(n))
	if !ok {
		v.misses++
	}
	return e, ok
}

// loadEntity reads the record of n from the store and offers it to the read cache. Two
// goroutines may call it at once (prefetch).
func (v *txnView) loadEntity(n NodeID) (*Entity, error) {
	e, err := readEntity(v.txn, n)
	if err == nil && v.cache != nil && v.mayFill() {
		v.cache.putEntity(v.gen, nodeKey(n), e)
	}
	return e, err
}

// cacheLookups reports whether the view still looks in the cache: it has one, and has
// not yet missed cacheMissesPerRead times. A search that sweeps thousands of entities
// (a shortestPath between far-apart companies) finds few of them there, and a lookup
// costs about a microsecond; past that many misses it reads the store directly.
func (v *txnView) cacheLookups() bool { return v.cache != nil && v.misses < cacheMissesPerRead }

// mayFill reports whether the view may add one more entry to the cache, and counts it.
// Two goroutines may ask at once (prefetch).
func (v *txnView) mayFill() bool {
	return v.fills.Load() < cacheFillsPerRead && v.fills.Add(1) <= cacheFillsPerRead
}

// readEntity reads and decodes the record of n. It touches nothing but txn, a read-only
// transaction, so two goroutines may call it at once (prefetch).
func readEntity(txn *badger.Txn, n NodeID) (*Entity, error) {
	item, err := txn.Get(nodeKey(n))
	if err != nil {
		return nil, err
	}
	var e *Entity
	err = item.Value(func(b []byte) error {
		var err error
		e, err = decodeEntity(b)
		return err
	})
	return e, err
}

// prefetchParallelMin is the fewest unread entities prefetch reads on two goroutines;
// below it the second goroutine costs about what it saves.
const prefetchParallelMin = 24

// prefetch reads the records of the entities of ns that v has not read yet, from the
// read cache where it can, and from the store half on a second goroutine once there are
// prefetchParallelMin of them, so that the entity calls that follow find them read. A
// traversal that materializes hundreds of entities spends most of its time in these
// point reads, and one request otherwise keeps one core busy while the other waits.
// An entity that cannot be read is left for entity to report.
func (v *txnView) prefetch(ns []NodeID) {
	var todo []NodeID
	for _, n := range ns {
		if _, ok := v.ents[n]; ok {
			continue
		}
		if e, ok := v.cachedEntity(n); ok {
			v.keepEntity(n, e)
			continue
		}
		todo = append(todo, n)
	}
	// Reading ahead is work too: each batch is charged before it is read, and once the
	// budget or the deadline is gone nothing more is read ahead (the entity calls that
	// follow are charged one by one, and their loops stop in time).
	for len(todo) > 0 {
		batch := todo[:min(len(todo), prefetchBatch)]
		todo = todo[len(batch):]
		if v.charge(len(batch)) != nil {
			return
		}
		v.prefetchBatch(batch)
	}
}

// seekUnits is the work units of one adjacency seek in the store (Work).
const seekUnits = 16

// prefetchBatch is the most records prefetch reads between two looks at the budget.
const prefetchBatch = 4096

// prefetchBatch reads the records of ns, on two goroutines once there are
// prefetchParallelMin of them, and keeps those it could read.
func (v *txnView) prefetchBatch(ns []NodeID) {
	got := make([]*Entity, len(ns))
	read := func(part []NodeID, out []*Entity) {
		for i, n := range part {
			out[i], _ = v.loadEntity(n)
		}
	}
	if len(ns) < prefetchParallelMin {
		read(ns, got)
	} else {
		half := len(ns) / 2
		done := make(chan struct{})
		go func() {
			defer close(done)
			read(ns[half:], got[half:])
		}()
		read(ns[:half], got[:half])
		<-done
	}
	for i, n := range ns {
		if got[i] != nil {
			v.keepEntity(n, got[i])
		}
	}
}

func (v *txnView) relationship(r RelID) (*Relationship, error) {
	if rel, ok := v.rels[r]; ok {
		return rel, nil
	}
	item, err := v.txn.Get(relKey(r))
	if err != nil {
		return nil, err
	}
	var rel *Relationship
	err = item.Value(func(b []byte) error {
		var err error
		_, _, _, rel, err = decodeRelationship(b)
		return err
	})
	if err != nil {
		return nil, err
	}
	if v.rels == nil {
		v.rels = map[RelID]*Relationship{}
	}
	v.rels[r] = rel
	return rel, nil
}

// spend counts one visit and reports errBudget when the traversal's visit budget, the
// request's work budget or the deadline is gone.
func (v *txnView) spend() error {
	v.visits++
	if v.visits > v.lim.MaxVisits {
		v.exhausted = true
		return errBudget
	}
	return v.charge(1)
}

// charge counts n units of work (Work) and, every workCheckEvery units, adds them to the
// request's budget and looks at the deadline and the context: errBudget when any of them
// is gone.
func (v *txnView) charge(n int) error {
	v.pending += n
	if v.pending < workCheckEvery {
		return nil
	}
	p := v.pending
	v.pending = 0
	if v.work != nil && !v.work.add(p) || time.Now().After(v.deadline) || v.ctx.Err() != nil {
		v.exhausted = true
		return errBudget
	}
	return nil
}

// typePrefixes returns the adjacency prefixes of n in family fam for types (all types
// when empty); unknown type names match nothing.
func (v *txnView) typePrefixes(fam byte, n NodeID, types []string) [][]byte {
	if len(types) == 0 {
		return [][]byte{adjPrefix(fam, n, 0)}
	}
	var out [][]byte
	for _, t := range types {
		if id, ok := v.reg.types[t]; ok {
			out = append(out, adjPrefix(fam, n, id))
		}
	}
	slices.SortFunc(out, bytes.Compare)
	return slices.CompactFunc(out, bytes.Equal)
}

func (v *txnView) arcs(n NodeID, dir Direction, types []string, fn func(arc) bool) error {
	fams := []byte{famOut, famIn}
	switch dir {
	case Out:
		fams = fams[:1]
	case In:
		fams = fams[1:]
	}
	for _, fam := range fams {
		for _, prefix := range v.typePrefixes(fam, n, types) {
			more, err := v.scanArcs(fam, prefix, fn)
			if err != nil || !more {
				return err
			}
		}
	}
	return nil
}

func (v *txnView) scanArcs(fam byte, prefix []byte, fn func(arc) bool) (bool, error) {
	if !v.cacheLookups() {
		return v.scanStored(fam, prefix, fn, nil)
	}
	if list, ok := v.cache.arcs(v.gen, prefix, v.relIDs); ok {
		return v.replayArcs(fam, list, fn)
	}
	v.misses++
	if v.fills.Load() >= cacheFillsPerRead {
		return v.scanStored(fam, prefix, fn, nil)
	}
	var list []cachedArc
	more, err := v.scanStored(fam, prefix, fn, &list)
	if err == nil && more && list != nil && v.mayFill() {
		v.cache.putArcs(v.gen, prefix, list, v.relIDs)
	}
	return more, err
}

// scanStored calls fn with the arcs under prefix valid on the view's day, read from the
// store, until fn returns false (more is then false). When collect is not nil it also
// gathers every entry under prefix, valid or not, for the read cache; it sets *collect to nil when the list is longer than maxCachedArcs.
func (v *txnView) scanStored(fam byte, prefix []byte, fn func(arc) bool, collect *[]cachedArc) (more bool, err error) {
	// A seek costs about what seekUnits relationship reads do (it visits every table
	// of every level); a traversal that expands many small lists pays mostly for these.
	if err := v.charge(seekUnits); err != nil {
		return false, err
	}
	it := v.iterator()
	defer func() { v.idle = append(v.idle, it) }()
	withID := v.relIDs
	listed := 0
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		if err := v.spend(); err != nil {
			return false, err
		}
		item := it.Item()
		_, typ, other, rid, ok := parseAdjKey(item.Key())
		if !ok {
			continue
		}
		var h hot
		err := item.Value(func(b []byte) error {
			var ok bool
			h, ok = decodeHotID(b, withID)
			if !ok {
				return errors.New("graph: malformed adjacency payload")
			}
			return nil
		})
		if err != nil {
			return false, err
		}
		if collect != nil {
			if listed++; listed <= maxCachedArcs {
				*collect = append(*collect, cachedArc{typ: typ, other: other, rid: rid, h: h})
			} else {
				*collect = nil
			}
		}
		if !h.validOn(v.day) {
			continue
		}
		if !fn(v.arcOf(fam, typ, other, rid, h)) {
			return false, nil
		}
	}
	if collect != nil && listed == 0 {
		*collect = []cachedArc{} // an entity without arcs here is worth remembering too
	}
	return true, nil
}

// replayArcs is scanStored over a cached list: the same arcs, in the same order, with
// the same budget spent.
func (v *txnView) replayArcs(fam byte, list []cachedArc, fn func(arc) bool) (bool, error) {
	for i := range list {
		if err := v.spend(); err != nil {
			return false, err
		}
		c := &list[i]
		if !c.h.validOn(v.day) {
			continue
		}
		if !fn(v.arcOf(fam, c.typ, c.other, c.rid, c.h)) {
			return false, nil
		}
	}
	return true, nil
}

// arcOf builds the arc of an adjacency entry, without the relationship's id unless the
// view asked for ids.
func (v *txnView) arcOf(fam byte, typ uint16, other NodeID, rid RelID, h hot) arc {
	name := ""
	if int(typ) < len(v.reg.typeNames) {
		name = v.reg.typeNames[typ]
	}
	if !v.relIDs {
		h.id = ""
	}
	return h.arc(rid, name, other, fam == famOut)
}

// Entity returns the entity with id, or ENOTFOUND.
func (s *Store) Entity(ctx context.Context, id string) (*Entity, error) {
	var e *Entity
	err := s.read(ctx, Date{}, func(v *txnView) error {
		n, err := v.lookup(id)
		if err != nil {
			return err
		}
		e, err = v.entity(n)
		return err
	})
	return e, err
}

// Entities returns the entities with the given ids in one read transaction: out[i] is nil
// when ids[i] does not exist. It is the batch read behind the per-request loaders.
func (s *Store) Entities(ctx context.Context, ids []string) ([]*Entity, error) {
	out := make([]*Entity, len(ids))
	err := s.read(ctx, Date{}, func(v *txnView) error {
		for i, id := range ids {
			n, err := v.lookup(id)
			if ErrorCode(err) == ENOTFOUND {
				continue
			}
			if err != nil {
				return err
			}
			if out[i], err = v.entity(n); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// Relationship returns the relationship with id, or ENOTFOUND.
func (s *Store) Relationship(ctx context.Context, id string) (*Relationship, error) {
	var r *Relationship
	err := s.read(ctx, Date{}, func(v *txnView) error {
		item, err := v.txn.Get(relIDKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return Errorf(ENOTFOUND, "no relationship with id %q", id)
		}
		if err != nil {
			return err
		}
		b, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		r, err = v.relationship(RelID(binary.BigEndian.Uint64(b)))
		return err
	})
	return r, err
}

// readSource reads the source id from txn, or nil when there is none.
func readSource(txn *badger.Txn, id string) (*Source, error) {
	item, err := txn.Get(sourceKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	src := &Source{}
	if err := item.Value(func(b []byte) error { return json.Unmarshal(b, src) }); err != nil {
		return nil, err
	}
	return src, nil
}

// Sources returns the sources with the given ids; unknown ids are skipped.
func (s *Store) Sources(ctx context.Context, ids []string) ([]*Source, error) {
	var out []*Source
	err := s.read(ctx, Date{}, func(v *txnView) error {
		for _, id := range ids {
			src, err := readSource(v.txn, id)
			if err != nil {
				return err
			}
			if src != nil {
				out = append(out, src)
			}
		}
		return nil
	})
	return out, err
}

// EntityFilter selects entities for ListEntities. Empty fields match everything.
type EntityFilter struct {
	Kind    string
	Country string
}

// Page is one page of a cursor-paginated list. A cursor is opaque to clients.
type Page[T any] struct {
	Items       []T
	Cursors     []string
	HasNext     bool
	HasPrevious bool
}

// ListEntities pages entities matching f, `first` at a time after the cursor `after`
// (empty for the first page), in a stable order. Errors: EINVALID for a bad cursor or
// country, ELIMIT when first is above the cap.
func (s *Store) ListEntities(ctx context.Context, f EntityFilter, first int, after string) (*Page[*Entity], error) {
	if err := checkCount("first", first, s.limits.MaxFirst); err != nil {
		return nil, err
	}
	if err := validateCountry("country", f.Country); err != nil {
		return nil, err
	}
	reg := s.state.Load()
	var prefix []byte
	switch {
	case f.Kind != "":
		id, ok := reg.kinds[f.Kind]
		if !ok {
			return &Page[*Entity]{}, nil
		}
		prefix = u16([]byte{famKind}, id)
		if f.Country != "" {
			prefix = append(prefix, f.Country...)
		}
	case f.Country != "":
		prefix = append([]byte{famCountry}, f.Country...)
	default:
		prefix = []byte{famNode}
	}
	start, err := decodeCursor(after, prefix)
	if err != nil {
		return nil, err
	}
	page := &Page[*Entity]{HasPrevious: after != ""}
	err = s.read(ctx, Date{}, func(v *txnView) error {
		it := v.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Seek(start); it.Valid(); it.Next() {
			k := it.Item().Key()
			if after != "" && bytes.Equal(k, start) {
				continue
			}
			if len(page.Items) == first {
				page.HasNext = true
				break
			}
			e, err := v.entity(lastNodeID(k))
			if err != nil {
				return err
			}
			page.Items = append(page.Items, e)
			page.Cursors = append(page.Cursors, encodeCursor(k[len(prefix):]))
		}
		return nil
	})
	return page, err
}

// CountEntities returns how many entities match f, from the store's counters.
func (s *Store) CountEntities(f EntityFilter) int {
	total := 0
	for kind, byCountry := range s.state.Load().stats.Entities {
		if f.Kind != "" && kind != f.Kind {
			continue
		}
		for cc, n := range byCountry {
			if f.Country == "" || cc == f.Country {
				total += n
			}
		}
	}
	return total
}

func encodeCursor(suffix []byte) string { return base64.RawURLEncoding.EncodeToString(suffix) }

// decodeCursor returns the key to seek to for cursor after within prefix.
func decodeCursor(after string, prefix []byte) ([]byte, error) {
	if after == "" {
		return prefix, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(after)
	if err != nil || len(b) == 0 || len(b) > 1024 {
		return nil, Invalid("after", "is not a cursor this list returned")
	}
	return append(append([]byte(nil), prefix...), b...), nil
}

// RelationshipFilter selects an entity's relationships.
type RelationshipFilter struct {
	Direction Direction
	Types     []string
	// AsOf keeps relationships valid on that day (today when zero).
	AsOf Date
}

// EntityRelationships pages the relationships of entity id matching f. Errors: ENOTFOUND
// for an unknown entity, EINVALID for a bad cursor, ELIMIT when first is above the cap.
// It also returns the total number of matching relationships when count is true (a
// scan of the entity's whole adjacency). Every relationship looked at counts against the
// visit budget and the request's work budget; ELIMIT when they run out (a count is never
// partial).
func (s *Store) EntityRelationships(ctx context.Context, id string, f RelationshipFilter, first int, after string, count bool) (*Page[*Relationship], int, error) {
	if err := checkCount("first", first, s.limits.MaxFirst); err != nil {
		return nil, 0, err
	}
	var cursor []byte
	if after != "" {
		var err error
		if cursor, err = decodeCursor(after, nil); err != nil {
			return nil, 0, err
		}
	}
	page := &Page[*Relationship]{HasPrevious: after != ""}
	total := 0
	err := s.read(ctx, f.AsOf, func(v *txnView) error {
		n, err := v.lookup(id)
		if err != nil {
			return err
		}
		var prefixes [][]byte
		for _, fam := range []byte{famIn, famOut} { // I sorts before O
			if f.Direction == Both || (fam == famOut) == (f.Direction == Out) {
				prefixes = append(prefixes, v.typePrefixes(fam, n, f.Types)...)
			}
		}
		for _, prefix := range prefixes {
			if cursor != nil && !count && bytes.Compare(prefix, cursor[:min(len(prefix), len(cursor))]) < 0 {
				continue // this prefix lies wholly before the cursor
			}
			it := v.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
			for it.Rewind(); it.Valid(); it.Next() {
				item := it.Item()
				k := item.Key()
				var h hot
				if err := item.Value(func(b []byte) error { h, _ = decodeHotID(b, false); return nil }); err != nil {
					it.Close()
					return err
				}
				if err := v.spend(); err != nil {
					it.Close()
					return overBudget(err, "relationships (counting totalCount reads every relationship of the entity)")
				}
				if !h.validOn(v.day) {
					continue
				}
				total++
				if cursor != nil && bytes.Compare(k, cursor) <= 0 {
					continue
				}
				if len(page.Items) == first {
					page.HasNext = true
					if !count {
						break
					}
					continue
				}
				_, _, _, rid, _ := parseAdjKey(k)
				r, err := v.relationship(rid)
				if err != nil {
					it.Close()
					return err
				}
				page.Items = append(page.Items, r)
				page.Cursors = append(page.Cursors, encodeCursor(k))
			}
			it.Close()
			if page.HasNext && !count {
				break
			}
		}
		return nil
	})
	return page, total, err
}

// SearchHit is one entity found by Search, with a score in (0, 1]: 1 for an exact name.
type SearchHit struct {
	Entity *Entity
	Score  float64
}

// maxSearchCandidates bounds the index entries one search stage examines.
const maxSearchCandidates = 2000

// Caps of a search text: longer texts are refused (EINVALID), since no name is that long
// and every candidate is compared with the whole text.
const (
	MaxSearchRunes = 200
	MaxSearchWords = 16
)

// SearchCost is the most work units one search of text may spend (Work): two stages of
// maxSearchCandidates candidates, each charged 1 + len(text)/32. A text over the caps
// costs nothing: Search refuses it before reading anything.
func SearchCost(text string) int {
	if utf8.RuneCountInString(text) > MaxSearchRunes {
		return 1
	}
	return 2 * maxSearchCandidates * (1 + len(text)/32)
}

// Search finds entities whose name or aliases match text, case- and accent-insensitively;
// Chinese, Japanese and Korean text matches anywhere inside a name. Hits are ranked: exact
// name, then prefix, then substring, then all words present; aliases score a little
// below names; ties go to the shorter name. Errors: EINVALID for text without letters or
// digits, ELIMIT when first is above the cap.
//
// Work is bounded: names that start with the text are found on the full-name index
// without reading records (only the best are read); when they are fewer than first, the
// word index supplies up to maxSearchCandidates more, each read and scored.
func (s *Store) Search(ctx context.Context, text, kind string, first int) ([]SearchHit, error) {
	if err := checkCount("first", first, s.limits.MaxFirst); err != nil {
		return nil, err
	}
	if n := utf8.RuneCountInString(text); n > MaxSearchRunes {
		return nil, Invalid("text", "is %d characters long; search text is at most %d characters", n, MaxSearchRunes)
	}
	terms := queryTerms(text)
	if len(terms) == 0 {
		return nil, Invalid("text", "must contain at least one letter or digit")
	}
	if len(terms) > MaxSearchWords {
		return nil, Invalid("text", "has %d words; search text has at most %d", len(terms), MaxSearchWords)
	}
	q := normalize(text)
	// Scoring a candidate compares the whole text with its name and aliases: a unit of
	// work per candidate and per 32 bytes of text (SearchCost).
	perCandidate := 1 + len(q)/32
	var hits []SearchHit
	err := s.read(ctx, Date{}, func(v *txnView) error {
		seen := map[NodeID]bool{}
		score := func(n NodeID) error {
			if err := v.charge(perCandidate); err != nil {
				return overBudget(err, "search")
			}
			seen[n] = true
			e, err := v.entity(n)
			if err != nil {
				return err
			}
			if kind != "" && e.Kind != kind {
				return nil
			}
			sc := matchScore(q, normalize(e.Name))
			for _, a := range e.Aliases {
				sc = max(sc, 0.95*matchScore(q, normalize(a)))
			}
			if sc > 0 {
				hits = append(hits, SearchHit{Entity: e, Score: sc})
			}
			return nil
		}
		// Stage 1: names and aliases that start with q, ranked by their key alone
		// (exact first, then shorter), so only the best few records are read.
		type prefixHit struct {
			n      NodeID
			exact  bool
			length int
		}
		var prefixHits []prefixHit
		prefix := append([]byte{famFullName}, q...)
		it := v.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		for it.Rewind(); it.Valid() && len(prefixHits) < maxSearchCandidates; it.Next() {
			k := it.Item().Key()
			nameLen := len(k) - 1 - 9
			prefixHits = append(prefixHits, prefixHit{n: lastNodeID(k), exact: nameLen == len(q), length: nameLen})
		}
		it.Close()
		sort.SliceStable(prefixHits, func(i, j int) bool {
			a, b := prefixHits[i], prefixHits[j]
			if a.exact != b.exact {
				return a.exact
			}
			if a.length != b.length {
				return a.length < b.length
			}
			return a.n < b.n
		})
		for _, h := range prefixHits {
			if len(hits) >= first && kind == "" {
				break
			}
			if !seen[h.n] {
				if err := score(h.n); err != nil {
					return err
				}
			}
		}
		if len(hits) >= first {
			return nil
		}
		// Stage 2: entities having every word; candidates from the longest word (usually
		// the most selective), each record checked against the whole text.
		sort.SliceStable(terms, func(i, j int) bool { return len(terms[i].text) > len(terms[j].text) })
		prefix = append([]byte{famTerm}, terms[0].text...)
		if !terms[0].prefix {
			prefix = append(prefix, 0)
		}
		it = v.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		examined := 0
		for it.Rewind(); it.Valid() && examined < maxSearchCandidates; it.Next() {
			n := lastNodeID(it.Item().Key())
			if seen[n] {
				continue
			}
			examined++
			if err := score(n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if len(a.Entity.Name) != len(b.Entity.Name) {
			return len(a.Entity.Name) < len(b.Entity.Name)
		}
		return a.Entity.ID < b.Entity.ID
	})
	if len(hits) > first {
		hits = hits[:first]
	}
	return hits, nil
}

// EntitiesByIdentifier returns the entities carrying the external identifier
// scheme/value (an identifier may be shared, e.g. a ticker reused after a delisting).
func (s *Store) EntitiesByIdentifier(ctx context.Context, scheme, value string) ([]*Entity, error) {
	var out []*Entity
	err := s.read(ctx, Date{}, func(v *txnView) error {
		prefix := append(append(append([]byte{famIdentifier}, scheme...), 0), value...)
		prefix = append(prefix, 0)
		it := v.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid() && len(out) < s.limits.MaxFirst; it.Next() {
			e, err := v.entity(lastNodeID(it.Item().Key()))
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// Stats returns the store's counts and size.
func (s *Store) Stats(ctx context.Context) (*Stats, error) {
	reg := s.state.Load()
	st := &Stats{ByKind: map[string]int{}, ByType: map[string]int{}, Version: reg.version}
	for kind, byCountry := range reg.stats.Entities {
		for _, n := range byCountry {
			st.ByKind[kind] += n
			st.Entities += n
		}
	}
	for typ, n := range reg.stats.Relationships {
		st.ByType[typ] = n
		st.Relationships += n
	}
	lsm, vlog := s.diskSize()
	st.StoreBytes = lsm + vlog
	return st, nil
}
