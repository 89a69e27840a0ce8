package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs `lodestone args…` through run() and returns stdout, stderr and the error.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"lodestone"}, args...),
		func(k string) string { return env[k] }, strings.NewReader(stdin), &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestQueryCommandsOnServer walks the analyst's workflow against a running server:
// list, show, run with parameters as JSON and CSV, save, save again, delete.
func TestQueryCommandsOnServer(t *testing.T) {
	data := t.TempDir()
	writer := mustCreateKey(t, data, "writer")
	base, stop := startServe(t, map[string]string{"LODESTONE_LOG_FORMAT": "console", "LODESTONE_DATA": data})
	defer stop()
	env := map[string]string{"LODESTONE_URL": base, "LODESTONE_KEY": writer} // --url and --key from the environment
	if _, _, err := runCLI(t, map[string]string{"LODESTONE_SERVER": base}, "{ stats { entities } }", "query", "save", "anon", "--file", "-"); err == nil || !strings.Contains(err.Error(), "writer role") {
		t.Errorf("query save without a key: %v, want a refusal naming the writer role", err)
	}

	out, _, err := runCLI(t, env, "", "query", "list")
	if err != nil {
		t.Fatalf("query list: %v", err)
	}
	for _, name := range []string{"company-owners", "group-holdings", "country-exposure", "supply-paths-avoiding", "entities-by-kind-and-country"} {
		if !strings.Contains(out, name) {
			t.Errorf("query list does not show the seeded %s:\n%s", name, out)
		}
	}
	if out, _, err := runCLI(t, env, "", "query", "list", "--tag", "supply", "--json"); err != nil || strings.Contains(out, "company-owners") || !strings.Contains(out, `"name": "country-exposure"`) {
		t.Errorf("query list --tag supply --json = %s, %v", out, err)
	}

	out, _, err = runCLI(t, env, "", "query", "show", "company-owners")
	if err != nil || !strings.Contains(out, "company    ID!    default \"northern-zhaobao-magnets\"") || !strings.Contains(out, "query CompanyOwners(") {
		t.Errorf("query show company-owners = %s, %v", out, err)
	}

	// Run with a parameter, as CSV: a header row and one row per owner.
	out, _, err = runCLI(t, env, "", "query", "run", "company-owners", "--var", "company=mp-materials", "--var", "asOf=2025-10-01", "--format", "csv")
	if err != nil {
		t.Fatalf("query run --format csv: %v", err)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 5 || strings.Join(recs[0][:3], ",") != "entity.id,entity.name,entity.kind" {
		t.Fatalf("CSV = %q, %v; want a header and MP's 4 owners", out, err)
	}
	if recs[1][0] != "us-dod" || recs[4][1] != "Shenghe Resources Holding Co., Ltd." {
		t.Errorf("CSV rows = %q", recs[1:])
	}
	// As JSON (flags before the name work too).
	out, _, err = runCLI(t, env, "", "query", "run", "--var", "group=china-northern-rare-earth", "group-holdings")
	var resp struct {
		Data struct {
			Holdings []struct{ Entity struct{ ID string } }
		}
	}
	if err != nil || json.Unmarshal([]byte(out), &resp) != nil || len(resp.Data.Holdings) == 0 {
		t.Errorf("query run group-holdings = %s, %v", out, err)
	}
	// A wrong parameter type is refused, naming the parameter.
	if _, _, err := runCLI(t, env, "", "query", "run", "company-owners", "--var", "threshold=lots"); err == nil || !strings.Contains(err.Error(), "threshold") {
		t.Errorf("run with threshold=lots: %v, want an error naming threshold", err)
	}
	if _, _, err := runCLI(t, env, "", "query", "run", "no-such-query"); err == nil || !strings.Contains(err.Error(), "no saved query named") {
		t.Errorf("run of an unknown name: %v", err)
	}

	// Save, from a file and from stdin; a second save is version 2 and keeps the
	// description, tags and default variables.
	doc := "query Jv($id: ID!) { entity(id: $id) { name country } }"
	file := writeFile(t, "jv.graphql", doc)
	out, _, err = runCLI(t, env, "", "query", "save", "jv", "--file", file, "--description", "The JV", "--tag", "mine", "--variables", `{"id": "northern-zhaobao-magnets"}`)
	if err != nil || !strings.Contains(out, "saved jv version 1 (parameters: id ID!)") {
		t.Fatalf("query save = %q, %v", out, err)
	}
	out, _, err = runCLI(t, env, doc+"\n", "query", "save", "jv", "--file", "-")
	if err != nil || !strings.Contains(out, "saved jv version 2") {
		t.Fatalf("second query save = %q, %v", out, err)
	}
	out, _, err = runCLI(t, env, "", "query", "run", "jv", "--format", "csv")
	if err != nil || out != "entity.name,entity.country\n\"Northern Zhaobao Magnets (Inner Mongolia) Co., Ltd.\",CN\n" {
		t.Errorf("run of the saved query = %q, %v", out, err)
	}
	out, _, _ = runCLI(t, env, "", "query", "show", "jv", "--version", "1")
	if !strings.Contains(out, "version 1 of 2") || !strings.Contains(out, "The JV") || !strings.Contains(out, "tags: mine") {
		t.Errorf("query show jv --version 1 = %s", out)
	}
	if out, _, _ := runCLI(t, env, "", "query", "list", "--tag", "mine"); !strings.Contains(out, "jv ") || !strings.Contains(out, "The JV") {
		t.Errorf("the second save lost its tag or description: %s", out)
	}
	// An invalid document is refused with every problem and its location.
	_, _, err = runCLI(t, env, "{ entity(id: \"x\") { nope } stats { nada } }", "query", "save", "bad", "--file", "-")
	if err == nil || !strings.Contains(err.Error(), "line 1, column 21: Cannot query field \"nope\"") || !strings.Contains(err.Error(), "column 36") {
		t.Errorf("save of an invalid document: %v", err)
	}

	if out, _, err := runCLI(t, env, "", "query", "delete", "jv"); err != nil || !strings.Contains(out, "deleted jv") {
		t.Errorf("query delete = %q, %v", out, err)
	}
	if _, _, err := runCLI(t, env, "", "query", "run", "jv"); err == nil {
		t.Error("a deleted query still runs")
	}
}

// TestQueryCommandsOnStoreFolder runs the commands directly on a store folder: seeded
// by a first `serve`, then used without a server, and refused while a server holds it.
func TestQueryCommandsOnStoreFolder(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"LODESTONE_DATA": dir, "LODESTONE_LOG_FORMAT": "console"}
	_, stop := startServe(t, env)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	out, _, err := runCLI(t, env, "", "query", "run", "entities-by-kind-and-country", "--var", "kind=Company", "--var", "country=AU", "--format", "csv")
	if err != nil || !strings.HasPrefix(out, "node.id,node.name,node.kind,node.country,node.aliases\n") || !strings.Contains(out, "lynas-rare-earths,") {
		t.Errorf("run on the store folder = %q, %v", out, err)
	}
	file := writeFile(t, "stats.graphql", "{ stats { entities relationships } }")
	if out, _, err := runCLI(t, env, "", "query", "save", "counts", "--file", file, "--data", dir); err != nil || !strings.Contains(out, "saved counts version 1") {
		t.Fatalf("save on the store folder = %q, %v", out, err)
	}
	if out, _, err := runCLI(t, env, "", "query", "run", "counts"); err != nil || !strings.Contains(out, `"entities": 130`) {
		t.Errorf("run counts = %q, %v", out, err)
	}

	// While a server holds the folder, the commands say to use --url.
	base, stop := startServe(t, env)
	defer stop()
	if _, _, err := runCLI(t, env, "", "query", "list"); err == nil || !strings.Contains(err.Error(), "use --url") {
		t.Errorf("list on a folder a server holds: %v, want advice to use --url", err)
	}
	if out, _, err := runCLI(t, env, "", "query", "run", "counts", "--url", base); err != nil || !strings.Contains(out, `"entities": 130`) {
		t.Errorf("the query saved on the folder, run on the server = %q, %v", out, err)
	}
	// --server and LODESTONE_SERVER are deprecated names of --url and LODESTONE_URL: they
	// still work, and say so.
	if out, errOut, err := runCLI(t, env, "", "query", "run", "counts", "--server", base); err != nil || !strings.Contains(out, `"entities": 130`) || !strings.Contains(errOut, "--server is deprecated; use --url") {
		t.Errorf("run --server = %q, stderr %q, %v; want the result and a deprecation warning", out, errOut, err)
	}
	if out, errOut, err := runCLI(t, map[string]string{"LODESTONE_SERVER": base}, "", "query", "run", "counts"); err != nil || !strings.Contains(out, `"entities": 130`) || !strings.Contains(errOut, "LODESTONE_SERVER is deprecated; use LODESTONE_URL") {
		t.Errorf("run with LODESTONE_SERVER = %q, stderr %q, %v; want the result and a deprecation warning", out, errOut, err)
	}
	if _, _, err := runCLI(t, map[string]string{"LODESTONE_DATA": filepath.Join(dir, "missing")}, "", "query", "list"); err == nil || !strings.Contains(err.Error(), "no store at") {
		t.Errorf("list on a missing folder: %v", err)
	}
}

func TestQueryCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"query"}, "name a command"},
		{[]string{"query", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"query", "show"}, "name the saved query"},
		{[]string{"query", "run"}, "name the saved query"},
		{[]string{"query", "run", "x", "--format", "xml", "--url", "http://127.0.0.1:1"}, "--format must be json or csv"},
		{[]string{"query", "run", "x", "--var", "novalue", "--url", "http://127.0.0.1:1"}, `--var "novalue": write NAME=VALUE`},
		{[]string{"query", "save", "x"}, "--file is required"},
		{[]string{"query", "save", "x", "--file", "-", "--variables", "[1]"}, "--variables must be a JSON object"},
		{[]string{"query", "list", "extra"}, `unexpected argument "extra"`},
		{[]string{"query", "list", "--url", "localhost:8080"}, "is not an http(s) URL"},
		{[]string{"query", "list", "--url", "http://127.0.0.1:1"}, "cannot reach the server"},
	} {
		_, _, err := runCLI(t, nil, "{ stats { entities } }", tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("lodestone %s: %v, want an error containing %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	if out, stderr, err := runCLI(t, nil, "", "query", "help"); err != nil || out != "" || !strings.Contains(stderr, "lodestone query run company-owners") {
		t.Errorf("query help: %q %q %v", out, stderr, err)
	}
}

// TestServeSavedQueriesOnly checks the allow-list flag end to end: an ad-hoc query is
// FORBIDDEN, a saved one runs.
func TestServeSavedQueriesOnly(t *testing.T) {
	base, stop := startServe(t, map[string]string{"LODESTONE_SAVED_QUERIES_ONLY": "true", "LODESTONE_LOG_FORMAT": "console"}, "--in-memory")
	defer stop()
	resp, err := http.Post(base+"/graphql", "application/json", strings.NewReader(`{"query": "{ stats { entities } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("ad-hoc query in allow-list mode: %d, want 403", resp.StatusCode)
	}
	resp, err = http.Get(base + "/queries/company-owners")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("saved query in allow-list mode: %d, want 200", resp.StatusCode)
	}
}
