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
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Crash safety: TestCrashSafety runs the real binary, has several clients write to it
// concurrently (graph mutations, and API keys, saved queries and /admin/import uploads),
// kills it with SIGKILL at a random moment, runs `lodestone check` on the store it left,
// restarts it and compares what it serves with what the clients were told.
// TestCrashBulkLoad kills `lodestone import` while it bulk-loads an empty store. SIGKILL
// leaves the kernel's page cache alone, so neither proves that a write reached the disk
// before it was acknowledged: TestCrashSyncs (crash_sync_test.go) does, by tracing the
// server's system calls.
//
// CI runs a few rounds (LODESTONE_CRASH_ROUNDS, default 5). The long run:
//
//	LODESTONE_CRASH_ROUNDS=200 go test -run TestCrashSafety -count=1 -timeout 0 -v .
//
// LODESTONE_CRASH_SEED=N repeats the kill timings of a logged run.

const (
	crashWriters = 4 // graph writers; one more writes keys, saved queries and imports
	crashKind    = "CrashTest"
)

// crashRel is what the test knows of one relationship.
type crashRel struct {
	Type, From, To string
	Share          float64
}

// crashQuery is what the test knows of one saved query: its latest version.
type crashQuery struct {
	Version     int
	Description string
}

// crashState is the part of the store one writer owns: entity id → name, relationship
// id → relationship, the names of its API keys, and saved query name → latest version.
type crashState struct {
	entities map[string]string
	rels     map[string]crashRel
	keys     map[string]bool
	queries  map[string]crashQuery
}

func newCrashState() crashState {
	return crashState{entities: map[string]string{}, rels: map[string]crashRel{}, keys: map[string]bool{}, queries: map[string]crashQuery{}}
}

func (s crashState) clone() crashState {
	return crashState{entities: maps.Clone(s.entities), rels: maps.Clone(s.rels), keys: maps.Clone(s.keys), queries: maps.Clone(s.queries)}
}

func (s crashState) equal(o crashState) bool {
	return maps.Equal(s.entities, o.entities) && maps.Equal(s.rels, o.rels) && maps.Equal(s.keys, o.keys) && maps.Equal(s.queries, o.queries)
}

// diffMaps lists what differs between want and got, one line each, what naming the kind
// of item.
func diffMaps[V comparable](what string, want, got map[string]V) []string {
	var lines []string
	for id, w := range want {
		if g, ok := got[id]; !ok || g != w {
			lines = append(lines, fmt.Sprintf("%s %s: want %+v, served %+v (present %v)", what, id, w, g, ok))
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			lines = append(lines, fmt.Sprintf("%s %s: served %+v, want none", what, id, g))
		}
	}
	return lines
}

// diff lists what differs between want and got, one line each.
func (want crashState) diff(got crashState) string {
	lines := diffMaps("entity", want.entities, got.entities)
	lines = append(lines, diffMaps("relationship", want.rels, got.rels)...)
	lines = append(lines, diffMaps("API key", want.keys, got.keys)...)
	lines = append(lines, diffMaps("saved query", want.queries, got.queries)...)
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// crashOp is one request of a writer and what it does to the writer's state once the
// server applied it.
type crashOp struct {
	desc        string
	path        string // "/graphql", "/admin/keys", …
	contentType string
	body        []byte
	status      int                    // the status of an acknowledgement
	ack         func(raw []byte) error // checks an answer with that status; nil: any is fine
	apply       func(*crashState)
}

// graphQLOp is a GraphQL write, acknowledged by a 200 answer with data and no errors.
func graphQLOp(desc, query string, vars map[string]any, apply func(*crashState)) *crashOp {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return &crashOp{
		desc: desc, path: "/graphql", contentType: "application/json", body: body, status: http.StatusOK, apply: apply,
		ack: func(raw []byte) error {
			var r struct {
				Data   json.RawMessage
				Errors []any
			}
			if err := json.Unmarshal(raw, &r); err != nil || len(r.Errors) > 0 || len(r.Data) == 0 || string(r.Data) == "null" {
				return errors.New("not an acknowledgement")
			}
			return nil
		},
	}
}

// crashWriter writes ids and names "w<n>-…" only, one request at a time, so that at a
// crash at most one of its requests is in flight: its state is then either `acked` or
// `acked` with the in-flight op applied. Writers 0 … crashWriters-1 write the graph
// through GraphQL mutations; writer crashWriters (admin) creates API keys, saves queries
// and uploads files to /admin/import.
type crashWriter struct {
	n        int
	admin    bool
	seq      int
	acked    crashState
	inFlight *crashOp
	tokens   map[string]string // name → token of the acknowledged API keys
}

func newCrashWriter(n int) *crashWriter {
	return &crashWriter{n: n, admin: n >= crashWriters, acked: newCrashState(), tokens: map[string]string{}}
}

// crashImportSet is what one import of writer w with sequence number seq writes: two
// entities, an OWNS share between them, a SUPPLIES back, and an update of the writer's
// "hot" entity.
func (w *crashWriter) crashImportSet(seq int) (map[string]string, map[string]crashRel) {
	p := fmt.Sprintf("w%d-%d-", w.n, seq)
	hot := fmt.Sprintf("w%d-hot", w.n)
	ents := map[string]string{p + "a": fmt.Sprintf("A %d", seq), p + "b": fmt.Sprintf("B %d", seq), hot: fmt.Sprintf("hot %d", seq)}
	rels := map[string]crashRel{
		p + "own": {Type: "OWNS", From: p + "a", To: p + "b", Share: float64(seq%97+1) / 100},
		p + "sup": {Type: "SUPPLIES", From: p + "b", To: p + "a"},
		p + "hot": {Type: "PARTNER_OF", From: p + "a", To: hot},
	}
	return ents, rels
}

// next returns the writer's next op. A graph writer cycles through batch imports
// (importGraph), renames and cascading deletes of earlier entities; the admin writer
// through API keys, saved queries and /admin/import uploads.
func (w *crashWriter) next() *crashOp {
	w.seq++
	if w.admin {
		return w.nextAdmin(w.seq)
	}
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
			return graphQLOp("rename "+id, `mutation($in: EntityInput!) { upsertEntity(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"id": id, "kind": crashKind, "name": name}},
				func(s *crashState) { s.entities[id] = name })
		}
	case 4, 0:
		suffix := map[int]string{4: "b", 0: "a"}[seq%6]
		if id := oldest(suffix); id != "" {
			return graphQLOp("delete "+id, `mutation($id: ID!) { deleteEntity(id: $id, cascade: true) }`,
				map[string]any{"id": id},
				func(s *crashState) {
					delete(s.entities, id)
					for rid, r := range s.rels {
						if r.From == id || r.To == id {
							delete(s.rels, rid)
						}
					}
				})
		}
	}
	ents, rels := w.crashImportSet(seq)
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
	return graphQLOp(fmt.Sprintf("import w%d-%d-*", w.n, seq),
		`mutation($e: [EntityInput!], $r: [RelationshipInput!]) { importGraph(entities: $e, relationships: $r) { entities relationships } }`,
		map[string]any{"e": entIn, "r": relIn},
		func(s *crashState) {
			maps.Copy(s.entities, ents)
			maps.Copy(s.rels, rels)
		})
}

// crashSavedQuery is the document the admin writer saves, in versions.
const crashSavedQuery = `query CrashCount { stats { entities relationships } }`

// nextAdmin returns the admin writer's op number seq: an API key over POST /admin/keys,
// a new version of one of three saved queries (saveQuery), or a JSONL upload to
// POST /admin/import.
func (w *crashWriter) nextAdmin(seq int) *crashOp {
	switch seq % 3 {
	case 1:
		name := fmt.Sprintf("w%d-%d-key", w.n, seq)
		body, _ := json.Marshal(map[string]any{"role": "reader", "name": name})
		return &crashOp{
			desc: "create API key " + name, path: "/admin/keys", contentType: "application/json", body: body, status: http.StatusCreated,
			ack: func(raw []byte) error {
				var r struct {
					Key   struct{ Name string }
					Token string
				}
				if err := json.Unmarshal(raw, &r); err != nil || r.Key.Name != name || !strings.HasPrefix(r.Token, "lsk_") {
					return errors.New("no key and token in the answer")
				}
				w.tokens[name] = r.Token
				return nil
			},
			apply: func(s *crashState) { s.keys[name] = true },
		}
	case 2:
		name := fmt.Sprintf("w%d-q-%d", w.n, seq/3%3)
		desc := fmt.Sprintf("save %d", seq)
		want := w.acked.queries[name].Version + 1
		op := graphQLOp("save query "+name+" version "+strconv.Itoa(want),
			`mutation($in: SavedQueryInput!) { saveQuery(input: $in) { name version } }`,
			map[string]any{"in": map[string]any{"name": name, "description": desc, "query": crashSavedQuery}},
			func(s *crashState) {
				s.queries[name] = crashQuery{Version: s.queries[name].Version + 1, Description: desc}
			})
		acked := op.ack
		op.ack = func(raw []byte) error {
			if err := acked(raw); err != nil {
				return err
			}
			var r struct {
				Data struct{ SaveQuery struct{ Version int } }
			}
			if json.Unmarshal(raw, &r); r.Data.SaveQuery.Version != want {
				return fmt.Errorf("saved as version %d, want %d", r.Data.SaveQuery.Version, want)
			}
			return nil
		}
		return op
	}
	ents, rels := w.crashImportSet(seq)
	var file bytes.Buffer
	enc := json.NewEncoder(&file)
	for _, id := range slices.Sorted(maps.Keys(ents)) {
		enc.Encode(map[string]any{"entity": map[string]any{"id": id, "kind": crashKind, "name": ents[id]}})
	}
	for _, id := range slices.Sorted(maps.Keys(rels)) {
		r := rels[id]
		rec := map[string]any{"id": id, "type": r.Type, "from": r.From, "to": r.To}
		if r.Share != 0 {
			rec["share"] = r.Share
		}
		enc.Encode(map[string]any{"relationship": rec})
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("file", fmt.Sprintf("w%d-%d.jsonl", w.n, seq))
	part.Write(file.Bytes())
	mw.Close()
	return &crashOp{
		desc: fmt.Sprintf("/admin/import w%d-%d-*", w.n, seq), path: "/admin/import?format=jsonl", contentType: mw.FormDataContentType(),
		body: body.Bytes(), status: http.StatusOK,
		ack: func(raw []byte) error {
			var r struct {
				Summary *struct{ Entities, Relationships int }
			}
			if err := json.Unmarshal(raw, &r); err != nil || r.Summary == nil || r.Summary.Entities != len(ents) || r.Summary.Relationships != len(rels) {
				return fmt.Errorf("the summary does not count %d entities and %d relationships", len(ents), len(rels))
			}
			return nil
		},
		apply: func(s *crashState) {
			maps.Copy(s.entities, ents)
			maps.Copy(s.rels, rels)
		},
	}
}

// newKeyedRequest builds a request that carries key (when not empty) as a bearer token.
func newKeyedRequest(ctx context.Context, method, url, key, contentType string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return req, nil
}

// errCrashLost marks a request whose answer never came: the server died first.
var errCrashLost = errors.New("no answer")

// send posts op with the admin key and reports whether the server acknowledged it. A
// transport error is errCrashLost; an answer that is not an acknowledgement is another
// error, which fails the test.
func (op *crashOp) send(ctx context.Context, client *http.Client, base, key string) error {
	req, err := newKeyedRequest(ctx, http.MethodPost, base+op.path, key, op.contentType, op.body)
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
	if resp.StatusCode != op.status {
		return fmt.Errorf("%s: %d %s", op.desc, resp.StatusCode, raw)
	}
	if op.ack != nil {
		if err := op.ack(raw); err != nil {
			return fmt.Errorf("%s: %v: %d %s", op.desc, err, resp.StatusCode, raw)
		}
	}
	return nil
}

// buildLodestone builds the binary into out, with extra go build flags.
func buildLodestone(t *testing.T, out string, flags ...string) string {
	t.Helper()
	args := append(append([]string{"build", "-o", out}, flags...), ".")
	if b, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

// createAdminKey creates an admin key in the store at data (no server running) with
// `lodestone keys create` and returns its token.
func createAdminKey(t *testing.T, bin, data string) string {
	t.Helper()
	cmd := exec.Command(bin, "keys", "create", "--role", "admin", "--name", "crash test", "--data", data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lodestone keys create: %v\n%s", err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out))
}

// crashServer is a running `lodestone serve`, maybe under a tracer (crash_sync_test.go).
type crashServer struct {
	cmd  *exec.Cmd
	pid  int // the server's process: cmd's own, or its child when cmd is a tracer
	base string
	log  string // the file its stderr goes to
}

// startCrashServer starts `lodestone serve` on the store at data, with wrap (a tracer
// and its flags) in front of the command when given, and waits until it is ready. The
// server's temporary files (import uploads) go to a folder beside data, which the test
// removes, since a SIGKILL leaves them behind.
func startCrashServer(t *testing.T, bin, data string, round int, wrap ...string) *crashServer {
	t.Helper()
	dir := filepath.Dir(data)
	logFile := filepath.Join(dir, fmt.Sprintf("serve-%03d.log", round))
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	// Loopback, without --allow-anonymous-writes: writes carry the admin key.
	args := append(slices.Clone(wrap), bin, "serve", "--data", data, "--addr", "127.0.0.1:0", "--log-level", "warn")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	cmd.Stderr = f
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	srv := &crashServer{cmd: cmd, pid: cmd.Process.Pid, log: logFile}
	t.Cleanup(func() { srv.kill() })
	if len(wrap) > 0 {
		srv.pid = childProcess(t, cmd.Process.Pid)
	}
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

// kill sends SIGKILL to the server and waits for it (and its tracer, which ends with it)
// to end.
func (s *crashServer) kill() {
	if s.cmd.ProcessState != nil {
		return
	}
	if p, err := os.FindProcess(s.pid); err == nil {
		p.Kill()
	}
	if s.pid == s.cmd.Process.Pid {
		s.cmd.Wait()
		return
	}
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

func (s *crashServer) logTail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// getJSON GETs url with key and decodes a 200 answer into v.
func getJSON(t *testing.T, url, key string, v any) {
	t.Helper()
	req, err := newKeyedRequest(context.Background(), http.MethodGet, url, key, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, raw)
	}
}

// crashQueryData posts a GraphQL read and decodes its data into v; any error fails.
func crashQueryData(t *testing.T, base, query string, vars map[string]any, v any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
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
		t.Fatalf("%s: %d %s", strings.Join(strings.Fields(query), " "), resp.StatusCode, raw)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatal(err)
	}
}

// crashOwner matches the ids and names the writers give what they write.
var crashOwner = regexp.MustCompile(`^w(\d+)-`)

// fetchCrashState reads every CrashTest entity and its outgoing relationships (through
// the kind index and the adjacency lists), every API key (GET /admin/keys with the admin
// key) and every saved query, grouped by writer.
func fetchCrashState(t *testing.T, base, key string) map[int]crashState {
	t.Helper()
	out := map[int]crashState{}
	writerOf := func(id string) int {
		m := crashOwner.FindStringSubmatch(id)
		if m == nil {
			t.Fatalf("id %q is not a writer's", id)
		}
		n, _ := strconv.Atoi(m[1])
		if _, ok := out[n]; !ok {
			out[n] = newCrashState()
		}
		return n
	}
	// No relationships totalCount: the cost estimate charges it as a scan of the graph.
	const q = `query($after: String) { entities(kind: "CrashTest", first: 500, after: $after) {
		totalCount pageInfo { hasNextPage endCursor }
		edges { node { id name relationships(direction: OUT, first: 100) { pageInfo { hasNextPage } edges { node { id type from { id } to { id } share } } } } } } }`
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
							PageInfo struct{ HasNextPage bool }
							Edges    []struct {
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
		crashQueryData(t, base, q, map[string]any{"after": after}, &page)
		for _, e := range page.Entities.Edges {
			st := out[writerOf(e.Node.ID)]
			st.entities[e.Node.ID] = e.Node.Name
			if e.Node.Relationships.PageInfo.HasNextPage {
				t.Fatalf("%s has more than 100 relationships out; a writer gives it at most 3", e.Node.ID)
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
			break
		}
		after = page.Entities.PageInfo.EndCursor
	}

	var keys struct{ Keys []struct{ Name string } }
	getJSON(t, base+"/admin/keys", key, &keys)
	for _, k := range keys.Keys {
		if crashOwner.MatchString(k.Name) {
			out[writerOf(k.Name)].keys[k.Name] = true
		}
	}
	var saved struct {
		SavedQueries []struct {
			Name, Query string
			Version     int
			Description *string
		}
	}
	crashQueryData(t, base, `{ savedQueries { name version description query } }`, nil, &saved)
	for _, q := range saved.SavedQueries {
		if !crashOwner.MatchString(q.Name) {
			continue // a seeded one
		}
		if q.Query != crashSavedQuery {
			t.Fatalf("saved query %s holds %q, want %q", q.Name, q.Query, crashSavedQuery)
		}
		cq := crashQuery{Version: q.Version}
		if q.Description != nil {
			cq.Description = *q.Description
		}
		out[writerOf(q.Name)].queries[q.Name] = cq
	}
	return out
}

// authStatus is the status of a GraphQL read sent with token.
func authStatus(t *testing.T, base, token string) int {
	t.Helper()
	req, err := newKeyedRequest(context.Background(), http.MethodPost, base+"/graphql", token, "application/json", []byte(`{"query":"{ __typename }"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestCrashSafety: after any number of SIGKILLs, every acknowledged write (graph
// mutations, API keys, saved queries, /admin/import uploads) is present, every write
// that was in flight is all there or not there at all, every acknowledged API key still
// authenticates, and `lodestone check` finds every index in agreement with the data.
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
	bin := buildLodestone(t, filepath.Join(tmp, "lodestone"))
	data := filepath.Join(tmp, "data")
	key := createAdminKey(t, bin, data)
	client := &http.Client{Timeout: 30 * time.Second}

	writers := make([]*crashWriter, crashWriters+1)
	for i := range writers {
		writers[i] = newCrashWriter(i)
	}
	admin := writers[crashWriters]
	srv := startCrashServer(t, bin, data, 0)
	var acked, lost, applied int
	for round := 1; round <= rounds; round++ {
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		failures := make(chan error, len(writers))
		var mu sync.Mutex
		for _, w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					op := w.next()
					w.inFlight = op
					err := op.send(ctx, client, srv.base, key)
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
		got := fetchCrashState(t, srv.base, key)
		// The change log holds exactly the writes the store holds.
		logEnts, logRels := crashLogState(t, srv.base)
		servedEnts, servedRels := map[string]string{}, map[string]crashRel{}
		for _, st := range got {
			maps.Copy(servedEnts, st.entities)
			maps.Copy(servedRels, st.rels)
		}
		if !maps.Equal(logEnts, servedEnts) || !maps.Equal(logRels, servedRels) {
			t.Fatalf("round %d: the change log replayed gives %d entities and %d relationships, the store serves %d and %d (want: served, got: replayed):\n%s",
				round, len(logEnts), len(logRels), len(servedEnts), len(servedRels),
				strings.Join(append(diffMaps("entity", servedEnts, logEnts), diffMaps("relationship", servedRels, logRels)...), "\n"))
		}
		for _, w := range writers {
			have, ok := got[w.n]
			if !ok {
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
		for name, token := range admin.tokens {
			if got := authStatus(t, srv.base, token); got != http.StatusOK {
				t.Fatalf("round %d: API key %s, acknowledged before a kill, answers %d after it, want 200", round, name, got)
			}
		}
		bogus := "lsk_0123456789abcdef_" + strings.Repeat("ab", 32)
		if got := authStatus(t, srv.base, bogus); got != http.StatusUnauthorized {
			t.Fatalf("round %d: an unknown API key answers %d, want 401: the key check above proves nothing", round, got)
		}
	}
	srv.kill()
	total := 0
	for _, w := range writers {
		total += len(w.acked.entities)
	}
	t.Logf("%d rounds: %d writes acknowledged, %d in flight at a kill (%d applied, %d lost); at the end %d entities, %d API keys (%d with a known token), %d saved query versions",
		rounds, acked, applied+lost, applied, lost, total, len(admin.acked.keys), len(admin.tokens), sumVersions(admin.acked.queries))
	if acked == 0 {
		t.Error("no write was acknowledged; the test proved nothing")
	}
	if len(admin.tokens) == 0 || len(admin.acked.queries) == 0 {
		t.Error("no API key or no saved query was acknowledged; the test proved nothing of them")
	}
}

func sumVersions(qs map[string]crashQuery) int {
	n := 0
	for _, q := range qs {
		n += q.Version
	}
	return n
}

// bulkRecord is one line of a bulk-load file, and what `lodestone export` writes.
type bulkRecord struct {
	Entity *struct {
		ID, Kind, Name string
	} `json:"entity,omitempty"`
	Relationship *struct {
		ID, Type, From, To string
		Share              float64
	} `json:"relationship,omitempty"`
}

// writeBulkFile writes a JSONL file of n CrashBulk entities, each owning a share of one
// other and supplying another, and returns what it holds (entity id → name,
// relationship id → relationship).
func writeBulkFile(t *testing.T, path string, n int) (map[string]string, map[string]crashRel) {
	t.Helper()
	ents, rels := map[string]string{}, map[string]crashRel{}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	id := func(i int) string { return fmt.Sprintf("bulk-%d", i) }
	for i := range n {
		ents[id(i)] = fmt.Sprintf("Bulk %d", i)
		enc.Encode(map[string]any{"entity": map[string]any{"id": id(i), "kind": "CrashBulk", "name": ents[id(i)]}})
	}
	for i := range n {
		own := crashRel{Type: "OWNS", From: id(i), To: id((i + 1 + i%7) % n), Share: float64(i%97+1) / 100}
		sup := crashRel{Type: "SUPPLIES", From: id(i), To: id((i + 3 + i%11) % n)}
		rels[id(i)+"-own"], rels[id(i)+"-sup"] = own, sup
		enc.Encode(map[string]any{"relationship": map[string]any{"id": id(i) + "-own", "type": own.Type, "from": own.From, "to": own.To, "share": own.Share}})
		enc.Encode(map[string]any{"relationship": map[string]any{"id": id(i) + "-sup", "type": sup.Type, "from": sup.From, "to": sup.To}})
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return ents, rels
}

// checkStore runs `lodestone check` on data and returns the entities and relationships
// it counted and whether it found the store sound, with its output.
func checkStore(t *testing.T, bin, data string) (entities, relationships int, ok bool, out string) {
	t.Helper()
	b, err := exec.Command(bin, "check", "--data", data).CombinedOutput()
	out = string(b)
	if _, serr := fmt.Sscanf(out, "checked %d entities and %d relationships", &entities, &relationships); serr != nil {
		t.Fatalf("lodestone check: %v\n%s", err, out)
	}
	return entities, relationships, err == nil, out
}

// exportedGraph is the graph in the store at data, as `lodestone export` writes it.
func exportedGraph(t *testing.T, bin, data string) (map[string]string, map[string]crashRel) {
	t.Helper()
	cmd := exec.Command(bin, "export", "--data", data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lodestone export: %v\n%s", err, stderr.Bytes())
	}
	ents, rels := map[string]string{}, map[string]crashRel{}
	for line := range bytes.Lines(out) {
		var rec bulkRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		switch {
		case rec.Entity != nil:
			ents[rec.Entity.ID] = rec.Entity.Name
		case rec.Relationship != nil:
			r := rec.Relationship
			rels[r.ID] = crashRel{Type: r.Type, From: r.From, To: r.To, Share: r.Share}
		}
	}
	return ents, rels
}

// sstFiles counts the table files in the store folder data.
func sstFiles(data string) int {
	names, _ := filepath.Glob(filepath.Join(data, "*.sst"))
	return len(names)
}

// TestCrashBulkLoad: `lodestone import` into an empty store (a StreamLoad) is atomic when
// it is killed. graph/bulk.go promises that a load killed while it writes leaves the
// store at version 0, its meta keys being committed last, and that a rerun of the import
// empties it and loads it again. So after a SIGKILL at any moment `lodestone check`
// passes only a store that is empty or complete, never part of the load, and the rerun
// reports success and the store then holds exactly the file. TestCrashSyncs checks that
// an import syncs what it wrote before it reports success.
func TestCrashBulkLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills the real binary")
	}
	const n = 8_000
	tmp := t.TempDir()
	bin := buildLodestone(t, filepath.Join(tmp, "lodestone"))
	file := filepath.Join(tmp, "bulk.jsonl")
	wantEnts, wantRels := writeBulkFile(t, file, n)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))

	midway := 0 // imports killed while they wrote, leaving a partial store
	for round := 1; round <= 6 && (round <= 2 || midway == 0); round++ {
		data := filepath.Join(tmp, fmt.Sprintf("data-%d", round))
		cmd := exec.Command(bin, "import", "--data", data, "--format", "jsonl", file)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// The import's first open and close of the new store leaves one table; a second
		// one means the bulk load is writing. Kill it then, or up to 150 ms later.
		var waitErr error
	poll:
		for {
			select {
			case waitErr = <-exited:
				if waitErr != nil {
					t.Fatalf("round %d: lodestone import: %v\n%s", round, waitErr, out.Bytes())
				}
				break poll
			default:
			}
			if sstFiles(data) >= 2 {
				time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
				cmd.Process.Kill()
				waitErr = <-exited
				break
			}
			time.Sleep(time.Millisecond)
		}

		ents, rels, ok, report := checkStore(t, bin, data)
		partial := false
		switch {
		case ok && ents == n && rels == 2*n:
			t.Logf("round %d: the import finished (%v): the store is complete", round, waitErr)
		case ok && ents == 0 && rels == 0:
			t.Logf("round %d: killed while writing (%v): the store is empty", round, waitErr)
			partial = true
		case ok:
			t.Fatalf("round %d: lodestone check passes a store with %d of %d entities and %d of %d relationships: the bulk load is half there:\n%s",
				round, ents, n, rels, 2*n, report)
		default:
			lines := strings.SplitN(report, "\n", 3)
			t.Logf("round %d: killed while writing (%v): lodestone check refuses the store: %s", round, waitErr, strings.Join(lines[:min(2, len(lines))], " | "))
			partial = true
		}
		if partial {
			midway++
		}

		rerun, err := exec.Command(bin, "import", "--data", data, "--format", "jsonl", file).CombinedOutput()
		if err != nil {
			t.Fatalf("round %d: rerunning the import after the kill: %v\n%s", round, err, rerun)
		}
		if partial && !bytes.Contains(rerun, []byte("bulk mode")) {
			t.Fatalf("round %d: the rerun after a kill midway did not bulk-load the store at version 0 again: %s", round, rerun)
		}
		if ents, rels, ok, report := checkStore(t, bin, data); !ok || ents != n || rels != 2*n {
			t.Fatalf("round %d: after the rerun, lodestone check counts %d entities and %d relationships, want %d and %d:\n%s", round, ents, rels, n, 2*n, report)
		}
		gotEnts, gotRels := exportedGraph(t, bin, data)
		if d := (crashState{entities: wantEnts, rels: wantRels}).diff(crashState{entities: gotEnts, rels: gotRels}); d != "" {
			if len(d) > 2000 {
				d = d[:2000] + "…"
			}
			t.Fatalf("round %d: after the rerun the store is not the file:\n%s", round, d)
		}
	}
	if midway == 0 {
		t.Error("no import was killed before it finished writing; the test proved nothing of that case")
	}
}

// crashLogState replays the change log from its first commit and returns the writers'
// entities and relationships it builds; it fails the test unless the log's sequences run
// 1, 2, 3 … without a gap up to the store's. Compared with what the store serves, it
// proves that a write is in the log exactly when it is in the store: acknowledged writes
// are there, and a write that was lost is not.
func crashLogState(t *testing.T, base string) (map[string]string, map[string]crashRel) {
	t.Helper()
	ents, rels := map[string]string{}, map[string]crashRel{}
	const q = `query($after: String) { changes(after: $after, first: 1000) { pageInfo { hasNextPage endCursor }
		edges { node { seq changes { op kind id entity { name } relationship { share } type from to } } } } }`
	var after any
	next := uint64(1)
	for {
		var page struct {
			Changes struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
				Edges []struct {
					Node struct {
						Seq     string
						Changes []struct {
							Op, Kind, ID   string
							Entity         *struct{ Name string }
							Relationship   *struct{ Share *float64 }
							Type, From, To *string
						}
					}
				}
			}
		}
		crashQueryData(t, base, q, map[string]any{"after": after}, &page)
		for _, e := range page.Changes.Edges {
			if e.Node.Seq != strconv.FormatUint(next, 10) {
				t.Fatalf("the change log has commit %s where %d was due: a gap or a repeat", e.Node.Seq, next)
			}
			next++
			for _, c := range e.Node.Changes {
				if !crashOwner.MatchString(c.ID) {
					continue
				}
				switch {
				case c.Kind == "ENTITY" && c.Op == "UPSERT":
					ents[c.ID] = c.Entity.Name
				case c.Kind == "ENTITY":
					delete(ents, c.ID)
				case c.Kind == "RELATIONSHIP" && c.Op == "UPSERT":
					rel := crashRel{Type: *c.Type, From: *c.From, To: *c.To}
					if c.Relationship.Share != nil {
						rel.Share = *c.Relationship.Share
					}
					rels[c.ID] = rel
				case c.Kind == "RELATIONSHIP":
					delete(rels, c.ID)
				}
			}
		}
		if !page.Changes.PageInfo.HasNextPage {
			return ents, rels
		}
		after = page.Changes.PageInfo.EndCursor
	}
}
