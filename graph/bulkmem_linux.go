package graph

import "golang.org/x/sys/unix"

// mapMemory returns n zeroed bytes of a private anonymous mapping that the kernel may
// back with transparent huge pages (MADV_HUGEPAGE: on machines where THP is "madvise",
// as most are, the Go heap gets 4 KiB pages only). When mapping fails it falls back to
// the Go heap.
func mapMemory(n int) []byte {
	m, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return make([]byte, n)
	}
	if n >= hugePage {
		_ = unix.Madvise(m, unix.MADV_HUGEPAGE) // a hint: without it the memory still works
	}
	return m
}

// unmapMemory gives back what mapMemory returned.
func unmapMemory(m []byte) {
	_ = unix.Munmap(m) // fails only for memory of the Go heap fallback, which the GC frees
}

// remapMemory returns m, a mapMemory mapping (or nil), grown to n bytes that keep m's
// contents: the kernel moves m's pages rather than copying them.
func remapMemory(m []byte, n int) []byte {
	if m == nil {
		return mapMemory(n)
	}
	grown, err := unix.Mremap(m, n, unix.MREMAP_MAYMOVE)
	if err != nil {
		grown = mapMemory(n)
		copy(grown, m)
		unmapMemory(m)
		return grown
	}
	if n >= hugePage {
		_ = unix.Madvise(grown, unix.MADV_HUGEPAGE)
	}
	return grown
}
