package server

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

// devRequest is one request of the local-development tests: Host (the request's own when
// ""), headers and body as a browser or an attacker would send them.
type devRequest struct {
	method, path, host string
	header             map[string]string
	body               string
}

// sendRaw sends req to ts with exactly its Host and headers, and returns the status and
// body of the answer.
func (ts *testServer) sendRaw(tb testing.TB, req devRequest) (int, string) {
	tb.Helper()
	r, err := http.NewRequest(req.method, ts.URL+req.path, strings.NewReader(req.body))
	if err != nil {
		tb.Fatal(err)
	}
	if req.host != "" {
		r.Host = req.host
	}
	for k, v := range req.header {
		r.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// multipartUpload is a multipart/form-data body holding one file, and its content type.
func multipartUpload(name, content string) (string, string) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write([]byte(content))
	mw.Close()
	return body.String(), mw.FormDataContentType()
}

func keyCount(tb testing.TB, store *graph.Store) int {
	tb.Helper()
	keys, err := store.APIKeys(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return len(keys)
}

const plantedRecord = `{"entity":{"id":"planted","kind":"Company","name":"Planted"}}` + "\n"

func planted(tb testing.TB, store *graph.Store) bool {
	tb.Helper()
	_, err := store.Entity(context.Background(), "planted")
	if code := graph.ErrorCode(err); code != "" && code != graph.ENOTFOUND {
		tb.Fatal(err)
	}
	return err == nil
}

// TestLocalOnlyRefusesOtherSites replays the attacks on a server in local-development
// mode (anonymous requests are admins): cross-site key creation with a text/plain body,
// a cross-site multipart import, a DNS-rebound Host listing the keys. Each is refused
// with its code and changes nothing.
func TestLocalOnlyRefusesOtherSites(t *testing.T) {
	ts := newTestServer(t, Config{AnonymousWrites: true, CORSOrigins: []string{"http://localhost:3000", "*"}})
	host := strings.TrimPrefix(ts.URL, "http://")
	port := host[strings.LastIndex(host, ":")+1:]
	upload, uploadType := multipartUpload("planted.jsonl", plantedRecord)
	createKey := `{"role":"admin","name":"pwned"}`
	keysBefore := keyCount(t, ts.store)

	tests := []struct {
		name   string
		req    devRequest
		status int
		code   string
		says   string // a part of the message
	}{
		{"cross-site text/plain POST /admin/keys", devRequest{"POST", "/admin/keys", "",
			map[string]string{"Content-Type": "text/plain", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, createKey},
			403, graph.EFORBIDDEN, `cross-origin request from \"https://evil.example\" refused`},
		{"cross-site JSON POST /admin/keys (Origin only)", devRequest{"POST", "/admin/keys", "",
			map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}, createKey},
			403, graph.EFORBIDDEN, "cross-origin"},
		{"cross-site without Origin (Sec-Fetch-Site only)", devRequest{"POST", "/admin/keys", "",
			map[string]string{"Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site"}, createKey},
			403, graph.EFORBIDDEN, "cross-site request (Sec-Fetch-Site) refused"},
		{"another localhost port (same-site) not listed", devRequest{"POST", "/admin/keys", "",
			map[string]string{"Content-Type": "application/json", "Origin": "http://localhost:9999", "Sec-Fetch-Site": "same-site"}, createKey},
			403, graph.EFORBIDDEN, "cross-origin"},
		{"Origin null (sandboxed frame)", devRequest{"POST", "/admin/keys", "",
			map[string]string{"Content-Type": "application/json", "Origin": "null"}, createKey},
			403, graph.EFORBIDDEN, "cross-origin"},
		{"same-origin text/plain POST /admin/keys", devRequest{"POST", "/admin/keys", "",
			map[string]string{"Content-Type": "text/plain", "Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"}, createKey},
			415, graph.EINVALID, "must be JSON"},
		{"no browser, form-encoded POST /admin/keys", devRequest{"POST", "/admin/keys", "",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "role=admin"},
			415, graph.EINVALID, "must be JSON"},
		{"cross-site text/plain revoke", devRequest{"POST", "/admin/keys/00000000000000ff/revoke", "",
			map[string]string{"Content-Type": "text/plain", "Origin": "https://evil.example"}, "x"},
			403, graph.EFORBIDDEN, "cross-origin"},
		{"cross-site multipart import", devRequest{"POST", "/admin/import?format=jsonl", "",
			map[string]string{"Content-Type": uploadType, "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, upload},
			403, graph.EFORBIDDEN, "from this server's own origin only"},
		{"multipart import from a listed CORS origin", devRequest{"POST", "/admin/import?format=jsonl", "",
			map[string]string{"Content-Type": uploadType, "Origin": "http://localhost:3000", "Sec-Fetch-Site": "same-site"}, upload},
			403, graph.EFORBIDDEN, "own origin only"},
		{"cross-site raw import, no Origin", devRequest{"POST", "/admin/import?format=jsonl", "",
			map[string]string{"Content-Type": "text/plain", "Sec-Fetch-Site": "cross-site"}, plantedRecord},
			403, graph.EFORBIDDEN, "Sec-Fetch-Site"},
		{"cross-site GraphQL mutation", devRequest{"POST", "/graphql", "",
			map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}, `{"query":"mutation { upsertEntity(input: {id: \"planted\", kind: \"Company\", name: \"P\"}) { id } }"}`},
			403, graph.EFORBIDDEN, "cross-origin"},
		{"cross-site GET /admin/keys", devRequest{"GET", "/admin/keys", "",
			map[string]string{"Sec-Fetch-Site": "cross-site"}, ""},
			403, graph.EFORBIDDEN, "Sec-Fetch-Site"},
		{"rebound Host lists keys", devRequest{"GET", "/admin/keys", "attacker.example:" + port, nil, ""},
			403, graph.EFORBIDDEN, `the Host \"attacker.example:`},
		{"rebound Host, same-origin to itself, creates a key", devRequest{"POST", "/admin/keys", "attacker.example",
			map[string]string{"Content-Type": "application/json", "Origin": "http://attacker.example", "Sec-Fetch-Site": "same-origin"}, createKey},
			403, graph.EFORBIDDEN, "local-development mode"},
		{"rebound Host reads the graph", devRequest{"GET", "/graphql?query=%7Bstats%7Bentities%7D%7D", "attacker.example", nil, ""},
			403, graph.EFORBIDDEN, "localhost, 127.0.0.1 or [::1]"},
		{"Host 127.0.0.1.attacker.example", devRequest{"GET", "/admin/keys", "127.0.0.1.attacker.example", nil, ""},
			403, graph.EFORBIDDEN, "Host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := ts.sendRaw(t, tt.req)
			if status != tt.status || !strings.Contains(body, `"code":"`+tt.code+`"`) || !strings.Contains(body, tt.says) {
				t.Fatalf("%s %s (Host %q, headers %v) = %d %s; want %d %s saying %q",
					tt.req.method, tt.req.path, tt.req.host, tt.req.header, status, body, tt.status, tt.code, tt.says)
			}
			if strings.Contains(body, `"keys"`) || strings.Contains(body, "lsk_") {
				t.Fatalf("%s %s: the refusal shows keys: %s", tt.req.method, tt.req.path, body)
			}
		})
	}
	if got := keyCount(t, ts.store); got != keysBefore {
		t.Errorf("%d API keys after the refused requests, want %d: one was created", got, keysBefore)
	}
	if planted(t, ts.store) {
		t.Error("entity \"planted\" exists after the refused imports and mutation")
	}
}

// TestLocalOnlyServesItsOwnPages: in local-development mode, requests from the server's
// own origin, from clients that are not browsers, to any loopback Host, and from a listed
// CORS origin still work.
func TestLocalOnlyServesItsOwnPages(t *testing.T) {
	ts := newTestServer(t, Config{AnonymousWrites: true, CORSOrigins: []string{"http://localhost:3000"}})
	host := strings.TrimPrefix(ts.URL, "http://")
	port := host[strings.LastIndex(host, ":")+1:]
	self := map[string]string{"Content-Type": "application/json", "Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"}
	upload, uploadType := multipartUpload("planted.jsonl", plantedRecord)

	tests := []struct {
		name   string
		req    devRequest
		status int
	}{
		{"same-origin key creation", devRequest{"POST", "/admin/keys", "", self, `{"role":"reader","name":"page"}`}, 201},
		{"key creation without a browser (curl, lodestone keys)", devRequest{"POST", "/admin/keys", "",
			map[string]string{"Content-Type": "application/json; charset=utf-8"}, `{"role":"reader"}`}, 201},
		{"key creation from a listed front-end", devRequest{"POST", "/admin/keys", "",
			map[string]string{"Content-Type": "application/json", "Origin": "http://localhost:3000", "Sec-Fetch-Site": "same-site"}, `{"role":"reader"}`}, 201},
		{"revoke without a body", devRequest{"POST", "/admin/keys/00000000000000ff/revoke", "", nil, ""}, 404},
		{"keys listed on Host localhost", devRequest{"GET", "/admin/keys", "localhost:" + port, nil, ""}, 200},
		{"keys listed on Host [::1]", devRequest{"GET", "/admin/keys", "[::1]:" + port, nil, ""}, 200},
		{"keys listed on Host 127.0.0.2", devRequest{"GET", "/admin/keys", "127.0.0.2:" + port, nil, ""}, 200},
		{"keys listed on Host app.localhost", devRequest{"GET", "/admin/keys", "App.Localhost.:" + port, nil, ""}, 200},
		{"bookmark (Sec-Fetch-Site none)", devRequest{"GET", "/admin/keys", "", map[string]string{"Sec-Fetch-Site": "none"}, ""}, 200},
		{"cross-site read of /graphql (CORS decides what the page sees)", devRequest{"GET", "/graphql?query=%7Bstats%7Bentities%7D%7D", "",
			map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, ""}, 200},
		{"same-origin GraphQL mutation", devRequest{"POST", "/graphql", "", self,
			`{"query":"mutation { upsertEntity(input: {id: \"mutated\", kind: \"Company\", name: \"M\"}) { id } }"}`}, 200},
		{"same-origin multipart import", devRequest{"POST", "/admin/import?format=jsonl", "",
			map[string]string{"Content-Type": uploadType, "Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"}, upload}, 200},
		{"raw import without a browser", devRequest{"POST", "/admin/import?format=jsonl", "",
			map[string]string{"Content-Type": "application/x-ndjson"}, `{"entity":{"id":"raw","kind":"Company","name":"Raw"}}` + "\n"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, body := ts.sendRaw(t, tt.req); status != tt.status {
				t.Fatalf("%s %s (Host %q, headers %v) = %d %s, want %d", tt.req.method, tt.req.path, tt.req.host, tt.req.header, status, body, tt.status)
			}
		})
	}
	if !planted(t, ts.store) {
		t.Error("the same-origin import did not write entity \"planted\"")
	}
}

// TestLocalOnlyInProcess: a request built in the process (lodestone query --data calls
// the handler through its transport, with the made-up host lodestone.local) is not a
// browser's and is served.
func TestLocalOnlyInProcess(t *testing.T) {
	ts := newTestServer(t, Config{AnonymousWrites: true})
	h, err := NewServer(nil, Config{AnonymousWrites: true}, ts.store, schemaSDL(t))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://lodestone.local/graphql?query=%7Bstats%7Bentities%7D%7D", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("in-process GET http://lodestone.local/graphql = %d %s, want 200", rec.Code, rec.Body)
	}
	// The same Host read from a connection (RequestURI set) is refused.
	req = httptest.NewRequest("GET", "http://lodestone.local/graphql?query=%7Bstats%7Bentities%7D%7D", nil)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 403 {
		t.Fatalf("GET http://lodestone.local/graphql from a connection = %d %s, want 403", rec.Code, rec.Body)
	}
}

// TestNormalModeIgnoresOrigins: without AnonymousWrites every write and admin request
// needs a key, which a page cannot add by itself; Host and Origin are not looked at.
func TestNormalModeIgnoresOrigins(t *testing.T) {
	ts := newTestServer(t, Config{})
	auth := "Bearer " + ts.token
	upload, uploadType := multipartUpload("planted.jsonl", plantedRecord)
	tests := []struct {
		name   string
		req    devRequest
		status int
	}{
		{"foreign Host reads", devRequest{"GET", "/graphql?query=%7Bstats%7Bentities%7D%7D", "lodestone.example.com", nil, ""}, 200},
		{"cross-site anonymous read", devRequest{"POST", "/graphql", "",
			map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, `{"query":"{ stats { entities } }"}`}, 200},
		{"foreign Host, admin key lists keys", devRequest{"GET", "/admin/keys", "lodestone.example.com",
			map[string]string{"Authorization": auth, "Origin": "https://other.example"}, ""}, 200},
		{"multipart import with an admin key from another origin", devRequest{"POST", "/admin/import?format=jsonl", "lodestone.example.com",
			map[string]string{"Authorization": auth, "Content-Type": uploadType, "Origin": "https://other.example"}, upload}, 200},
		{"anonymous cross-site key creation still needs a key", devRequest{"POST", "/admin/keys", "",
			map[string]string{"Content-Type": "text/plain", "Origin": "https://evil.example"}, `{"role":"admin"}`}, 401},
		// The key endpoints take JSON in every mode (keys.go).
		{"text/plain key creation with an admin key", devRequest{"POST", "/admin/keys", "",
			map[string]string{"Authorization": auth, "Content-Type": "text/plain"}, `{"role":"admin"}`}, 415},
		{"text/plain revoke with an admin key", devRequest{"POST", "/admin/keys/00000000000000ff/revoke", "",
			map[string]string{"Authorization": auth, "Content-Type": "text/plain"}, "x"}, 415},
		{"JSON key creation with an admin key", devRequest{"POST", "/admin/keys", "",
			map[string]string{"Authorization": auth, "Content-Type": "application/json"}, `{"role":"reader"}`}, 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, body := ts.sendRaw(t, tt.req); status != tt.status {
				t.Fatalf("%s %s (Host %q, headers %v) = %d %s, want %d", tt.req.method, tt.req.path, tt.req.host, tt.req.header, status, body, tt.status)
			}
		})
	}
	if !planted(t, ts.store) {
		t.Error("the admin import did not write entity \"planted\"")
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "localhost:8080": true, "LOCALHOST.:8080": true, "app.localhost": true, "a.b.localhost:1": true,
		"127.0.0.1": true, "127.0.0.1:8080": true, "127.255.0.9:80": true, "[::1]": true, "[::1]:8080": true, "[::ffff:127.0.0.1]:8080": true,
		"": false, "localhost.example.com": false, "notlocalhost": false, "127.0.0.1.nip.io": false, "example.com:8080": false,
		"10.0.0.1:8080": false, "0.0.0.0:8080": false, "[::]:8080": false, "[fe80::1]:8080": false, "[::1%lo]:8080": false, "2130706433": false,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	for _, tt := range []struct {
		origin, host string
		want         bool
	}{
		{"http://127.0.0.1:8080", "127.0.0.1:8080", true},
		{"http://localhost:8080", "LocalHost:8080", true},
		{"http://localhost", "localhost:80", true},
		{"https://localhost", "localhost:443", true},
		{"http://[::1]:8080", "[::1]:8080", true},
		{"http://localhost:3000", "localhost:8080", false},
		{"http://127.0.0.1:8080", "localhost:8080", false},
		{"http://evil.example:8080", "evil.example:8080", false}, // not loopback: a rebound name
		{"null", "localhost:8080", false},
		{"file://", "localhost:8080", false},
		{"http://localhost:8080/path", "localhost:8080", false},
		{"http://user@localhost:8080", "localhost:8080", false},
		{"", "localhost:8080", false},
	} {
		if got := sameOrigin(tt.origin, tt.host); got != tt.want {
			t.Errorf("sameOrigin(%q, %q) = %v, want %v", tt.origin, tt.host, got, tt.want)
		}
	}
}
