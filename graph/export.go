package graph

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"

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
}

// ExportWith calls emit(pass, record) for the records opts selects, from one consistent
// snapshot, opts.Passes times: sources, then entities, then relationships, each in store
// order, so that the output can be imported again. Errors: ENOTFOUND for an unknown seed,
// EINVALID for a negative depth; emit's and ctx's errors stop it. ExportWith holds one read
// transaction for its whole run and has no time limit: Badger keeps the versions it reads
// until it returns.
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
	if len(opts.Types) > 0 {
		ids := map[uint16]bool{}
		for _, t := range opts.Types {
			if id, ok := reg.types[t]; ok {
				ids[id] = true
			}
		}
		typeOK = func(typ uint16) bool { return ids[typ] }
	}
	validOK := func(h hot) bool { return opts.AsOf.IsZero() || h.validOn(opts.AsOf.days) }
	return s.db.View(func(txn *badger.Txn) error {
		if len(opts.Seeds) > 0 {
			return exportSubgraph(ctx, txn, opts, typeOK, validOK, emit)
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

func exportSubgraph(ctx context.Context, txn *badger.Txn, opts ExportOptions, typeOK func(uint16) bool, validOK func(hot) bool, emit func(int, Record) error) error {
	depth := map[NodeID]int{}
	var order []NodeID
	for _, id := range opts.Seeds {
		item, err := txn.Get(nodeIDKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return Errorf(ENOTFOUND, "no entity with id %q", id)
		}
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		n := NodeID(binary.BigEndian.Uint64(v))
		if _, seen := depth[n]; !seen {
			depth[n] = 0
			order = append(order, n)
		}
	}
	fams := []byte{famOut, famIn}
	switch opts.Direction {
	case Out:
		fams = fams[:1]
	case In:
		fams = fams[1:]
	}
	rels := map[RelID]bool{}
	for head := 0; head < len(order); head++ {
		n := order[head]
		if depth[n] >= opts.Depth {
			continue
		}
		for _, fam := range fams {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: adjPrefix(fam, n, 0)})
			for it.Rewind(); it.Valid(); it.Next() {
				if err := ctx.Err(); err != nil {
					it.Close()
					return err
				}
				_, typ, other, rid, ok := parseAdjKey(it.Item().Key())
				if !ok || !typeOK(typ) {
					continue
				}
				var h hot
				if err := it.Item().Value(func(b []byte) error { h, _ = decodeHotID(b, false); return nil }); err != nil {
					it.Close()
					return err
				}
				if !validOK(h) {
					continue
				}
				rels[rid] = true
				if _, seen := depth[other]; !seen {
					depth[other] = depth[n] + 1
					order = append(order, other)
				}
			}
			it.Close()
		}
	}
	slices.Sort(order)
	rids := make([]RelID, 0, len(rels))
	for r := range rels {
		rids = append(rids, r)
	}
	slices.Sort(rids)
	get := func(key []byte) ([]byte, error) {
		item, err := txn.Get(key)
		if err != nil {
			return nil, err
		}
		return item.ValueCopy(nil)
	}
	for pass := range opts.Passes {
		var ents []*Entity
		var rs []*Relationship
		cited := map[string]bool{}
		for _, n := range order {
			v, err := get(nodeKey(n))
			if err != nil {
				return err
			}
			e, err := decodeEntity(v)
			if err != nil {
				return err
			}
			ents = append(ents, e)
			for _, s := range e.Sources {
				cited[s] = true
			}
		}
		for _, r := range rids {
			v, err := get(relKey(r))
			if err != nil {
				return err
			}
			_, _, _, rel, err := decodeRelationship(v)
			if err != nil {
				return err
			}
			rs = append(rs, rel)
			for _, s := range rel.Sources {
				cited[s] = true
			}
		}
		ids := make([]string, 0, len(cited))
		for id := range cited {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			v, err := get(sourceKey(id))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			src := &Source{}
			if err := json.Unmarshal(v, src); err != nil {
				return err
			}
			if err := emit(pass, Record{Source: src}); err != nil {
				return err
			}
		}
		for _, e := range ents {
			if err := emit(pass, Record{Entity: e}); err != nil {
				return err
			}
		}
		for _, r := range rs {
			if err := emit(pass, Record{Relationship: r}); err != nil {
				return err
			}
		}
	}
	return nil
}
