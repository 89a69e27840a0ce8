package graph

import (
	"bytes"
	"testing"
)

// TestRelationshipKeys checks the one encoder of a relationship's keys against the
// documented layout: E · rid, O · from · typ · to · rid, I · to · typ · from · rid.
func TestRelationshipKeys(t *testing.T) {
	rid, from, typ, to := RelID(7), NodeID(3), uint16(2), NodeID(5)
	k := relationshipKeys(rid, from, typ, to)
	if got, want := k.rec, relKey(rid); !bytes.Equal(got, want) {
		t.Errorf("relationshipKeys(%d, %d, %d, %d).rec = %x, want %x", rid, from, typ, to, got, want)
	}
	for _, c := range []struct {
		name string
		key  []byte
		fam  byte
		a, b NodeID
	}{{"out", k.out, famOut, from, to}, {"in", k.in, famIn, to, from}} {
		a, ty, b, r, ok := parseAdjKey(c.key)
		if !ok || c.key[0] != c.fam || a != c.a || ty != typ || b != c.b || r != rid {
			t.Errorf("%s key %x = fam %c, %d, %d, %d, %d (ok %v), want fam %c, %d, %d, %d, %d", c.name, c.key, c.key[0], a, ty, b, r, ok, c.fam, c.a, typ, c.b, rid)
		}
	}
	if got := len(k.all()); got != 3 {
		t.Errorf("len(all()) = %d, want 3", got)
	}
}
