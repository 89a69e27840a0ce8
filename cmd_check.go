package main

import (
	"context"
	"fmt"
	"io"

	"github.com/lodestone-kg/lodestone/graph"
)

// runCheck opens a store that no server is using and verifies its invariants
// (graph.Store.Check). It exits non-zero when it finds a problem.
func runCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", stderr)
	data := fs.String("data", "./data", "folder of the Badger store (LODESTONE_DATA)")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	store, err := openExistingStore(graph.Options{Dir: *data, CacheSize: noCache}, "give --data DIR of an existing store")
	if err != nil {
		return err
	}
	defer store.Close()
	rep, err := store.Check(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "checked %d entities and %d relationships in %s\n", rep.Entities, rep.Relationships, *data)
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, "problem:", p)
	}
	if len(rep.Problems) > 0 {
		return fmt.Errorf("the store has %d problem(s)", len(rep.Problems))
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
