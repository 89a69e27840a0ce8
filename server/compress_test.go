package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestCompression: answers of /graphql, /export and /queries/… that reach
// compressMinBytes are gzipped when the client accepts gzip, and decode to the same
// bytes; small answers, and clients that do not accept gzip, get them as they are.
func TestCompression(t *testing.T) {
	ts := newTestServer(t, Config{})
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}} // see the raw bytes
	get := func(method, path, body, acceptEncoding string) (http.Header, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+ts.token)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
		return resp.Header, raw
	}
	large := gqlBody(`{ entities(first: 100) { edges { node { id name kind country } } } }`, nil)
	small := gqlBody(`{ entity(id: "nzb") { id } }`, nil)
	for _, c := range []struct {
		name, method, path, body string
	}{
		{"large GraphQL answer", "POST", "/graphql", large},
		{"export", "GET", "/export?seeds=hub&depth=1", ""},
	} {
		plainHeader, plain := get(c.method, c.path, c.body, "")
		if enc := plainHeader.Get("Content-Encoding"); enc != "" || len(plain) < compressMinBytes {
			t.Fatalf("%s without Accept-Encoding: Content-Encoding %q, %d bytes; want none, at least %d bytes", c.name, enc, len(plain), compressMinBytes)
		}
		h, zipped := get(c.method, c.path, c.body, "gzip")
		if h.Get("Content-Encoding") != "gzip" || !strings.Contains(h.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("%s with gzip: Content-Encoding %q, Vary %q; want gzip", c.name, h.Get("Content-Encoding"), h.Get("Vary"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(zipped))
		if err != nil {
			t.Fatal(err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(unzipped, plain) && c.path == "/graphql" {
			t.Errorf("%s: the gzipped answer decodes to %d bytes that differ from the plain %d", c.name, len(unzipped), len(plain))
		}
		if len(zipped) >= len(plain) {
			t.Errorf("%s: gzipped %d bytes, plain %d", c.name, len(zipped), len(plain))
		}
	}
	h, _ := get("POST", "/graphql", small, "gzip")
	if enc := h.Get("Content-Encoding"); enc != "" {
		t.Errorf("small answer: Content-Encoding %q; want none below %d bytes", enc, compressMinBytes)
	}
}
