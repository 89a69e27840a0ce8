package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Crash safety: TestCrashSafety runs the real binary, has several clients write to it
// concurrently, kills it with SIGKILL at a random moment, runs `lodestone check` on the
// store it left, restarts it and compares what it serves with what the clients were told.
//
// CI runs a few rounds (LODESTONE_CRASH_ROUNDS, default 5). The long run:
//
//	LODESTONE_CRASH_ROUNDS=200 go test -run TestCrashSafety -count=1 -timeout 0 -v .
//
// LODESTONE_CRASH_SEED=N repeats the kill timings of a logged run.

const (
	crashWriters = 4
	crashKind    = "CrashTest"
)

// crashRel is what the test knows of one relationship.
type crashRel struct {
	Type, From, To string
	Share          float64
}

// crashState is the part of the graph one writer owns: entity id → name, relationship
// id → relationship.
type crashState struct {
	entities map[string]string
	rels     map[string]crashRel
}

func newCrashState() crashState {
	return crashState{entities: map[string]string{}, rels: map[string]crashRel{}}
}

func (s crashState) clone() crashState {
	return crashState{entities: maps.Clone(s.entities), rels: maps.Clone(s.rels)}
}

func (s crashState) equal(o crashState) bool {
	return maps.Equal(s.entities, o.entities) && maps.Equal(s.rels, o.rels)
}

// diff lists what differs between want and got, one line each.
func (want crashState) diff(got crashState) string {
	var lines []string
	for id, w := range want.entities {
		if g, ok := got.entities[id]; !ok || g != w {
			lines = append(lines, fmt.Sprintf("entity %s: want %q, served %q (present %v)", id, w, g, ok))
		}
	}
	for id, g := range got.entities {
		if _, ok := want.entities[id]; !ok {
			lines = append(lines, fmt.Sprintf("entity %s: served %q, want none", id, g))
		}
	}
	for id, w := range want.rels {
		if g, ok := got.rels[id]; !ok || g != w {
			lines = append(lines, fmt.Sprintf("relationship %s: want %+v, served %+v (present %v)", id, w, g, ok))
		}
	}
	for id, g := range got.rels {
		if _, ok := want.rels[id]; !ok {
			lines = append(lines, fmt.Sprintf("relationship %s: served %+v, want none", id, g))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// crashOp is one request of a writer and what it does to the writer's state once the
// server applied it.
type crashOp struct {
	desc  string
	query string
	vars  map[string]any
	apply func(*crashState)
}

// crashWriter writes ids "w<n>-…" only, one request at a time, so that at a crash at
// most one of its requests is in flight: its state is then either `acked` or `acked`
// with the in-flight op applied.
type crashWriter struct {
	n        int
	seq      int
	acked    crashState
	inFlight *crashOp
}

// next returns the writer's next op, in a cycle of batch imports (two entities, an OWNS
// share between them, a SUPPLIES back, and an update of the writer's "hot" entity),
// renames and cascading deletes of earlier entities.
func (w *crashWriter) next() *crashOp {
	w.seq++
	seq := w.seq
	oldest := func(suffix string) string { // the oldest entity of this writer with the suffix
		best, bestSeq := "", 0
		for id := range w.acked.entities {
			parts := strings.Split(id, "-")
			if len(parts) != 3 || parts[2] != suffix {
				continue
			}
			if s, _ := strconv.Atoi(parts[1]); best == "" || s < bestSeq {
				best, bestSeq = id, s
			}
		}
		return best
	}
	switch seq % 6 {
	case 3:
		if id := oldest("a"); id != "" {
			name := fmt.Sprintf("renamed %d", seq)
			return &crashOp{
				desc:  "rename " + id,
				query: `mutation($in: EntityInput!) { upsertEntity(input: $in) { id } }`,
				vars:  map[string]any{"in": map[string]any{"id": id, "kind": crashKind, "name": name}},
				apply: func(s *crashState) { s.entities[id] = name },
			}
		}
	case 4, 0:
		suffix := map[int]string{4: "b", 0: "a"}[seq%6]
		if id := oldest(suffix); id != "" {
			return &crashOp{
				desc:  "delete " + id,
				query: `mutation($id: ID!) { deleteEntity(id: $id, cascade: true) }`,
				vars:  map[string]any{"id": id},
				apply: func(s *crashState) {
					delete(s.entities, id)
					for rid, r := range s.rels {
						if r.From == id || r.To == id {
							delete(s.rels, rid)
						}
					}
				},
			}
		}
	}
	p := fmt.Sprintf("w%d-%d-", w.n, seq)
	hot := fmt.Sprintf("w%d-hot", w.n)
	ents := map[string]string{p + "a": fmt.Sprintf("A %d", seq), p + "b": fmt.Sprintf("B %d", seq), hot: fmt.Sprintf("hot %d", seq)}
	rels := map[string]crashRel{
		p + "own": {Type: "OWNS", From: p + "a", To: p + "b", Share: float64(seq%97+1) / 100},
		p + "sup": {Type: "SUPPLIES", From: p + "b", To: p + "a"},
		p + "hot": {Type: "PARTNER_OF", From: p + "a", To: hot},
	}
	var entIn, relIn []map[string]any
	for id, name := range ents {
		entIn = append(entIn, map[string]any{"id": id, "kind": crashKind, "name": name})
	}
	for id, r := range rels {
		in := map[string]any{"id": id, "type": r.Type, "from": r.From, "to": r.To}
		if r.Share != 0 {
			in["share"] = r.Share
		}
		relIn = append(relIn, in)
	}
	return &crashOp{
		desc:  "import " + p + "*",
		query: `mutation($e: [EntityInput!], $r: [RelationshipInput!]) { importGraph(entities: $e, relationships: $r) { entities relationships } }`,
		vars:  map[string]any{"e": entIn, "r": relIn},
		apply: func(s *crashState) {
			maps.Copy(s.entities, ents)
			maps.Copy(s.rels, rels)
		},
	}
}

// newWriteRequest builds a GraphQL write request. The server listens on loopback, where
// writes need no key; were a key needed, this is the one place to add its
// Authorization header.
func newWriteRequest(ctx context.Context, base string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// errCrashLost marks a request whose answer never came: the server died first.
var errCrashLost = errors.New("no answer")

// send posts op and reports whether the server acknowledged it (200, no errors). A
// transport error is errCrashLost; an answer that is not an acknowledgement is another
// error, which fails the test.
func (op *crashOp) send(ctx context.Context, client *http.Client, base string) error {
	body, _ := json.Marshal(map[string]any{"query": op.query, "variables": op.vars})
	req, err := newWriteRequest(ctx, base, body)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", errCrashLost, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%w: %v", errCrashLost, err)
	}
	var r struct {
		Data   json.RawMessage
		Errors []any
	}
	if err := json.Unmarshal(raw, &r); err != nil || resp.StatusCode != 200 || len(r.Errors) > 0 || len(r.Data) == 0 || string(r.Data) == "null" {
		return fmt.Errorf("%s: %d %s", op.desc, resp.StatusCode, raw)
	}
	return nil
}

// crashServer is a running `lodestone serve`.
type crashServer struct {
	cmd  *exec.Cmd
	base string
	log  string // the file its stderr goes to
}

func startCrashServer(t *testing.T, bin, data string, round int) *crashServer {
	t.Helper()
	logFile := filepath.Join(filepath.Dir(data), fmt.Sprintf("serve-%03d.log", round))
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Loopback only, so anonymous writes are allowed: the test is about durability, not keys.
	cmd := exec.Command(bin, "serve", "--data", data, "--addr", "127.0.0.1:0", "--allow-anonymous-writes", "--log-level", "warn")
	cmd.Stderr = f
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	srv := &crashServer{cmd: cmd, log: logFile}
	t.Cleanup(func() { srv.kill() })
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		io.Copy(io.Discard, r)
	}()
	select {
	case line := <-lines:
		fields := strings.Fields(line) // "lodestone listening on http://127.0.0.1:PORT (…)"
		if len(fields) < 4 || !strings.HasPrefix(fields[3], "http://") {
			t.Fatalf("round %d: serve printed %q; its log:\n%s", round, line, srv.logTail())
		}
		srv.base = fields[3]
	case <-time.After(60 * time.Second):
		t.Fatalf("round %d: serve did not start in 60 s; its log:\n%s", round, srv.logTail())
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(srv.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return srv
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("round %d: %s/readyz never answered 200; log:\n%s", round, srv.base, srv.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to end.
func (s *crashServer) kill() {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

func (s *crashServer) logTail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// fetchCrashState reads every CrashTest entity and its outgoing relationships, through
// the kind index and the adjacency lists, grouped by writer.
func fetchCrashState(t *testing.T, base string) map[int]crashState {
	t.Helper()
	const q = `query($after: String) { entities(kind: "CrashTest", first: 1000, after: $after) {
		totalCount pageInfo { hasNextPage endCursor }
		edges { node { id name relationships(direction: OUT, first: 100) { totalCount edges { node { id type from { id } to { id } share } } } } } } }`
	out := map[int]crashState{}
	writerOf := func(id string) int {
		n, err := strconv.Atoi(strings.TrimPrefix(strings.SplitN(id, "-", 2)[0], "w"))
		if err != nil {
			t.Fatalf("id %q is not a writer's", id)
		}
		if _, ok := out[n]; !ok {
			out[n] = newCrashState()
		}
		return n
	}
	var after any
	seen := 0
	for {
		var page struct {
			Entities struct {
				TotalCount int
				PageInfo   struct {
					HasNextPage bool
					EndCursor   string
				}
				Edges []struct {
					Node struct {
						ID, Name      string
						Relationships struct {
							TotalCount int
							Edges      []struct {
								Node struct {
									ID, Type string
									From, To struct{ ID string }
									Share    *float64
								}
							}
						}
					}
				}
			}
		}
		body, _ := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"after": after}})
		resp, err := http.Post(base+"/graphql", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var r struct {
			Data   json.RawMessage
			Errors []any
		}
		if err := json.Unmarshal(raw, &r); err != nil || resp.StatusCode != 200 || len(r.Errors) > 0 {
			t.Fatalf("reading the crash entities: %d %s", resp.StatusCode, raw)
		}
		if err := json.Unmarshal(r.Data, &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entities.Edges {
			st := out[writerOf(e.Node.ID)]
			st.entities[e.Node.ID] = e.Node.Name
			if e.Node.Relationships.TotalCount != len(e.Node.Relationships.Edges) {
				t.Fatalf("%s has %d relationships out, listed %d", e.Node.ID, e.Node.Relationships.TotalCount, len(e.Node.Relationships.Edges))
			}
			for _, re := range e.Node.Relationships.Edges {
				n := re.Node
				rel := crashRel{Type: n.Type, From: n.From.ID, To: n.To.ID}
				if n.Share != nil {
					rel.Share = *n.Share
				}
				out[writerOf(n.ID)].rels[n.ID] = rel
			}
		}
		seen += len(page.Entities.Edges)
		if !page.Entities.PageInfo.HasNextPage {
			if seen != page.Entities.TotalCount {
				t.Fatalf("listed %d CrashTest entities, totalCount says %d", seen, page.Entities.TotalCount)
			}
			return out
		}
		after = page.Entities.PageInfo.EndCursor
	}
}

// TestCrashSafety: after any number of SIGKILLs, every acknowledged write is present,
// every write that was in flight is all there or not there at all, and `lodestone
// check` finds every index in agreement with the data.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the real binary many times")
	}
	rounds := 5
	if v := os.Getenv("LODESTONE_CRASH_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("LODESTONE_CRASH_ROUNDS=%q: want a positive number", v)
		}
		rounds = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("LODESTONE_CRASH_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("LODESTONE_CRASH_SEED=%q: want a number", v)
		}
		seed = n
	}
	t.Logf("%d rounds, LODESTONE_CRASH_SEED=%d", rounds, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	tmp := t.TempDir()
	bin := filepath.Join(tmp, "lodestone")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(tmp, "data")
	client := &http.Client{Timeout: 30 * time.Second}

	writers := make([]*crashWriter, crashWriters)
	for i := range writers {
		writers[i] = &crashWriter{n: i, acked: newCrashState()}
	}
	srv := startCrashServer(t, bin, data, 0)
	var acked, lost, applied int
	for round := 1; round <= rounds; round++ {
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		failures := make(chan error, crashWriters)
		var mu sync.Mutex
		for _, w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					op := w.next()
					w.inFlight = op
					err := op.send(ctx, client, srv.base)
					switch {
					case err == nil:
						op.apply(&w.acked)
						w.inFlight = nil
						mu.Lock()
						acked++
						mu.Unlock()
					case errors.Is(err, errCrashLost):
						return // the server is gone; op stays in flight
					default:
						failures <- err
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(50+rng.IntN(350)) * time.Millisecond)
		srv.kill()
		stop()
		wg.Wait()
		close(failures)
		for err := range failures {
			t.Fatalf("round %d: a write was refused: %v\nserver log:\n%s", round, err, srv.logTail())
		}

		out, err := exec.Command(bin, "check", "--data", data).CombinedOutput()
		if err != nil {
			t.Fatalf("round %d: lodestone check: %v\n%s", round, err, out)
		}

		srv = startCrashServer(t, bin, data, round)
		got := fetchCrashState(t, srv.base)
		for _, w := range writers {
			have := got[w.n]
			if have.entities == nil {
				have = newCrashState()
			}
			if have.equal(w.acked) {
				if w.inFlight != nil {
					lost++
				}
				w.inFlight = nil
				continue
			}
			if w.inFlight != nil {
				with := w.acked.clone()
				w.inFlight.apply(&with)
				if have.equal(with) {
					w.acked, w.inFlight = with, nil
					applied++
					continue
				}
				t.Fatalf("round %d: writer %d's in-flight %q is half there:\nagainst the acknowledged writes:\n%s\nagainst them plus the in-flight one:\n%s",
					round, w.n, w.inFlight.desc, w.acked.diff(have), with.diff(have))
			}
			t.Fatalf("round %d: writer %d's acknowledged writes are not what is served:\n%s", round, w.n, w.acked.diff(have))
		}
	}
	srv.kill()
	total := 0
	for _, w := range writers {
		total += len(w.acked.entities)
	}
	t.Logf("%d rounds: %d writes acknowledged, %d in flight at a kill (%d applied, %d lost), %d entities at the end",
		rounds, acked, applied+lost, applied, lost, total)
	if acked == 0 {
		t.Error("no write was acknowledged; the test proved nothing")
	}
}
