package ingest

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/synth"
)

// TestBulkLoadBenchmark measures the numbers in docs/benchmarks.md: generate the
// synthetic graph of LODESTONE_BENCH_COMPANIES companies (1,000,000 for the published
// figure) as JSONL, import it into an empty on-disk store with the bulk path (what
// `lodestone import` does), then export it as JSONL and GraphML. It runs only when that
// variable is set:
//
//	LODESTONE_BENCH_COMPANIES=1000000 go test ./ingest -run TestBulkLoadBenchmark -count=1 -v -timeout 30m
func TestBulkLoadBenchmark(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("LODESTONE_BENCH_COMPANIES"))
	if n <= 0 {
		t.Skip("set LODESTONE_BENCH_COMPANIES to run")
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "synth.jsonl")
	start := time.Now()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := synth.WriteJSONL(bw, synth.Config{Companies: n}); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	in, _ := FileInput(path)
	t.Logf("generated %d companies: %.1f MB of JSONL in %s", n, float64(in.Size)/1e6, time.Since(start).Round(time.Millisecond))

	store, err := graph.Open(graph.Options{Dir: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	runtime.GC()
	start = time.Now()
	sum, err := Import(ctx, store, []*Input{in}, Options{Format: FormatJSONL, Bulk: true})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("bulk import: %d entities, %d relationships, %d sources in %s (%.0f records/s); Go heap peak-ish (Sys) %.1f GiB",
		sum.Entities, sum.Relationships, sum.Sources, took.Round(time.Millisecond),
		float64(sum.Entities+sum.Relationships+sum.Sources)/took.Seconds(), float64(ms.Sys)/(1<<30))

	for _, format := range []string{FormatJSONL, FormatGraphML} {
		start = time.Now()
		es, err := Export(ctx, store, io.Discard, format, graph.ExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		t.Logf("export %s: %d entities, %d relationships, %.1f MB in %s (%.0f records/s)", format, es.Entities, es.Relationships,
			float64(es.Bytes)/1e6, took.Round(time.Millisecond), float64(es.Entities+es.Relationships+es.Sources)/took.Seconds())
	}
	rep, err := store.Check(ctx)
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("Check after the bulk load: %v %v", rep, err)
	}
}
