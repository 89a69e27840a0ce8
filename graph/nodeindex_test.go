package graph

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestNodeIndex checks nodeIndex against a map through its move to a slice, with NodeIDs
// small, large and beyond the slice's reach, and values including -1; the slice never
// holds more than nodeIndexSlotsPerEntry slots per entry.
func TestNodeIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var x nodeIndex
	ref := map[NodeID]int32{}
	for i := range 3 * nodeIndexDenseAfter {
		var n NodeID
		switch rng.IntN(10) {
		case 0:
			n = 1<<40 + NodeID(rng.IntN(1000))
		case 1:
			n = NodeID(rng.IntN(64))
		default:
			n = NodeID(rng.IntN(200_000))
		}
		if _, ok := ref[n]; ok {
			continue
		}
		v := int32(i) - 1
		x.put(n, v)
		ref[n] = v
		if len(x.dense) > nodeIndexSlotsPerEntry*len(ref) {
			t.Fatalf("after %d entries the slice has %d slots", len(ref), len(x.dense))
		}
		if i%97 == 0 {
			for m, want := range ref {
				if got, ok := x.get(m); !ok || got != want {
					t.Fatalf("after %d puts: get(%d) = %d, %v; want %d", i, m, got, ok, want)
				}
			}
		}
	}
	if x.dense == nil {
		t.Fatal("the index never moved to a slice")
	}
	// A search over a huge id range keeps its map: the slice would be too large.
	var sparse nodeIndex
	for i := range 2 * nodeIndexDenseAfter {
		sparse.put(NodeID(i)*1000, int32(i))
	}
	if sparse.dense != nil {
		t.Errorf("a sparse index moved to a slice of %d slots", len(sparse.dense))
	}
	if v, ok := sparse.get(5000); !ok || v != 5 {
		t.Errorf("sparse get(5000) = %d, %v", v, ok)
	}
	for m := NodeID(0); m < 200_100; m++ {
		want, in := ref[m]
		if got, ok := x.get(m); ok != in || got != want {
			t.Fatalf("get(%d) = %d, %v; want %d, %v", m, got, ok, want, in)
		}
	}
}

// TestNodeIndexGrowsGeometrically puts NodeIDs that rise just within the slice's slot
// bound, the order that once made every put copy the whole slice (gigabytes of garbage
// for a shortestPath through a hub): the bytes allocated must stay a small multiple of
// the final slice.
func TestNodeIndexGrowsGeometrically(t *testing.T) {
	const entries = 200_000
	var x nodeIndex
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	final := uint64(entries * nodeIndexSlotsPerEntry * 4)
	for i := range entries {
		x.put(NodeID(i*(nodeIndexSlotsPerEntry-1)), int32(i))
		if i%1000 == 999 || i == entries-1 { // fail fast: a quadratic growth never ends
			runtime.ReadMemStats(&after)
			if got := after.TotalAlloc - before.TotalAlloc; got > 6*final {
				t.Fatalf("putting %d entries allocated %d MiB; the final slice is at most %d MiB", i+1, got>>20, final>>20)
			}
		}
	}
	for i := range entries {
		if v, ok := x.get(NodeID(i * (nodeIndexSlotsPerEntry - 1))); !ok || v != int32(i) {
			t.Fatalf("entry %d: %d, %v", i, v, ok)
		}
	}
}
