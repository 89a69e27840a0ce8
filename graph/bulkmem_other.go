//go:build !linux

package graph

// mapMemory returns n zeroed bytes of the Go heap (off-heap memory is Linux-only).
func mapMemory(n int) []byte { return make([]byte, n) }

// unmapMemory leaves m to the garbage collector.
func unmapMemory(m []byte) {}

// remapMemory returns a copy of m grown to n bytes.
func remapMemory(m []byte, n int) []byte {
	grown := make([]byte, n)
	copy(grown, m)
	return grown
}
