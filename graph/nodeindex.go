package graph

// nodeIndex maps NodeIDs to int32 values of at least -1. It starts as a Go map and, once it holds
// nodeIndexDenseAfter entries, moves to a slice indexed by NodeID: NodeIDs come from a
// counter, so a search that has reached that many entities has touched a good part of
// the graph, and a slice lookup costs a fraction of a map's (a breadth-first search
// looks up every arc it scans). NodeIDs above nodeIndexDenseMax stay in the map.
// The zero value is empty and ready to use.
type nodeIndex struct {
	m     map[NodeID]int32
	dense []int32 // value + 2 at dense[n]; 0: absent
}

const (
	nodeIndexDenseAfter = 1 << 14
	nodeIndexDenseMax   = 1 << 26 // 256 MiB of slice at most
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

func (x *nodeIndex) put(n NodeID, v int32) {
	if x.dense != nil && n <= nodeIndexDenseMax {
		if n >= NodeID(len(x.dense)) {
			grown := make([]int32, max(n+1, NodeID(len(x.dense))*5/4))
			copy(grown, x.dense)
			x.dense = grown
		}
		x.dense[n] = v + 2
		return
	}
	if x.m == nil {
		x.m = make(map[NodeID]int32, 64)
	}
	x.m[n] = v
	if x.dense == nil && len(x.m) >= nodeIndexDenseAfter {
		x.toDense()
	}
}

// toDense moves the map's entries with NodeIDs up to nodeIndexDenseMax into the slice.
func (x *nodeIndex) toDense() {
	var top NodeID
	for n := range x.m {
		if n <= nodeIndexDenseMax {
			top = max(top, n)
		}
	}
	x.dense = make([]int32, top+1)
	for n, v := range x.m {
		if n <= nodeIndexDenseMax {
			x.dense[n] = v + 2
			delete(x.m, n)
		}
	}
}
