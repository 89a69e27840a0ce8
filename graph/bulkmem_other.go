//go:build !linux

package graph

// mapMemory returns n zeroed bytes of the Go heap (off-heap memory is Linux-only).
func mapMemory(n int) []byte { return make([]byte, n) }

// unmapMemory leaves m to the garbage collector.
func unmapMemory(m []byte) {}
