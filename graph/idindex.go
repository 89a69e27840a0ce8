package graph

import "hash/maphash"

// idIndex maps the ids of a bulk load to the numbers 1, 2, 3… given in insertion order,
// without a pointer per id: a map[string]T of millions of ids made every garbage
// collection of a 1 M-company load visit millions of small strings. It keys a
// map[uint64]uint64 by a 64-bit hash, keeps the ids' bytes in one arena to tell apart
// two ids of equal hash, and sends such (astronomically rare) ids to a small ordinary map.
type idIndex struct {
	hash   func(string) uint64
	byHash map[uint64]uint64 // hash → number
	other  map[string]uint64 // ids whose hash an earlier id already holds
	arena  []byte            // the ids in number order
	ends   []uint64          // ends[n-1] is where the id numbered n ends in arena
}

func newIDIndex() *idIndex {
	seed := maphash.MakeSeed()
	return &idIndex{hash: func(id string) uint64 { return maphash.String(seed, id) },
		byHash: map[uint64]uint64{}, other: map[string]uint64{}}
}

// id returns the id numbered n.
func (x *idIndex) id(n uint64) string { return string(x.bytes(n)) }

// bytes returns the bytes of the id numbered n, in the arena.
func (x *idIndex) bytes(n uint64) []byte {
	start := uint64(0)
	if n > 1 {
		start = x.ends[n-2]
	}
	return x.arena[start:x.ends[n-1]]
}

// is reports whether the id numbered n is id, without copying it.
func (x *idIndex) is(n uint64, id string) bool { return string(x.bytes(n)) == id }

// get returns the number of id, or 0.
func (x *idIndex) get(id string) uint64 {
	h := x.hash(id)
	n, ok := x.byHash[h]
	if !ok {
		return 0
	}
	if x.is(n, id) {
		return n
	}
	return x.other[id]
}

// add numbers id with the next number and returns it; false when id is already in.
func (x *idIndex) add(id string) (uint64, bool) {
	n := uint64(len(x.ends)) + 1
	h := x.hash(id)
	if prev, ok := x.byHash[h]; ok {
		if x.is(prev, id) {
			return prev, false
		}
		if old, ok := x.other[id]; ok {
			return old, false
		}
		x.other[id] = n
	} else {
		x.byHash[h] = n
	}
	x.arena = append(x.arena, id...)
	x.ends = append(x.ends, uint64(len(x.arena)))
	return n, true
}
