package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lodestone-kg/lodestone/client"
	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/server"
	"go.uber.org/zap"
)

const queryUsage = `Usage: lodestone query <command> [NAME] [flags]

Saved queries: named GraphQL queries that analysts run with parameters.

Commands:
  list                    list the saved queries (--tag T to filter)
  show NAME               show a saved query: description, parameters, document, versions
  run NAME                run it: --var k=v (repeatable), --format json|csv, --version N
  save NAME --file F      save a new version of a query from a .graphql file (- for stdin);
                          --description, --tag and --variables default to the latest version's
  delete NAME             delete it (its history is kept until --purge)

Every command talks to the server at --url URL (LODESTONE_URL), or, without one,
opens the store folder --data (LODESTONE_DATA, default ./data) directly; a store that a
running server holds cannot be opened: use --url then.

Examples:
  lodestone query list --url http://localhost:8080
  lodestone query run company-owners --var company=mp-materials --format csv > owners.csv
  lodestone query save my-owners --file owners.graphql --description "Owners of a company" --tag ownership
`

// runQuery is `lodestone query`: list, show, run, save and delete saved queries, over
// the HTTP API of a server, or of an in-process server over a store folder.
func runQuery(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd, rest, done, err := subcommand(args, queryUsage, "query: name a command: list, show, run, save or delete", stderr)
	if done {
		return err
	}
	fs := newFlagSet("query "+cmd, stderr)
	var c queryConn
	fs.StringVar(&c.server, "url", "", "URL of a Lodestone server, e.g. http://localhost:8080 (LODESTONE_URL); without it, the store folder --data is used")
	fs.Func("server", "deprecated: use --url (LODESTONE_SERVER, deprecated: use LODESTONE_URL)", func(v string) error {
		fmt.Fprintln(stderr, "lodestone: --server is deprecated; use --url (LODESTONE_URL)")
		c.server = v
		return nil
	})
	fs.StringVar(&c.data, "data", "./data", "folder of the Badger store, when no --url is given (LODESTONE_DATA)")
	fs.StringVar(&c.key, "key", "", "API key for --url, sent as Authorization: Bearer; save and delete need a writer key (LODESTONE_KEY)")
	switch cmd {
	case "list":
		tag := fs.String("tag", "", "only the saved queries carrying this tag")
		asJSON := fs.Bool("json", false, "print the list as JSON")
		if err := parseQueryFlags(fs, rest, getenv, false); err != nil {
			return err
		}
		return c.list(ctx, *tag, *asJSON, stdout)
	case "show":
		version := fs.Int("version", 0, "show this version (default: the latest)")
		name, err := parseNamed(fs, rest, getenv)
		if err != nil {
			return err
		}
		return c.show(ctx, name, *version, stdout)
	case "run":
		var vars varFlags
		fs.Var(&vars, "var", "a parameter as NAME=VALUE (repeat it; repeat a list parameter's NAME for each item)")
		format := fs.String("format", "json", "json or csv (LODESTONE_FORMAT)")
		version := fs.Int("version", 0, "run this version (default: the latest)")
		name, err := parseNamed(fs, rest, getenv, "format")
		if err != nil {
			return err
		}
		return c.run(ctx, name, *version, vars, *format, stdout, stderr)
	case "save":
		file := fs.String("file", "", "the .graphql file holding one query operation (- reads stdin)")
		var tags varFlags
		fs.Var(&tags, "tag", "a tag (repeat it); default: the tags of the latest version")
		desc := fs.String("description", "", "what the query answers; default: the description of the latest version")
		defaults := fs.String("variables", "", `default values of the document's variables, a JSON object such as {"threshold": 0.25}; default: those of the latest version ({} clears them)`)
		name, err := parseNamed(fs, rest, getenv)
		if err != nil {
			return err
		}
		if *file == "" {
			return errors.New("query save: --file is required (the .graphql file of the query, or - for stdin)")
		}
		doc, err := readDocument(*file, stdin)
		if err != nil {
			return err
		}
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		in := map[string]any{"name": name, "query": doc}
		if given["description"] {
			in["description"] = *desc
		}
		if given["tag"] {
			in["tags"] = []string(tags)
		}
		if given["variables"] {
			var v map[string]any
			if err := json.Unmarshal([]byte(*defaults), &v); err != nil || v == nil {
				return fmt.Errorf("query save: --variables must be a JSON object, e.g. {\"threshold\": 0.25}")
			}
			in["variables"] = v
		}
		return c.save(ctx, in, stdout)
	case "delete":
		purge := fs.Bool("purge", false, "remove every version for good")
		name, err := parseNamed(fs, rest, getenv)
		if err != nil {
			return err
		}
		return c.delete(ctx, name, *purge, stdout)
	}
	fmt.Fprint(stderr, queryUsage)
	return fmt.Errorf("query: unknown command %q", cmd)
}

// parseQueryFlags parses args; only --url, --data and the flags in env read the
// environment (a per-run value such as --var from the environment would surprise).
func parseQueryFlags(fs *flag.FlagSet, args []string, getenv func(string) string, allowArg bool, env ...string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !allowArg && fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	// LODESTONE_SERVER is the deprecated name of LODESTONE_URL: read only when neither
	// --url, --server nor LODESTONE_URL says otherwise.
	if !given["url"] && !given["server"] && getenv("LODESTONE_URL") == "" && getenv("LODESTONE_SERVER") != "" && fs.Lookup("server") != nil {
		fmt.Fprintln(fs.Output(), "lodestone: LODESTONE_SERVER is deprecated; use LODESTONE_URL")
		if err := fs.Set("url", getenv("LODESTONE_SERVER")); err != nil {
			return err
		}
	}
	for _, name := range append([]string{"url", "data", "key"}, env...) {
		if given[name] || fs.Lookup(name) == nil {
			continue
		}
		key := "LODESTONE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if v := getenv(key); v != "" {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("%s=%q: %v", key, v, err)
			}
		}
	}
	return nil
}

// parseNamed parses "NAME [flags]" or "[flags] NAME [flags]" and returns NAME.
func parseNamed(fs *flag.FlagSet, args []string, getenv func(string) string, env ...string) (string, error) {
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	} else {
		if err := fs.Parse(args); err != nil {
			return "", err
		}
		args = nil
		if fs.NArg() > 0 {
			name, args = fs.Arg(0), fs.Args()[1:]
		}
	}
	if err := parseQueryFlags(fs, args, getenv, false, env...); err != nil {
		return "", err
	}
	if name == "" {
		return "", fmt.Errorf("%s: name the saved query: %s NAME [flags]", strings.TrimPrefix(fs.Name(), "lodestone "), fs.Name())
	}
	return name, nil
}

// varFlags collects a repeatable flag.
type varFlags []string

func (v *varFlags) String() string { return strings.Join(*v, ",") }
func (v *varFlags) Set(s string) error {
	*v = append(*v, s)
	return nil
}

func readDocument(file string, stdin io.Reader) (string, error) {
	var raw []byte
	var err error
	if file == "-" {
		raw, err = io.ReadAll(io.LimitReader(stdin, graph.MaxQueryDocumentBytes+1))
	} else {
		raw, err = os.ReadFile(file)
	}
	if err != nil {
		return "", fmt.Errorf("query save: %w", err)
	}
	return string(raw), nil
}

// queryConn reaches the saved-query API: a server's, or an in-process one over a store
// folder.
type queryConn struct {
	server, data, key string
}

// client returns a client of the API, and a function that releases it. Without a
// server it opens the store (read-only unless write) and serves the API in process.
func (c *queryConn) client(write bool) (*client.Client, func(), error) {
	if c.server != "" {
		api, err := client.New(c.server, c.key)
		if err != nil {
			return nil, nil, fmt.Errorf("--url: %w", err)
		}
		api.HTTP = &http.Client{Timeout: 5 * time.Minute}
		return api, func() {}, nil
	}
	if !write {
		if _, err := os.Stat(c.data); err != nil {
			return nil, nil, fmt.Errorf("no store at %s (give --data DIR, or --url URL to ask a running server)", c.data)
		}
	}
	store, err := graph.Open(graph.Options{Dir: c.data, ReadOnly: !write, CacheSize: noCache})
	if err != nil {
		return nil, nil, fmt.Errorf("open the store at %s (a running server holds it: use --url URL): %w", c.data, err)
	}
	// In process, nothing listens: whoever can open the store folder owns it.
	h, err := server.NewServer(zap.NewNop(), server.Config{Version: version, AnonymousWrites: true}, store, schemaSDL)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return &client.Client{BaseURL: "http://lodestone.local", HTTP: &http.Client{Transport: handlerTransport{h}}}, func() { store.Close() }, nil
}

// handlerTransport answers requests with an in-process handler.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	w := &bufferedResponse{header: http.Header{}}
	t.h.ServeHTTP(w, req)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return &http.Response{StatusCode: w.status, Status: fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		Header: w.header, Body: io.NopCloser(&w.body), ContentLength: int64(w.body.Len()), Request: req,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

// bufferedResponse is an http.ResponseWriter that keeps the response in memory.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

// apiError is a GraphQL-shaped error from the server.
type apiError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

type apiResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []apiError      `json:"errors"`
}

// describe renders errors for a person, validation problems with their locations.
func (r *apiResponse) describe() string {
	var b strings.Builder
	for i, e := range r.Errors {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(e.Message)
		if probs, ok := e.Extensions["problems"].([]any); ok && len(probs) > 1 {
			for _, p := range probs {
				pm, _ := p.(map[string]any)
				loc := ""
				if locs, ok := pm["locations"].([]any); ok && len(locs) > 0 {
					l, _ := locs[0].(map[string]any)
					loc = fmt.Sprintf("line %v, column %v: ", l["line"], l["column"])
				}
				fmt.Fprintf(&b, "\n  %s%v", loc, pm["message"])
			}
		}
	}
	return b.String()
}

// do sends a request to path under the API's base URL and returns the answer's status,
// header and body.
func do(ctx context.Context, api *client.Client, method, path string, header map[string]string, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, api.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := api.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("cannot reach the server: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw, err
}

// graphQL runs a GraphQL request and decodes its data into out; GraphQL errors become
// the returned error.
func (c *queryConn) graphQL(ctx context.Context, write bool, query string, vars map[string]any, out any) error {
	api, done, err := c.client(write)
	if err != nil {
		return err
	}
	defer done()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	status, _, raw, err := do(ctx, api, http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json"}, body)
	if err != nil {
		return err
	}
	var resp apiResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return fmt.Errorf("the server answered %d with %q", status, truncateText(string(raw), 200))
	}
	if len(resp.Errors) > 0 {
		return errors.New(resp.describe())
	}
	if out != nil {
		return json.Unmarshal(resp.Data, out)
	}
	return nil
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

type listedQuery struct {
	Name        string             `json:"name"`
	Version     int                `json:"version"`
	Description string             `json:"description"`
	Tags        []string           `json:"tags"`
	Parameters  []graph.QueryParam `json:"parameters"`
}

func (c *queryConn) list(ctx context.Context, tag string, asJSON bool, stdout io.Writer) error {
	api, done, err := c.client(false)
	if err != nil {
		return err
	}
	defer done()
	u := "/queries"
	if tag != "" {
		u += "?" + url.Values{"tag": {tag}}.Encode()
	}
	status, _, raw, err := do(ctx, api, http.MethodGet, u, nil, nil)
	if err != nil {
		return err
	}
	var out struct {
		Queries []listedQuery `json:"queries"`
		apiResponse
	}
	if err := json.Unmarshal(raw, &out); err != nil || status != http.StatusOK {
		if len(out.Errors) > 0 {
			return errors.New(out.describe())
		}
		return fmt.Errorf("GET /queries answered %d", status)
	}
	if asJSON {
		return writeIndented(stdout, raw)
	}
	if len(out.Queries) == 0 {
		fmt.Fprintln(stdout, "no saved queries")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tPARAMETERS\tDESCRIPTION")
	for _, q := range out.Queries {
		var params []string
		for _, p := range q.Parameters {
			params = append(params, p.Name)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", q.Name, q.Version, strings.Join(params, ","), truncateText(firstLine(q.Description), 80))
	}
	return tw.Flush()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func writeIndented(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		_, err = w.Write(raw)
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

const showQuery = `query($name: String!) { savedQuery(name: $name) {
  name version path
  versions { version description tags query sha256Hash savedAt variables parameters { name type required default } }
} }`

type shownVersion struct {
	Version     int
	Description *string
	Tags        []string
	Query       string
	Sha256Hash  string
	SavedAt     string
	Variables   json.RawMessage
	Parameters  []struct {
		Name, Type string
		Required   bool
		Default    json.RawMessage
	}
}

func (c *queryConn) latest(ctx context.Context, name string) (*struct {
	Name, Path string
	Version    int
	Versions   []shownVersion
}, error) {
	var out struct {
		SavedQuery *struct {
			Name, Path string
			Version    int
			Versions   []shownVersion
		}
	}
	if err := c.graphQL(ctx, false, showQuery, map[string]any{"name": name}, &out); err != nil {
		return nil, err
	}
	return out.SavedQuery, nil
}

func (c *queryConn) show(ctx context.Context, name string, version int, stdout io.Writer) error {
	sq, err := c.latest(ctx, name)
	if err != nil {
		return err
	}
	if sq == nil {
		return fmt.Errorf("no saved query named %q (lodestone query list shows them)", name)
	}
	if version == 0 {
		version = sq.Version
	}
	var v *shownVersion
	for i := range sq.Versions {
		if sq.Versions[i].Version == version {
			v = &sq.Versions[i]
		}
	}
	if v == nil {
		return fmt.Errorf("saved query %q has no version %d; its latest is %d", name, version, sq.Version)
	}
	fmt.Fprintf(stdout, "%s  version %d of %d, saved %s\n", sq.Name, v.Version, sq.Version, v.SavedAt)
	if v.Description != nil {
		fmt.Fprintf(stdout, "%s\n", *v.Description)
	}
	if len(v.Tags) > 0 {
		fmt.Fprintf(stdout, "tags: %s\n", strings.Join(v.Tags, ", "))
	}
	fmt.Fprintln(stdout, "\nparameters:")
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if len(v.Parameters) == 0 {
		fmt.Fprintln(tw, "  (none)")
	}
	example := []string{"lodestone query run", sq.Name}
	for _, p := range v.Parameters {
		note := ""
		switch {
		case p.Required:
			note = "required"
			example = append(example, "--var", p.Name+"=…")
		case len(p.Default) > 0 && string(p.Default) != "null":
			note = "default " + string(p.Default)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", p.Name, p.Type, note)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\nrun: %s   or   GET %s\n\n%s\n", strings.Join(example, " "), sq.Path, strings.TrimRight(v.Query, "\n"))
	if len(sq.Versions) > 1 {
		fmt.Fprintln(stdout, "\nversions:")
		for _, h := range sq.Versions {
			fmt.Fprintf(stdout, "  %d  %s  sha256 %s\n", h.Version, h.SavedAt, h.Sha256Hash[:12])
		}
	}
	return nil
}

func (c *queryConn) run(ctx context.Context, name string, version int, vars varFlags, format string, stdout, stderr io.Writer) error {
	if format != "json" && format != "csv" {
		return fmt.Errorf("query run: --format must be json or csv, not %q", format)
	}
	q := url.Values{}
	for _, kv := range vars {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("query run: --var %q: write NAME=VALUE", kv)
		}
		q.Add(k, v)
	}
	q.Set("format", format)
	path := "/queries/" + url.PathEscape(name)
	if version > 0 {
		path += "/versions/" + strconv.Itoa(version)
	}
	api, done, err := c.client(false)
	if err != nil {
		return err
	}
	defer done()
	status, header, raw, err := do(ctx, api, http.MethodGet, path+"?"+q.Encode(), nil, nil)
	if err != nil {
		return err
	}
	if strings.HasPrefix(header.Get("Content-Type"), "text/csv") && status == http.StatusOK {
		_, err := stdout.Write(raw)
		return err
	}
	var resp apiResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return fmt.Errorf("the server answered %d with %q", status, truncateText(string(raw), 200))
	}
	if status != http.StatusOK {
		return errors.New(resp.describe())
	}
	if err := writeIndented(stdout, raw); err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		return fmt.Errorf("the query reported errors: %s", resp.describe())
	}
	return nil
}

func (c *queryConn) save(ctx context.Context, in map[string]any, stdout io.Writer) error {
	name, _ := in["name"].(string)
	_, hasDesc := in["description"]
	_, hasTags := in["tags"]
	_, hasVars := in["variables"]
	if !hasDesc || !hasTags || !hasVars { // carry the latest version's over
		if prev, err := c.latest(ctx, name); err == nil && prev != nil {
			last := prev.Versions[len(prev.Versions)-1]
			if !hasDesc && last.Description != nil {
				in["description"] = *last.Description
			}
			if !hasTags {
				in["tags"] = last.Tags
			}
			if !hasVars && len(last.Variables) > 0 && string(last.Variables) != "null" {
				in["variables"] = last.Variables
			}
		}
	}
	var out struct {
		SaveQuery struct {
			Name       string
			Version    int
			Path       string
			Parameters []struct {
				Name, Type string
				Required   bool
			}
		}
	}
	const m = `mutation($input: SavedQueryInput!) { saveQuery(input: $input) { name version path parameters { name type required } } }`
	if err := c.graphQL(ctx, true, m, map[string]any{"input": in}, &out); err != nil {
		return err
	}
	var params []string
	for _, p := range out.SaveQuery.Parameters {
		params = append(params, p.Name+" "+p.Type)
	}
	fmt.Fprintf(stdout, "saved %s version %d (parameters: %s); run it with: lodestone query run %s\n",
		out.SaveQuery.Name, out.SaveQuery.Version, strings.Join(params, ", "), out.SaveQuery.Name)
	return nil
}

func (c *queryConn) delete(ctx context.Context, name string, purge bool, stdout io.Writer) error {
	const m = `mutation($name: String!, $purge: Boolean) { deleteSavedQuery(name: $name, purge: $purge) }`
	if err := c.graphQL(ctx, true, m, map[string]any{"name": name, "purge": purge}, nil); err != nil {
		return err
	}
	if purge {
		fmt.Fprintf(stdout, "purged %s and its history\n", name)
	} else {
		fmt.Fprintf(stdout, "deleted %s (its history is kept; lodestone query delete %s --purge removes it)\n", name, name)
	}
	return nil
}
