package graph

import "hash/maphash"

// idIndex maps the ids of a bulk load to the numbers 1, 2, 3… given in insertion order,
// without a pointer per id: a map[string]T of millions of ids made every garbage
// collection of a 1 M-company load visit millions of small strings. It is an
// open-addressing hash table with linear probing whose slots hold an id's 64-bit hash and
// number and where the id's bytes are, outside the Go heap on huge pages where the
// platform allows (offHeap): a Go map of millions of entries took some 400 ns an
// operation at 1 M companies, most of it TLB and cache misses on 4 KiB pages. The ids' bytes are kept in one arena, in number order,
// to tell apart ids of equal hash (astronomically rare), which simply take further slots.
// Call release when done.
type idIndex struct {
	hash  func(string) uint64
	slots []idSlot // len is a power of two; n == 0 marks a free slot
	mem   offHeap  // holds slots
	used  int      // slots taken
	arena []byte   // the ids in number order
	ends  []uint64 // ends[n-1] is where the id numbered n ends in arena
}

// idSlot is one slot of an idIndex: the id numbered n is arena[off:off+size], so that
// telling ids of equal hash apart reads the arena only. (A uint32 number and size bound
// a load to 4 G ids of 4 GiB each, far beyond what memory holds.)
type idSlot struct {
	hash uint64
	off  uint64
	n    uint32
	size uint32
}

// idIndexMinSlots is the size of a new index's table; it doubles when 3/4 full.
const idIndexMinSlots = 1 << 12

func newIDIndex() *idIndex {
	seed := maphash.MakeSeed()
	return &idIndex{hash: func(id string) uint64 { return maphash.String(seed, id) }}
}

// id returns the id numbered n.
func (x *idIndex) id(n uint64) string {
	start := uint64(0)
	if n > 1 {
		start = x.ends[n-2]
	}
	return string(x.arena[start:x.ends[n-1]])
}

// find returns the number of id and its slot, or 0 and the free slot where it would go.
func (x *idIndex) find(id string, h uint64) (n uint64, slot int) {
	mask := len(x.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.n == 0 {
			return 0, i
		}
		if s.hash == h && int(s.size) == len(id) && string(x.arena[s.off:s.off+uint64(s.size)]) == id {
			return uint64(s.n), i
		}
	}
}

// get returns the number of id, or 0.
func (x *idIndex) get(id string) uint64 {
	if len(x.slots) == 0 {
		return 0
	}
	n, _ := x.find(id, x.hash(id))
	return n
}

// add numbers id with the next number and returns it; false (and id's number) when id
// is already in.
func (x *idIndex) add(id string) (uint64, bool) {
	if 4*(x.used+1) > 3*len(x.slots) {
		x.grow()
	}
	h := x.hash(id)
	old, slot := x.find(id, h)
	if old != 0 {
		return old, false
	}
	n := uint64(len(x.ends)) + 1
	x.slots[slot] = idSlot{hash: h, off: uint64(len(x.arena)), n: uint32(n), size: uint32(len(id))}
	x.used++
	x.arena = append(x.arena, id...)
	x.ends = append(x.ends, uint64(len(x.arena)))
	return n, true
}

// grow doubles the table (or makes the first one) and moves every slot into it.
func (x *idIndex) grow() {
	var mem offHeap
	slots := allocSlice[idSlot](&mem, max(idIndexMinSlots, 2*len(x.slots)))
	mask := len(slots) - 1
	for _, s := range x.slots {
		if s.n == 0 {
			continue
		}
		i := int(s.hash) & mask
		for slots[i].n != 0 {
			i = (i + 1) & mask
		}
		slots[i] = s
	}
	x.mem.free()
	x.slots, x.mem = slots, mem
}

// release gives back the table's memory; x is empty afterwards.
func (x *idIndex) release() {
	x.mem.free()
	x.slots, x.used, x.arena, x.ends = nil, 0, nil, nil
}
