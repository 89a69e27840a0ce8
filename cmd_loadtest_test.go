package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestLoadtestSmall runs the load test briefly on a small graph: it must finish without
// failures, every class of the mix must have run, and memory must have been sampled.
func TestLoadtestSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for a few seconds")
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"lodestone", "loadtest", "--companies", "500", "--data", t.TempDir(),
		"--clients", "4", "--duration", "2s", "--sample", "500ms", "--write-ratio", "0.3"},
		func(string) string { return "" }, strings.NewReader(""), &out, io.Discard)
	if err != nil {
		t.Fatalf("loadtest: %v\n%s", err, out.String())
	}
	row := regexp.MustCompile(`(?m)^\| ([^|*]+) \| (\d+) \| [^|]+ \| [^|]+ \| [^|]+ \| [^|]+ \| (\d+) \|`)
	classes := map[string]int{}
	for _, m := range row.FindAllStringSubmatch(out.String(), -1) {
		n, _ := strconv.Atoi(m[2])
		classes[strings.TrimSpace(m[1])] = n
		if m[3] != "0" {
			t.Errorf("class %s: %s failures", m[1], m[3])
		}
	}
	for _, name := range []string{"point read", "direct owners", "3-hop subgraph (≤ 200 entities)", "shortestPath, random companies",
		"owners, bottom of a deep pyramid", "exposure of an end-use facility", "search",
		"write: upsertEntity", "write: upsertRelationship", "write: importGraph (10 + 10)"} {
		if classes[name] == 0 {
			t.Errorf("class %q did not run (rows %v)", name, classes)
		}
	}
	if got := strings.Count(out.String(), " MiB | "); got < 3 {
		t.Errorf("%d memory samples, want at least 3 (start, during, end):\n%s", got, out.String())
	}
}
