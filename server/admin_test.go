package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
)

func get(t *testing.T, url, token string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestExportEndpoint(t *testing.T) {
	ts := newTestServer(t, Config{})
	for _, tc := range []struct {
		query, status, contentType, contains string
	}{
		{"format=jsonl", "200 OK", "application/x-ndjson", `{"entity":{"id":"nzb"`},
		{"format=graphml&seeds=nzb&depth=1&types=OWNS", "200 OK", "application/graphml+xml", `<edge id="own-nre" source="nre" target="nzb">`},
		{"format=gexf&seeds=nzb&depth=1", "200 OK", "application/gexf+xml", `<node id="weld" label="Mount Weld">`},
		{"format=cytoscape&seeds=weld&depth=0", "200 OK", "application/json", "[\n" + `{"data":{"country":"AU","id":"weld","kind":"Facility","label":"Mount Weld","name":"Mount Weld","sources":["src-a"]},"group":"nodes"}` + "\n]\n"},
		{"format=csv", "200 OK", "application/zip", "entities.csv"},
		{"format=pdf", "400 Bad Request", "application/json; charset=utf-8", `"field":"format"`},
		{"format=jsonl&seeds=ghost", "404 Not Found", "application/json; charset=utf-8", `no entity with id \"ghost\"`},
		{"format=jsonl&seeds=nzb&direction=UP", "400 Bad Request", "application/json; charset=utf-8", `"field":"direction"`},
	} {
		resp, body := get(t, ts.URL+"/export?"+tc.query, ts.token)
		if resp.Status != tc.status || resp.Header.Get("Content-Type") != tc.contentType || !strings.Contains(body, tc.contains) {
			t.Errorf("GET /export?%s = %s %s %.300q; want %s %s containing %q", tc.query, resp.Status, resp.Header.Get("Content-Type"), body, tc.status, tc.contentType, tc.contains)
		}
	}
	// A subgraph export holds exactly the reached entities.
	_, body := get(t, ts.URL+"/export?format=jsonl&seeds=weld&depth=1&types=SUPPLIES", "")
	if n := strings.Count(body, `{"entity"`); n != 2 {
		t.Errorf("subgraph of weld over SUPPLIES has %d entities, want 2 (weld, nzb):\n%s", n, body)
	}
}

func TestAdminImportEndpoint(t *testing.T) {
	ts := newTestServer(t, Config{})
	post := func(query string, files map[string]string) (int, string) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for name, content := range files {
			w, _ := mw.CreateFormFile("file", name)
			w.Write([]byte(content))
		}
		mw.Close()
		req, _ := http.NewRequest("POST", ts.URL+"/admin/import?"+query, &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+ts.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := post("format=csv", map[string]string{"rels.csv": ":START_ID,:END_ID,:TYPE,share:float\nnre,zb,OWNS,1.4\n"})
	if want := `{"error":{"code":"INVALID_INPUT","field":"rels.csv line 2: share","message":"1.4 is outside 0..1 (shares and confidence are fractions: 40 % is 0.4)"}}`; status != 400 || body != want {
		t.Errorf("bad import = %d %s, want 400 %s", status, body, want)
	}
	status, body = post("format=csv&skipInvalid=true", map[string]string{"rels.csv": ":START_ID,:END_ID,:TYPE,share:float\nnre,zb,OWNS,0.2\nnre,zb,OWNS,1.4\n"})
	var out struct {
		Summary struct {
			Relationships, Rejected int
			Mode                    string
		}
		Rejects []map[string]any
	}
	json.Unmarshal([]byte(body), &out)
	if status != 200 || out.Summary.Relationships != 1 || out.Summary.Rejected != 0 && len(out.Rejects) != out.Summary.Rejected || out.Summary.Mode != "atomic" {
		t.Errorf("skip-invalid import = %d %s", status, body)
	}
	r, err := ts.store.Relationship(t.Context(), "OWNS:nre->zb")
	if err != nil || r.Share == nil || *r.Share != 0.2 {
		t.Errorf("imported relationship = %+v, %v", r, err)
	}
}

// TestBackupEndpointRefusesAPrunedSince: an incremental backup over HTTP gives its next
// version in the trailer; once the deletion journal has been pruned past that version, a
// backup since it is refused with 400 INVALID_INPUT before any byte of backup is sent.
func TestBackupEndpointRefusesAPrunedSince(t *testing.T) {
	ts := newTestServer(t, Config{})
	resp, body := get(t, ts.URL+"/admin/backup", ts.token)
	since := resp.Trailer.Get(BackupVersionHeader)
	if resp.StatusCode != 200 || since == "" || !strings.HasPrefix(body, "LODESTONE-BACKUP") {
		t.Fatalf("full backup = %s, trailer %q, %.40q", resp.Status, since, body)
	}
	if _, err := ts.store.Apply(context.Background(), &graph.Batch{DeleteRelationships: []string{"own-nre"}}); err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, ts.URL+"/admin/backup?since="+since, ts.token); resp.StatusCode != 200 || resp.Trailer.Get(BackupVersionHeader) == "" {
		t.Fatalf("incremental backup = %s, %.80q", resp.Status, body)
	}
	if n, err := ts.store.PruneJournal(time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("PruneJournal = %d, %v; want 1", n, err)
	}
	resp, body = get(t, ts.URL+"/admin/backup?since="+since, ts.token)
	if resp.StatusCode != 400 || !strings.Contains(body, graph.EINVALID) || !strings.Contains(body, "take a full backup") {
		t.Fatalf("incremental backup after pruning = %s %s, want 400 INVALID_INPUT", resp.Status, body)
	}
}
