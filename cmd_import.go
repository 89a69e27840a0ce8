package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lodestone-kg/lodestone/client"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/ingest"
)

// parseFlagsAndFiles parses flags that may stand before, between or after the file
// arguments, then fills unset flags from LODESTONE_* variables as parseFlags does. It
// returns the file arguments in order.
func parseFlagsAndFiles(fs *flag.FlagSet, args []string, getenv func(string) string) ([]string, error) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		files = append(files, rest[0])
		args = rest[1:]
	}
	return files, parseFlags(fs, nil, getenv)
}

// importConfig is the configuration of `lodestone import`.
type importConfig struct {
	format      string
	data        string
	url         string
	skipInvalid bool
	rejects     string
	batchSize   int
	checkpoint  string
	noBulk      bool
	key         string
	cpuProfile  string
}

// runImport imports files into a store no server is using (--data), or into a running
// server through POST /admin/import (--url). It prints a progress bar on a terminal and a
// summary; a bad file fails with an error naming file, line and field.
func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg importConfig
	fs := newFlagSet("import", stderr)
	fs.StringVar(&cfg.format, "format", "jsonl", "input format: jsonl, csv, bods, gleif or ftm (LODESTONE_FORMAT)")
	fs.StringVar(&cfg.data, "data", "./data", "folder of the Badger store, which no server may be using (LODESTONE_DATA)")
	fs.StringVar(&cfg.url, "url", "", "import into the running server at this URL instead (e.g. http://localhost:8080) (LODESTONE_URL)")
	fs.BoolVar(&cfg.skipInvalid, "skip-invalid", false, "write bad rows to the rejects file instead of failing (LODESTONE_SKIP_INVALID)")
	fs.StringVar(&cfg.rejects, "rejects", "lodestone-rejects.jsonl", "where --skip-invalid writes rejected rows, one JSON object a line (LODESTONE_REJECTS)")
	fs.IntVar(&cfg.batchSize, "batch-size", ingest.DefaultBatchSize, "records per atomic write; imports up to this size are atomic, larger ones are batched and resumable (LODESTONE_BATCH_SIZE)")
	fs.StringVar(&cfg.checkpoint, "checkpoint", "", "checkpoint file of a batched import; a rerun continues after it (default DATA/import.checkpoint) (LODESTONE_CHECKPOINT)")
	fs.StringVar(&cfg.key, "key", "", "admin API key for --url, sent as Authorization: Bearer (LODESTONE_KEY)")
	fs.BoolVar(&cfg.noBulk, "no-bulk", false, "write an empty store through batches instead of the StreamWriter bulk load (LODESTONE_NO_BULK)")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the import to this file (for go tool pprof)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: lodestone import --format jsonl|csv|bods|gleif|ftm [flags] FILE…")
		fs.PrintDefaults()
	}
	files, err := parseFlagsAndFiles(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		fs.Usage()
		return errors.New("import: name at least one file")
	}
	if !contains(ingest.ImportFormats, cfg.format) {
		return fmt.Errorf("import: --format %q: use jsonl, csv, bods, gleif or ftm", cfg.format)
	}
	if cfg.url != "" {
		return importRemote(ctx, cfg, files, stdout)
	}
	stopProfile, err := startCPUProfile(cfg.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	var inputs []*ingest.Input
	for _, f := range files {
		in, err := ingest.FileInput(f)
		if err != nil {
			return err
		}
		inputs = append(inputs, in)
	}
	store, err := openImportStore(cfg)
	if err != nil {
		return fmt.Errorf("%w (is a server using it? then import with --url)", err)
	}
	defer store.Close()
	opts := ingest.Options{Format: cfg.format, SkipInvalid: cfg.skipInvalid, BatchSize: cfg.batchSize,
		Checkpoint: cfg.checkpoint, Bulk: !cfg.noBulk, Progress: ingest.NewProgress(stderr)}
	if opts.Checkpoint == "" {
		opts.Checkpoint = filepath.Join(cfg.data, "import.checkpoint")
	}
	var rejects *os.File
	if cfg.skipInvalid {
		if rejects, err = os.Create(cfg.rejects); err != nil {
			return err
		}
		defer rejects.Close()
		opts.Rejects = rejects
	}
	sum, err := ingest.Import(ctx, store, inputs, opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, sum)
	if sum.Rejected > 0 {
		fmt.Fprintf(stdout, "rejected rows are in %s\n", cfg.rejects)
	}
	return store.Close()
}

// bulkBaseTableSize is the Badger BaseTableSize of a bulk load: it writes 8 MiB tables
// instead of 64 MiB ones, and peaks 1 GiB lower at 1 M companies (graph.Options).
const bulkBaseTableSize = 256 << 10

// openImportStore opens the store of a local import. An empty store, which the import
// fills with a bulk load unless --no-bulk, is opened again with bulkBaseTableSize; a
// store with data keeps Badger's table sizes for the compactions of a batched import.
func openImportStore(cfg importConfig) (*graph.Store, error) {
	opts := graph.Options{Dir: cfg.data, MemTableSize: 64 << 20, CacheSize: noCache}
	store, err := graph.Open(opts)
	if err != nil || cfg.noBulk || store.Version() != 0 {
		return store, err
	}
	if err := store.Close(); err != nil {
		return nil, err
	}
	opts.BaseTableSize = bulkBaseTableSize
	return graph.Open(opts)
}

// importRemote posts the files to a running server's /admin/import.
func importRemote(ctx context.Context, cfg importConfig, files []string, stdout io.Writer) error {
	c, err := client.New(cfg.url, cfg.key)
	if err != nil {
		return fmt.Errorf("import: --url: %w", err)
	}
	out, err := c.Import(ctx, cfg.format, cfg.skipInvalid, files)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, out.Summary)
	if len(out.Rejects) > 0 {
		var b bytes.Buffer
		for _, r := range out.Rejects {
			b.Write(r)
			b.WriteByte('\n')
		}
		if err := os.WriteFile(cfg.rejects, b.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rejected rows are in %s\n", cfg.rejects)
	}
	return nil
}
