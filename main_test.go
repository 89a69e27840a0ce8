package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// startServe runs `lodestone serve` through run() on a free port with the given
// environment, and returns its base URL and a function that stops it and returns run's
// error.
func startServe(tb testing.TB, env map[string]string, args ...string) (string, func() error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"lodestone", "serve", "--addr", "127.0.0.1:0"}, args...),
			func(k string) string { return env[k] }, strings.NewReader(""), pw, io.Discard)
		pw.CloseWithError(fmt.Errorf("run returned: %v", err))
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		tb.Fatalf("server did not start: %v", err)
	}
	go io.Copy(io.Discard, pr)
	fields := strings.Fields(line) // "lodestone listening on http://127.0.0.1:PORT (…)"
	if len(fields) < 4 {
		tb.Fatalf("unexpected first line %q", line)
	}
	base := fields[3]
	waitForReady(tb, base)
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(15 * time.Second):
			return fmt.Errorf("server did not stop")
		}
	}
	return base, stop
}

// waitForReady polls /readyz until it answers 200.
func waitForReady(tb testing.TB, base string) {
	tb.Helper()
	for range 100 {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("%s/readyz never answered 200", base)
}

func postQuery(tb testing.TB, base, query string, out any) {
	tb.Helper()
	postQueryAs(tb, base, "", query, out)
}

// postQueryAs posts query with the API key key ("" for none) and fails on any error.
func postQueryAs(tb testing.TB, base, key, query string, out any) {
	tb.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequest("POST", base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	authorize(req, key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r struct {
		Data   json.RawMessage
		Errors []any
	}
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Errors) > 0 || resp.StatusCode != 200 {
		tb.Fatalf("query %s: %d %s", query, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		tb.Fatal(err)
	}
}

// TestServeEndToEnd runs the README's first question against the real program on a
// disk store: the seed loads on first start, the JV has its four owners, a write with a
// key made by `lodestone keys create` survives a restart, and the seed is not loaded
// twice.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"LODESTONE_DATA": dir, "LODESTONE_LOG_FORMAT": "console"}
	writer := mustCreateKey(t, dir, "writer")
	base, stop := startServe(t, env)

	var owners struct {
		Entity struct {
			Name          string
			Relationships struct {
				Edges []struct {
					Node struct {
						From  struct{ ID string }
						Share float64
					}
				}
			}
		}
	}
	postQuery(t, base, `{ entity(id:"northern-zhaobao-magnets") { name relationships(direction: IN, types: ["OWNS"]) { edges { node { from { id } share } } } } }`, &owners)
	got := map[string]float64{}
	for _, e := range owners.Entity.Relationships.Edges {
		got[e.Node.From.ID] = e.Node.Share
	}
	want := map[string]float64{"china-northern-rare-earth": 0.40, "ningbo-zhaobao-magnet": 0.35, "suzhou-torin-drive": 0.125, "ningbo-souwest-magnet": 0.125}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("JV owners = %v, want %v", got, want)
	}
	var stats struct {
		Stats struct{ Entities, Relationships int }
	}
	postQuery(t, base, `{ stats { entities relationships } }`, &stats)
	if stats.Stats.Entities < 60 || stats.Stats.Relationships < 100 {
		t.Errorf("seed stats = %+v, want ≥ 60 entities and ≥ 100 relationships", stats.Stats)
	}
	var m map[string]any
	postQueryAs(t, base, writer, `mutation { upsertEntity(input: {id: "e2e-test", kind: "Company", name: "End To End Ltd"}) { id } }`, &m)
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v after cancel", err)
	}

	base, stop = startServe(t, env)
	defer stop()
	var after struct {
		Entity *struct{ Name string }
		Stats  struct{ Entities int }
	}
	postQuery(t, base, `{ entity(id:"e2e-test") { name } stats { entities } }`, &after)
	if after.Entity == nil || after.Entity.Name != "End To End Ltd" {
		t.Errorf("after restart entity = %+v", after.Entity)
	}
	if after.Stats.Entities != stats.Stats.Entities+1 {
		t.Errorf("after restart %d entities, want %d (seed loaded once, plus one)", after.Stats.Entities, stats.Stats.Entities+1)
	}
}

func TestRunCommands(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"lodestone", "version"}, func(string) string { return "" }, nil, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "lodestone ") {
		t.Errorf("version: %q, %v", out.String(), err)
	}
	if err := run(context.Background(), []string{"lodestone", "frobnicate"}, func(string) string { return "" }, nil, io.Discard, io.Discard); err == nil {
		t.Error("an unknown command did not fail")
	}
	err := run(context.Background(), []string{"lodestone", "serve"}, func(k string) string {
		return map[string]string{"LODESTONE_LOG_FORMAT": "xml"}[k]
	}, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "xml") {
		t.Errorf("bad LODESTONE_LOG_FORMAT: %v", err)
	}
	err = run(context.Background(), []string{"lodestone", "serve", "--max-depth", "x"}, func(string) string { return "" }, nil, io.Discard, io.Discard)
	if err == nil {
		t.Error("a bad flag value did not fail")
	}
	// Values that parse but make no sense are refused before the store is opened.
	data := t.TempDir() + "/never"
	for _, c := range []struct{ flag, value, want string }{
		{"--rate-limit", "-1", "--rate-limit"},
		{"--rate-limit", "NaN", "--rate-limit"},
		{"--rate-burst", "-2", "--rate-burst"},
		{"--journal-retention", "-1h", "--journal-retention"},
	} {
		err := run(context.Background(), []string{"lodestone", "serve", "--data", data, c.flag, c.value}, func(string) string { return "" }, nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("serve %s %s: %v, want an error naming %s", c.flag, c.value, err, c.want)
		}
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("a refused serve created its store folder (%v)", err)
	}
}

func TestEnvAndFlags(t *testing.T) {
	var cfg serveConfig
	fs := newFlagSet("serve", io.Discard)
	cfg.register(fs)
	env := map[string]string{"LODESTONE_ADDR": ":9999", "LODESTONE_SEED": "false", "LODESTONE_CORS_ORIGINS": "https://a.example", "LODESTONE_DATA": "/env"}
	if err := parseFlags(fs, []string{"--data", "/flag"}, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if cfg.addr != ":9999" || cfg.seed || cfg.corsOrigins != "https://a.example" || cfg.data != "/flag" {
		t.Errorf("config = %+v: want env for addr/seed/cors and the flag for data", cfg)
	}
}

// TestSetMemoryLimit: serve sets the runtime's soft memory limit from --memory-limit,
// unless it is 0 or GOMEMLIMIT is set.
func TestSetMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	setMemoryLimit(700, "")
	if got := debug.SetMemoryLimit(-1); got != 700<<20 {
		t.Errorf("limit = %d, want %d", got, 700<<20)
	}
	setMemoryLimit(500, "2GiB")
	setMemoryLimit(0, "")
	if got := debug.SetMemoryLimit(-1); got != 700<<20 {
		t.Errorf("limit = %d after GOMEMLIMIT and 0, want it unchanged (%d)", got, 700<<20)
	}
}

// TestHelpListsCommands: lodestone --help, -h and help print the commands on stdout and
// succeed.
func TestHelpListsCommands(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		var out bytes.Buffer
		err := run(context.Background(), []string{"lodestone", arg}, func(string) string { return "" }, nil, &out, io.Discard)
		if err != nil || !strings.Contains(out.String(), "Commands:") || !strings.Contains(out.String(), "healthcheck") {
			t.Errorf("lodestone %s = %q, %v; want the command list and no error", arg, out.String(), err)
		}
	}
}

// TestHealthcheckTakesBaseURL: --url is the server's base URL, like every command's; a
// URL naming /healthz, as before, still works.
func TestHealthcheckTakesBaseURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	base := srv.URL
	for _, url := range []string{base, base + "/", base + "/healthz"} {
		var out bytes.Buffer
		err := run(context.Background(), []string{"lodestone", "healthcheck", "--url", url}, func(string) string { return "" }, nil, &out, io.Discard)
		if err != nil || strings.TrimSpace(out.String()) != "ok" {
			t.Errorf("healthcheck --url %s = %q, %v; want ok", url, out.String(), err)
		}
	}
}

// TestStoreCommandsRefuseMissingStore: keys list, keys revoke and check pointed at a
// folder with no store refuse, and create neither the folder nor a store in an empty
// one; keys create, which makes the first key before the first start, says that it
// created a store.
func TestStoreCommandsRefuseMissingStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	if _, errOut, err := runCLI(t, nil, "", "keys", "create", "--role", "admin", "--data", dir); err != nil || !strings.Contains(errOut, "created a new, empty one") {
		t.Errorf("keys create on a new folder: stderr %q, %v; want a key and a note that a store was created", errOut, err)
	}
	for _, args := range [][]string{{"keys", "list"}, {"keys", "revoke", "00000000000000aa"}, {"check"}} {
		missing := filepath.Join(t.TempDir(), "missing")
		empty := t.TempDir()
		for _, dir := range []string{missing, empty} {
			err := run(context.Background(), append(append([]string{"lodestone"}, args...), "--data", dir), func(string) string { return "" }, nil, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "no store at") {
				t.Errorf("%v --data %s: %v, want no store at", args, dir, err)
			}
		}
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Errorf("%v created the missing folder (%v)", args, err)
		}
		if ents, _ := os.ReadDir(empty); len(ents) > 0 {
			t.Errorf("%v wrote %d files into an empty folder", args, len(ents))
		}
	}
}

// authorize sends key as "Authorization: Bearer key" with req (nothing when key is
// empty).
func authorize(req *http.Request, key string) {
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
}
