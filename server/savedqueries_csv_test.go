package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

// TestWriteCSVHeaderFormulas: column names come from the data when a JSON scalar (an
// entity's properties, a runSavedQuery result) holds the rows, so the header cells are
// defused as the values are.
func TestWriteCSVHeaderFormulas(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"object keys become columns",
			`{"runSavedQuery":{"xs":[{"=HYPERLINK(\"http://x\")":1,"+a":"b","-c":2,"@SUM(A1)":3,"\tt":4,"\rr":5,"ok":6}]}}`,
			"\"'=HYPERLINK(\"\"http://x\"\")\",'+a,'-c,'@SUM(A1),'\tt,\"'\rr\",ok\n1,b,2,3,4,5,6\n"},
		{"the key of a list of scalars names the column", `{"entity":{"properties":{"=1+1":["x","=2"]}}}`,
			"'=1+1\nx\n'=2\n"},
		{"dotted columns keep their first segment's text", `{"xs":[{"properties":{"=a":"v"}}]}`,
			"properties.=a\nv\n"},
		{"a top-level scalar list is named value", `["=x"]`, "value\n'=x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeCSV(&buf, json.RawMessage(tt.data)); err != nil {
				t.Fatalf("writeCSV(%s): %v", tt.data, err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("writeCSV(%s) =\n%q\nwant\n%q", tt.data, got, tt.want)
			}
		})
	}
}

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
