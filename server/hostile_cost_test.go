package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/synth"
)

// The hostile-cost suite: well-formed anonymous requests that cost far more than they
// look, against the graph an attacker would pick — lodestone bench's 100,000-company graph
// with a 100,000-relationship hub, plus a 20,000-company ownership ring (one strongly
// connected component). Each must be refused before it runs or stop within its budget:
// at most 1 s of CPU and 200 MB more resident memory for one request, and a point read's
// p99 under 50 ms while 8 clients send them. Under the race detector (5–20 times slower)
// the graph is smaller and only the answers are checked; .ci/run runs this suite once
// more without it.

const (
	hostileRing      = 20_000
	hostileCPU       = time.Second
	hostileRSS       = 200 << 20
	hostileP99       = 50 * time.Millisecond
	hostileClients   = 8
	hostileHammerFor = 4 * time.Second
)

// hostileCompanies is the size of the bench graph and of its hub.
func hostileCompanies() int {
	if raceEnabled || testing.Short() {
		return 20_000
	}
	return 100_000
}

var hostileOnce struct {
	sync.Once
	ts  *testServer
	err error
}

// hostileServer serves the hostile graph (built once per test binary) with the default
// limits, anonymous reads allowed.
func hostileServer(tb testing.TB) *testServer {
	tb.Helper()
	hostileOnce.Do(func() {
		start := time.Now()
		store, err := graph.Open(graph.Options{InMemory: true})
		if err != nil {
			hostileOnce.err = err
			return
		}
		n := hostileCompanies()
		cfg := synth.Config{Companies: n, Seed: 1, HubDegree: n}
		_, err = store.StreamLoad(context.Background(), func(emit func(graph.Record) error) error {
			if err := synth.Generate(cfg, emit); err != nil {
				return err
			}
			return emitRing(emit, hostileRing)
		}, nil)
		if err != nil {
			hostileOnce.err = err
			return
		}
		_, token, err := store.CreateAPIKey(context.Background(), graph.RoleAdmin, "hostile tests")
		if err != nil {
			hostileOnce.err = err
			return
		}
		h, err := NewServer(nil, Config{}, store, schemaSDL(tb))
		if err != nil {
			hostileOnce.err = err
			return
		}
		hostileOnce.ts = &testServer{Server: httptest.NewServer(h), store: store, token: token}
		tb.Logf("hostile graph: %d companies, hub of %d, ring of %d, built in %s", n, n, hostileRing, time.Since(start).Round(time.Millisecond))
	})
	if hostileOnce.err != nil {
		tb.Fatal(hostileOnce.err)
	}
	return hostileOnce.ts
}

// emitRing emits n companies ring-0 … ring-(n-1), each holding 51 % of the next and 30 %
// of the one seven further on: one strongly connected ownership component in which every
// company controls the next, so that control searches spread over all of it.
func emitRing(emit func(graph.Record) error, n int) error {
	id := func(i int) string { return fmt.Sprintf("ring-%05d", i%n) }
	for i := range n {
		if err := emit(graph.Record{Entity: &graph.Entity{ID: id(i), Kind: "Company", Name: "Ring Holding " + strconv.Itoa(i), Country: "CY"}}); err != nil {
			return err
		}
	}
	for i := range n {
		for _, r := range []struct {
			step  int
			share float64
		}{{1, 0.51}, {7, 0.3}} {
			s := r.share
			rel := &graph.Relationship{ID: fmt.Sprintf("ring-own-%d-%d", i, r.step), Type: graph.TypeOwns, From: id(i), To: id(i + r.step), Share: &s}
			if err := emit(graph.Record{Relationship: rel}); err != nil {
				return err
			}
		}
	}
	return nil
}

// hostileRequest is one request of the suite.
type hostileRequest struct {
	name  string
	path  string // default /graphql
	query string
	vars  map[string]any
	body  string // raw body instead of query and vars
	// refused: the request must be refused before it runs (no data, no work); otherwise
	// it may answer, or stop with LIMIT_EXCEEDED.
	refused bool
	status  int    // expected HTTP status (default 200)
	code    string // the code of the first error, when one is required
}

func hostileRequests(savedName string) []hostileRequest {
	hub := synth.HubID
	aliases := func(n int, field string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "a%d: %s ", i, field)
		}
		return "{ " + b.String() + "}"
	}
	words := strings.TrimSpace(strings.Repeat("co ", 16))
	return []hostileRequest{
		// search: the text is capped before anything is read.
		{name: "search, 100 KB text", query: `query($t: String!) { search(text: $t) { score } }`, vars: map[string]any{"t": strings.Repeat("rare earth ", 10_000)}, refused: true, code: "INVALID_INPUT"},
		{name: "search, 1 MB text", body: gqlBody(`query($t: String!) { search(text: $t) { score } }`, map[string]any{"t": strings.Repeat("x", 1<<20)}), refused: true, status: 413, code: "INVALID_INPUT"},
		{name: "search, 16 common words", query: `query($t: String!) { search(text: $t, first: 1000) { score entity { id } } }`, vars: map[string]any{"t": words}},
		{name: "search, 10 aliases of 200 characters", query: aliases(10, fmt.Sprintf(`search(text: %q, first: 100) { score }`, strings.Repeat("c", 200)))},

		// totalCount under every neighbour of the hub.
		{name: "hub: totalCount under 1,000 neighbours", query: `{ entity(id: "` + hub + `") { relationships(first: 1000) { edges { node { from { relationships(first: 1) { totalCount } } } } } } }`, refused: true, code: "LIMIT_EXCEEDED"},
		{name: "hub: totalCount under neighbours, through fragments", query: `{ entity(id: "` + hub + `") { ...R } } fragment R on Entity { relationships(first: 200) { edges { node { from { ...C } to { ...C } } } } } fragment C on Entity { relationships(first: 1) { totalCount } }`, refused: true, code: "LIMIT_EXCEEDED"},
		{name: "hub: totalCount under 9 neighbours (within the estimate)", query: `{ entity(id: "` + hub + `") { relationships(first: 9) { edges { node { from { relationships(first: 1) { totalCount } } } } } } }`},
		{name: "hub: 9 aliases of its totalCount", query: aliases(9, `entity(id: "`+hub+`") { relationships { totalCount } }`)},

		// The ownership solvers on a 20,000-company strongly connected component.
		{name: "ring: 30 aliases of owners, maxDepth 1", query: aliases(30, `owners(of: "ring-00000", maxDepth: 1) { integrated }`), refused: true, code: "LIMIT_EXCEEDED"},
		{name: "ring: 20 aliases of owners, maxDepth 1", query: aliases(20, `owners(of: "ring-00000", maxDepth: 1) { integrated }`)},
		{name: "ring: owners, maxDepth 1", query: `{ owners(of: "ring-00000", maxDepth: 1) { entity { id } integrated controls } }`},
		{name: "ring: two aliases of holdings", query: aliases(2, `holdings(of: "ring-00000", maxDepth: 1) { integrated }`)},
		{name: "ring: ultimateController", query: `{ ultimateController(of: "ring-00000") { share controller { id } } }`},
		{name: "ring: beneficialOwners", query: `{ beneficialOwners(of: "ring-00000") { integrated } }`},
		{name: "ring: ownership between two members", query: `{ ownership(owner: "ring-00000", target: "ring-10000") { integrated controls paths { length } } }`},

		// Saved queries cost what their document costs, over GraphQL as over REST.
		{name: "runSavedQuery of a deep saved query", query: `query($v: JSON) { runSavedQuery(name: "` + savedName + `", variables: $v) }`, vars: map[string]any{"v": map[string]any{"id": hub}}, refused: true, code: "LIMIT_EXCEEDED"},
		{name: "runSavedQuery of a deep saved query, in aliases", query: aliases(3, `runSavedQuery(name: "`+savedName+`", variables: {id: "`+hub+`", d: 3})`), refused: true, code: "LIMIT_EXCEEDED"},
		{name: "the same saved query over REST", path: "/queries/" + savedName + "?id=" + hub, refused: true, status: 400, code: "LIMIT_EXCEEDED"},

		// Traversals from the hub.
		{name: "hub: subgraph depth 12, limit 10,000", query: `{ subgraph(ids: ["` + hub + `"], depth: 12, limit: 10000) { truncated entities { id } } }`},
		{name: "hub: paths", query: `{ paths(from: "` + hub + `", to: "co-0000001", maxDepth: 6, first: 100) { length } }`},
		{name: "hub: holdings", query: `{ holdings(of: "` + hub + `") { integrated } }`},
		{name: "hub: shortestPath, 5 aliases", query: aliases(5, `shortestPath(from: "`+hub+`", to: "ring-00000", maxDepth: 12) { length }`)},
		{name: "hub: supplyChain", query: `{ supplyChain(of: "` + hub + `", direction: DOWNSTREAM, maxDepth: 8) { truncated entities { id } } }`},
	}
}

// hostileResult is what one request did.
type hostileResult struct {
	status  int
	code    string
	message string
	data    bool   // the answer has data that is not null
	work    string // the Lodestone-Work header
	cpu     time.Duration
	rss     int64 // peak resident memory above the start
	wall    time.Duration
}

// sendHostile sends r anonymously and measures the process's CPU time and resident
// memory while it runs.
func sendHostile(tb testing.TB, ts *testServer, r hostileRequest) hostileResult {
	tb.Helper()
	method, path, body := http.MethodPost, "/graphql", r.body
	if r.path != "" {
		method, path = http.MethodGet, r.path
	} else if body == "" {
		body = gqlBody(r.query, r.vars)
	}
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	base := residentBytes()
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			if rss := residentBytes() - base; rss > peak.Load() {
				peak.Store(rss)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	cpu0, start := cpuTime(), time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	res := hostileResult{status: resp.StatusCode, work: resp.Header.Get(WorkHeader), cpu: cpuTime() - cpu0, wall: time.Since(start)}
	close(stop)
	<-sampled
	res.rss = peak.Load()
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
		Error *struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &out); err != nil && resp.StatusCode != 413 {
		tb.Fatalf("%s: answer is not JSON: %.300s", r.name, raw)
	}
	res.data = len(out.Data) > 0 && !bytes.Equal(out.Data, []byte("null"))
	if len(out.Errors) > 0 {
		res.code, _ = out.Errors[0].Extensions["code"].(string)
		res.message = out.Errors[0].Message
	} else if out.Error != nil {
		res.code = out.Error.Code
	}
	if res.code == "" && resp.StatusCode == 413 {
		res.code = "INVALID_INPUT"
	}
	return res
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// residentBytes is this process's resident memory (0 where /proc is missing).
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// saveDeepQuery saves a query whose document is expensive and returns its name.
func saveDeepQuery(tb testing.TB, ts *testServer) string {
	tb.Helper()
	const name = "hostile-deep"
	doc := `query($id: ID!, $d: Int = 12) { subgraph(ids: [$id], depth: $d, limit: 10000) { entities { id relationships(first: 50) { totalCount } } } }`
	status, resp := ts.post(tb, `mutation($in: SavedQueryInput!) { saveQuery(input: $in) { name } }`,
		map[string]any{"in": map[string]any{"name": name, "query": doc}}, nil)
	if status != 200 || len(resp.Errors) > 0 {
		if len(resp.Errors) > 0 && strings.Contains(resp.Errors[0].Message, "unchanged") {
			return name
		}
		tb.Fatalf("saveQuery: %d %+v", status, resp.Errors)
	}
	return name
}

func TestHostileCost(t *testing.T) {
	ts := hostileServer(t)
	reqs := hostileRequests(saveDeepQuery(t, ts))
	var rows []string
	for _, r := range reqs {
		t.Run(r.name, func(t *testing.T) {
			res := sendHostile(t, ts, r)
			wantStatus := r.status
			if wantStatus == 0 {
				wantStatus = http.StatusOK
			}
			if res.status != wantStatus {
				t.Errorf("status %d, want %d (code %q)", res.status, wantStatus, res.code)
			}
			switch {
			case r.refused && (res.data || res.code != r.code):
				t.Errorf("answered with data %v and code %q; want it refused before it runs with %s", res.data, res.code, r.code)
			case r.refused && !strings.Contains(res.work, "used=0") && res.work != "":
				t.Errorf("refused, but did work: %s", res.work)
			case !r.refused && res.code != "" && res.code != graph.ELIMIT:
				t.Errorf("code %q; want an answer or LIMIT_EXCEEDED", res.code)
			}
			t.Logf("status %d, code %q, %s; CPU %s, wall %s, +%d MB", res.status, res.code, res.work, res.cpu.Round(time.Millisecond), res.wall.Round(time.Millisecond), res.rss>>20)
			rows = append(rows, costRow(r, res))
			if raceEnabled {
				return
			}
			if res.cpu > hostileCPU {
				t.Errorf("used %s of CPU; one request may use at most %s", res.cpu, hostileCPU)
			}
			if res.rss > hostileRSS {
				t.Errorf("resident memory grew by %d MB; one request may add at most %d MB", res.rss>>20, hostileRSS>>20)
			}
		})
	}
	checkCostTable(t, reqs, rows)
}

// costRow is one Markdown row of docs/security.md's cost table.
func costRow(r hostileRequest, res hostileResult) string {
	estimate, used := "—", "—"
	for _, part := range strings.Split(res.work, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "estimate":
			estimate = v
		case "used":
			used = v
		}
	}
	stop := "answers within its budget"
	switch {
	case r.refused && res.status == http.StatusRequestEntityTooLarge:
		stop = "refused before it runs: the body is over `--max-body`"
	case r.refused && res.code == graph.ELIMIT:
		stop = "refused before it runs: the estimate is over `--max-cost`"
	case r.refused:
		stop = "refused before it runs: " + res.code + ", " + res.message
	case strings.Contains(res.message, "ran out of time"):
		stop = "stopped (" + res.code + "): the request ran out of time (`--work-time`)"
	case strings.Contains(res.message, "work budget"):
		stop = "stopped (" + res.code + "): the work budget (`--max-cost`) was spent"
	case strings.Contains(res.message, "result cap"):
		stop = "stopped (" + res.code + "): the answer is over the result cap (`--max-subgraph`)"
	case res.code != "":
		stop = "stopped (" + res.code + "): the traversal's visit budget (`--max-visits`)"
	}
	return fmt.Sprintf("| %s | %s | %s units, %s CPU | %s |", r.name, estimate, used, res.cpu.Round(time.Millisecond), stop)
}

const (
	costTableTop = "<!-- hostile-cost:begin (generated by server/hostile_cost_test.go) -->"
	costTableEnd = "<!-- hostile-cost:end -->"
)

// checkCostTable checks that docs/security.md's cost table lists every request of the
// suite, and rewrites it from this run with LODESTONE_WRITE_COST_TABLE=1 (the figures
// depend on the machine, so they are not compared).
func checkCostTable(t *testing.T, reqs []hostileRequest, rows []string) {
	t.Helper()
	doc, err := os.ReadFile(securityDoc)
	if err != nil {
		t.Fatal(err)
	}
	top := strings.Index(string(doc), costTableTop)
	end := strings.Index(string(doc), costTableEnd)
	if top < 0 || end < top {
		t.Fatalf("%s has no cost table markers", securityDoc)
	}
	if os.Getenv("LODESTONE_WRITE_COST_TABLE") == "1" && !raceEnabled && len(rows) == len(reqs) {
		table := costTableTop + "\n| request class | estimate | work done | what stops it |\n|---|---|---|---|\n" + strings.Join(rows, "\n") + "\n" + costTableEnd
		updated := string(doc[:top]) + table + string(doc[end+len(costTableEnd):])
		if err := os.WriteFile(securityDoc, []byte(updated), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	current := string(doc[top:end])
	for _, r := range reqs {
		if !strings.Contains(current, "| "+r.name+" |") {
			t.Errorf("docs/security.md's cost table has no row for %q; run LODESTONE_WRITE_COST_TABLE=1 go test ./server -run 'TestHostileCost$'", r.name)
		}
	}
}

// TestHostileCostUnderLoad: while hostileClients clients send the requests of the suite
// that run (the refused ones cost nothing), a point read's p99 stays under hostileP99.
func TestHostileCostUnderLoad(t *testing.T) {
	ts := hostileServer(t)
	var running []hostileRequest
	for _, r := range hostileRequests(saveDeepQuery(t, ts)) {
		if !r.refused {
			running = append(running, r)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), hostileHammerFor)
	defer cancel()
	var wg sync.WaitGroup
	var sent atomic.Int64
	for c := range hostileClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; ctx.Err() == nil; i++ {
				r := running[i%len(running)]
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/graphql", strings.NewReader(gqlBody(r.query, r.vars)))
				req.Header.Set("Content-Type", "application/json")
				if resp, err := http.DefaultClient.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					sent.Add(1)
				}
			}
		}()
	}
	point := gqlBody(`{ entity(id: "co-0000001") { id name } }`, nil)
	var lat []time.Duration
	for ctx.Err() == nil {
		start := time.Now()
		resp, err := http.Post(ts.URL+"/graphql", "application/json", strings.NewReader(point))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("point read: status %d", resp.StatusCode)
		}
		lat = append(lat, time.Since(start))
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	t.Logf("%d hostile requests from %d clients; %d point reads: p50 %s, p99 %s", sent.Load(), hostileClients, len(lat), p50, p99)
	if !raceEnabled && p99 > hostileP99 {
		t.Errorf("point read p99 %s under hostile load; want under %s", p99, hostileP99)
	}
}

// TestHostileCostHangUp: a client that hangs up stops its request's work within a few
// milliseconds: after the hang-up the server burns (almost) no more CPU, where the
// request would otherwise run to its --work-time.
func TestHostileCostHangUp(t *testing.T) {
	ts := hostileServer(t)
	query := gqlBody(`{ a: ultimateController(of: "ring-00000") { share } b: beneficialOwners(of: "ring-00000") { integrated } }`, nil)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/graphql", strings.NewReader(query))
	req.Header.Set("Content-Type", "application/json")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-done
	time.Sleep(20 * time.Millisecond) // the server notices the closed connection
	cpu0 := cpuTime()
	time.Sleep(300 * time.Millisecond)
	after := cpuTime() - cpu0
	t.Logf("CPU in the 300 ms after the hang-up: %s", after)
	if !raceEnabled && after > 60*time.Millisecond {
		t.Errorf("the server used %s of CPU in the 300 ms after the client hung up; want it stopped", after)
	}
}
