package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lodestone-kg/lodestone/client"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/server"
	"github.com/lodestone-kg/lodestone/synth"
)

// runBench measures each traversal class on a synthetic graph, on the store and through
// HTTP, and prints p50/p99 latencies as a Markdown table. The graph is generated and bulk
// loaded once into --data and reused by later runs with the same size and seed.
func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	companies := fs.Int("companies", 100_000, "companies in the synthetic graph")
	seed := fs.Int64("seed", 1, "generator seed")
	data := fs.String("data", "", "store folder (default ./bench-data/<companies>-<seed>)")
	n := fs.Int("n", 2000, "requests per traversal class")
	hub := fs.Int("hub", 100_000, "relationships of the hub company for the pathological query (0: none)")
	compact := fs.Bool("compact", false, "compact the store before measuring (always done right after loading)")
	only := fs.String("only", "", "run only the classes whose name contains this text")
	serverURL := fs.String("url", "", "measure a running server (e.g. http://127.0.0.1:8080) through HTTP only, instead of an in-process one; it must serve the same --companies/--seed/--hub graph")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured requests (of the load with --load-only) to this file")
	cacheMiB := fs.Int64("cache", graph.DefaultCacheSize>>20, "MiB of the store's read cache (0: none), as lodestone serve --cache")
	loadOnly := fs.Bool("load-only", false, "generate and bulk load the graph into an empty --data store, print the time and stop")
	writeJSONL := fs.String("write-jsonl", "", "write the synthetic graph to this file as native JSONL (for lodestone import) and stop")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if *data == "" {
		*data = filepath.Join("bench-data", fmt.Sprintf("%d-%d-hub%d", *companies, *seed, *hub))
	}
	cfg := synth.Config{Companies: *companies, Seed: *seed, HubDegree: *hub}
	if *writeJSONL != "" {
		return benchWriteJSONL(cfg, *writeJSONL)
	}
	if *serverURL != "" {
		return benchRemote(ctx, cfg, *serverURL, *n, *only, stdout)
	}
	opts := graph.Options{Dir: *data, NoSync: true, CacheSize: cacheBytes(*cacheMiB)}
	if *loadOnly {
		opts.BaseTableSize = bulkBaseTableSize // as lodestone import does
	}
	store, err := graph.Open(opts)
	if err != nil {
		return err
	}
	defer store.Close()
	if *loadOnly {
		return benchLoad(ctx, store, cfg, *data, *cpuProfile, stdout)
	}
	loaded, err := loadSynthetic(ctx, store, cfg, *data, stderr)
	if err != nil {
		return err
	}
	*compact = *compact || loaded // a fresh bulk load is always compacted before measuring
	if *compact {
		start := time.Now()
		if err := store.Compact(); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "compacted the store in %s\n", time.Since(start).Round(time.Millisecond))
	}
	st, _ := store.Stats(ctx)
	st.StoreBytes = graph.DiskUsage(*data)

	handler, err := server.NewServer(nil, server.Config{}, store, schemaSDL)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(ln)
	defer srv.Close()
	api := &client.Client{BaseURL: "http://" + ln.Addr().String(), HTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}}

	classes := benchClasses(ctx, store, cfg, rand.New(rand.NewPCG(uint64(cfg.Seed), 7)))

	fmt.Fprintf(stdout, "Graph: %d companies → %d entities, %d relationships (store %.0f MiB), %d requests per class, one client, GOMAXPROCS=%d.\n\n",
		*companies, st.Entities, st.Relationships, float64(st.StoreBytes)/(1<<20), *n, runtime.GOMAXPROCS(0))
	fmt.Fprintln(stdout, "| class | store p50 | store p99 | HTTP p50 | HTTP p99 | HTTP errors |")
	fmt.Fprintln(stdout, "|---|---|---|---|---|---|")
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	for _, c := range classes {
		if !strings.Contains(c.name, *only) {
			continue
		}
		storeTimes, err := measure(*n, c.store)
		if err != nil {
			return fmt.Errorf("%s on the store: %w", c.name, err)
		}
		httpTimes, errs, err := measureHTTP(ctx, api, *n, c)
		if err != nil {
			return fmt.Errorf("%s through HTTP: %w", c.name, err)
		}
		fmt.Fprintf(stdout, "| %s | %s | %s | %s | %s | %d |\n", c.name,
			fmtDur(pct(storeTimes, 50)), fmtDur(pct(storeTimes, 99)), fmtDur(pct(httpTimes, 50)), fmtDur(pct(httpTimes, 99)), errs)
	}
	if *hub > 0 {
		rng := rand.New(rand.NewPCG(uint64(*seed), 11))
		company := func() string { return synth.CompanyID(rng.IntN(*companies)) }
		fmt.Fprintln(stdout)
		for _, q := range []string{
			`{ subgraph(ids: ["co-hub"], depth: 12, limit: 10000) { truncated entities { id } } }`,
			`{ shortestPath(from: "co-hub", to: "` + company() + `", maxDepth: 12) { length } }`,
			`{ paths(from: "co-hub", to: "` + company() + `", maxDepth: 12, direction: BOTH) { length } }`,
			`{ holdings(of: "co-hub", maxDepth: 12) { integrated } }`,
		} {
			start := time.Now()
			ans, err := api.Query(ctx, q, nil)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Pathological (hub with %d relationships): `%s` answered in %s: %s\n", *hub, q, fmtDur(time.Since(start)), summarize(ans))
		}
	}
	runtime.GC()
	fmt.Fprintf(stdout, "\nResident memory after the run: %s (peak %s).\n", procStatus("VmRSS"), procStatus("VmHWM"))
	return nil
}

// benchWriteJSONL writes the synthetic graph of cfg to path as native JSONL.
func benchWriteJSONL(cfg synth.Config, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := synth.WriteJSONL(bw, cfg); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// benchLoad generates the synthetic graph of cfg and loads it into the empty store with
// StreamLoad (Badger StreamWriter), then prints the time, the CPU time and the peak
// resident memory of the process. With profile set it writes a CPU profile of the load.
func benchLoad(ctx context.Context, store *graph.Store, cfg synth.Config, dir, profile string, out io.Writer) error {
	stopProfile, err := startCPUProfile(profile)
	if err != nil {
		return err
	}
	defer stopProfile()
	start, cpu := time.Now(), cpuTime()
	bs, err := store.StreamLoad(ctx, func(emit func(graph.Record) error) error { return synth.Generate(cfg, emit) }, nil)
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(out, "generated and loaded %d companies (%d entities, %d relationships, %d sources) in %s (%.0f records/s; CPU %s; peak RSS %s; store %.0f MiB)\n",
		cfg.Companies, bs.Entities, bs.Relationships, bs.Sources, took.Round(time.Millisecond),
		float64(bs.Entities+bs.Relationships+bs.Sources)/took.Seconds(), (cpuTime() - cpu).Round(time.Millisecond),
		procStatus("VmHWM"), float64(graph.DiskUsage(dir))/(1<<20))
	return nil
}

// startCPUProfile writes a CPU profile to path until stop is called; an empty path
// profiles nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func allowLimit(err error) error {
	if graph.ErrorCode(err) == graph.ELIMIT {
		return nil
	}
	return err
}

func measure(n int, fn func() error) ([]time.Duration, error) {
	for range min(n/10, 100) { // warm up
		if err := fn(); err != nil {
			return nil, err
		}
	}
	out := make([]time.Duration, n)
	for i := range n {
		start := time.Now()
		if err := fn(); err != nil {
			return nil, err
		}
		out[i] = time.Since(start)
	}
	slices.Sort(out)
	return out, nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

func fmtDur(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + " ms"
}

// postGraphQL sends one query; bad is true when the answer carried GraphQL errors other
// than LIMIT_EXCEEDED.
func postGraphQL(ctx context.Context, api *client.Client, query string, vars map[string]any) (bad bool, err error) {
	ans, err := api.Query(ctx, query, vars)
	if err != nil {
		return false, err
	}
	if ans.Status != http.StatusOK {
		return false, fmt.Errorf("status %d", ans.Status)
	}
	for _, e := range ans.Errors {
		if e.Code() != graph.ELIMIT {
			return true, nil
		}
	}
	return false, nil
}

// summarize is the first error of ans, or the size of its data.
func summarize(ans *client.Answer) string {
	if len(ans.Errors) > 0 {
		return fmt.Sprintf("%d error(s), the first: %s (%s)", len(ans.Errors), ans.Errors[0].Message, ans.Errors[0].Code())
	}
	return fmt.Sprintf("%d bytes of data", len(ans.Data))
}

// procStatus reads one field of /proc/self/status (Linux), e.g. VmRSS.
func procStatus(field string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			return strings.TrimSpace(strings.TrimPrefix(line, field+":"))
		}
	}
	return "unknown"
}

// benchClass is one traversal class of the benchmark: the same question asked of the
// store directly and through GraphQL, on ids drawn at random.
type benchClass struct {
	name  string
	store func() error
	query func() (string, map[string]any)
}

// benchClasses returns the classes the issue measures, drawing ids from rng (not safe
// for concurrent use: one set of classes per goroutine); store may be nil when only the
// queries are used.
func benchClasses(ctx context.Context, store *graph.Store, cfg synth.Config, rng *rand.Rand) []benchClass {
	company := func() string { return synth.CompanyID(rng.IntN(cfg.Companies)) }
	deep := synth.DeepCompanies(cfg)
	endUse := synth.EndUseFacilities(cfg)
	pick := func(ids []string) string {
		if len(ids) == 0 { // a graph too small for deep pyramids
			return company()
		}
		return ids[rng.IntN(len(ids))]
	}

	return []benchClass{
		{"point read",
			func() error { _, err := store.Entity(ctx, company()); return err },
			func() (string, map[string]any) {
				return `query($id:ID!){ entity(id:$id) { id name kind country } }`, map[string]any{"id": company()}
			}},
		{"direct owners",
			func() error {
				_, _, err := store.EntityRelationships(ctx, company(), graph.RelationshipFilter{Direction: graph.In, Types: []string{"OWNS"}}, 50, "", false)
				return err
			},
			func() (string, map[string]any) {
				return `query($id:ID!){ entity(id:$id) { relationships(direction: IN, types: ["OWNS"]) { edges { node { from { id name } share } } } } }`, map[string]any{"id": company()}
			}},
		{"3-hop subgraph (≤ 200 entities)",
			func() error {
				_, err := store.Subgraph(ctx, graph.SubgraphQuery{IDs: []string{company()}, Depth: 3, Limit: 200, Direction: graph.Both, Thin: true})
				return err
			},
			func() (string, map[string]any) {
				return `query($id:ID!){ subgraph(ids: [$id], depth: 3, limit: 200) { truncated entities { id name } relationships { id type from { id } to { id } } } }`, map[string]any{"id": company()}
			}},
		{"shortestPath, random companies",
			func() error {
				_, err := store.ShortestPath(ctx, graph.PathQuery{From: company(), To: company(), MaxDepth: 8, Direction: graph.Both})
				return allowLimit(err)
			},
			func() (string, map[string]any) {
				return `query($a:ID!,$b:ID!){ shortestPath(from: $a, to: $b) { length entities { id } } }`, map[string]any{"a": company(), "b": company()}
			}},
		{"owners, bottom of a deep pyramid",
			func() error { _, err := store.Owners(ctx, graph.StakeQuery{Of: pick(deep), MaxDepth: 10}); return err },
			func() (string, map[string]any) {
				return `query($id:ID!){ owners(of: $id) { entity { id name } direct integrated depth controls } }`, map[string]any{"id": pick(deep)}
			}},
		{"exposure of an end-use facility",
			func() error { _, err := store.Exposure(ctx, pick(endUse), "CN", true, graph.Date{}); return err },
			func() (string, map[string]any) {
				return `query($id:ID!){ exposure(of: $id, country: "CN") { share entities { id } } }`, map[string]any{"id": pick(endUse)}
			}},
	}
}

// benchRemote measures the GraphQL side of every class against a running server.
func benchRemote(ctx context.Context, cfg synth.Config, url string, n int, only string, stdout io.Writer) error {
	api, err := client.New(url, "")
	if err != nil {
		return fmt.Errorf("bench: --url: %w", err)
	}
	api.HTTP = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	fmt.Fprintf(stdout, "Server %s, %d companies, %d requests per class, one client.\n\n", url, cfg.Companies, n)
	fmt.Fprintln(stdout, "| class | HTTP p50 | HTTP p99 | HTTP errors |")
	fmt.Fprintln(stdout, "|---|---|---|---|")
	for _, c := range benchClasses(ctx, nil, cfg, rand.New(rand.NewPCG(uint64(cfg.Seed), 7))) {
		if !strings.Contains(c.name, only) {
			continue
		}
		times, errs, err := measureHTTP(ctx, api, n, c)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		fmt.Fprintf(stdout, "| %s | %s | %s | %d |\n", c.name, fmtDur(pct(times, 50)), fmtDur(pct(times, 99)), errs)
	}
	return nil
}

// measureHTTP asks c's query n times through GraphQL over HTTP; errs counts answers with
// GraphQL errors other than LIMIT_EXCEEDED.
func measureHTTP(ctx context.Context, api *client.Client, n int, c benchClass) (times []time.Duration, errs int, err error) {
	times, err = measure(n, func() error {
		q, vars := c.query()
		bad, err := postGraphQL(ctx, api, q, vars)
		if bad {
			errs++
		}
		return err
	})
	return times, errs, err
}
