package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// BulkStats reports what a bulk load wrote.
type BulkStats struct {
	Sources, Entities, Relationships int
}

// BulkLoad fills an empty store with the records that each calls emit for, much faster
// than Apply: Badger WriteBatch, no per-item reads. Sources and entities must come
// before the relationships and entities that cite them (the order that export and the
// synthetic generator write). Every record is validated as Apply would; progress, when
// not nil, is called every 100,000 records.
//
// A bulk load is atomic in effect: on any error (EINVALID naming the record, a cancelled
// ctx) the store is emptied again. Errors: EINVALID when the store is not empty.
func (s *Store) BulkLoad(ctx context.Context, each func(emit func(Record) error) error, progress func(BulkStats)) (BulkStats, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.closed.Load() {
		return BulkStats{}, ErrClosed
	}
	if reg := s.state.Load(); reg.version != 0 || reg.nextNID != 0 {
		return BulkStats{}, Errorf(EINVALID, "a bulk load needs an empty store; this one is at version %d", reg.version)
	}
	b := &bulkLoader{
		wb:      s.db.NewWriteBatch(),
		reg:     s.state.Load().clone(),
		nodes:   map[string]NodeID{},
		rels:    map[string]bool{},
		sources: map[string]bool{},
	}
	w := &writer{reg: b.reg}
	err := each(func(rec Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.add(w, rec); err != nil {
			return err
		}
		if progress != nil && b.count%100_000 == 0 {
			progress(b.stats)
		}
		return nil
	})
	if err == nil {
		err = b.wb.Flush()
	} else {
		b.wb.Cancel()
	}
	if err == nil {
		err = s.finishBulk(b.reg)
	}
	if err != nil {
		if dropErr := s.db.DropAll(); dropErr != nil {
			return BulkStats{}, fmt.Errorf("%w (and emptying the store again failed: %v)", err, dropErr)
		}
		return BulkStats{}, err
	}
	return b.stats, nil
}

// finishBulk writes the registry, counters and format of a bulk load and publishes them.
func (s *Store) finishBulk(reg *registry) error {
	reg.version++
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	w := &writer{txn: txn, reg: reg}
	if err := w.commitMeta(); err != nil {
		return err
	}
	if err := txn.Set(metaFormat, u16(nil, formatVersion)); err != nil {
		return err
	}
	if err := txn.Commit(); err != nil {
		return err
	}
	if err := s.db.Sync(); err != nil && !errors.Is(err, badger.ErrInvalidRequest) {
		return err
	}
	s.state.Store(reg)
	return nil
}

type bulkLoader struct {
	wb      *badger.WriteBatch
	reg     *registry
	nodes   map[string]NodeID
	rels    map[string]bool
	sources map[string]bool
	count   int
	stats   BulkStats
}

func (b *bulkLoader) set(k, v []byte) error { return b.wb.Set(k, v) }

func (b *bulkLoader) checkSources(prefix string, ids []string) error {
	for i, id := range ids {
		if !b.sources[id] {
			return Invalid(fmt.Sprintf("%ssources[%d]", prefix, i), "no source with id %q before this record", id)
		}
	}
	return nil
}

func (b *bulkLoader) add(w *writer, rec Record) error {
	b.count++
	prefix := fmt.Sprintf("record %d: ", b.count)
	switch {
	case rec.Source != nil:
		src := rec.Source
		if err := ValidateSource(prefix+"source.", src); err != nil {
			return err
		}
		if src.ID == "" {
			src.ID = SourceID(src)
		}
		raw, err := json.Marshal(src)
		if err != nil {
			return err
		}
		b.sources[src.ID] = true
		b.stats.Sources++
		return b.set(sourceKey(src.ID), raw)

	case rec.Entity != nil:
		e := rec.Entity
		if err := ValidateEntity(prefix+"entity.", e); err != nil {
			return err
		}
		if err := b.checkSources(prefix+"entity.", e.Sources); err != nil {
			return err
		}
		if _, dup := b.nodes[e.ID]; dup {
			return Invalid(prefix+"entity.id", "%q appears twice", e.ID)
		}
		b.reg.nextNID++
		n := NodeID(b.reg.nextNID)
		b.nodes[e.ID] = n
		raw, err := encodeEntity(e)
		if err != nil {
			return err
		}
		if err := b.set(nodeKey(n), raw); err != nil {
			return err
		}
		if err := b.set(nodeIDKey(e.ID), u64(nil, uint64(n))); err != nil {
			return err
		}
		for _, k := range w.entityIndexKeys(n, e) {
			if err := b.set(k, nil); err != nil {
				return err
			}
		}
		w.countEntity(e, +1)
		b.stats.Entities++
		return nil

	case rec.Relationship != nil:
		r := rec.Relationship
		if err := ValidateRelationship(prefix+"relationship.", r); err != nil {
			return err
		}
		if err := b.checkSources(prefix+"relationship.", r.Sources); err != nil {
			return err
		}
		if r.ID == "" {
			r.ID = RelationshipID(r.Type, r.From, r.To)
		}
		if b.rels[r.ID] {
			return Invalid(prefix+"relationship.id", "%q appears twice", r.ID)
		}
		b.rels[r.ID] = true
		from, ok := b.nodes[r.From]
		if !ok {
			return Invalid(prefix+"relationship.from", "no entity with id %q before this record", r.From)
		}
		to, ok := b.nodes[r.To]
		if !ok {
			return Invalid(prefix+"relationship.to", "no entity with id %q before this record", r.To)
		}
		b.reg.nextRID++
		rid := RelID(b.reg.nextRID)
		typ := w.typeID(r.Type)
		raw, err := encodeRelationship(from, to, typ, r)
		if err != nil {
			return err
		}
		h := hotOf(r).encode()
		for _, kv := range [][2][]byte{
			{relKey(rid), raw},
			{relIDKey(r.ID), u64(nil, uint64(rid))},
			{adjKey(famOut, from, typ, to, rid), h},
			{adjKey(famIn, to, typ, from, rid), h},
		} {
			if err := b.set(kv[0], kv[1]); err != nil {
				return err
			}
		}
		w.countRelationship(r.Type, +1)
		b.stats.Relationships++
		return nil
	}
	return Invalid(prefix, "holds no source, entity or relationship")
}
