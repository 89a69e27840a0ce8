package graph

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"runtime"
	"slices"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/ristretto/v2/z"
)

// The second half of StreamLoad: every worker has filled one kvBuf per key family; each
// family is sorted run by run, the runs merged, and the pairs handed to Badger's
// StreamWriter as one stream per family (families never overlap: each starts with its
// own byte).

// kvBuf holds key-value pairs in blocks (a pair never spans two), so that growing the
// buffer never copies what it holds. Blocks start small and double up to kvBlockSize.
type kvBuf struct {
	blocks  [][]byte
	entries []kvEntry
}

type kvEntry struct {
	block      int32
	off        int32
	klen, vlen uint32
}

const kvBlockSize = 16 << 20

func (b *kvBuf) key(e kvEntry) []byte { return b.blocks[e.block][e.off : e.off+int32(e.klen)] }
func (b *kvBuf) val(e kvEntry) []byte {
	return b.blocks[e.block][e.off+int32(e.klen) : e.off+int32(e.klen)+int32(e.vlen)]
}

func (b *kvBuf) add(k, v []byte) {
	n := len(k) + len(v)
	last := len(b.blocks) - 1
	if last < 0 || len(b.blocks[last])+n > cap(b.blocks[last]) {
		size := 64 << 10
		if last >= 0 {
			size = min(kvBlockSize, 2*cap(b.blocks[last]))
		}
		b.blocks = append(b.blocks, make([]byte, 0, max(size, n)))
		last++
	}
	blk := b.blocks[last]
	b.entries = append(b.entries, kvEntry{block: int32(last), off: int32(len(blk)), klen: uint32(len(k)), vlen: uint32(len(v))})
	b.blocks[last] = append(append(blk, k...), v...)
}

// familyBufs holds one worker's pairs, one kvBuf per key family.
type familyBufs struct {
	fams [256]*kvBuf
}

func (f *familyBufs) add(fam byte, k, v []byte) {
	b := f.fams[fam]
	if b == nil {
		b = &kvBuf{}
		f.fams[fam] = b
	}
	b.add(k, v)
}

// sortKey orders one pair of a kvBuf: hi and lo hold key bytes 1–16 (after the family
// byte), zero-padded, so that most comparisons never touch the arena. When the prefixes
// differ their order is the keys' byte order; when they are equal the keys decide.
type sortKey struct {
	hi, lo uint64
	e      kvEntry
}

func newSortKey(k []byte, e kvEntry) sortKey {
	if len(k) >= 17 {
		return sortKey{binary.BigEndian.Uint64(k[1:9]), binary.BigEndian.Uint64(k[9:17]), e}
	}
	var p [16]byte
	copy(p[:], k[1:])
	return sortKey{binary.BigEndian.Uint64(p[:8]), binary.BigEndian.Uint64(p[8:]), e}
}

// comparePrefix compares the prefixes of x and y.
func comparePrefix(x, y *sortKey) int {
	if x.hi != y.hi {
		return cmp.Compare(x.hi, y.hi)
	}
	return cmp.Compare(x.lo, y.lo)
}

// sortedRun returns b's pairs in key order and drops b's entry list.
func (b *kvBuf) sortedRun() []sortKey {
	run := make([]sortKey, len(b.entries))
	for i, e := range b.entries {
		run[i] = newSortKey(b.key(e), e)
	}
	b.entries = nil
	slices.SortFunc(run, func(x, y sortKey) int {
		if c := comparePrefix(&x, &y); c != 0 {
			return c
		}
		return bytes.Compare(b.key(x.e), b.key(y.e))
	})
	return run
}

// streamFamily is one family's pairs, one kvBuf per worker.
type streamFamily struct {
	fam   byte
	bufs  []*kvBuf
	pairs int
}

// streamFamilies gathers the families of every worker's buffers plus extra ones (meta
// and sources), largest first so that the longest job starts first.
func streamFamilies(workers []*familyBufs, extra map[byte]*kvBuf) []*streamFamily {
	var byFam [256]*streamFamily
	var out []*streamFamily
	add := func(fam byte, b *kvBuf) {
		if b == nil || len(b.entries) == 0 {
			return
		}
		sf := byFam[fam]
		if sf == nil {
			sf = &streamFamily{fam: fam}
			byFam[fam] = sf
			out = append(out, sf)
		}
		sf.bufs = append(sf.bufs, b)
		sf.pairs += len(b.entries)
	}
	for _, fb := range workers {
		for fam, b := range fb.fams {
			add(byte(fam), b)
		}
	}
	for fam, b := range extra {
		add(fam, b)
	}
	slices.SortFunc(out, func(a, b *streamFamily) int { return cmp.Or(cmp.Compare(b.pairs, a.pairs), cmp.Compare(a.fam, b.fam)) })
	return out
}

// streamVersion is the Badger version of every bulk-loaded key.
const streamVersion = 1

// writeFamilies sorts and writes every family through one StreamWriter, at most
// GOMAXPROCS families at a time, and flushes it. On error the writer is cancelled.
func (s *Store) writeFamilies(fams []*streamFamily) error {
	sw := s.db.NewStreamWriter()
	if err := sw.Prepare(); err != nil {
		sw.Cancel()
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(fams))
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	for i, sf := range fams {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = sf.write(sw, uint32(i+1))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		sw.Cancel()
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if err := s.db.Sync(); err != nil && !errors.Is(err, badger.ErrInvalidRequest) {
		return err
	}
	return nil
}

// write sorts sf's runs and merges them into stream streamID. A key that appears twice
// (an entity listing the same identifier twice) is written once, as Apply would.
func (sf *streamFamily) write(sw *badger.StreamWriter, streamID uint32) error {
	runs := make([][]sortKey, len(sf.bufs))
	for i, b := range sf.bufs {
		runs[i] = b.sortedRun()
	}
	buf := z.NewBuffer(8<<20, "lodestone.StreamLoad")
	defer buf.Release()
	var last []byte
	for {
		best := -1
		for i, run := range runs {
			if len(run) == 0 {
				continue
			}
			if best < 0 {
				best = i
				continue
			}
			c := comparePrefix(&run[0], &runs[best][0])
			if c == 0 {
				c = bytes.Compare(sf.bufs[i].key(run[0].e), sf.bufs[best].key(runs[best][0].e))
			}
			if c < 0 {
				best = i
			}
		}
		if best < 0 {
			break
		}
		b, e := sf.bufs[best], runs[best][0].e
		runs[best] = runs[best][1:]
		k := b.key(e)
		if last != nil && bytes.Equal(k, last) {
			continue
		}
		last = k
		appendKV(buf, k, b.val(e), streamID)
		if buf.LenNoPadding() > 4<<20 {
			if err := sw.Write(buf); err != nil {
				return err
			}
			buf.Reset()
		}
	}
	if buf.LenNoPadding() > 0 {
		return sw.Write(buf)
	}
	return nil
}

// appendKV appends one pair to buf as the protobuf pb.KV{Key, Value, Version:
// streamVersion, StreamId} that badger.KVToBuffer would write, without proto.Marshal's
// reflection (a third of the write path's CPU before).
func appendKV(buf *z.Buffer, key, val []byte, streamID uint32) {
	const (
		tagKey      = 1<<3 | 2
		tagValue    = 2<<3 | 2
		tagVersion  = 4<<3 | 0
		tagStreamID = 10<<3 | 0
	)
	n := 1 + uvarintLen(uint64(len(key))) + len(key) + 2 + 1 + uvarintLen(uint64(streamID))
	if len(val) > 0 {
		n += 1 + uvarintLen(uint64(len(val))) + len(val)
	}
	dst := buf.SliceAllocate(n)[:0]
	dst = append(dst, tagKey)
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	dst = append(dst, key...)
	if len(val) > 0 {
		dst = append(dst, tagValue)
		dst = binary.AppendUvarint(dst, uint64(len(val)))
		dst = append(dst, val...)
	}
	dst = append(dst, tagVersion, streamVersion, tagStreamID)
	binary.AppendUvarint(dst, uint64(streamID)) // fills dst's n bytes exactly (TestAppendKV)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
