package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/lodestone-kg/lodestone/client"
	"github.com/lodestone-kg/lodestone/graph"
)

// runBackup writes an online backup: from a running server (--url, GET /admin/backup)
// or from a store no server is using (--data). Without --since it is full; with the
// number a previous backup printed it holds only what changed since.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", stderr)
	data := fs.String("data", "./data", "folder of the Badger store (LODESTONE_DATA)")
	remote := fs.String("url", "", "back up the running server at this URL instead (LODESTONE_URL)")
	out := fs.String("out", "", "backup file to write (required) (LODESTONE_OUT)")
	key := fs.String("key", "", "admin API key for --url, sent as Authorization: Bearer (LODESTONE_KEY)")
	since := fs.Uint64("since", 0, "write an incremental backup of what changed after this version (printed by the previous backup) (LODESTONE_SINCE)")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("backup: name the backup file with --out")
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	var next uint64
	if *remote != "" {
		c, err := client.New(*remote, *key)
		if err != nil {
			return fmt.Errorf("backup: --url: %w", err)
		}
		if next, err = c.Backup(ctx, f, *since); err != nil {
			f.Close()
			os.Remove(*out)
			return fmt.Errorf("backup: %s: %w", *remote, err)
		}
	} else {
		store, err := graph.Open(graph.Options{Dir: *data, ReadOnly: true, CacheSize: noCache})
		if err != nil {
			return fmt.Errorf("%w (is a server using it? then back up with --url)", err)
		}
		defer store.Close()
		if next, err = store.Backup(ctx, f, *since); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	kind := "full"
	if *since > 0 {
		kind = fmt.Sprintf("incremental (since %d)", *since)
	}
	fmt.Fprintf(stdout, "wrote %s backup %s (%s bytes); for the next incremental backup pass --since %d\n", kind, *out, groupInt(fi.Size()), next)
	return f.Close()
}
