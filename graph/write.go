package graph

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Batch is one atomic write: every item is validated first, then all are written in one
// Badger transaction, or nothing is. Items apply in this order: sources, entity upserts,
// relationship upserts, relationship deletes, entity deletes.
type Batch struct {
	Sources             []Source
	Entities            []Entity
	Relationships       []Relationship
	DeleteRelationships []string
	DeleteEntities      []EntityDelete
}

// EntityDelete names an entity to delete. Without Cascade the delete is refused while the
// entity has relationships; with it, they are deleted too.
type EntityDelete struct {
	ID      string
	Cascade bool
}

// Len returns the number of items in b.
func (b *Batch) Len() int {
	return len(b.Sources) + len(b.Entities) + len(b.Relationships) +
		len(b.DeleteRelationships) + len(b.DeleteEntities)
}

// Applied reports what a batch did.
type Applied struct {
	// Version is the store version the batch created.
	Version uint64
	// Sources, Entities and Relationships hold the ids written, in batch order (derived
	// ids filled in).
	Sources, Entities, Relationships []string
	// Deleted counts the relationships and entities deleted, cascades included.
	DeletedRelationships, DeletedEntities int
}

// Apply is the single write path of the store. It validates the whole batch (EINVALID
// naming the field, e.g. "relationships[2].share"), then writes it in one transaction that
// keeps every index, counter and registry consistent, and stamps it with the next store
// version. Nothing is written when it returns an error.
//
// Errors: EINVALID for bad input, an unknown relationship end or cited source, or an
// entity delete without cascade while relationships remain; ENOTFOUND for a delete of an
// id that does not exist; ELIMIT when the batch is too large for one transaction.
// Writes are durable when Apply returns unless the store was opened with NoSync.
func (s *Store) Apply(ctx context.Context, b *Batch) (*Applied, error) {
	if err := validateBatch(b); err != nil {
		return nil, err
	}
	var applied *Applied
	version, err := s.commit(ctx, func(w *writer) error {
		w.batch = b
		var err error
		applied, err = w.apply()
		return err
	})
	if err != nil {
		return nil, tooBig(err, b)
	}
	applied.Version = version
	return applied, nil
}

// commit is the funnel every write of the store goes through (Apply, saved queries, API
// keys): one at a time, in one Badger transaction, with the next store version and the
// registry written in the same transaction and published only once it committed. The
// version orders all writes: it is the sequence of the write's record in the change log
// (changes.go), which the same transaction appends. A write that deletes keys also
// records them in the deletion journal (journalKey). It returns the version the write
// created.
func (s *Store) commit(ctx context.Context, fn func(w *writer) error) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	defer s.lockWrites()()
	if s.closed.Load() {
		return 0, ErrClosed
	}
	if s.interrupted && s.state.Load().version == 0 {
		return 0, ErrInterruptedLoad
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	w := &writer{txn: txn, reg: s.state.Load().clone(), actor: actorFrom(ctx), noLog: s.noChangeLog}
	if err := fn(w); err != nil {
		return 0, err
	}
	w.reg.version++
	if err := w.commitMeta(); err != nil {
		return 0, err
	}
	now := time.Now()
	if gone, err := w.stillDeleted(); err != nil {
		return 0, err
	} else if len(gone) > 0 {
		if err := txn.Set(journalKey(w.reg.version), encodeJournal(now, gone)); err != nil {
			return 0, err
		}
	}
	if err := w.logCommit(now); err != nil {
		return 0, err
	}
	if err := txn.Commit(); err != nil {
		return 0, err
	}
	if w.logged != nil {
		s.recent.add(w.logged) // before the version is published: readers of it find it kept
	}
	s.state.Store(w.reg)
	s.commits.broadcast()
	return w.reg.version, nil
}

func tooBig(err error, b *Batch) error {
	if errors.Is(err, badger.ErrTxnTooBig) {
		return Errorf(ELIMIT, "a batch of %d items is too large for one atomic write; split it into smaller batches or use `lodestone import`", b.Len())
	}
	return err
}

func validateBatch(b *Batch) error {
	srcIDs := map[string]int{}
	for i := range b.Sources {
		p := fmt.Sprintf("sources[%d].", i)
		if err := ValidateSource(p, &b.Sources[i]); err != nil {
			return err
		}
		if b.Sources[i].ID == "" {
			b.Sources[i].ID = SourceID(&b.Sources[i])
		}
		srcIDs[b.Sources[i].ID] = i
	}
	entIDs := map[string]int{}
	for i := range b.Entities {
		p := fmt.Sprintf("entities[%d].", i)
		e := &b.Entities[i]
		if err := ValidateEntity(p, e); err != nil {
			return err
		}
		if j, dup := entIDs[e.ID]; dup {
			return Invalid(p+"id", "%q appears twice in this batch (also entities[%d])", e.ID, j)
		}
		entIDs[e.ID] = i
	}
	relIDs := map[string]int{}
	for i := range b.Relationships {
		p := fmt.Sprintf("relationships[%d].", i)
		r := &b.Relationships[i]
		if err := ValidateRelationship(p, r); err != nil {
			return err
		}
		if r.ID == "" {
			r.ID = RelationshipID(r.Type, r.From, r.To)
		}
		if j, dup := relIDs[r.ID]; dup {
			return Invalid(p+"id", "%q appears twice in this batch (also relationships[%d])", r.ID, j)
		}
		relIDs[r.ID] = i
	}
	for i, id := range b.DeleteRelationships {
		if err := ValidateID(fmt.Sprintf("deleteRelationships[%d]", i), id); err != nil {
			return err
		}
	}
	for i, d := range b.DeleteEntities {
		if err := ValidateID(fmt.Sprintf("deleteEntities[%d]", i), d.ID); err != nil {
			return err
		}
	}
	return nil
}

// writer applies one batch inside one read-write transaction, on a private copy of the
// registry that Apply publishes only after the commit succeeded.
type writer struct {
	txn   *badger.Txn
	reg   *registry
	batch *Batch
	// newSources are the ids written by this batch (they need no store lookup).
	newSources map[string]bool
	// deleted lists every key the write deletes, for the deletion journal.
	deleted [][]byte
	// actor, bulk and changes make the write's commit record in the change log
	// (changes.go).
	actor   string
	bulk    bool
	changes []Change
	noLog   bool    // Store.noChangeLog
	logged  *Commit // what logCommit wrote, for Store.recent
}

// del deletes key in the write's transaction and notes it for the deletion journal. Every
// delete of a write goes through it.
func (w *writer) del(key []byte) error {
	w.deleted = append(w.deleted, bytes.Clone(key))
	return w.txn.Delete(key)
}

// stillDeleted returns the keys del deleted that the write did not set again (an upsert
// deletes an entity's index keys and sets those it still has), each once: what the
// deletion journal records. A journal entry and the key's new value would otherwise
// have the same version, and which of the two a restored store keeps would be Badger's
// choice.
func (w *writer) stillDeleted() ([][]byte, error) {
	var gone [][]byte
	seen := make(map[string]bool, len(w.deleted))
	for _, k := range w.deleted {
		if seen[string(k)] {
			continue
		}
		seen[string(k)] = true
		// The transaction answers from its own pending writes, without reading the store.
		_, err := w.txn.Get(k)
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
			gone = append(gone, k)
		case err != nil:
			return nil, err
		}
	}
	return gone, nil
}

func (w *writer) apply() (*Applied, error) {
	b := w.batch
	out := &Applied{}
	w.newSources = map[string]bool{}
	for i := range b.Sources {
		src := &b.Sources[i]
		raw, err := json.Marshal(src)
		if err != nil {
			return nil, err
		}
		if err := w.txn.Set(sourceKey(src.ID), raw); err != nil {
			return nil, err
		}
		w.newSources[src.ID] = true
		out.Sources = append(out.Sources, src.ID)
		w.changed(Change{Op: OpUpsert, Kind: KindSourceItem, ID: src.ID, Source: src})
	}
	for i := range b.Entities {
		if err := w.checkSources(fmt.Sprintf("entities[%d].", i), b.Entities[i].Sources); err != nil {
			return nil, err
		}
		if err := w.putEntity(&b.Entities[i]); err != nil {
			return nil, err
		}
		out.Entities = append(out.Entities, b.Entities[i].ID)
		w.changed(Change{Op: OpUpsert, Kind: KindEntityItem, ID: b.Entities[i].ID, Entity: &b.Entities[i]})
	}
	for i := range b.Relationships {
		p := fmt.Sprintf("relationships[%d].", i)
		if err := w.checkSources(p, b.Relationships[i].Sources); err != nil {
			return nil, err
		}
		if err := w.putRelationship(p, &b.Relationships[i]); err != nil {
			return nil, err
		}
		out.Relationships = append(out.Relationships, b.Relationships[i].ID)
		w.changed(Change{Op: OpUpsert, Kind: KindRelationshipItem, ID: b.Relationships[i].ID, Relationship: &b.Relationships[i]})
	}
	for _, id := range b.DeleteRelationships {
		rid, err := w.relID(id)
		if err != nil {
			return nil, err
		}
		if rid == 0 {
			return nil, Errorf(ENOTFOUND, "no relationship with id %q", id)
		}
		if err := w.deleteRelationship(rid); err != nil {
			return nil, err
		}
		out.DeletedRelationships++
	}
	for _, d := range b.DeleteEntities {
		n, err := w.deleteEntity(d)
		if err != nil {
			return nil, err
		}
		out.DeletedEntities++
		out.DeletedRelationships += n
	}
	return out, nil
}

func (w *writer) get(key []byte) ([]byte, error) {
	item, err := w.txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

func (w *writer) checkSources(prefix string, ids []string) error {
	for i, id := range ids {
		if w.newSources[id] {
			continue
		}
		v, err := w.get(sourceKey(id))
		if err != nil {
			return err
		}
		if v == nil {
			return Invalid(fmt.Sprintf("%ssources[%d]", prefix, i), "no source with id %q; send the source in the same request", id)
		}
	}
	return nil
}

func (w *writer) nodeID(id string) (NodeID, error) {
	v, err := w.get(nodeIDKey(id))
	if err != nil || v == nil {
		return 0, err
	}
	return NodeID(binary.BigEndian.Uint64(v)), nil
}

func (w *writer) relID(id string) (RelID, error) {
	v, err := w.get(relIDKey(id))
	if err != nil || v == nil {
		return 0, err
	}
	return RelID(binary.BigEndian.Uint64(v)), nil
}

// kindID returns the registered id of an entity kind, registering it when new.
func (w *writer) kindID(kind string) uint16 {
	if id, ok := w.reg.kinds[kind]; ok {
		return id
	}
	id := uint16(len(w.reg.kindNames))
	w.reg.kinds[kind] = id
	w.reg.kindNames = append(w.reg.kindNames, kind)
	return id
}

func (w *writer) typeID(typ string) uint16 {
	if id, ok := w.reg.types[typ]; ok {
		return id
	}
	id := uint16(len(w.reg.typeNames))
	w.reg.types[typ] = id
	w.reg.typeNames = append(w.reg.typeNames, typ)
	return id
}

// entityIndexKeys lists the T, C, X and K keys of e.
func (w *writer) entityIndexKeys(n NodeID, e *Entity) [][]byte {
	keys := [][]byte{kindKey(w.kindID(e.Kind), e.Country, n)}
	if e.Country != "" {
		keys = append(keys, countryKey(e.Country, n))
	}
	norms := make([]string, 0, 1+len(e.Aliases))
	norms = append(norms, normalize(e.Name))
	for _, a := range e.Aliases {
		norms = append(norms, normalize(a))
	}
	for _, t := range normalizedTerms(norms) {
		keys = append(keys, termKey(t, n))
	}
	for i, norm := range norms {
		if norm != "" && !slices.Contains(norms[:i], norm) {
			keys = append(keys, fullNameKey(norm, n))
		}
	}
	for _, id := range e.Identifiers {
		keys = append(keys, identifierKey(id.Scheme, id.Value, n))
	}
	return keys
}

func (w *writer) countEntity(e *Entity, delta int) {
	m := w.reg.stats.Entities[e.Kind]
	if m == nil {
		m = map[string]int{}
		w.reg.stats.Entities[e.Kind] = m
	}
	m[e.Country] += delta
	if m[e.Country] <= 0 {
		delete(m, e.Country)
		if len(m) == 0 {
			delete(w.reg.stats.Entities, e.Kind)
		}
	}
}

func (w *writer) countRelationship(typ string, delta int) {
	w.reg.stats.Relationships[typ] += delta
	if w.reg.stats.Relationships[typ] <= 0 {
		delete(w.reg.stats.Relationships, typ)
	}
}

func (w *writer) putEntity(e *Entity) error {
	n, err := w.nodeID(e.ID)
	if err != nil {
		return err
	}
	if n != 0 {
		old, err := w.readEntity(n)
		if err != nil {
			return err
		}
		for _, k := range w.entityIndexKeys(n, old) {
			if err := w.del(k); err != nil {
				return err
			}
		}
		w.countEntity(old, -1)
	} else {
		w.reg.nextNID++
		n = NodeID(w.reg.nextNID)
		if err := w.txn.Set(nodeIDKey(e.ID), u64(nil, uint64(n))); err != nil {
			return err
		}
	}
	raw, err := encodeEntity(e)
	if err != nil {
		return err
	}
	if err := w.txn.Set(nodeKey(n), raw); err != nil {
		return err
	}
	for _, k := range w.entityIndexKeys(n, e) {
		if err := w.txn.Set(k, nil); err != nil {
			return err
		}
	}
	w.countEntity(e, +1)
	return nil
}

func (w *writer) readEntity(n NodeID) (*Entity, error) {
	v, err := w.get(nodeKey(n))
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("graph: index names node %d that has no record", n)
	}
	return decodeEntity(v)
}

func (w *writer) putRelationship(prefix string, r *Relationship) error {
	from, err := w.nodeID(r.From)
	if err != nil {
		return err
	}
	if from == 0 {
		return Invalid(prefix+"from", "no entity with id %q; create it first (upsertEntity) or send it in the same importGraph", r.From)
	}
	to, err := w.nodeID(r.To)
	if err != nil {
		return err
	}
	if to == 0 {
		return Invalid(prefix+"to", "no entity with id %q; create it first (upsertEntity) or send it in the same importGraph", r.To)
	}
	rid, err := w.relID(r.ID)
	if err != nil {
		return err
	}
	if rid != 0 {
		if err := w.removeRelationshipKeys(rid); err != nil {
			return err
		}
	} else {
		w.reg.nextRID++
		rid = RelID(w.reg.nextRID)
		if err := w.txn.Set(relIDKey(r.ID), u64(nil, uint64(rid))); err != nil {
			return err
		}
	}
	typ := w.typeID(r.Type)
	raw, err := encodeRelationship(from, to, typ, r)
	if err != nil {
		return err
	}
	h := hotOf(r).encode()
	k := relationshipKeys(rid, from, typ, to)
	for _, kv := range [][2][]byte{{k.rec, raw}, {k.out, h}, {k.in, h}} {
		if err := w.txn.Set(kv[0], kv[1]); err != nil {
			return err
		}
	}
	w.countRelationship(r.Type, +1)
	return nil
}

// removeRelationshipKeys deletes the E, O and I keys of rid (not its R key) and uncounts it.
func (w *writer) removeRelationshipKeys(rid RelID) error {
	v, err := w.get(relKey(rid))
	if err != nil {
		return err
	}
	if v == nil {
		return fmt.Errorf("graph: relationship %d has an id but no record", rid)
	}
	from, to, typ, old, err := decodeRelationship(v)
	if err != nil {
		return err
	}
	for _, k := range relationshipKeys(rid, from, typ, to).all() {
		if err := w.del(k); err != nil {
			return err
		}
	}
	w.countRelationship(old.Type, -1)
	return nil
}

func (w *writer) deleteRelationship(rid RelID) error {
	v, err := w.get(relKey(rid))
	if err != nil {
		return err
	}
	_, _, _, old, err := decodeRelationship(v)
	if err != nil {
		return err
	}
	if err := w.removeRelationshipKeys(rid); err != nil {
		return err
	}
	w.changed(Change{Op: OpDelete, Kind: KindRelationshipItem, ID: old.ID, Type: old.Type, From: old.From, To: old.To})
	return w.del(relIDKey(old.ID))
}

// deleteEntity deletes one entity (and with Cascade its relationships); it returns the
// number of relationships deleted.
func (w *writer) deleteEntity(d EntityDelete) (int, error) {
	n, err := w.nodeID(d.ID)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, Errorf(ENOTFOUND, "no entity with id %q", d.ID)
	}
	rels := map[RelID]bool{}
	for _, fam := range []byte{famOut, famIn} {
		opts := badger.IteratorOptions{Prefix: adjPrefix(fam, n, 0)}
		it := w.txn.NewIterator(opts)
		for it.Rewind(); it.Valid(); it.Next() {
			if _, _, _, r, ok := parseAdjKey(it.Item().Key()); ok {
				rels[r] = true
			}
			if !d.Cascade {
				break
			}
		}
		it.Close()
		if !d.Cascade && len(rels) > 0 {
			return 0, Invalid("id", "entity %q still has relationships; delete them first or pass cascade: true", d.ID)
		}
	}
	// In RelID order, so that the change log lists a cascade the same way every time.
	for _, r := range slices.Sorted(maps.Keys(rels)) {
		if err := w.deleteRelationship(r); err != nil {
			return 0, err
		}
	}
	old, err := w.readEntity(n)
	if err != nil {
		return 0, err
	}
	keys := append(w.entityIndexKeys(n, old), nodeKey(n), nodeIDKey(d.ID))
	for _, k := range keys {
		if err := w.del(k); err != nil {
			return 0, err
		}
	}
	w.countEntity(old, -1)
	w.changed(Change{Op: OpDelete, Kind: KindEntityItem, ID: d.ID})
	return len(rels), nil
}

// commitMeta writes the counters, registries and version of the batch.
func (w *writer) commitMeta() error {
	stats, err := json.Marshal(w.reg.stats)
	if err != nil {
		return err
	}
	types, _ := json.Marshal(w.reg.types)
	kinds, _ := json.Marshal(w.reg.kinds)
	for _, kv := range [][2][]byte{
		{metaNextNID, u64(nil, w.reg.nextNID)},
		{metaNextRID, u64(nil, w.reg.nextRID)},
		{metaVersion, u64(nil, w.reg.version)},
		{metaStats, stats},
		{metaTypes, types},
		{metaKinds, kinds},
	} {
		if err := w.txn.Set(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}
