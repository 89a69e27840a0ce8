package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

// TestSavedQueryCSVHeaderFromProperties runs the case end to end: a saved query over
// REST whose rows are an entity's properties, with a key a spreadsheet would run.
func TestSavedQueryCSVHeaderFromProperties(t *testing.T) {
	ts := newTestServer(t, Config{})
	b := &graph.Batch{Entities: []graph.Entity{{ID: "props", Kind: "Company", Name: "Props",
		Properties: json.RawMessage(`{"=HYPERLINK(\"http://evil.example\",\"x\")":["-1","@a"]}`)}}}
	if _, err := ts.store.Apply(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	ts.mustSave(t, map[string]any{"name": "props", "query": `query($id: ID!) { entity(id: $id) { properties } }`})
	status, _, body := ts.do(t, "GET", "/queries/props?id=props&format=csv", nil, "")
	if status != 200 {
		t.Fatalf("GET /queries/props?format=csv = %d %s", status, body)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	want := [][]string{{`'=HYPERLINK("http://evil.example","x")`}, {"'-1"}, {"'@a"}}
	if err != nil || len(recs) != len(want) || recs[0][0] != want[0][0] || recs[1][0] != want[1][0] || recs[2][0] != want[2][0] {
		t.Fatalf("CSV = %q (%v), want the cells %q", body, err, want)
	}
}
