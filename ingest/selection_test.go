package ingest

import (
	"reflect"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

func TestExportSelection(t *testing.T) {
	day, err := graph.ParseDate("2024-02-29")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		seeds, depth, types, direction, asOf string
		want                                 graph.ExportOptions
	}{
		{"", "", "", "", "", graph.ExportOptions{Depth: 1}},
		{" a, b ,,", "2", "OWNS,SUPPLIES", "out", "2024-02-29", graph.ExportOptions{Seeds: []string{"a", "b"}, Depth: 2, Types: []string{"OWNS", "SUPPLIES"}, Direction: graph.Out, AsOf: day}},
		{"a", "0", "", "IN", "", graph.ExportOptions{Seeds: []string{"a"}, Depth: 0, Direction: graph.In}},
		{"a", "100", "", "both", "", graph.ExportOptions{Seeds: []string{"a"}, Depth: 100}},
	} {
		got, gerr := ExportSelection(c.seeds, c.depth, c.types, c.direction, c.asOf)
		if gerr != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ExportSelection(%q, %q, %q, %q, %q) = %+v, %v; want %+v", c.seeds, c.depth, c.types, c.direction, c.asOf, got, gerr, c.want)
		}
	}
	for _, c := range []struct{ depth, direction, asOf, field string }{
		{"x", "", "", "depth"},
		{"-1", "", "", "depth"},
		{"101", "", "", "depth"},
		{"", "UP", "", "direction"},
		{"", "", "2024-02-30", "asOf"},
		{"", "", "30/11/2024", "asOf"},
	} {
		_, gerr := ExportSelection("a", c.depth, "", c.direction, c.asOf)
		if gerr == nil || gerr.Code != graph.EINVALID || gerr.Field != c.field {
			t.Errorf("ExportSelection(depth %q, direction %q, asOf %q) = %v; want EINVALID on %s", c.depth, c.direction, c.asOf, gerr, c.field)
		}
	}
}
