package web

import (
	"crypto/sha512"
	"encoding/base64"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	tagRE  = regexp.MustCompile(`(?is)<(script|link|style)\b([^>]*)>`)
	attrRE = regexp.MustCompile(`(?is)([a-z-]+)\s*=\s*"([^"]*)"`)
	// pinnedRE is a CDN URL of one file of an npm package at an exact version.
	pinnedRE = regexp.MustCompile(`^https://unpkg\.com/((?:@[a-z0-9-]+/)?[a-z0-9.-]+)@(\d+\.\d+\.\d+)/([^?#]+)$`)
	sriRE    = regexp.MustCompile(`^sha384-[A-Za-z0-9+/]{64}$`)
)

// pageTag is a <script>, <link> or <style> tag of a page, with its attributes.
type pageTag struct {
	name  string
	attrs map[string]string
	text  string // the tag as written, for messages
}

func pageTags(html string) []pageTag {
	var out []pageTag
	for _, m := range tagRE.FindAllStringSubmatch(html, -1) {
		t := pageTag{name: strings.ToLower(m[1]), attrs: map[string]string{}, text: m[0]}
		for _, a := range attrRE.FindAllStringSubmatch(m[2], -1) {
			t.attrs[strings.ToLower(a[1])] = a[2]
		}
		out = append(out, t)
	}
	return out
}

// cspSources returns the sources of directive in policy.
func cspSources(policy, directive string) []string {
	for _, d := range strings.Split(policy, ";") {
		f := strings.Fields(d)
		if len(f) > 0 && f[0] == directive {
			return f[1:]
		}
	}
	return nil
}

// TestGraphiQLPinned: the GraphiQL page loads from the CDN only exact versions of files,
// each with a SHA-384 integrity hash and crossorigin="anonymous"; its
// Content-Security-Policy allows exactly those files besides this server's own, without
// 'unsafe-inline' or 'unsafe-eval'; the page has no inline script or style (which the
// policy would block), and its own files are served.
func TestGraphiQLPinned(t *testing.T) {
	h := Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/graphiql", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /graphiql = %d", rec.Code)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if csp == "" {
		t.Fatal("GET /graphiql has no Content-Security-Policy")
	}
	for _, bad := range []string{"'unsafe-inline'", "'unsafe-eval'", "*", "https:", "http:"} {
		if slices.Contains(strings.Fields(strings.ReplaceAll(csp, ";", " ")), bad) {
			t.Errorf("the GraphiQL page's policy allows %s: %s", bad, csp)
		}
	}
	for _, d := range []string{"default-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "connect-src 'self'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("the GraphiQL page's policy lacks %q: %s", d, csp)
		}
	}
	if got := rec.Header().Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", got)
	}

	external := map[string][]string{} // directive → the CDN URLs the page uses under it
	tags := pageTags(rec.Body.String())
	for _, tag := range tags {
		var url, directive string
		switch tag.name {
		case "style":
			t.Errorf("inline %s: the policy has no 'unsafe-inline'; use a file under /ui/", tag.text)
			continue
		case "script":
			url, directive = tag.attrs["src"], "script-src"
			if url == "" {
				t.Errorf("inline %s: the policy has no 'unsafe-inline'; use a file under /ui/", tag.text)
				continue
			}
		case "link":
			if tag.attrs["rel"] != "stylesheet" {
				continue
			}
			url, directive = tag.attrs["href"], "style-src"
		}
		if strings.HasPrefix(url, "/ui/") {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
			if rec.Code != 200 {
				t.Errorf("%s: GET %s = %d", tag.text, url, rec.Code)
			}
			continue
		}
		if !pinnedRE.MatchString(url) {
			t.Errorf("%s: an external file must be an https://unpkg.com/<package>@<exact version>/<file> URL", tag.text)
		}
		if !sriRE.MatchString(tag.attrs["integrity"]) {
			t.Errorf("%s: integrity %q, want sha384-<base64 of 48 bytes>", tag.text, tag.attrs["integrity"])
		}
		if tag.attrs["crossorigin"] != "anonymous" {
			t.Errorf("%s: crossorigin %q, want anonymous (integrity needs a CORS request)", tag.text, tag.attrs["crossorigin"])
		}
		external[directive] = append(external[directive], url)
	}
	if len(external["script-src"]) == 0 || len(external["style-src"]) == 0 {
		t.Fatalf("found CDN scripts %q and stylesheets %q in the page, want both", external["script-src"], external["style-src"])
	}
	for _, directive := range []string{"script-src", "style-src"} {
		want := append([]string{"'self'"}, external[directive]...)
		if got := cspSources(csp, directive); !slices.Equal(got, want) {
			t.Errorf("%s is %q, want exactly %q (this server and the page's CDN files)", directive, got, want)
		}
	}
}

// TestGraphiQLHashes recomputes the integrity hashes of the GraphiQL page from the npm
// packages its CDN URLs name, when $LODESTONE_GRAPHIQL_NPM holds them unpacked, one
// folder per package as <package>@<version> (docs/security.md, "GraphiQL", shows how
// to fill it). The CDN serves the files of the npm tarballs byte for byte.
func TestGraphiQLHashes(t *testing.T) {
	dir := os.Getenv("LODESTONE_GRAPHIQL_NPM")
	if dir == "" {
		t.Skip("LODESTONE_GRAPHIQL_NPM is not set: the hashes are not recomputed (docs/security.md, \"GraphiQL\")")
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/graphiql", nil))
	n := 0
	for _, tag := range pageTags(rec.Body.String()) {
		url := tag.attrs["src"] + tag.attrs["href"]
		m := pinnedRE.FindStringSubmatch(url)
		if m == nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, m[1]+"@"+m[2], "package", filepath.FromSlash(m[3])))
		if err != nil {
			t.Errorf("%s: %v", url, err)
			continue
		}
		sum := sha512.Sum384(b)
		if want := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); tag.attrs["integrity"] != want {
			t.Errorf("%s: integrity %q, but the npm file hashes to %q", url, tag.attrs["integrity"], want)
		}
		n++
	}
	if n == 0 {
		t.Error("no CDN file found in the GraphiQL page")
	}
}

// TestExplorerPolicy: the explorer's page keeps its own-origin policy.
func TestExplorerPolicy(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Get("Content-Security-Policy"); got != pageCSP {
		t.Errorf("GET / Content-Security-Policy = %q, want %q", got, pageCSP)
	}
	for _, tag := range pageTags(rec.Body.String()) {
		if u := tag.attrs["src"] + tag.attrs["href"]; strings.Contains(u, "//") {
			t.Errorf("the explorer loads %s from another origin: %s", u, tag.text)
		}
	}
}
