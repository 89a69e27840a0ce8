package graph

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"google.golang.org/protobuf/proto"
)

// The deletion journal. Badger drops a deletion marker once compaction has nothing older
// left for it to hide, after which an incremental backup (the key versions written since
// the previous one) would not carry the deletion, and a store restored from the full
// backup and the incremental ones would still hold the deleted keys. So every write that
// deletes keys also records them, in its own transaction, under J·store version
// (journalKey): an ordinary key with the write's Badger version, in every incremental
// backup taken after it. Restore turns the entries an incremental backup brings into
// deletion markers at their versions (restoreDeletions).
//
// Entries older than Options.JournalRetention are pruned (PruneJournal, from the store's
// maintenance loop); Mjournal/pruned keeps the highest Badger version pruned, and an
// incremental backup since an older version is refused, since it could miss deletions.
//
// An entry's value: 0x01 · the write's time in unix seconds (uvarint) · the deleted keys,
// each as its length (uvarint) and its bytes.

// DefaultJournalRetention is how long `lodestone serve` keeps the deletion journal's
// entries by default (Options.JournalRetention): an incremental backup must follow the
// previous one within it.
const DefaultJournalRetention = 30 * 24 * time.Hour

const journalFormat = 0x01

var metaJournalPruned = []byte("Mjournal/pruned")

// journalKey is the deletion journal's key for the write that created store version v.
func journalKey(v uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{famJournal}, v)
}

// encodeJournal encodes the journal entry of a write made at `at` that deleted keys.
func encodeJournal(at time.Time, keys [][]byte) []byte {
	n := 1 + binary.MaxVarintLen64
	for _, k := range keys {
		n += binary.MaxVarintLen32 + len(k)
	}
	out := binary.AppendUvarint(append(make([]byte, 0, n), journalFormat), uint64(max(at.Unix(), 0)))
	for _, k := range keys {
		out = append(binary.AppendUvarint(out, uint64(len(k))), k...)
	}
	return out
}

// decodeJournal returns the time and the keys of a journal entry (the keys are slices of
// b), or false when b is not one.
func decodeJournal(b []byte) (at int64, keys [][]byte, ok bool) {
	if len(b) == 0 || b[0] != journalFormat {
		return 0, nil, false
	}
	secs, w := binary.Uvarint(b[1:])
	if w <= 0 || secs > 1<<62 {
		return 0, nil, false
	}
	b = b[1+w:]
	for len(b) > 0 {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return 0, nil, false
		}
		keys = append(keys, b[w:w+int(n)])
		b = b[w+int(n):]
	}
	return int64(secs), keys, true
}

// readJournalEntry decodes the journal entry under it (its keys are copies).
func readJournalEntry(item *badger.Item) (at int64, keys [][]byte, err error) {
	err = item.Value(func(v []byte) error {
		var ok bool
		if at, keys, ok = decodeJournal(v); !ok {
			return fmt.Errorf("graph: deletion journal entry %x is damaged", item.Key())
		}
		for i := range keys {
			keys[i] = bytes.Clone(keys[i])
		}
		return nil
	})
	return at, keys, err
}

// journalPrunedThrough returns the highest Badger version whose journal entries may have
// been pruned (0: none).
func journalPrunedThrough(txn *badger.Txn) (uint64, error) {
	item, err := txn.Get(metaJournalPruned)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var v uint64
	err = item.Value(func(b []byte) error {
		if len(b) != 8 {
			return fmt.Errorf("graph: %s holds %d bytes, want 8", metaJournalPruned, len(b))
		}
		v = binary.BigEndian.Uint64(b)
		return nil
	})
	return v, err
}

// pruneJournalBatch caps the entries one pruning transaction deletes, well inside
// Badger's limit on one transaction even with the in-memory store's 8 MiB memtable.
const pruneJournalBatch = 1000

// PruneJournal deletes the journal entries of writes made before cutoff, oldest first,
// and raises Mjournal/pruned to the highest Badger version among them. Entries follow
// store versions, hence time, so it stops at the first entry at or after cutoff. It holds
// the write lock; the store version does not change (nothing of the graph does). It
// returns how many entries it deleted.
func (s *Store) PruneJournal(cutoff time.Time) (int, error) {
	// Most calls find nothing to prune: look first without the write lock, which retires
	// the read cache.
	if due, err := s.journalDue(cutoff); err != nil || !due {
		return 0, err
	}
	total := 0
	for {
		n, more, err := s.pruneJournalOnce(cutoff)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// journalDue reports whether the oldest journal entry was written before cutoff.
func (s *Store) journalDue(cutoff time.Time) (bool, error) {
	if s.closed.Load() {
		return false, ErrClosed
	}
	due := false
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{famJournal}})
		defer it.Close()
		it.Rewind()
		if !it.Valid() {
			return nil
		}
		at, _, err := readJournalEntry(it.Item())
		due = time.Unix(at, 0).Before(cutoff)
		return err
	})
	return due, err
}

func (s *Store) pruneJournalOnce(cutoff time.Time) (n int, more bool, err error) {
	defer s.lockWrites()()
	if s.closed.Load() {
		return 0, false, ErrClosed
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	through, err := journalPrunedThrough(txn)
	if err != nil {
		return 0, false, err
	}
	var doomed [][]byte
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{famJournal}})
	for it.Rewind(); it.Valid() && len(doomed) < pruneJournalBatch; it.Next() {
		item := it.Item()
		at, _, err := readJournalEntry(item)
		if err != nil {
			it.Close()
			return 0, false, err
		}
		if !time.Unix(at, 0).Before(cutoff) {
			break
		}
		doomed = append(doomed, item.KeyCopy(nil))
		through = max(through, item.Version())
	}
	more = it.Valid() && len(doomed) == pruneJournalBatch
	it.Close()
	if len(doomed) == 0 {
		return 0, false, nil
	}
	for _, k := range doomed {
		if err := txn.Delete(k); err != nil {
			return 0, false, err
		}
	}
	if err := txn.Set(metaJournalPruned, binary.BigEndian.AppendUint64(nil, through)); err != nil {
		return 0, false, err
	}
	if err := txn.Commit(); err != nil {
		return 0, false, err
	}
	return len(doomed), more, nil
}

// CheckBackupSince returns EINVALID when an incremental backup since `since` could miss
// deletions because the deletion journal's entries after it were pruned (Backup checks
// it too, before and after it streams).
func (s *Store) CheckBackupSince(since uint64) error {
	if since == 0 {
		return nil
	}
	var through uint64
	err := s.db.View(func(txn *badger.Txn) (err error) {
		through, err = journalPrunedThrough(txn)
		return err
	})
	if err != nil {
		return err
	}
	if since < through {
		return Errorf(EINVALID, "an incremental backup since %d could miss deletions: the deletion journal no longer holds the writes up to %d (pruned after `lodestone serve --journal-retention`); take a full backup", since, through)
	}
	return nil
}

// restoreDeletions writes, for every deletion journal entry at a Badger version above
// since, a deletion marker for each key it lists at that version: an incremental backup
// taken after compaction dropped a deletion's markers still brings the journal entry, and
// the restored store then hides the deleted keys as the original did. A key written again
// later keeps its later version. The markers go to Badger's loader as a backup stream
// (length-prefixed KVLists of up to 1,000), written by a second goroutine as it reads the
// journal, so a month of deletions is never held in memory at once.
func (s *Store) restoreDeletions(since uint64) error {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(s.writeDeletionMarkers(pw, since))
	}()
	err := s.db.Load(pr, 16)
	pr.CloseWithError(err) // stops the writer if Load gave up first
	return err
}

// writeDeletionMarkers writes to w, as Badger's backup stream, the deletion markers of
// the journal entries at Badger versions above since.
func (s *Store) writeDeletionMarkers(w io.Writer, since uint64) error {
	list := &pb.KVList{}
	flush := func() error {
		if len(list.Kv) == 0 {
			return nil
		}
		raw, err := proto.Marshal(list)
		if err != nil {
			return err
		}
		if _, err := w.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(raw)))); err != nil {
			return err
		}
		_, err = w.Write(raw)
		list = &pb.KVList{}
		return err
	}
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{famJournal}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if item.Version() <= since {
				continue
			}
			_, keys, err := readJournalEntry(item)
			if err != nil {
				return err
			}
			for _, k := range keys {
				list.Kv = append(list.Kv, &pb.KV{Key: k, Version: item.Version(), Meta: []byte{badgerBitDelete}})
			}
			if len(list.Kv) >= 1000 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return flush()
	})
}

// badgerBitDelete is Badger's bitDelete (value.go): the meta bit of a deletion marker, as
// its backups carry them.
const badgerBitDelete = 1 << 0
