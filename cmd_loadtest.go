package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lodestone-kg/lodestone/client"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/synth"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// loadConfig is the configuration of `lodestone loadtest`.
type loadConfig struct {
	companies  int
	seed       int64
	data       string
	url        string
	key        string
	clients    int
	duration   time.Duration
	writeRatio float64
	sample     time.Duration
}

// runLoadtest runs many clients against a server for a while with a weighted mix of
// point reads, traversals, searches and writes, then prints throughput and latencies by
// class, failures, and the server's memory sampled from its /metrics as it went. Without
// --url it serves the synthetic graph of --companies itself (the real `serve`, in this
// process, on loopback), generating and bulk loading the store into --data first when it
// is empty. A request fails on a transport error, a status other than 200, or a GraphQL
// error other than LIMIT_EXCEEDED (a traversal over its budget, counted apart); any
// failure makes the command fail.
func runLoadtest(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg loadConfig
	fs := newFlagSet("loadtest", stderr)
	fs.IntVar(&cfg.companies, "companies", 100_000, "companies in the synthetic graph")
	fs.Int64Var(&cfg.seed, "seed", 1, "generator seed")
	fs.StringVar(&cfg.data, "data", "", "store folder (default ./bench-data/<companies>-<seed>-hub0, shared with bench --hub 0); the writes of the test stay in it")
	fs.StringVar(&cfg.url, "url", "", "load a running server (e.g. http://127.0.0.1:8080) serving the same --companies/--seed graph, instead of an in-process one")
	fs.StringVar(&cfg.key, "key", "", "API key, sent as Authorization: Bearer <key>")
	fs.IntVar(&cfg.clients, "clients", 32, "concurrent clients")
	fs.DurationVar(&cfg.duration, "duration", 5*time.Minute, "how long to load the server")
	fs.Float64Var(&cfg.writeRatio, "write-ratio", 0.05, "fraction of requests that write (upsertEntity, upsertRelationship, importGraph)")
	fs.DurationVar(&cfg.sample, "sample", 10*time.Second, "interval of the memory samples")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if cfg.clients < 1 || cfg.duration <= 0 || cfg.sample <= 0 || cfg.writeRatio < 0 || cfg.writeRatio > 1 {
		return errors.New("loadtest: --clients must be at least 1, --duration and --sample positive, --write-ratio within 0..1")
	}
	if cfg.data == "" {
		cfg.data = filepath.Join("bench-data", fmt.Sprintf("%d-%d-hub0", cfg.companies, cfg.seed))
	}
	gcfg := synth.Config{Companies: cfg.companies, Seed: cfg.seed}

	base := strings.TrimSuffix(strings.TrimSuffix(cfg.url, "/"), "/graphql")
	where := base
	if base == "" {
		var stop func() error
		var err error
		base, stop, err = serveSynthetic(ctx, gcfg, cfg.data, getenv, stderr)
		if err != nil {
			return err
		}
		defer func() {
			if err := stop(); err != nil {
				fmt.Fprintf(stderr, "loadtest: stopping the server: %v\n", err)
			}
		}()
		where = "in this process (client and server share it)"
	}
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.clients}}
	api := &client.Client{BaseURL: strings.TrimRight(base, "/"), Key: cfg.key, HTTP: hc}
	lt := &loadTest{cfg: cfg, graph: gcfg, base: base, client: hc, api: api, run: time.Now().UnixNano()}
	res, err := lt.loadFor(ctx, stderr)
	if err != nil {
		return err
	}
	res.print(stdout, cfg, where)
	if res.failed > 0 {
		return fmt.Errorf("loadtest: %d of %d requests failed (first: %s)", res.failed, res.total, res.firstFailure)
	}
	return nil
}

// serveSynthetic prepares the store of gcfg in dir (generated and compacted when empty),
// then runs `lodestone serve` on it in this process on a loopback port. It returns the
// base URL and a function that stops the server.
func serveSynthetic(ctx context.Context, gcfg synth.Config, dir string, getenv func(string) string, stderr io.Writer) (string, func() error, error) {
	store, err := graph.Open(graph.Options{Dir: dir, NoSync: true})
	if err != nil {
		return "", nil, err
	}
	loaded, err := loadSynthetic(ctx, store, gcfg, dir, stderr)
	if err == nil && loaded {
		err = store.Compact()
	}
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", nil, err
	}

	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		// On loopback, in this process: anonymous writes are allowed (the clients may still
		// send --key).
		err := runServe(ctx, []string{"--addr", "127.0.0.1:0", "--data", dir, "--seed=false", "--allow-anonymous-writes", "--log-level", "error"}, getenv, pw, stderr)
		pw.CloseWithError(fmt.Errorf("serve stopped: %v", err))
		done <- err
	}()
	stop := func() error {
		cancel()
		return <-done
	}
	line, err := bufio.NewReader(pr).ReadString('\n') // "lodestone listening on http://127.0.0.1:PORT (…)"
	fields := strings.Fields(line)
	if err != nil || len(fields) < 4 {
		stop()
		return "", nil, fmt.Errorf("loadtest: the server did not start: %v", err)
	}
	go io.Copy(io.Discard, pr)
	return fields[3], stop, nil
}

// loadClass is one kind of request of the mix.
type loadClass struct {
	name   string
	weight float64
	query  func() (string, map[string]any)
}

// loadTest is one run of the load test.
type loadTest struct {
	cfg    loadConfig
	graph  synth.Config
	base   string
	client *http.Client   // for /metrics
	api    *client.Client // for /graphql
	run    int64          // makes the ids written by this run unique
	done   atomic.Int64
}

// classesFor returns the mix of client c, drawing from its own random source. Reads
// share 1 - writeRatio of the weight, writes writeRatio.
func (lt *loadTest) classesFor(c int) []loadClass {
	rng := rand.New(rand.NewPCG(uint64(lt.graph.Seed), uint64(c)+100))
	company := func() string { return synth.CompanyID(rng.IntN(lt.graph.Companies)) }
	readWeights := map[string]float64{
		"point read": 30, "direct owners": 15, "3-hop subgraph (≤ 200 entities)": 10,
		"shortestPath, random companies": 10, "owners, bottom of a deep pyramid": 10,
		"exposure of an end-use facility": 10,
	}
	const searchWeight = 15
	var classes []loadClass
	for _, b := range benchClasses(context.Background(), nil, lt.graph, rng) {
		classes = append(classes, loadClass{b.name, readWeights[b.name] / 100 * (1 - lt.cfg.writeRatio), b.query})
	}
	stems := []string{"Zhaobao", "Jinhua", "Liberty", "Summit", "Hengtai", "Pioneer", "Tianhe magnet", "Granite"}
	classes = append(classes, loadClass{"search", searchWeight / 100.0 * (1 - lt.cfg.writeRatio), func() (string, map[string]any) {
		return `query Search($t:String!){ search(text: $t, first: 10) { score entity { id name } } }`, map[string]any{"t": stems[rng.IntN(len(stems))]}
	}})

	n := 0
	newID := func() string { n++; return fmt.Sprintf("load-%x-%d-%d", lt.run, c, n) }
	entity := func(id string) map[string]any {
		return map[string]any{"id": id, "kind": "Company", "name": "Loadtest Company " + id, "country": "CN"}
	}
	w := lt.cfg.writeRatio
	classes = append(classes,
		loadClass{"write: upsertEntity", w * 0.5, func() (string, map[string]any) {
			return `mutation Upsert($e:EntityInput!){ upsertEntity(input: $e) { id } }`, map[string]any{"e": entity(newID())}
		}},
		loadClass{"write: upsertRelationship", w * 0.35, func() (string, map[string]any) {
			return `mutation Link($r:RelationshipInput!){ upsertRelationship(input: $r) { id } }`,
				map[string]any{"r": map[string]any{"type": "TRADES_WITH", "from": company(), "to": company(), "confidence": 0.5}}
		}},
		loadClass{"write: importGraph (10 + 10)", w * 0.15, func() (string, map[string]any) {
			var ents, rels []map[string]any
			for i := range 10 {
				id := newID()
				ents = append(ents, entity(id))
				rels = append(rels, map[string]any{"type": "OWNS", "from": id, "to": company(), "share": 0.001 * float64(i+1)})
			}
			return `mutation Import($e:[EntityInput!],$r:[RelationshipInput!]){ importGraph(entities: $e, relationships: $r) { entities relationships } }`,
				map[string]any{"e": ents, "r": rels}
		}},
	)
	return classes
}

// loadResult is what a run measured.
type loadResult struct {
	elapsed      time.Duration
	classes      []string
	times        map[string][]time.Duration
	failures     map[string]int
	limited      map[string]int
	total        int
	failed       int
	firstFailure string
	samples      []memSample
}

// memSample is the server's memory at one moment, read from its /metrics.
type memSample struct {
	at                    time.Duration
	requests              int64
	rss, heap, goroutines float64
	// served and outcomes are the server's own counts of GraphQL requests, in all and
	// by outcome other than ok (lodestone_graphql_requests_total).
	served   float64
	outcomes map[string]float64
}

// loadFor runs the clients for the configured duration, sampling memory meanwhile.
func (lt *loadTest) loadFor(ctx context.Context, stderr io.Writer) (*loadResult, error) {
	res := &loadResult{times: map[string][]time.Duration{}, failures: map[string]int{}, limited: map[string]int{}}
	for _, c := range lt.classesFor(0) {
		res.classes = append(res.classes, c.name)
	}
	s, err := lt.sampleMemory(0)
	if err != nil {
		return nil, err
	}
	res.samples = append(res.samples, s)

	start := time.Now()
	reqCtx := ctx // requests in flight at the deadline finish, and are counted
	ctx, cancel := context.WithDeadline(ctx, start.Add(lt.cfg.duration))
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for c := range lt.cfg.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			times, failures, limited, first := lt.client1(ctx, reqCtx, c)
			mu.Lock()
			defer mu.Unlock()
			for name, ts := range times {
				res.times[name] = append(res.times[name], ts...)
			}
			for name, n := range failures {
				res.failures[name] += n
				res.failed += n
			}
			for name, n := range limited {
				res.limited[name] += n
			}
			if res.firstFailure == "" {
				res.firstFailure = first
			}
		}()
	}
	tick := time.NewTicker(lt.cfg.sample)
	defer tick.Stop()
sampling:
	for {
		select {
		case <-ctx.Done():
			break sampling
		case <-tick.C:
			s, err := lt.sampleMemory(time.Since(start))
			if err != nil {
				fmt.Fprintf(stderr, "loadtest: memory sample: %v\n", err)
				continue
			}
			res.samples = append(res.samples, s)
			fmt.Fprintf(stderr, "%6s  %8d requests  RSS %s  Go heap %s  %0.f goroutines\n",
				s.at.Round(time.Second), s.requests, mib(s.rss), mib(s.heap), s.goroutines)
		}
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if s, err := lt.sampleMemory(res.elapsed); err == nil {
		res.samples = append(res.samples, s)
	}
	for _, ts := range res.times {
		slices.Sort(ts)
		res.total += len(ts)
	}
	return res, nil
}

// client1 is one client: it sends requests of its mix, one at a time, until run ends;
// each request runs with reqCtx, so that the last one finishes and is counted.
func (lt *loadTest) client1(run, reqCtx context.Context, c int) (times map[string][]time.Duration, failures, limited map[string]int, first string) {
	classes := lt.classesFor(c)
	rng := rand.New(rand.NewPCG(uint64(c), uint64(lt.run)))
	var sum float64
	for _, cl := range classes {
		sum += cl.weight
	}
	times, failures, limited = map[string][]time.Duration{}, map[string]int{}, map[string]int{}
	for run.Err() == nil {
		x := rng.Float64() * sum
		cl := classes[len(classes)-1]
		for _, k := range classes {
			if x < k.weight {
				cl = k
				break
			}
			x -= k.weight
		}
		query, vars := cl.query()
		start := time.Now()
		outcome, err := lt.post(reqCtx, query, vars)
		d := time.Since(start)
		if reqCtx.Err() != nil { // the command was interrupted: not counted
			break
		}
		lt.done.Add(1)
		times[cl.name] = append(times[cl.name], d)
		switch {
		case err != nil:
			failures[cl.name]++
			if first == "" {
				first = cl.name + ": " + err.Error()
			}
		case outcome == graph.ELIMIT:
			limited[cl.name]++
		}
	}
	return times, failures, limited, first
}

// post sends one GraphQL request. It returns graph.ELIMIT when the answer's only errors
// are LIMIT_EXCEEDED, and an error for any other failure.
func (lt *loadTest) post(ctx context.Context, query string, vars map[string]any) (string, error) {
	ans, err := lt.api.Query(ctx, query, vars)
	if err != nil {
		return "", err
	}
	if ans.Status != http.StatusOK {
		return "", fmt.Errorf("status %d", ans.Status)
	}
	for _, e := range ans.Errors {
		if e.Code() != graph.ELIMIT {
			return "", fmt.Errorf("%s: %s", e.Code(), e.Message)
		}
	}
	if len(ans.Errors) > 0 {
		return graph.ELIMIT, nil
	}
	return "", nil
}

// sampleMemory reads the server's resident memory, Go heap allocated and goroutines from
// its /metrics.
func (lt *loadTest) sampleMemory(at time.Duration) (memSample, error) {
	s := memSample{at: at, requests: lt.done.Load()}
	resp, err := lt.client.Get(lt.base + "/metrics")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("GET /metrics: status %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return s, fmt.Errorf("GET /metrics: %w", err)
	}
	gauge := func(name string) float64 {
		if f := fams[name]; f != nil && len(f.GetMetric()) > 0 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
		return 0
	}
	s.rss, s.heap, s.goroutines = gauge("process_resident_memory_bytes"), gauge("go_memstats_heap_alloc_bytes"), gauge("go_goroutines")
	s.outcomes = map[string]float64{}
	if f := fams["lodestone_graphql_requests_total"]; f != nil {
		for _, m := range f.GetMetric() {
			n := m.GetCounter().GetValue()
			s.served += n
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() != "ok" {
					s.outcomes[l.GetValue()] += n
				}
			}
		}
	}
	return s, nil
}

// print writes the results as Markdown.
func (r *loadResult) print(w io.Writer, cfg loadConfig, where string) {
	secs := r.elapsed.Seconds()
	fmt.Fprintf(w, "Load test: %d clients for %s against the %d-company graph, write ratio %.2f, server %s, GOMAXPROCS=%d.\n\n",
		cfg.clients, r.elapsed.Round(time.Second), cfg.companies, cfg.writeRatio, where, runtime.GOMAXPROCS(0))
	fmt.Fprintln(w, "| class | requests | req/s | p50 | p99 | max | failed | LIMIT_EXCEEDED |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	var all []time.Duration
	limited := 0
	for _, name := range r.classes {
		ts := r.times[name]
		all = append(all, ts...)
		limited += r.limited[name]
		fmt.Fprintf(w, "| %s | %d | %.1f | %s | %s | %s | %d | %d |\n", name, len(ts), float64(len(ts))/secs,
			fmtDur(pct(ts, 50)), fmtDur(pct(ts, 99)), fmtDur(pct(ts, 100)), r.failures[name], r.limited[name])
	}
	slices.Sort(all)
	fmt.Fprintf(w, "| **all** | %d | %.1f | %s | %s | %s | %d | %d |\n\n", len(all), float64(len(all))/secs,
		fmtDur(pct(all, 50)), fmtDur(pct(all, 99)), fmtDur(pct(all, 100)), r.failed, limited)
	fmt.Fprintln(w, "Server memory, from its /metrics:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| time | requests done | resident (RSS) | Go heap allocated | goroutines |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, s := range r.samples {
		fmt.Fprintf(w, "| %s | %d | %s | %s | %.0f |\n", s.at.Round(time.Second), s.requests, mib(s.rss), mib(s.heap), s.goroutines)
	}
	if n := len(r.samples); n >= 2 {
		first, last := r.samples[0], r.samples[n-1]
		var errs []string
		for code, n := range last.outcomes {
			if d := n - first.outcomes[code]; d > 0 {
				errs = append(errs, fmt.Sprintf("%.0f %s", d, code))
			}
		}
		slices.Sort(errs)
		if len(errs) == 0 {
			errs = []string{"none"}
		}
		fmt.Fprintf(w, "\nThe server's own count (lodestone_graphql_requests_total) grew by %.0f requests; outcomes other than ok: %s.\n",
			last.served-first.served, strings.Join(errs, ", "))
	}
}

func mib(b float64) string { return fmt.Sprintf("%.0f MiB", b/(1<<20)) }

// loadSynthetic generates the graph of cfg and bulk loads it into store when store is
// empty, reporting on stderr; loaded says whether it did.
func loadSynthetic(ctx context.Context, store *graph.Store, cfg synth.Config, dir string, stderr io.Writer) (loaded bool, err error) {
	if st, _ := store.Stats(ctx); st.Entities > 0 {
		return false, nil
	}
	fmt.Fprintf(stderr, "generating and loading %d companies into %s…\n", cfg.Companies, dir)
	if err := benchLoad(ctx, store, cfg, dir, "", stderr); err != nil {
		return false, err
	}
	return true, nil
}
