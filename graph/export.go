package graph

import (
	"context"
	"encoding/json"

	"github.com/dgraph-io/badger/v4"
)

// Export calls emit for every record of the store, from one consistent snapshot: all
// sources, then all entities, then all relationships, each in store order. This is the
// order BulkLoad and import need, so Export → BulkLoad reproduces the graph. Export
// stops at the first error from emit or ctx.
func (s *Store) Export(ctx context.Context, emit func(Record) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	return s.db.View(func(txn *badger.Txn) error {
		for _, fam := range []byte{famSource, famNode, famRel} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{fam}, PrefetchValues: true, PrefetchSize: 256})
			for it.Rewind(); it.Valid(); it.Next() {
				if err := ctx.Err(); err != nil {
					it.Close()
					return err
				}
				var rec Record
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
						_, _, _, r, err := decodeRelationship(b)
						rec.Relationship = r
						return err
					}
				})
				if err == nil {
					err = emit(rec)
				}
				if err != nil {
					it.Close()
					return err
				}
			}
			it.Close()
		}
		return nil
	})
}
