package graph

import (
	"fmt"
	"testing"
)

// TestIDIndex: ids are numbered in insertion order, found again, and refused when
// repeated, also when two ids share a hash (forced here by a constant-hash index).
func TestIDIndex(t *testing.T) {
	x := newIDIndex()
	for i := range 1000 {
		if n, ok := x.add(fmt.Sprintf("id-%d", i)); !ok || n != uint64(i+1) {
			t.Fatalf("add(id-%d) = %d, %v", i, n, ok)
		}
	}
	if n, ok := x.add("id-17"); ok || n != 18 {
		t.Errorf("repeated add(id-17) = %d, %v; want 18, false", n, ok)
	}
	if x.get("id-999") != 1000 || x.get("id-1000") != 0 || x.get("") != 0 {
		t.Errorf("get = %d, %d, %d", x.get("id-999"), x.get("id-1000"), x.get(""))
	}

	// Collisions: every id under one hash.
	c := newIDIndex()
	c.hash = func(string) uint64 { return 42 }
	for i, id := range []string{"a", "b", "c"} {
		if n, ok := c.add(id); !ok || n != uint64(i+1) {
			t.Fatalf("colliding add(%s) = %d, %v", id, n, ok)
		}
	}
	if n, ok := c.add("b"); ok || n != 2 {
		t.Errorf("repeated colliding add(b) = %d, %v; want 2, false", n, ok)
	}
	if c.get("a") != 1 || c.get("c") != 3 || c.get("d") != 0 || c.id(2) != "b" {
		t.Errorf("colliding ids: get(a) = %d, get(c) = %d, get(d) = %d, id(2) = %q", c.get("a"), c.get("c"), c.get("d"), c.id(2))
	}
}
