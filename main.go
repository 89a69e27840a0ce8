// Command lodestone is a knowledge-graph query server: entities and relationships in
// Badger, served through GraphQL for ownership and supply-path questions.
//
//	lodestone [serve] [flags]   serve the GraphQL API (the default job)
//	lodestone version           print the version
//	lodestone help              list the commands (also --help, -h)
//	lodestone healthcheck       exit 0 when the server at --url answers /healthz
//	lodestone check             verify a store's invariants
//	lodestone import FILE…      import JSONL, CSV, BODS or GLEIF files
//	lodestone export            export the graph or a subgraph (JSONL, GraphML, GEXF, Cytoscape, CSV)
//	lodestone backup            write a full or incremental backup
//	lodestone restore FILE…     restore backups into an empty store
//	lodestone query             list, show, run and save saved queries
//	lodestone keys              create, list and revoke API keys
//	lodestone bench             measure traversal latencies on a synthetic graph
//	lodestone loadtest          load a server with many clients; throughput, latency, memory
//
// Every flag can also be set with an environment variable: --cors-origins is
// LODESTONE_CORS_ORIGINS. A flag on the command line wins over the environment.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

//go:embed schema.graphql
var schemaSDL string

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "lodestone: %v\n", err)
		}
		os.Exit(1)
	}
}

const usage = `Usage: lodestone <command> [flags]

Commands:
  serve         serve the GraphQL API (default)
  version       print the version
  healthcheck   exit 0 when the server at --url answers /healthz
  check         verify the invariants of a store no server is using
  import        import files: --format jsonl|csv|bods|gleif FILE…
  export        export the graph or a subgraph: --format jsonl|graphml|gexf|cytoscape|csv
  backup        write a full or incremental (--since) backup: --out FILE
  restore       restore backups into an empty store: FULL [INCREMENTAL…]
  query         list, show, run and save saved queries (lodestone query help)
  keys          create, list and revoke API keys; the server must be stopped (lodestone keys help)
  bench         measure traversal latencies on a synthetic graph
  loadtest      load a server with many clients: throughput, p50/p99, failures, memory

Run "lodestone <command> -h" for the flags of a command.
`

// run is the whole program, with the operating system passed in so that tests can call
// it: args as os.Args, getenv as os.Getenv.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd, rest := "serve", args[1:]
	if len(rest) > 0 && (!strings.HasPrefix(rest[0], "-") || isHelp(rest[0])) {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "lodestone %s\n", version)
		return nil
	case "healthcheck":
		return runHealthcheck(ctx, rest, getenv, stdout, stderr)
	case "check":
		return runCheck(ctx, rest, getenv, stdout, stderr)
	case "import":
		return runImport(ctx, rest, getenv, stdout, stderr)
	case "export":
		return runExport(ctx, rest, getenv, stdout, stderr)
	case "backup":
		return runBackup(ctx, rest, getenv, stdout, stderr)
	case "restore":
		return runRestore(ctx, rest, getenv, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, getenv, stdout, stderr)
	case "loadtest":
		return runLoadtest(ctx, rest, getenv, stdout, stderr)
	case "query":
		return runQuery(ctx, rest, getenv, stdin, stdout, stderr)
	case "keys":
		return runKeys(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
