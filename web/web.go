// Package web is Lodestone's explorer: a page, embedded in the binary, where a person
// searches the graph, draws ownership and supply, asks the ownership and exposure
// questions and runs saved queries. It is plain HTML, CSS and JavaScript modules in
// static/ (no build step, nothing fetched from the internet), calling the server's own
// GraphQL API and saved-query endpoints.
//
// Handler serves the page at / and its files under /ui/, and GraphiQL (a GraphQL IDE)
// at /graphiql: the one page that loads code from a CDN and so needs internet in the
// browser; the explorer never does. That code is pinned: exact versions, each file with
// its subresource-integrity hash, and a Content-Security-Policy that allows those files
// and this server's own, nothing else (graphiqlCSP).
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// asset is one embedded file, read once.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// loadAssets reads every embedded file and derives its content type (from its
// extension) and a strong ETag (from its content).
func loadAssets() (map[string]asset, error) {
	out := map[string]asset{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = http.DetectContentType(b)
		}
		sum := sha256.Sum256(b)
		out[strings.TrimPrefix(p, "static/")] = asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return out, err
}

// Handler serves the explorer: index.html for "/", the files of static/ under "/ui/"
// (e.g. /ui/app.js), the GraphiQL page for "/graphiql" and the icon for "/favicon.ico".
// Mount it for "GET /{$}", "GET /ui/", "GET /graphiql" and "GET /favicon.ico". Every answer
// carries its content type, nosniff, an ETag and Cache-Control: no-cache, so a browser
// revalidates (304 Not Modified when unchanged) and never runs an old script against a
// newer server. The two pages also carry a Content-Security-Policy (pageCSP: nothing but
// this origin; graphiqlCSP: this origin and GraphiQL's pinned CDN files), and may not be
// framed. Unknown files are 404.
func Handler() http.Handler {
	assets, err := loadAssets()
	if err != nil {
		// The files are compiled in: failing to read them is a defect of the build, found
		// by every test that builds a server, never a condition met at run time.
		panic("web: embedded files unreadable: " + err.Error())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/ui/")
		switch r.URL.Path {
		case "/":
			name = "index.html"
		case "/graphiql":
			name = "graphiql.html"
		case "/favicon.ico":
			name = "icon.svg" // served as image/svg+xml, which every current browser takes for an icon
		}
		a, ok := assets[name] // only the embedded files are keys: no path reaches beyond them
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		if csp, ok := pageCSPs[name]; ok {
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer") // the CDN does not learn the server's address either
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
	})
}

// pageCSP keeps the explorer to its own origin: scripts, styles, data and images come
// from this server only (blob: and data: images for the PNG export).
const pageCSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// graphiqlCSP lets the GraphiQL page run this server's files and the exact CDN files
// graphiql.html names (a source with a full path matches that file only), whose
// integrity attributes pin their bytes. No 'unsafe-inline' (the page's own script and
// styles are files under /ui/) and no 'unsafe-eval': GraphiQL 3.8.3's bundle evaluates
// no strings (its one `new Function` is a fallback for browsers without globalThis).
// Fonts are data: URLs inside graphiql.min.css. The one thing refused is the <style>
// element GraphiQL's dialogs insert to lock the page's scrolling (a console error; the
// page has nothing to scroll). web/graphiql_test.go checks that every external file of
// the page is listed here and carries its hash, and (given the npm packages) that
// GraphiQL runs under this policy in chromium.
const graphiqlCSP = "default-src 'none'; " +
	"script-src 'self' https://unpkg.com/react@18.3.1/umd/react.production.min.js https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js https://unpkg.com/graphiql@3.8.3/graphiql.min.js; " +
	"style-src 'self' https://unpkg.com/graphiql@3.8.3/graphiql.min.css; " +
	"font-src data:; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// pageCSPs is the Content-Security-Policy of each page, by file name.
var pageCSPs = map[string]string{"index.html": pageCSP, "graphiql.html": graphiqlCSP}
