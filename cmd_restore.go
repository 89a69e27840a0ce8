package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/ingest"
)

// runRestore restores backups into a store no server is using: a full backup into an
// empty --data folder, then any incremental backups, in the order they were taken, with
// a progress bar on a terminal. The restored store is checked (graph.Store.Check) before
// the command reports success.
func runRestore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore", stderr)
	data := fs.String("data", "./data", "folder of the Badger store to restore into; empty for a full backup (LODESTONE_DATA)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: lodestone restore [--data DIR] FULL-BACKUP [INCREMENTAL…]")
		fs.PrintDefaults()
	}
	files, err := parseFlagsAndFiles(fs, args, getenv)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		fs.Usage()
		return errors.New("restore: name at least one backup file")
	}
	store, err := graph.Open(graph.Options{Dir: *data, CacheSize: noCache})
	if err != nil {
		return fmt.Errorf("%w (is a server using it? stop it first)", err)
	}
	defer store.Close()
	progress := ingest.NewProgress(stderr) // nil unless stderr is a terminal
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		var size int64
		if fi, err := f.Stat(); err == nil {
			size = fi.Size()
		}
		progress.Start("restoring "+filepath.Base(name), size)
		h, err := store.Restore(ctx, progress.Reader(f))
		progress.Finish()
		f.Close()
		if err != nil {
			return fmt.Errorf("restore %s: %w", name, err)
		}
		kind := "full"
		if h.Since > 0 {
			kind = fmt.Sprintf("incremental (since %d)", h.Since)
		}
		fmt.Fprintf(stdout, "restored %s backup %s taken %s\n", kind, name, h.Created.Format("2006-01-02 15:04:05Z"))
	}
	st, err := store.Stats(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s now holds %s entities and %s relationships (version %d); checked ok\n", *data, groupInt(int64(st.Entities)), groupInt(int64(st.Relationships)), st.Version)
	return store.Close()
}
