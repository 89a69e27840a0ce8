package graph

import "unsafe"

// offHeap hands out pointer-free memory for a bulk load's buffers outside the Go heap
// (on Linux: anonymous mappings backed by transparent huge pages where the kernel allows
// them), and gives all of it back at once with free. Held in the Go heap, the 1 M-company
// load's few GiB of keys, values and sort keys made the heap grow to twice that before
// each collection and the kernel fault in every 4 KiB page of it; a third of the load's
// CPU time was spent in the kernel.
//
// Nothing may refer to memory of an offHeap after free: callers copy out what they keep
// (Badger's StreamWriter.Write copies every key and value it is given).
type offHeap struct {
	maps [][]byte // what mapMemory returned, for unmapMemory
}

// hugePage is the size and alignment that lets the kernel back a mapping with huge pages.
const hugePage = 2 << 20

// alloc returns n zeroed bytes that stay valid until free.
func (o *offHeap) alloc(n int) []byte {
	if n < hugePage {
		m := mapMemory(n)
		o.maps = append(o.maps, m)
		return m[:n:n]
	}
	// Map one huge page more than rounded-up n and start at its first huge-page boundary,
	// so that every 2 MiB of what is used can be a huge page.
	size := (n + hugePage - 1) &^ (hugePage - 1)
	m := mapMemory(size + hugePage)
	o.maps = append(o.maps, m)
	start := int(-uintptr(unsafe.Pointer(unsafe.SliceData(m))) & (hugePage - 1))
	return m[start : start+n : start+n]
}

// free gives back everything alloc returned; o can be used again afterwards.
func (o *offHeap) free() {
	for _, m := range o.maps {
		unmapMemory(m)
	}
	o.maps = nil
}

// allocSlice returns a zeroed []T of length n from o; T must hold no pointers.
func allocSlice[T any](o *offHeap, n int) []T {
	if n == 0 {
		return nil
	}
	var zero T
	b := o.alloc(n * int(unsafe.Sizeof(zero)))
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// growSlice is an append-only []T outside the Go heap that grows without copying where
// the platform can move pages instead (Linux mremap); T must hold no pointers.
type growSlice[T any] struct {
	mem []byte // the whole mapping, for remapMemory and unmapMemory
	s   []T
}

// append adds v, growing the mapping to twice its size when full.
func (g *growSlice[T]) append(v T) {
	if len(g.s) == cap(g.s) {
		var zero T
		size := max(64<<10, 2*len(g.mem))
		g.mem = remapMemory(g.mem, size)
		g.s = unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(g.mem))), size/int(unsafe.Sizeof(zero)))[:len(g.s)]
	}
	g.s = append(g.s, v)
}

// free gives the memory back; g is empty afterwards.
func (g *growSlice[T]) free() {
	if g.mem != nil {
		unmapMemory(g.mem)
	}
	*g = growSlice[T]{}
}
