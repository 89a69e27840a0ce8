package graph

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"testing"
	"unsafe"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/ristretto/v2/z"
)

// TestAppendStreamDone: appendStreamDone writes the bytes badger.KVToBuffer writes for
// the KV that closes a stream.
func TestAppendStreamDone(t *testing.T) {
	for _, id := range []uint32{1, 127, 128, 1 << 20} {
		want, got := z.NewBuffer(1<<10, "test"), z.NewBuffer(1<<10, "test")
		badger.KVToBuffer(&pb.KV{StreamId: id, StreamDone: true}, want)
		appendStreamDone(got, id)
		if !bytes.Equal(want.Bytes(), got.Bytes()) {
			t.Errorf("appendStreamDone(%d) = %x, want %x", id, got.Bytes(), want.Bytes())
		}
		want.Release()
		got.Release()
	}
}

// TestSplitFamily: the parts of a family hold every pair once, in key ranges that follow
// one another without overlap, and every copy of a key (here keys that two runs share
// and keys that one run holds twice) falls in a single part.
func TestSplitFamily(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sf := &streamFamily{fam: famTerm}
	for range 3 {
		b := &kvBuf{}
		defer b.release()
		for j := range 1000 + rng.IntN(500) {
			// Short keys share their 16-byte sort prefix only with equal keys; long ones
			// share it with many others and must be told apart by their tails.
			k := fmt.Appendf(nil, "X%d", rng.IntN(400))
			if rng.IntN(2) == 0 {
				k = fmt.Appendf(nil, "Xsame-long-prefix-%d", rng.IntN(400))
			}
			b.add(k, bytes.Repeat([]byte("v"), j%300)) // values of one- and two-byte lengths
		}
		sf.bufs = append(sf.bufs, b)
		sf.pairs += b.len()
	}
	sf.runs = make([][]sortKey, len(sf.bufs))
	for i, b := range sf.bufs {
		sf.runs[i] = b.sortedRun()
		if !slices.IsSortedFunc(sf.runs[i], func(x, y sortKey) int { return bytes.Compare(b.key(x.e), b.key(y.e)) }) {
			t.Fatalf("run %d is not in key order", i)
		}
	}
	for _, maxPart := range []int{sf.pairs, 700, 100, 1} {
		parts := sf.split(maxPart)
		// Parts hold whole keys, so with maxPart 1 there is one part per distinct key of
		// the longest run rather than one per pair.
		if maxPart == sf.pairs && len(parts) != 1 || maxPart < sf.pairs && len(parts) < min(sf.pairs/maxPart, 300) {
			t.Errorf("split(%d) of %d pairs gave %d parts", maxPart, sf.pairs, len(parts))
		}
		total := 0
		var prevMax []byte
		for pi, p := range parts {
			var lo, hi []byte
			n := 0
			for i, run := range p.runs {
				n += len(run)
				for _, sk := range run {
					k := sf.bufs[i].key(sk.e)
					if lo == nil || bytes.Compare(k, lo) < 0 {
						lo = k
					}
					if hi == nil || bytes.Compare(k, hi) > 0 {
						hi = k
					}
				}
			}
			if n != p.pairs || n == 0 {
				t.Fatalf("split(%d): part %d holds %d pairs, says %d", maxPart, pi, n, p.pairs)
			}
			if prevMax != nil && bytes.Compare(prevMax, lo) >= 0 {
				t.Fatalf("split(%d): part %d starts at %q, not after the last key %q of the part before", maxPart, pi, lo, prevMax)
			}
			prevMax = hi
			total += n
		}
		if total != sf.pairs {
			t.Errorf("split(%d): parts hold %d pairs, want %d", maxPart, total, sf.pairs)
		}
	}
}

// TestStreamLoadSplitFamilies: with families split into many streams, StreamLoad still
// writes exactly what BulkLoad writes.
func TestStreamLoadSplitFamilies(t *testing.T) {
	defer func(old int) { minStreamPart = old }(minStreamPart)
	minStreamPart = 50
	ctx := context.Background()
	bulk := MustOpenStore(t)
	if _, err := bulk.BulkLoad(ctx, batchRecords(mediumGraph(2000)), nil); err != nil {
		t.Fatal(err)
	}
	stream := MustOpenStore(t)
	if _, err := stream.StreamLoad(ctx, batchRecords(mediumGraph(2000)), nil); err != nil {
		t.Fatal(err)
	}
	if want, got := dump(t, bulk), dump(t, stream); got != want {
		t.Fatalf("StreamLoad with split families and BulkLoad differ (%d vs %d bytes of dump)", len(got), len(want))
	}
	if rep, err := stream.Check(ctx); err != nil || len(rep.Problems) > 0 {
		t.Errorf("Check after StreamLoad = %+v, %v", rep, err)
	}
}

// TestOffHeap: off-heap memory comes zeroed, writable, of the size asked, and a large
// block starts on a huge-page boundary.
func TestOffHeap(t *testing.T) {
	var o offHeap
	for _, n := range []int{1, 4096, hugePage - 1, hugePage, 3*hugePage + 5} {
		b := o.alloc(n)
		if len(b) != n || cap(b) != n {
			t.Fatalf("alloc(%d): len %d cap %d", n, len(b), cap(b))
		}
		if bytes.ContainsFunc(b, func(r rune) bool { return r != 0 }) {
			t.Errorf("alloc(%d) is not zeroed", n)
		}
		if n >= hugePage && uintptr(unsafe.Pointer(&b[0]))%hugePage != 0 {
			t.Errorf("alloc(%d) starts at %p, not on a huge-page boundary", n, &b[0])
		}
		b[0], b[n-1] = 1, 2
	}
	s := allocSlice[sortKey](&o, 1000)
	s[999].hi = 7
	if len(s) != 1000 || s[0].hi != 0 {
		t.Errorf("allocSlice: len %d, first %+v", len(s), s[0])
	}
	o.free()
	if o.maps != nil {
		t.Errorf("free left %d mappings", len(o.maps))
	}
}

// TestSortRun: sortRun puts the keys of runs of every shape in the byte order of their keys: random
// keys, keys sharing long prefixes (all of hi, all 16 prefix bytes, 40 bytes, or a
// prefix and zero bytes up to different lengths), short keys, repeated keys, term keys
// of small NodeIDs, and runs already sorted or reversed.
func TestSortRun(t *testing.T) {
	if n := unsafe.Sizeof(sortKey{}); n != 24 {
		t.Errorf("a sortKey takes %d bytes, want 24 (one per key of a load)", n)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := map[string]func(i int) []byte{
		"random":      func(int) []byte { return binary.BigEndian.AppendUint64([]byte("O"), rng.Uint64()) },
		"shared hi":   func(int) []byte { return fmt.Appendf(nil, "Xinternat%d", rng.IntN(5000)) },
		"shared 16":   func(int) []byte { return fmt.Appendf(nil, "Xinternational-co-%d", rng.IntN(5000)) },
		"short":       func(int) []byte { return fmt.Appendf(nil, "C%c", 'A'+rng.IntN(26)) },
		"small nids":  func(int) []byte { return binary.BigEndian.AppendUint64([]byte("O"), uint64(rng.IntN(100_000))) },
		"sorted":      func(i int) []byte { return binary.BigEndian.AppendUint64([]byte("N"), uint64(i)) },
		"reversed":    func(i int) []byte { return binary.BigEndian.AppendUint64([]byte("N"), uint64(1<<40-i)) },
		"few buckets": func(int) []byte { return []byte{'T', byte(rng.IntN(3)), 0, 0, 0, 0, 0, 0, 0, byte(rng.IntN(256))} },
		"term keys": func(int) []byte {
			return binary.BigEndian.AppendUint64(append([]byte("Xmaterials"), 0), uint64(rng.IntN(2_000_000)))
		},
		"shared 40": func(int) []byte { return fmt.Appendf(nil, "Xa-very-long-shared-name-of-forty-bytes-%d", rng.IntN(300)) },
		"zero tails": func(int) []byte {
			return append([]byte("Xsixteen-letters"), make([]byte, rng.IntN(40))...)
		},
		"long repeats": func(int) []byte { return fmt.Appendf(nil, "Kscheme-of-a-long-name\x00value-%d", rng.IntN(3)) },
	}
	for name, key := range shapes {
		for _, n := range []int{0, 1, 50, 20_000} {
			b := &kvBuf{}
			var want [][]byte
			value := func(k []byte) []byte { return bytes.Repeat(k, int(k[len(k)-1])%20) } // 0 to 300-odd bytes
			for i := range n {
				k := key(i)
				b.add(k, value(k))
				want = append(want, k)
			}
			slices.SortFunc(want, bytes.Compare)
			run := b.sortedRun()
			keys := make([][]byte, len(run))
			for i, sk := range run {
				k, v := b.pair(sk.e)
				keys[i] = k
				if !bytes.Equal(v, value(k)) {
					t.Fatalf("%s: key %q holds a %d-byte value, want %d bytes", name, k, len(v), len(value(k)))
				}
			}
			if !slices.EqualFunc(keys, want, bytes.Equal) {
				t.Errorf("%s, %d keys: sortedRun gave %d keys, sorted: %v; want the same keys in order", name, n, len(keys), slices.IsSortedFunc(keys, bytes.Compare))
			}
			b.release()
		}
	}
}

// TestSetGCPercentAtMost: GOGC is lowered to the bound and restored, and left alone when
// it is lower already or off.
func TestSetGCPercentAtMost(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tc := range []struct{ before, during int }{{100, 50}, {200, 50}, {50, 50}, {20, 20}, {-1, -1}} {
		debug.SetGCPercent(tc.before)
		restore := setGCPercentAtMost(50)
		if got := debug.SetGCPercent(tc.during); got != tc.during {
			t.Errorf("GOGC %d: %d during, want %d", tc.before, got, tc.during)
		}
		restore()
		if got := debug.SetGCPercent(tc.before); got != tc.before {
			t.Errorf("GOGC %d: %d after, want it restored", tc.before, got)
		}
	}
}

// TestValidateNamesListFields: an invalid alias, identifier or source is named by its
// full field, index included (the loops name it only once it is found invalid).
func TestValidateNamesListFields(t *testing.T) {
	ok := func() Entity {
		return Entity{ID: "e", Kind: "Company", Name: "E", Aliases: []string{"A", "B"},
			Identifiers: []Identifier{{Scheme: "LEI", Value: "1"}, {Scheme: "LEI", Value: "2"}}, Sources: []string{"s", "t"}}
	}
	for _, tc := range []struct {
		change func(e *Entity)
		field  string
	}{
		{func(e *Entity) { e.Aliases[1] = "" }, "p.aliases[1]"},
		{func(e *Entity) { e.Identifiers[1].Scheme = "" }, "p.identifiers[1].scheme"},
		{func(e *Entity) { e.Identifiers[0].Value = "a\x00b" }, "p.identifiers[0].value"},
		{func(e *Entity) { e.Sources[1] = " s" }, "p.sources[1]"},
	} {
		e := ok()
		if err := ValidateEntity("p.", &e); err != nil {
			t.Fatalf("valid entity: %v", err)
		}
		tc.change(&e)
		err := ValidateEntity("p.", &e)
		if got, _ := err.(*Error); got == nil || got.Field != tc.field || got.Code != EINVALID {
			t.Errorf("ValidateEntity = %v, want EINVALID at %s", err, tc.field)
		}
	}
	r := Relationship{Type: "OWNS", From: "a", To: "b", Sources: []string{"s", ""}}
	if got, _ := ValidateRelationship("q.", &r).(*Error); got == nil || got.Field != "q.sources[1]" {
		t.Errorf("ValidateRelationship = %v, want an error at q.sources[1]", got)
	}
}
