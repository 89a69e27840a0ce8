package ingest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

// TestGLEIFMapping: columns by name, the RELATIONSHIP_PERIOD in whatever slot, the
// percentage as share, LEIs resolved to existing entities (never overwritten), stubs for
// unknown ones.
func TestGLEIFMapping(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	if _, err := s.Apply(ctx, &graph.Batch{Entities: []graph.Entity{{ID: "parent-co", Kind: "Company", Name: "Parent Co", Country: "DE",
		Identifiers: []graph.Identifier{{Scheme: "LEI", Value: "529900T8BM49AURSDO55"}}}}}); err != nil {
		t.Fatal(err)
	}
	rr := gleifHdr + strings.Replace(gleifRow, "%s", "100.00", 1) +
		"5493001KJTIIGC8Y1R12,LEI,529900T8BM49AURSDO55,LEI,IS_ULTIMATELY_CONSOLIDATED_BY,ACTIVE,2015-03-01,2019-06-30,RELATIONSHIP_PERIOD,,,,,,,NULL\n" +
		"213800ABCDEFGHIJKL12,LEI,529900T8BM49AURSDO55,LEI,IS_FUND-MANAGED_BY,INACTIVE,,,,,,,,,,\n"
	sum, err := Import(ctx, s, []*Input{memInput("rr.csv", rr)}, Options{Format: FormatGLEIF})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Relationships != 3 || sum.Entities != 2 || sum.Sources != 1 {
		t.Errorf("summary = %+v, want 3 relationships, 2 stub entities, 1 source", sum)
	}
	for id, want := range map[string]string{
		"IS_DIRECTLY_CONSOLIDATED_BY:5493001KJTIIGC8Y1R12->parent-co":   `{"id":"IS_DIRECTLY_CONSOLIDATED_BY:5493001KJTIIGC8Y1R12->parent-co","type":"IS_DIRECTLY_CONSOLIDATED_BY","from":"5493001KJTIIGC8Y1R12","to":"parent-co","share":1,"validFrom":"2012-11-29"}`,
		"IS_ULTIMATELY_CONSOLIDATED_BY:5493001KJTIIGC8Y1R12->parent-co": `{"id":"IS_ULTIMATELY_CONSOLIDATED_BY:5493001KJTIIGC8Y1R12->parent-co","type":"IS_ULTIMATELY_CONSOLIDATED_BY","from":"5493001KJTIIGC8Y1R12","to":"parent-co","validFrom":"2015-03-01","validTo":"2019-06-30"}`,
		"IS_FUND_MANAGED_BY:213800ABCDEFGHIJKL12->parent-co":            `{"id":"IS_FUND_MANAGED_BY:213800ABCDEFGHIJKL12->parent-co","type":"IS_FUND_MANAGED_BY","from":"213800ABCDEFGHIJKL12","to":"parent-co"}`,
	} {
		if got := relJSON(t, s, id); got != want {
			t.Errorf("%s =\n %s\nwant\n %s", id, got, want)
		}
	}
	if e := mustEntity(t, s, "parent-co"); e.Name != "Parent Co" {
		t.Errorf("existing entity overwritten: %+v", e)
	}
	if e := mustEntity(t, s, "5493001KJTIIGC8Y1R12"); e.Kind != "Company" || len(e.Identifiers) != 1 || !strings.Contains(string(e.Properties), "gleifStub") {
		t.Errorf("stub = %+v", e)
	}
	// Re-importing the same file changes nothing (stubs are re-sent unchanged).
	before := snapshot(t, s)
	if _, err := Import(ctx, s, []*Input{memInput("rr.csv", rr)}, Options{Format: FormatGLEIF}); err != nil {
		t.Fatal(err)
	}
	if snapshot(t, s) != before {
		t.Errorf("re-import changed the graph")
	}
}

// TestVisualizerFormatsOpenInNetworkX: GraphML and GEXF load in NetworkX with typed
// attributes (skipped where python3 with networkx is missing).
func TestVisualizerFormatsOpenInNetworkX(t *testing.T) {
	if exec.Command("python3", "-c", "import networkx").Run() != nil {
		t.Skip("python3 with networkx is not installed")
	}
	ctx := context.Background()
	s := mustOpenStore(t)
	if _, err := s.Apply(ctx, richGraph()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, format := range []string{FormatGraphML, FormatGEXF} {
		path := filepath.Join(dir, "g."+format)
		if err := os.WriteFile(path, []byte(exportString(t, s, format, graph.ExportOptions{})), 0o644); err != nil {
			t.Fatal(err)
		}
		script := `
import sys, networkx as nx
g = nx.read_graphml(sys.argv[1]) if sys.argv[2] == "graphml" else nx.read_gexf(sys.argv[1])
assert g.is_directed()
n = g.nodes["nre"]
e = g.edges["nre", "nzb"] if not g.is_multigraph() else list(g.get_edge_data("nre", "nzb").values())[0]
print(g.number_of_nodes(), g.number_of_edges(), type(n["employees"]).__name__, type(n["listed"]).__name__, type(e["share"]).__name__, n["kind"], e["type"] if "type" in e else e["label"])
`
		out, err := exec.Command("python3", "-c", script, path, format).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: networkx: %v\n%s", format, err, out)
		}
		if got, want := strings.TrimSpace(string(out)), "5 4 int bool float Company OWNS"; got != want {
			t.Errorf("%s in networkx: %q, want %q", format, got, want)
		}
	}
}

// TestCSVExportImport: the CSV export reads back with the CSV importer.
func TestCSVExportImport(t *testing.T) {
	ctx := context.Background()
	s := mustOpenStore(t)
	if _, err := s.Apply(ctx, richGraph()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := ExportCSVDir(ctx, s, dir, graph.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	dst := mustOpenStore(t)
	sum, err := Import(ctx, dst, fileInputs(t, filepath.Join(dir, "sources.csv"), filepath.Join(dir, "entities.csv"), filepath.Join(dir, "relationships.csv")), Options{Format: FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sources != 2 || sum.Entities != 5 || sum.Relationships != 4 {
		t.Errorf("summary = %+v", sum)
	}
	for _, id := range []string{"o1", "o2"} {
		if got, want := relJSON(t, dst, id), relJSON(t, s, id); got != want {
			t.Errorf("%s after CSV round trip = %s, want %s", id, got, want)
		}
	}
	e := mustEntity(t, dst, "nre")
	if want := mustEntity(t, s, "nre"); e.Name != want.Name || len(e.Aliases) != 2 || len(e.Identifiers) != 2 || e.ValidFrom != want.ValidFrom {
		t.Errorf("nre after CSV round trip = %+v", e)
	}
}
