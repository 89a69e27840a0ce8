package graph

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
	"sync/atomic"

	"github.com/dgraph-io/ristretto/v2/z"
)

// The second half of StreamLoad: every worker has filled one kvBuf per key family; each
// kvBuf is sorted into a run, and each family is cut into parts by key range whose runs
// are merged and handed to Badger's StreamWriter, one stream per part (bulkstream.go).
// Parts never overlap: families each start with their own byte, and a family's parts
// are cut at keys.

// kvBuf holds key-value pairs in blocks (a pair never spans two), so that growing the
// buffer never copies what it holds; blocks start small and double up to kvBlockSize.
// Beside them it lists every pair's sortKey, which sortedRun sorts in place. Blocks and
// keys live outside the Go heap (offHeap, growSlice) until release.
type kvBuf struct {
	mem    offHeap
	blocks [][]byte
	keys   growSlice[sortKey]
}

// kvEntry locates a pair of a kvBuf: at off in block are the key's length and the
// value's length as uvarints, then the key and the value. (Lengths in the block rather
// than here keep a sortKey at 24 bytes: 40 M of them are some 300 MiB less memory to
// fault in at 1 M companies.)
type kvEntry struct {
	block uint32
	off   uint32
}

const kvBlockSize = 16 << 20

// pair returns the key and value of e.
func (b *kvBuf) pair(e kvEntry) (k, v []byte) {
	return splitPair(b.blocks[e.block][e.off:])
}

// splitPair returns the key and value of the pair at the start of p.
func splitPair(p []byte) (k, v []byte) {
	klen, n := binary.Uvarint(p)
	vlen, m := binary.Uvarint(p[n:])
	p = p[n+m:]
	return p[:klen:klen], p[klen : klen+vlen : klen+vlen]
}

func (b *kvBuf) key(e kvEntry) []byte {
	k, _ := b.pair(e)
	return k
}

// len returns how many pairs b holds.
func (b *kvBuf) len() int { return len(b.keys.s) }

func (b *kvBuf) add(k, v []byte) {
	n := uvarintLen(uint64(len(k))) + uvarintLen(uint64(len(v))) + len(k) + len(v)
	last := len(b.blocks) - 1
	if last < 0 || len(b.blocks[last])+n > cap(b.blocks[last]) {
		size := 64 << 10
		if last >= 0 {
			size = min(kvBlockSize, 2*cap(b.blocks[last]))
		}
		b.blocks = append(b.blocks, b.mem.alloc(max(size, n))[:0])
		last++
	}
	blk := b.blocks[last]
	b.keys.append(newSortKey(k, kvEntry{block: uint32(last), off: uint32(len(blk))}))
	blk = binary.AppendUvarint(binary.AppendUvarint(blk, uint64(len(k))), uint64(len(v)))
	b.blocks[last] = append(append(blk, k...), v...)
}

// release gives back b's memory; b holds nothing afterwards.
func (b *kvBuf) release() {
	b.mem.free()
	b.keys.free()
	*b = kvBuf{}
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

// compareKeys compares pair x of bx with pair y of by.
func compareKeys(bx *kvBuf, x *sortKey, by *kvBuf, y *sortKey) int {
	if c := comparePrefix(x, y); c != 0 {
		return c
	}
	return bytes.Compare(bx.key(x.e), by.key(y.e))
}

// sortedRun sorts b's pairs in key order and returns them, in memory of b (valid until
// b.release).
func (b *kvBuf) sortedRun() []sortKey {
	sortRun(b, b.keys.s)
	return b.keys.s
}

// streamFamily is one family's pairs, one kvBuf per worker, and once sorted one run
// per kvBuf.
type streamFamily struct {
	fam   byte
	bufs  []*kvBuf
	runs  [][]sortKey
	pairs int
	left  atomic.Int32 // parts not written yet; the last one written releases bufs
}

// streamFamilies gathers the families of every worker's buffers plus extra ones (meta
// and sources), largest first so that the longest job starts first.
func streamFamilies(workers []*familyBufs, extra map[byte]*kvBuf) []*streamFamily {
	var byFam [256]*streamFamily
	var out []*streamFamily
	add := func(fam byte, b *kvBuf) {
		if b == nil || b.len() == 0 {
			return
		}
		sf := byFam[fam]
		if sf == nil {
			sf = &streamFamily{fam: fam}
			byFam[fam] = sf
			out = append(out, sf)
		}
		sf.bufs = append(sf.bufs, b)
		sf.pairs += b.len()
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

// appendStreamDone appends the pb.KV{StreamId, StreamDone: true} that closes stream
// streamID: Badger then finishes its last table at once instead of in Flush.
func appendStreamDone(buf *z.Buffer, streamID uint32) {
	const (
		tagStreamID   = 10<<3 | 0
		tagStreamDone = 11<<3 | 0
	)
	dst := buf.SliceAllocate(1 + uvarintLen(uint64(streamID)) + 2)[:0]
	dst = append(dst, tagStreamID)
	dst = binary.AppendUvarint(dst, uint64(streamID))
	_ = append(dst, tagStreamDone, 1)
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
