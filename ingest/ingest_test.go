package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

func mustOpenStore(tb testing.TB) *graph.Store {
	tb.Helper()
	s, err := graph.Open(graph.Options{InMemory: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// memInput is an in-memory file.
func memInput(name, body string) *Input {
	return &Input{Name: name, Size: int64(len(body)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(body)), nil
	}}
}

func fileInputs(tb testing.TB, paths ...string) []*Input {
	tb.Helper()
	var out []*Input
	for _, p := range paths {
		in, err := FileInput(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, in)
	}
	return out
}

// snapshot is a canonical text of everything a store holds: every record as JSONL, sorted.
func snapshot(tb testing.TB, s *graph.Store) string {
	tb.Helper()
	var lines []string
	err := s.Export(context.Background(), func(rec graph.Record) error {
		b, err := json.Marshal(rec)
		lines = append(lines, string(b))
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func fptr(f float64) *float64 { return &f }

// richGraph exercises every field: ranges with exclusive bounds, dates, sources,
// identifiers, aliases in other scripts, properties of every JSON type.
func richGraph() *graph.Batch {
	d := graph.MustParseDate
	return &graph.Batch{
		Sources: []graph.Source{
			{ID: "src-a", Title: "Metalnomist report", Publisher: "Metalnomist", URL: "https://example.org/a", Published: d("2024-12-01")},
			{ID: "src-b", Title: "Annual report 2023"},
		},
		Entities: []graph.Entity{
			{ID: "nre", Kind: "Company", Name: "China Northern Rare Earth", Country: "CN", Aliases: []string{"北方稀土", "Northern Rare Earth"},
				Identifiers: []graph.Identifier{{Scheme: "SSE", Value: "600111"}, {Scheme: "LEI", Value: "300300S39XTBSNH66F17"}},
				Properties:  json.RawMessage(`{"employees":9000,"listed":true,"founded":"1997","ratio":0.25,"tags":["ree","magnets"],"hq":{"city":"Baotou"}}`),
				Sources:     []string{"src-a"}, ValidFrom: d("1997-09-12")},
			{ID: "nzb", Kind: "Company", Name: "Northern Zhaobao Magnets", Country: "CN", Sources: []string{"src-a", "src-b"}},
			{ID: "zb", Kind: "Company", Name: "Ningbo Zhaobao Magnet", Country: "CN", ValidTo: d("2030-01-01")},
			{ID: "p1", Kind: "Person", Name: "Jane Doe"},
			{ID: "weld", Kind: "Facility", Name: "Mount Weld", Country: "AU", Properties: json.RawMessage(`{"capacityTpa":12000}`)},
		},
		Relationships: []graph.Relationship{
			{ID: "o1", Type: "OWNS", From: "nre", To: "nzb", Share: fptr(0.4), ValidFrom: d("2024-12-01"), Sources: []string{"src-a"}, Confidence: fptr(0.9)},
			{ID: "o2", Type: "OWNS", From: "zb", To: "nzb", ShareMin: fptr(0.25), ShareMax: fptr(0.5), ShareMinExclusive: true, ValidFrom: d("2024-12-01"), ValidTo: d("2026-01-01")},
			{Type: "OWNS", From: "p1", To: "zb", ShareMin: fptr(0.75), ShareMax: fptr(1), ShareMaxExclusive: true},
			{ID: "s1", Type: "SUPPLIES", From: "weld", To: "nzb", Properties: json.RawMessage(`{"material":"ndpr-oxide","volumeTpa":100}`)},
		},
	}
}

func exportString(tb testing.TB, s *graph.Store, format string, sel graph.ExportOptions) string {
	tb.Helper()
	var buf bytes.Buffer
	if _, err := Export(context.Background(), s, &buf, format, sel); err != nil {
		tb.Fatalf("Export %s: %v", format, err)
	}
	return buf.String()
}

// TestJSONLRoundTrip: export → import into an empty store gives an identical graph, in
// every write mode (bulk, atomic, batched).
func TestJSONLRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := mustOpenStore(t)
	if _, err := src.Apply(ctx, richGraph()); err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, src)
	body := exportString(t, src, FormatJSONL, graph.ExportOptions{})
	for _, tc := range []struct {
		name string
		opts Options
		mode string
	}{
		{"bulk", Options{Bulk: true}, "bulk"},
		{"atomic", Options{}, "atomic"},
		{"batched", Options{BatchSize: 3}, "batched"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := mustOpenStore(t)
			tc.opts.Format = FormatJSONL
			sum, err := Import(ctx, dst, []*Input{memInput("graph.jsonl", body)}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Mode != tc.mode || sum.Sources != 2 || sum.Entities != 5 || sum.Relationships != 4 {
				t.Errorf("summary = %+v, want mode %s, 2 sources, 5 entities, 4 relationships", sum, tc.mode)
			}
			if got := snapshot(t, dst); got != want {
				t.Errorf("round trip differs:\ngot  %s\nwant %s", got, want)
			}
			// Importing the same file again is an upsert: nothing changes.
			if _, err := Import(ctx, dst, []*Input{memInput("graph.jsonl", body)}, Options{Format: FormatJSONL}); err != nil {
				t.Fatal(err)
			}
			if got := snapshot(t, dst); got != want {
				t.Errorf("re-import changed the graph:\ngot  %s\nwant %s", got, want)
			}
		})
	}
}

func TestBODSExamplesImport(t *testing.T) {
	ctx := context.Background()
	files, _ := filepath.Glob("testdata/bods/*.json")
	if len(files) < 16 {
		t.Fatalf("found %d BODS examples, want 16", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s := mustOpenStore(t)
			sum, err := Import(ctx, s, fileInputs(t, f), Options{Format: FormatBODS})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Entities == 0 {
				t.Errorf("summary = %+v, want entities", sum)
			}
			rep, err := s.Check(ctx)
			if err != nil || len(rep.Problems) > 0 {
				t.Errorf("Check = %v, %v", rep, err)
			}
		})
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
