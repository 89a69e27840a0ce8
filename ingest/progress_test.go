package ingest

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

func TestProgressCounterSnapshot(t *testing.T) {
	var nilProgress *Progress
	if got := nilProgress.Snapshot(); got != (ProgressState{}) {
		t.Errorf("nil Progress Snapshot = %+v, want zero", got)
	}
	p := NewProgressCounter()
	p.Start("loading", 1000)
	p.addBytes(250)
	p.addRecords(3)
	if got, want := p.Snapshot(), (ProgressState{Phase: "loading", Bytes: 250, TotalBytes: 1000, Records: 3}); got != want {
		t.Errorf("Snapshot = %+v, want %+v", got, want)
	}
	p.Finish() // a counter has nothing to stop or draw
	p.Start("writing", 0)
	if got := p.Snapshot(); got.Phase != "writing" || got.Bytes != 0 || got.Records != 0 {
		t.Errorf("Snapshot after a new phase = %+v, want writing with counts reset", got)
	}
}

// TestProgressReader: what is read through Reader counts as the phase's bytes; a nil
// Progress hands the reader back.
func TestProgressReader(t *testing.T) {
	p := NewProgressCounter()
	p.Start("restoring", 11)
	got, err := io.ReadAll(p.Reader(strings.NewReader("hello world")))
	if err != nil || string(got) != "hello world" {
		t.Fatalf("read %q, %v", got, err)
	}
	if st := p.Snapshot(); st.Bytes != 11 || st.TotalBytes != 11 {
		t.Errorf("Snapshot after reading = %+v, want 11 of 11 bytes", st)
	}
	var none *Progress
	r := strings.NewReader("x")
	if none.Reader(r) != io.Reader(r) {
		t.Error("a nil Progress wrapped the reader")
	}
}

// TestImportReportsProgress: an import given a counter counts its records.
func TestImportReportsProgress(t *testing.T) {
	store, err := graph.Open(graph.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	p := NewProgressCounter()
	in := memInput("g.jsonl", `{"entity":{"id":"a","kind":"Company","name":"A"}}`+"\n"+`{"entity":{"id":"b","kind":"Company","name":"B"}}`+"\n")
	if _, err := Import(context.Background(), store, []*Input{in}, Options{Format: "jsonl", Progress: p}); err != nil {
		t.Fatal(err)
	}
	if st := p.Snapshot(); st.Records != 2 || st.Bytes == 0 || strings.TrimSpace(st.Phase) == "" {
		t.Errorf("Snapshot after importing 2 records = %+v, want a phase, bytes and 2 records", st)
	}
}
