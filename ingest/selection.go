package ingest

import (
	"strconv"
	"strings"

	"github.com/lodestone-kg/lodestone/graph"
)

// ExportSelection parses the subgraph parameters shared by GET /export and `lodestone
// export` into the selection the exporters take: comma-separated seeds and types, depth
// (default 1 with seeds; 0 to 100), direction (OUT, IN or BOTH) and asOf (YYYY-MM-DD).
// Errors are EINVALID naming the parameter.
func ExportSelection(seeds, depth, types, direction, asOf string) (graph.ExportOptions, *graph.Error) {
	var sel graph.ExportOptions
	sel.Seeds = splitList(seeds)
	sel.Types = splitList(types)
	sel.Depth = 1
	if depth != "" {
		d, err := strconv.Atoi(depth)
		if err != nil || d < 0 || d > 100 {
			return sel, graph.Invalid("depth", "%q is not a depth between 0 and 100", depth)
		}
		sel.Depth = d
	}
	switch strings.ToUpper(direction) {
	case "", "BOTH":
	case "OUT":
		sel.Direction = graph.Out
	case "IN":
		sel.Direction = graph.In
	default:
		return sel, graph.Invalid("direction", "%q is not OUT, IN or BOTH", direction)
	}
	if asOf != "" {
		d, err := graph.ParseDate(asOf)
		if err != nil {
			return sel, graph.Invalid("asOf", "%v", err)
		}
		sel.AsOf = d
	}
	return sel, nil
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
