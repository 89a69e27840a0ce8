package graph

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/dgraph-io/badger/v4"
)

// CheckReport lists what Check found wrong; it is empty for a consistent store.
type CheckReport struct {
	Entities, Relationships int
	Problems                []string
}

// maxCheckProblems bounds the problems one check lists.
const maxCheckProblems = 100

// Check verifies the store's invariants from one snapshot: every entity has its id
// entry and exactly its kind, country, name and identifier index entries; every
// relationship has its id entry and both adjacency entries with the right payload, and
// its ends exist; no index entry points at nothing; the counters agree with the data;
// every API key record is well-formed (apikeys.go).
// It reads the whole store, so it takes time proportional to its size.
func (s *Store) Check(ctx context.Context) (*CheckReport, error) {
	rep := &CheckReport{}
	problem := func(format string, args ...any) {
		if len(rep.Problems) < maxCheckProblems {
			rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
		}
	}
	reg := s.state.Load()
	if s.interrupted && reg.version == 0 {
		problem("%s", ErrInterruptedLoad.Message)
	}
	err := s.db.View(func(txn *badger.Txn) error {
		exists := func(k []byte) bool {
			_, err := txn.Get(k)
			return err == nil
		}
		// Expected index keys, built from the records, then compared with the stored ones.
		want := map[string]bool{}
		nodes := map[NodeID]bool{}
		stats := counters{Entities: map[string]map[string]int{}, Relationships: map[string]int{}}
		w := &writer{reg: reg.clone()}
		err := scan(ctx, txn, famNode, func(k, v []byte) error {
			n := NodeID(binary.BigEndian.Uint64(k[1:]))
			e, err := decodeEntity(v)
			if err != nil {
				problem("entity %d: %v", n, err)
				return nil
			}
			rep.Entities++
			nodes[n] = true
			want[string(nodeIDKey(e.ID))] = true
			if id, ok := reg.kinds[e.Kind]; !ok || int(id) >= len(reg.kindNames) {
				problem("entity %q: kind %q is not registered", e.ID, e.Kind)
			}
			for _, key := range w.entityIndexKeys(n, e) {
				want[string(key)] = true
			}
			if stats.Entities[e.Kind] == nil {
				stats.Entities[e.Kind] = map[string]int{}
			}
			stats.Entities[e.Kind][e.Country]++
			return nil
		})
		if err != nil {
			return err
		}
		err = scan(ctx, txn, famNodeID, func(k, v []byte) error {
			if len(v) != 8 || !nodes[NodeID(binary.BigEndian.Uint64(v))] {
				problem("id entry %q points at no entity", k[1:])
			}
			return nil
		})
		if err != nil {
			return err
		}
		rels := map[RelID]bool{}
		err = scan(ctx, txn, famRel, func(k, v []byte) error {
			rid := RelID(binary.BigEndian.Uint64(k[1:]))
			from, to, typ, r, err := decodeRelationship(v)
			if err != nil {
				problem("relationship %d: %v", rid, err)
				return nil
			}
			rep.Relationships++
			rels[rid] = true
			if !nodes[from] || !nodes[to] {
				problem("relationship %q: an end does not exist", r.ID)
			}
			if int(typ) >= len(reg.typeNames) || reg.typeNames[typ] != r.Type {
				problem("relationship %q: type id %d is not %q", r.ID, typ, r.Type)
			}
			for _, key := range [][]byte{adjKey(famOut, from, typ, to, rid), adjKey(famIn, to, typ, from, rid)} {
				item, err := txn.Get(key)
				if err != nil {
					problem("relationship %q: adjacency entry %c missing", r.ID, key[0])
					continue
				}
				if got, _ := item.ValueCopy(nil); !hotMatches(got, r) {
					problem("relationship %q: adjacency payload %c differs from its record", r.ID, key[0])
				}
			}
			idv, err := txn.Get(relIDKey(r.ID))
			if err != nil {
				problem("relationship %q: id entry missing", r.ID)
			} else if b, _ := idv.ValueCopy(nil); len(b) != 8 || RelID(binary.BigEndian.Uint64(b)) != rid {
				problem("relationship %q: id entry points elsewhere", r.ID)
			}
			stats.Relationships[r.Type]++
			return nil
		})
		if err != nil {
			return err
		}
		for _, fam := range []byte{famOut, famIn} {
			err = scan(ctx, txn, fam, func(k, _ []byte) error {
				if _, _, _, r, ok := parseAdjKey(k); !ok || !rels[r] {
					problem("adjacency entry %x points at no relationship", k)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		for _, fam := range []byte{famKind, famCountry, famTerm, famFullName, famIdentifier} {
			err = scan(ctx, txn, fam, func(k, _ []byte) error {
				if !want[string(k)] {
					problem("index entry %q belongs to no entity", k)
				}
				delete(want, string(k))
				return nil
			})
			if err != nil {
				return err
			}
		}
		for k := range want {
			if !exists([]byte(k)) {
				problem("index entry %q is missing", k)
			}
		}
		if !countersEqual(stats, reg.stats) {
			a, _ := json.Marshal(reg.stats)
			b, _ := json.Marshal(stats)
			problem("counters %s do not match the data %s", a, b)
		}
		return checkAPIKeys(txn, problem)
	})
	return rep, err
}

func countersEqual(a, b counters) bool {
	if !maps.Equal(a.Relationships, b.Relationships) || len(a.Entities) != len(b.Entities) {
		return false
	}
	for k, m := range a.Entities {
		if !maps.Equal(m, b.Entities[k]) {
			return false
		}
	}
	return true
}

// scan calls fn for every key and value of one family.
func scan(ctx context.Context, txn *badger.Txn, fam byte, fn func(k, v []byte) error) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{fam}, PrefetchValues: true, PrefetchSize: 256})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		item := it.Item()
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		if err := fn(item.KeyCopy(nil), v); err != nil {
			return err
		}
	}
	return nil
}
