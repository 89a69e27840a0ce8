package graph

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// sortRun sorts the pairs of b listed in run in key order. A run already in order (the
// node and relationship families, numbered in the order they are added) is left as it is;
// any other is sorted by an in-place most-significant-byte radix sort on the 16 prefix
// bytes of each sortKey (hi, then lo), whose buckets of few pairs are sorted by
// comparison. Against a comparison sort of the whole run this does a few counting and
// moving passes instead of some 23 levels of comparisons.
//
// Pairs that share all 16 prefix bytes (a search term of 8 letters or more and the high
// bytes of NodeIDs, which are 0: tens of thousands of term keys at a time at 1 M
// companies) are sorted the same way on the next 16 bytes of their keys, read once per
// pair, and so on: compared whole they were read from the buffers at random twice per
// comparison.
func sortRun(b *kvBuf, run []sortKey) {
	less := func(x, y sortKey) int { return compareKeys(b, &x, b, &y) }
	if slices.IsSortedFunc(run, less) {
		return
	}
	radixSortRun(b, run, 1, 0, less)
}

// radixSortMin is the size below which a bucket is sorted by comparison.
const radixSortMin = 64

// prefixByte returns byte i (0–15) of k's prefix.
func prefixByte(k *sortKey, i int) int {
	if i < 8 {
		return int(byte(k.hi >> (56 - 8*i)))
	}
	return int(byte(k.lo >> (56 - 8*(i-8))))
}

// radixSortRun sorts run, whose pairs share the first digit bytes of their prefix, which
// holds key bytes off to off+15. less orders two pairs by their prefix, then by their
// whole keys.
func radixSortRun(b *kvBuf, run []sortKey, off, digit int, less func(x, y sortKey) int) {
	for {
		if len(run) <= radixSortMin {
			slices.SortFunc(run, less)
			return
		}
		if digit == 16 {
			sortTiedRun(b, run, off+16)
			return
		}
		var count [256]int
		for i := range run {
			count[prefixByte(&run[i], digit)]++
		}
		if count[prefixByte(&run[0], digit)] == len(run) { // one bucket: on to the next byte
			digit++
			continue
		}
		// American flag sort: move every pair into its bucket by following cycles.
		var next, end [256]int
		sum := 0
		for c, n := range count {
			next[c] = sum
			sum += n
			end[c] = sum
		}
		for c := range 256 {
			for next[c] < end[c] {
				v := run[next[c]]
				for d := prefixByte(&v, digit); d != c; d = prefixByte(&v, digit) {
					v, run[next[d]] = run[next[d]], v
					next[d]++
				}
				run[next[c]] = v
				next[c]++
			}
		}
		start := 0
		for _, n := range count {
			if n > 1 {
				radixSortRun(b, run[start:start+n], off, digit+1, less)
			}
			start += n
		}
		return
	}
}

// sortTiedRun sorts run, whose keys all have the same bytes before off, zero-padded (a
// shorter key is then a prefix of the others), by radix on the 16 key bytes from off on: it puts those bytes in each
// sortKey's prefix while it sorts, and the shared prefix back afterwards. When no key
// is longer than off, the keys are compared whole.
func sortTiedRun(b *kvBuf, run []sortKey, off int) {
	hi, lo := run[0].hi, run[0].lo
	longer := false
	for i := range run {
		k := b.key(run[i].e)
		if len(k) > off {
			longer = true
		}
		run[i].hi, run[i].lo = keyBytesAt(k, off)
	}
	if longer {
		radixSortRun(b, run, off, 0, func(x, y sortKey) int {
			if c := comparePrefix(&x, &y); c != 0 {
				return c
			}
			return bytes.Compare(b.key(x.e), b.key(y.e))
		})
	} else {
		slices.SortFunc(run, func(x, y sortKey) int { return bytes.Compare(b.key(x.e), b.key(y.e)) })
	}
	for i := range run {
		run[i].hi, run[i].lo = hi, lo
	}
}

// keyBytesAt returns bytes off to off+15 of k, zero-padded, as a sortKey prefix.
func keyBytesAt(k []byte, off int) (hi, lo uint64) {
	var p [16]byte
	if off < len(k) {
		copy(p[:], k[off:])
	}
	return binary.BigEndian.Uint64(p[:8]), binary.BigEndian.Uint64(p[8:])
}
