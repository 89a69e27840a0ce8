package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// readmeBlock is a fenced code block of README.md: its info string, its text and the
// line it starts on.
type readmeBlock struct {
	lang, text string
	line       int
}

// readmeBlocks returns the fenced code blocks of the README.
func readmeBlocks(tb testing.TB) []readmeBlock {
	tb.Helper()
	raw, err := os.ReadFile("README.md")
	if err != nil {
		tb.Fatal(err)
	}
	var out []readmeBlock
	var cur *readmeBlock
	for i, l := range strings.Split(string(raw), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(l, "```"):
			cur = &readmeBlock{lang: strings.TrimSpace(strings.TrimPrefix(l, "```")), line: i + 1}
		case cur != nil && strings.TrimSpace(l) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += l + "\n"
		}
	}
	return out
}

// TestReadmeExamples runs every ```graphql block and every curl command of the README's
// ```sh blocks against a server over the seed graph (in memory, anonymous writes on
// loopback: the README's local-development route), in the README's order, and fails on
// any GraphQL error or an HTTP status that is not a success. The README cannot drift
// from the code without this test failing.
func TestReadmeExamples(t *testing.T) {
	base, stop := startServe(t, nil, "--in-memory", "--allow-anonymous-writes")
	defer stop()
	var graphql, curls int
	for _, b := range readmeBlocks(t) {
		switch b.lang {
		case "graphql":
			graphql++
			body, _ := json.Marshal(map[string]string{"query": b.text})
			status, raw := readmeRequest(t, "POST", base+"/graphql", []string{"Content-Type: application/json"}, string(body))
			checkReadmeAnswer(t, fmt.Sprintf("README.md:%d (graphql)", b.line), status, raw)
		case "sh":
			for i, cmd := range curlCommands(b.text) {
				args := shellWords(cmd)
				req, skip := parseCurl(args, base)
				if skip != "" {
					t.Logf("README.md:%d curl %d: skipped (%s)", b.line, i, skip)
					continue
				}
				curls++
				status, raw := readmeRequest(t, req.method, req.url, req.headers, req.body)
				checkReadmeAnswer(t, fmt.Sprintf("README.md:%d curl %q", b.line, cmd), status, raw)
			}
		}
	}
	t.Logf("ran %d GraphQL blocks and %d curl commands", graphql, curls)
	if graphql < 10 || curls < 3 {
		t.Errorf("ran %d GraphQL blocks and %d curl commands: the README's examples were not found", graphql, curls)
	}
}

// checkReadmeAnswer fails unless status is a success and a JSON answer holds no errors.
func checkReadmeAnswer(t *testing.T, where string, status int, raw []byte) {
	t.Helper()
	if status < 200 || status > 299 {
		t.Errorf("%s: status %d: %.400s", where, status, raw)
		return
	}
	var r struct {
		Errors json.RawMessage `json:"errors"`
		Error  json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &r) == nil && (len(r.Errors) > 0 && string(r.Errors) != "null" || len(r.Error) > 0) {
		t.Errorf("%s: answered errors: %.400s", where, raw)
	}
}

// readmeRequest sends one request and returns its status and (decompressed) body.
func readmeRequest(t *testing.T, method, url string, headers []string, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// curlCommands returns the curl commands of a shell block, continuation lines joined.
func curlCommands(text string) []string {
	var out []string
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(l, "curl ") {
			continue
		}
		cmd := l
		// A trailing backslash, or a quote left open, continues the command.
		for (strings.HasSuffix(cmd, "\\") || strings.Count(cmd, "'")%2 == 1) && i+1 < len(lines) {
			cmd = strings.TrimSuffix(cmd, "\\")
			i++
			cmd += "\n" + lines[i]
		}
		if j := strings.Index(cmd, "   #"); j >= 0 && strings.Count(cmd[:j], "'")%2 == 0 {
			cmd = cmd[:j] // a trailing comment
		}
		out = append(out, cmd)
	}
	return out
}

// shellWords splits a command as sh would for the README's curl lines: single quotes,
// double quotes with \" and \\ escapes, and whitespace between words. Variables are
// kept as written.
func shellWords(s string) []string {
	var out []string
	var w strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				w.WriteByte(c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\' || s[i+1] == '$'):
				i++
				w.WriteByte(s[i])
			default:
				w.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\n' || c == '\t':
			if in {
				out = append(out, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, w.String())
	}
	return out
}

// curlRequest is what a README curl command asks.
type curlRequest struct {
	method, url, body string
	headers           []string
}

var readmeHost = regexp.MustCompile(`^(https?://)?(localhost|127\.0\.0\.1):8080`)

// parseCurl reads a curl command's words into a request to base, or says why it is
// skipped: it reaches outside the server (a webhook to another host), or it holds a
// command substitution the test cannot run. An Authorization header that sends a key
// from the environment is dropped: the test server takes anonymous writes, as the
// README's local-development route does.
func parseCurl(args []string, base string) (curlRequest, string) {
	var r curlRequest
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch a {
		case "-s", "-N", "--compressed":
		case "-H", "-d", "-X":
			if i+1 >= len(args) {
				return r, "flag " + a + " without a value"
			}
			i++
			switch a {
			case "-H":
				if strings.HasPrefix(args[i], "Authorization:") && strings.Contains(args[i], "$") {
					continue
				}
				r.headers = append(r.headers, args[i])
			case "-d":
				r.body = args[i]
			case "-X":
				r.method = args[i]
			}
		default:
			if strings.HasPrefix(a, "-") {
				return r, "curl flag " + a
			}
			if !readmeHost.MatchString(a) {
				return r, "not the local server: " + a
			}
			r.url = readmeHost.ReplaceAllString(a, base)
		}
	}
	if r.url == "" {
		return r, "no URL"
	}
	if strings.Contains(r.body, "$(") {
		return r, "command substitution in the body"
	}
	if strings.Contains(r.url, "/admin/webhooks") {
		return r, "webhooks deliver to hosts outside the test"
	}
	if r.method == "" {
		r.method = "GET"
		if r.body != "" {
			r.method = "POST"
		}
	}
	return r, ""
}

// TestShellWords checks the README's quoting forms.
func TestShellWords(t *testing.T) {
	got := shellWords(`curl -s 'a b' -d "x \"y\" $Z" -H "Authorization: Bearer $KEY"`)
	want := []string{"curl", "-s", "a b", "-d", `x "y" $Z`, "-H", "Authorization: Bearer $KEY"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("shellWords = %q, want %q", got, want)
	}
}
