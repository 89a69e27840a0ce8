package graph

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/ristretto/v2/z"
)

// TestAppendKV: appendKV writes the very bytes badger.KVToBuffer (proto.Marshal) writes.
func TestAppendKV(t *testing.T) {
	for _, tc := range []struct {
		key, val []byte
		stream   uint32
	}{
		{[]byte("Mformat"), []byte{0, 2}, 1},
		{[]byte("Xterm\x00\x00\x00\x00\x00\x00\x00\x00\x07"), nil, 13},
		{bytes.Repeat([]byte("k"), 300), bytes.Repeat([]byte("v"), 70_000), 200},
		{[]byte("N\x00\x00\x00\x00\x00\x00\x00\x01"), []byte{recordVersion}, 1 << 20},
	} {
		want, got := z.NewBuffer(1<<10, "test"), z.NewBuffer(1<<10, "test")
		badger.KVToBuffer(&pb.KV{Key: tc.key, Value: tc.val, Version: streamVersion, StreamId: tc.stream}, want)
		appendKV(got, tc.key, tc.val, tc.stream)
		if !bytes.Equal(want.Bytes(), got.Bytes()) {
			t.Errorf("appendKV(%.20q, %d-byte value, %d) = %x, want %x", tc.key, len(tc.val), tc.stream, got.Bytes(), want.Bytes())
		}
		want.Release()
		got.Release()
	}
}

// mediumGraph is a graph large enough that StreamLoad's workers each get several chunks,
// so that every family is merged from more than one sorted run: entities with Latin and
// CJK names, a repeated identifier, and relationships in an order unrelated to their ends.
func mediumGraph(entities int) *Batch {
	b := &Batch{Sources: []Source{testSource}}
	for i := range entities {
		e := Entity{ID: fmt.Sprintf("e-%05d", i), Kind: []string{"Company", "Person", "Facility"}[i%3],
			Name:    fmt.Sprintf("Zhaobao %s %d Co.", strings.Repeat("Magnet ", i%4), i),
			Aliases: []string{fmt.Sprintf("北方稀土%d", i%50)}, Country: []string{"CN", "AU", ""}[i%3]}
		if i%7 == 0 {
			id := Identifier{Scheme: "LEI", Value: fmt.Sprintf("LEI%06d", i%500)}
			e.Identifiers = []Identifier{id, id}
		}
		if i%5 == 0 {
			e.Sources = []string{"src-test"}
		}
		b.Entities = append(b.Entities, e)
	}
	for i := range 2 * entities {
		from, to := (i*7919)%entities, (i*104729+1)%entities
		if from == to {
			to = (to + 1) % entities
		}
		r := Relationship{Type: []string{"OWNS", "SUPPLIES"}[i%2], From: b.Entities[from].ID, To: b.Entities[to].ID,
			ID: fmt.Sprintf("r-%05d", i)}
		if i%2 == 0 {
			r.Share = fptr(float64(i%100) / 100)
		}
		b.Relationships = append(b.Relationships, r)
	}
	return b
}

// TestStreamLoadMergesRuns: on a graph that spreads every family over several sorted runs,
// StreamLoad writes exactly what BulkLoad (WriteBatch, equal to Apply) writes, the store
// checks clean, and a repeated identifier is stored once.
func TestStreamLoadMergesRuns(t *testing.T) {
	ctx := context.Background()
	bulk := MustOpenStore(t)
	if _, err := bulk.BulkLoad(ctx, batchRecords(mediumGraph(3000)), nil); err != nil {
		t.Fatal(err)
	}
	stream := MustOpenStore(t)
	if _, err := stream.StreamLoad(ctx, batchRecords(mediumGraph(3000)), nil); err != nil {
		t.Fatal(err)
	}
	want, got := dump(t, bulk), dump(t, stream)
	if got != want {
		t.Fatalf("StreamLoad and BulkLoad differ (%d vs %d bytes of dump)", len(got), len(want))
	}
	if n := strings.Count(got, `"KLEI\x00LEI000000\x00`); n != 1 {
		t.Errorf("identifier LEI000000 of e-00000 stored %d times, want 1", n)
	}
	rep, err := stream.Check(ctx)
	if err != nil || len(rep.Problems) > 0 {
		t.Errorf("Check after StreamLoad = %+v, %v", rep, err)
	}
}

// TestStreamLoadAfterInterruptedLoad: a load that wrote its families but died before its
// meta keys leaves a store at version 0; the next StreamLoad empties it and loads.
func TestStreamLoadAfterInterruptedLoad(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	l := newStreamLoader(s.state.Load().clone())
	l.start(ctx)
	if err := batchRecords(smallGraph())(l.add); err != nil {
		t.Fatal(err)
	}
	if err := l.finish(); err != nil {
		t.Fatal(err)
	}
	if err := s.streamWrite(l); err != nil { // and then the process dies
		t.Fatal(err)
	}
	if s.Version() != 0 || !strings.Contains(dump(t, s), `"N\x00\x00\x00\x00\x00\x00\x00\x01"`) {
		t.Fatalf("after the interrupted load: version %d, store %s", s.Version(), dump(t, s))
	}
	b := smallGraph()
	b.Entities[0].Name = "Renamed"
	applied := MustOpenStore(t)
	MustApply(t, applied, b)
	if _, err := s.StreamLoad(ctx, batchRecords(b), nil); err != nil {
		t.Fatalf("StreamLoad after an interrupted one: %v", err)
	}
	if e, err := s.Entity(ctx, "nre"); err != nil || e.Name != "Renamed" {
		t.Errorf("Entity(nre) = %+v, %v; want the second load's", e, err)
	}
	if got, want := dump(t, s), dump(t, applied); s.Version() != 1 || got != want {
		t.Errorf("second load: version %d, store\n%s\nwant version 1 and what Apply writes:\n%s", s.Version(), got, want)
	}
}
