package main

// Shared CLI helpers: flags read from the environment, subcommands, and opening a store
// that must already exist.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/lodestone-kg/lodestone/graph"
)

// isHelp reports whether arg asks for help: help, -h, -help or --help.
func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// errNoStore is returned by openExistingStore for a folder that holds no store.
var errNoStore = errors.New("no store")

// openExistingStore opens the Badger store in opts.Dir, refusing (errNoStore, wrapped
// with the folder and hint) when the folder does not exist or holds no store, so that a
// mistyped --data never creates an empty store and reports success on it.
func openExistingStore(opts graph.Options, hint string) (*graph.Store, error) {
	if _, err := os.Stat(filepath.Join(opts.Dir, "MANIFEST")); err != nil {
		return nil, fmt.Errorf("%w at %s (%s)", errNoStore, opts.Dir, hint)
	}
	return graph.Open(opts)
}

// newFlagSet returns a flag set for a subcommand whose errors and help go to stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lodestone "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, then sets every flag not given on the command line from its
// environment variable LODESTONE_<NAME> (upper case, dashes as underscores).
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		env := "LODESTONE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %v", env, v, e)
			}
		}
	})
	return err
}

// subcommand splits the arguments of a command with subcommands (keys, query) into the
// subcommand and its arguments. With none, or help, it prints usage to stderr and
// reports done, with an error saying missing when there were no arguments at all.
func subcommand(args []string, usage, missing string, stderr io.Writer) (cmd string, rest []string, done bool, err error) {
	if len(args) == 0 || isHelp(args[0]) {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return "", nil, true, errors.New(missing)
		}
		return "", nil, true, nil
	}
	return args[0], args[1:], false, nil
}

// createAtomic creates a temporary file in the folder of name, for a command to write
// name in full or not at all: commit closes it and renames it to name; abort closes and
// removes it, and does nothing after commit, so it can be deferred.
func createAtomic(name string) (f *os.File, commit func() error, abort func(), err error) {
	f, err = os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return nil, nil, nil, err
	}
	_ = f.Chmod(0o644) // as os.Create would, not CreateTemp's 0600
	done := false
	abort = func() {
		if !done {
			done = true
			f.Close()
			os.Remove(f.Name())
		}
	}
	commit = func() error {
		if done {
			return errors.New("createAtomic: already committed or aborted")
		}
		if err := f.Close(); err != nil {
			abort()
			return err
		}
		if err := os.Rename(f.Name(), name); err != nil {
			os.Remove(f.Name())
			done = true
			return err
		}
		done = true
		return nil
	}
	return f, commit, abort, nil
}

// groupInt writes n with thousands separators.
func groupInt(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
