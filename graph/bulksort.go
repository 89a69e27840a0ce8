package graph

import "slices"

// sortRun sorts the pairs of b listed in run in key order. A run already in order (the
// node and relationship families, numbered in the order they are added) is left as it is;
// any other is sorted by an in-place most-significant-byte radix sort on the 16 prefix
// bytes of each sortKey (hi, then lo), whose buckets of few pairs (or of pairs that share
// the whole prefix) are sorted by comparison. Against a comparison sort of the whole run this does a few
// counting and moving passes instead of some 23 levels of comparisons.
func sortRun(b *kvBuf, run []sortKey) {
	less := func(x, y sortKey) int { return compareKeys(b, &x, b, &y) }
	if slices.IsSortedFunc(run, less) {
		return
	}
	radixSortRun(run, 0, less)
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

// radixSortRun sorts run, whose pairs share the first digit bytes of their prefix.
func radixSortRun(run []sortKey, digit int, less func(x, y sortKey) int) {
	for {
		if len(run) <= radixSortMin || digit == 16 {
			slices.SortFunc(run, less)
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
				radixSortRun(run[start:start+n], digit+1, less)
			}
			start += n
		}
		return
	}
}
