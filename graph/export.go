package graph

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Export calls emit for every record of the store, from one consistent snapshot: all
// sources, then all entities, then all relationships, each in store order. This is the
// order BulkLoad and import need, so Export → BulkLoad reproduces the graph. Export
// stops at the first error from emit or ctx.
func (s *Store) Export(ctx context.Context, emit func(Record) error) error {
	return s.ExportWith(ctx, ExportOptions{}, func(_ int, rec Record) error { return emit(rec) })
}

// ExportOptions select what ExportWith emits. The zero value selects the whole graph, once.
type ExportOptions struct {
	// Seeds, when not empty, restrict the export to the subgraph around these entity ids:
	// the entities within Depth relationships of a seed (following Types in Direction),
	// the relationships followed to reach or leave them, and the sources either cites.
	Seeds []string
	// Depth is the number of hops from the seeds (0: the seeds alone).
	Depth int
	// Types, when not empty, are the relationship types followed and exported; with no
	// Seeds they filter the relationships of the whole-graph export (entities and
	// sources are all exported).
	Types []string
	// Direction is the direction relationships are followed from the seeds (Both by
	// default).
	Direction Direction
	// AsOf, when set, keeps only the relationships valid on that day.
	AsOf Date
	// Passes is how many times every record is emitted (default 1), all from the same
	// snapshot: writers of formats that declare their attributes before the data (GraphML,
	// GEXF) read the records once to learn the attribute types and once to write them.
	Passes int
	// Bounded gives a subgraph export the caps of a traversal (the store's Limits): Depth
	// at most MaxDepth, at most MaxSubgraph entities (seeds included), at most MaxVisits
	// relationships examined and at most Timeout to find them. A selection beyond them is
	// refused with ELIMIT before emit is first called: an export is never cut short by a
	// cap. A whole-graph export (no Seeds) ignores it.
	Bounded bool
}

// ExportWith calls emit(pass, record) for the records opts selects, from one consistent
// snapshot, opts.Passes times: sources, then entities, then relationships, each in store
// order, so that the output can be imported again.
//
// A subgraph export (opts.Seeds) first finds the ids of its entities and relationships,
// then reads and emits the records one at a time; it holds those ids (8 bytes each, and
// a set of the entities while it searches) and the ids of the cited sources, never the
// records. Every error of the search comes before the first call to emit: ENOTFOUND for
// an unknown seed, EINVALID for a negative depth, ELIMIT beyond the caps when
// opts.Bounded (see ExportOptions). emit's errors and ctx's stop it at once: ctx is
// checked between records, so a caller that cancels ctx (a client that hung up) ends the
// export, and its read transaction, within one record. ExportWith holds one read
// transaction for its whole run and has no time limit of its own but ctx's: Badger keeps
// the versions it reads until it returns.
func (s *Store) ExportWith(ctx context.Context, opts ExportOptions, emit func(pass int, rec Record) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if opts.Depth < 0 {
		return Invalid("depth", "must be 0 or more")
	}
	if opts.Passes <= 0 {
		opts.Passes = 1
	}
	reg := s.state.Load()
	typeOK := func(typ uint16) bool { return true }
	var typeIDs []uint16 // nil: every type
	if len(opts.Types) > 0 {
		ids := map[uint16]bool{}
		typeIDs = []uint16{}
		for _, t := range opts.Types {
			if id, ok := reg.types[t]; ok && !ids[id] {
				ids[id] = true
				typeIDs = append(typeIDs, id)
			}
		}
		typeOK = func(typ uint16) bool { return ids[typ] }
	}
	validOK := func(h hot) bool { return opts.AsOf.IsZero() || h.validOn(opts.AsOf.days) }
	return s.db.View(func(txn *badger.Txn) error {
		if len(opts.Seeds) > 0 {
			sel, err := selectSubgraph(ctx, txn, opts, s.limits, typeIDs, validOK)
			if err != nil {
				return err
			}
			return exportSubgraph(ctx, txn, sel, opts.Passes, emit)
		}
		for pass := range opts.Passes {
			if err := exportAll(ctx, txn, pass, typeOK, validOK, emit); err != nil {
				return err
			}
		}
		return nil
	})
}

func exportAll(ctx context.Context, txn *badger.Txn, pass int, typeOK func(uint16) bool, validOK func(hot) bool, emit func(int, Record) error) error {
	for _, fam := range []byte{famSource, famNode, famRel} {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{fam}, PrefetchValues: true, PrefetchSize: 256})
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				it.Close()
				return err
			}
			var rec Record
			skip := false
			err := it.Item().Value(func(b []byte) error {
				switch fam {
				case famSource:
					rec.Source = &Source{}
					return json.Unmarshal(b, rec.Source)
				case famNode:
					e, err := decodeEntity(b)
					rec.Entity = e
					return err
				default:
					_, _, typ, r, err := decodeRelationship(b)
					rec.Relationship = r
					if err == nil {
						skip = !typeOK(typ) || !validOK(hotOf(r))
					}
					return err
				}
			})
			if err == nil && !skip {
				err = emit(pass, rec)
			}
			if err != nil {
				it.Close()
				return err
			}
		}
		it.Close()
	}
	return nil
}

// subgraphSelection is what a subgraph export writes, as ids in store order: the
// selection is found first and the records are read afterwards, one at a time, so that
// an export holds the ids of its answer but never its records.
type subgraphSelection struct {
	nodes []NodeID
	rels  []RelID
}

// selectSubgraph finds the entities within opts.Depth relationships of opts.Seeds and
// the relationships followed to reach or leave them, breadth first. With opts.Bounded it
// stops with ELIMIT as soon as the selection has more than l.MaxSubgraph entities, the
// search has examined more than l.MaxVisits relationships or has run for longer than
// l.Timeout.
func selectSubgraph(ctx context.Context, txn *badger.Txn, opts ExportOptions, l Limits, types []uint16, validOK func(hot) bool) (*subgraphSelection, error) {
	if opts.Bounded {
		if err := checkDepth(l, "depth", opts.Depth); err != nil {
			return nil, err
		}
	}
	tooMany := func() error {
		return &Error{Code: ELIMIT, Field: "seeds", Message: errorf("the subgraph within depth %d of the seeds has more than %d entities, this server's cap for a subgraph export; lower depth, or follow fewer types or one direction", opts.Depth, l.MaxSubgraph)}
	}
	tooMuch := func(what string) error {
		return &Error{Code: ELIMIT, Field: "seeds", Message: errorf("finding the subgraph within depth %d of the seeds %s, this server's cap for a subgraph export; lower depth, or follow fewer types or one direction", opts.Depth, what)}
	}
	seen := map[NodeID]struct{}{}
	var sel subgraphSelection
	add := func(n NodeID) error {
		if _, ok := seen[n]; ok {
			return nil
		}
		seen[n] = struct{}{}
		sel.nodes = append(sel.nodes, n)
		if opts.Bounded && len(sel.nodes) > l.MaxSubgraph {
			return tooMany()
		}
		return nil
	}
	for _, id := range opts.Seeds {
		item, err := txn.Get(nodeIDKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil, Errorf(ENOTFOUND, "no entity with id %q", id)
		}
		if err != nil {
			return nil, err
		}
		var n NodeID
		if err := item.Value(func(v []byte) error { n = NodeID(binary.BigEndian.Uint64(v)); return nil }); err != nil {
			return nil, err
		}
		if err := add(n); err != nil {
			return nil, err
		}
	}
	fams := []byte{famOut, famIn}
	switch opts.Direction {
	case Out:
		fams = fams[:1]
	case In:
		fams = fams[1:]
	}
	if types == nil {
		types = []uint16{0} // every type: the prefix of the entity's whole adjacency list
	}
	deadline := time.Now().Add(l.Timeout)
	visits := 0
	// One iterator for the whole search, sought to each adjacency list: a new iterator
	// per list would cost more than most lists.
	it := txn.NewIterator(badger.IteratorOptions{})
	defer it.Close()
	expand := func(prefix []byte) error {
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			visits++
			if opts.Bounded {
				if visits > l.MaxVisits {
					return tooMuch(errorf("examines more than %d relationships", l.MaxVisits))
				}
				if visits&1023 == 0 && time.Now().After(deadline) {
					return tooMuch(errorf("takes longer than %s", l.Timeout))
				}
			}
			_, _, other, rid, ok := parseAdjKey(it.Item().Key())
			if !ok {
				continue
			}
			if !opts.AsOf.IsZero() {
				var h hot
				if err := it.Item().Value(func(b []byte) error { h, _ = decodeHotID(b, false); return nil }); err != nil {
					return err
				}
				if !validOK(h) {
					continue
				}
			}
			sel.rels = append(sel.rels, rid)
			if err := add(other); err != nil {
				return err
			}
		}
		return nil
	}
	// sel.nodes[:levelEnd] are the entities of depth ≤ level; those of depth opts.Depth
	// are not expanded.
	level, levelEnd := 0, len(sel.nodes)
	for head := 0; head < len(sel.nodes); head++ {
		if head == levelEnd {
			level, levelEnd = level+1, len(sel.nodes)
		}
		if level >= opts.Depth {
			break
		}
		for _, fam := range fams {
			for _, typ := range types {
				if err := expand(adjPrefix(fam, sel.nodes[head], typ)); err != nil {
					return nil, err
				}
			}
		}
	}
	// A relationship between two expanded entities was followed from both ends: the
	// copy drops the duplicates' room, held for the whole export otherwise.
	slices.Sort(sel.nodes)
	slices.Sort(sel.rels)
	sel.rels = slices.Clone(slices.Compact(sel.rels))
	return &sel, nil
}

// exportSubgraph emits the records of sel passes times: the sources its records cite,
// its entities, then its relationships, each in store order. It reads each record when
// it emits it (and once more before, in citedSources, to learn which sources are cited),
// so that it holds one record at a time. It stops at the first error of emit, of a read,
// or of ctx (checked between records).
func exportSubgraph(ctx context.Context, txn *badger.Txn, sel *subgraphSelection, passes int, emit func(int, Record) error) error {
	// Sources come first, so that the output imports in order; which ones are cited is
	// only known once every record of the selection has been read.
	sources, err := citedSources(ctx, txn, sel)
	if err != nil {
		return err
	}
	for pass := range passes {
		if err := emitSources(ctx, txn, sources, func(r Record) error { return emit(pass, r) }); err != nil {
			return err
		}
		for _, n := range sel.nodes {
			if err := ctx.Err(); err != nil {
				return err
			}
			e, err := exportEntity(txn, n)
			if err != nil {
				return err
			}
			if err := emit(pass, Record{Entity: e}); err != nil {
				return err
			}
		}
		for _, r := range sel.rels {
			if err := ctx.Err(); err != nil {
				return err
			}
			rel, err := exportRelationship(txn, r)
			if err != nil {
				return err
			}
			if err := emit(pass, Record{Relationship: rel}); err != nil {
				return err
			}
		}
	}
	return nil
}

// citedSources returns, sorted, the ids of the sources that the entities and
// relationships of sel cite. It reads every record of sel once and keeps only the ids.
func citedSources(ctx context.Context, txn *badger.Txn, sel *subgraphSelection) ([]string, error) {
	cited := map[string]struct{}{}
	for i, n := range sel.nodes {
		if i&255 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		e, err := exportEntity(txn, n)
		if err != nil {
			return nil, err
		}
		for _, s := range e.Sources {
			cited[s] = struct{}{}
		}
	}
	for i, r := range sel.rels {
		if i&255 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rel, err := exportRelationship(txn, r)
		if err != nil {
			return nil, err
		}
		for _, s := range rel.Sources {
			cited[s] = struct{}{}
		}
	}
	sources := make([]string, 0, len(cited))
	for id := range cited {
		sources = append(sources, id)
	}
	slices.Sort(sources)
	return sources, nil
}

// emitSources reads and emits the sources with the given ids, in order; an id with no
// source record in the store is skipped rather than failing the export.
func emitSources(ctx context.Context, txn *badger.Txn, ids []string, emit func(Record) error) error {
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		src, err := readSource(txn, id)
		if err != nil {
			return err
		}
		if src == nil {
			continue
		}
		if err := emit(Record{Source: src}); err != nil {
			return err
		}
	}
	return nil
}

// exportEntity reads and decodes the entity n of txn.
func exportEntity(txn *badger.Txn, n NodeID) (*Entity, error) {
	item, err := txn.Get(nodeKey(n))
	if err != nil {
		return nil, err
	}
	var e *Entity
	err = item.Value(func(b []byte) error { e, err = decodeEntity(b); return err })
	return e, err
}

// exportRelationship reads and decodes the relationship r of txn.
func exportRelationship(txn *badger.Txn, r RelID) (*Relationship, error) {
	item, err := txn.Get(relKey(r))
	if err != nil {
		return nil, err
	}
	var rel *Relationship
	err = item.Value(func(b []byte) error { _, _, _, rel, err = decodeRelationship(b); return err })
	return rel, err
}
