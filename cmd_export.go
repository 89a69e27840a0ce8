package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/lodestone-kg/lodestone/client"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/ingest"
)

// runExport writes the graph, or a subgraph around --seeds, in one of the export formats,
// from a store no server is using (--data, opened read-only) or from a running server
// (--url, GET /export). It writes to --out (a file; for csv a folder unless the name
// ends in .zip) or to standard output, and prints a summary on stderr.
func runExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", stderr)
	format := fs.String("format", "jsonl", "output format: jsonl, graphml, gexf, cytoscape, csv or ftm (LODESTONE_FORMAT)")
	data := fs.String("data", "./data", "folder of the Badger store (LODESTONE_DATA)")
	remote := fs.String("url", "", "export from the running server at this URL instead (LODESTONE_URL)")
	key := fs.String("key", "", "API key for --url, sent as Authorization: Bearer; the whole graph needs an admin key, a subgraph (--seeds) a reader key (LODESTONE_KEY)")
	out := fs.String("out", "", "output file (csv: a folder, or a .zip file); standard output when empty (LODESTONE_OUT)")
	seeds := fs.String("seeds", "", "comma-separated entity ids: export only the subgraph around them (LODESTONE_SEEDS)")
	depth := fs.String("depth", "1", "hops from the seeds (LODESTONE_DEPTH)")
	types := fs.String("types", "", "comma-separated relationship types to follow and export (LODESTONE_TYPES)")
	direction := fs.String("direction", "BOTH", "direction to follow from the seeds: OUT, IN or BOTH (LODESTONE_DIRECTION)")
	asOf := fs.String("as-of", "", "keep only relationships valid on this day, YYYY-MM-DD (LODESTONE_AS_OF)")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if !contains(ingest.ExportFormats, *format) {
		return fmt.Errorf("export: --format %q: use jsonl, graphml, gexf, cytoscape, csv or ftm", *format)
	}
	sel, gerr := ingest.ExportSelection(*seeds, *depth, *types, *direction, *asOf)
	if gerr != nil {
		return gerr
	}
	var w io.Writer = stdout
	finish := func() error { return nil }
	csvDir := *format == ingest.FormatCSV && *out != "" && !strings.HasSuffix(*out, ".zip")
	if *out != "" && !csvDir {
		// --out appears only when the export succeeded: a failure leaves no partial file.
		f, commit, abort, err := createAtomic(*out)
		if err != nil {
			return err
		}
		defer abort()
		w, finish = f, commit
	}
	start := time.Now()
	if *remote != "" {
		if csvDir {
			return fmt.Errorf("export: from a server, csv comes as a zip: name --out FILE.zip")
		}
		c, err := client.New(*remote, *key)
		if err != nil {
			return fmt.Errorf("export: --url: %w", err)
		}
		n, err := c.Export(ctx, w, *format, url.Values{"seeds": {*seeds}, "depth": {*depth}, "types": {*types}, "direction": {*direction}, "asOf": {*asOf}})
		if err != nil {
			return fmt.Errorf("export: %s: %w", *remote, err)
		}
		fmt.Fprintf(stderr, "exported %s bytes of %s in %s\n", groupInt(n), *format, time.Since(start).Round(time.Millisecond))
		return finish()
	}
	store, err := graph.Open(graph.Options{Dir: *data, ReadOnly: true, CacheSize: noCache})
	if err != nil {
		return fmt.Errorf("%w (is a server using it? then export with --url)", err)
	}
	defer store.Close()
	var sum *ingest.ExportSummary
	if csvDir {
		sum, err = ingest.ExportCSVDir(ctx, store, *out, sel)
	} else {
		sum, err = ingest.Export(ctx, store, w, *format, sel)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %s sources, %s entities, %s relationships (%s bytes of %s) in %s\n",
		groupInt(int64(sum.Sources)), groupInt(int64(sum.Entities)), groupInt(int64(sum.Relationships)), groupInt(sum.Bytes), *format, sum.Duration.Round(time.Millisecond))
	return finish()
}
