package graph

// nodeIndex maps NodeIDs to int32 values of at least -1. It starts as a Go map and, once
// it holds nodeIndexDenseAfter entries, moves to a slice indexed by NodeID when that
// slice would be small enough: NodeIDs come from a counter, so a search that has reached
// that many entities has usually touched a good part of the id range, and a slice lookup
// costs a fraction of a map's (a breadth-first search looks up every arc it scans). The
// slice never has more than nodeIndexSlotsPerEntry slots per entry, so its memory grows
// with the entries, not with the store; NodeIDs beyond it stay in the map. It grows
// geometrically, and takes over the map's entries it comes to cover.
// The zero value is empty and ready to use.
type nodeIndex struct {
	m       map[NodeID]int32
	dense   []int32 // value + 2 at dense[n]; 0: absent
	count   int     // entries, in m and dense
	nextTry int     // map size at which to try the slice again
}

const (
	nodeIndexDenseAfter = 1 << 14
	// nodeIndexSlotsPerEntry bounds the slice at 128 bytes per entry (a map entry takes
	// some 20): 1 MiB per 8,192 entities reached.
	nodeIndexSlotsPerEntry = 32
)

func (x *nodeIndex) get(n NodeID) (int32, bool) {
	if n < NodeID(len(x.dense)) {
		if v := x.dense[n]; v != 0 {
			return v - 2, true
		}
		return 0, false
	}
	v, ok := x.m[n]
	return v, ok
}

// put maps n, which x does not hold yet, to v.
func (x *nodeIndex) put(n NodeID, v int32) {
	x.count++
	if n < NodeID(len(x.dense)) {
		x.dense[n] = v + 2
		return
	}
	if x.dense != nil && x.fits(n) {
		// Grow by at least a quarter, or not at all: near the slot bound, growing just
		// enough for n would copy the whole slice again for almost every entry.
		size := min(max(n+1, NodeID(len(x.dense))*2), x.slots())
		if size >= NodeID(len(x.dense))*5/4 {
			grown := make([]int32, size)
			copy(grown, x.dense)
			x.dense = grown
			x.dense[n] = v + 2
			// get looks below len(dense) in the slice only: move what the map holds there.
			for k, val := range x.m {
				if k < size {
					x.dense[k] = val + 2
					delete(x.m, k)
				}
			}
			return
		}
	}
	if x.m == nil {
		x.m = make(map[NodeID]int32, 64)
	}
	x.m[n] = v
	if x.dense == nil && len(x.m) >= max(nodeIndexDenseAfter, x.nextTry) {
		x.nextTry = 2 * len(x.m)
		x.tryDense()
	}
}

// remove unmaps n, which x holds.
func (x *nodeIndex) remove(n NodeID) {
	x.count--
	if n < NodeID(len(x.dense)) {
		x.dense[n] = 0
		return
	}
	delete(x.m, n)
}

func (x *nodeIndex) slots() NodeID      { return NodeID(nodeIndexSlotsPerEntry) * NodeID(x.count) }
func (x *nodeIndex) fits(n NodeID) bool { return n < x.slots() }

// tryDense moves the map's entries whose NodeIDs fit into a slice, when at least half of
// them do; the others stay in the map.
func (x *nodeIndex) tryDense() {
	var top NodeID
	fitting := 0
	for n := range x.m {
		if x.fits(n) {
			top = max(top, n)
			fitting++
		}
	}
	if 2*fitting < len(x.m) {
		return
	}
	x.dense = make([]int32, top+1)
	for n, v := range x.m {
		if n <= top {
			x.dense[n] = v + 2
			delete(x.m, n)
		}
	}
}
