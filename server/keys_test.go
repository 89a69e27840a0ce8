package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
)

// TestKeyEndpoints: an admin creates a key on the running server and it works at once;
// the list shows it without any secret; revoking it refuses it at once; only admins may
// manage keys; bad requests name the problem.
func TestKeyEndpoints(t *testing.T) {
	ts := newTestServer(t, Config{Auth: AuthRequired})
	admin := "Bearer " + ts.token
	_, writer := mustKey(t, ts.store, graph.RoleWriter)

	status, _, body := ts.request(t, "POST", "/admin/keys", admin, `{"role":"reader","name":"dashboards"}`)
	var created struct {
		Key   KeyInfo `json:"key"`
		Token string  `json:"token"`
	}
	if err := json.Unmarshal([]byte(body), &created); status != 201 || err != nil || created.Key.Role != graph.RoleReader || created.Key.Name != "dashboards" || !strings.HasPrefix(created.Token, "lsk_"+created.Key.ID+"_") {
		t.Fatalf("POST /admin/keys = %d %s", status, body)
	}
	reader := "Bearer " + created.Token
	if status, out := ts.gql(t, reader, `{ stats { entities } }`); status != 200 || len(out.Errors) > 0 {
		t.Fatalf("a read with the new key = %d %+v, want 200", status, out.Errors)
	}
	if status, out := ts.gql(t, reader, upsertProbe); firstCode(out) != graph.EFORBIDDEN {
		t.Errorf("a write with the new reader key = %d %+v, want FORBIDDEN", status, out.Errors)
	}

	status, _, body = ts.request(t, "GET", "/admin/keys", admin, "")
	secret := created.Token[strings.LastIndex(created.Token, "_")+1:]
	if status != 200 || !strings.Contains(body, created.Key.ID) || !strings.Contains(body, `"dashboards"`) || strings.Contains(body, secret) || strings.Contains(body, "sha256") {
		t.Fatalf("GET /admin/keys = %d %s; want the key listed without its secret or hash", status, body)
	}

	status, _, body = ts.request(t, "POST", "/admin/keys/"+created.Key.ID+"/revoke", admin, "")
	if status != 200 || !strings.Contains(body, `"revoked":true`) || !strings.Contains(body, `"revokedAt"`) {
		t.Fatalf("revoke = %d %s", status, body)
	}
	if status, _, body := ts.request(t, "POST", "/graphql", reader, `{"query":"{ stats { entities } }"}`); status != 401 || !strings.Contains(body, "revoked") {
		t.Errorf("a read with the revoked key = %d %s, want 401 naming the revocation", status, body)
	}

	for _, c := range []struct {
		method, path, auth, body string
		status                   int
		want                     string
	}{
		{"GET", "/admin/keys", "", "", 401, graph.EUNAUTHENTICATED},
		{"POST", "/admin/keys", writer, `{"role":"admin"}`, 403, graph.EFORBIDDEN},
		{"POST", "/admin/keys", admin, `{"role":"root"}`, 400, `"field":"role"`},
		{"POST", "/admin/keys", admin, `{"role":"reader","secret":"x"}`, 400, `"field":"body"`},
		{"POST", "/admin/keys", admin, `{"role":"reader","name":"a\u0007b"}`, 400, `"field":"name"`},
		{"POST", "/admin/keys", admin, `not json`, 400, `"field":"body"`},
		{"POST", "/admin/keys/00000000000000ff/revoke", admin, "", 404, graph.ENOTFOUND},
		{"POST", "/admin/keys/zz/revoke", admin, "", 400, `"field":"id"`},
		{"DELETE", "/admin/keys", admin, "", 405, ""},
	} {
		status, _, body := ts.request(t, c.method, c.path, c.auth, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s %s %s = %d %s, want %d and %q", c.method, c.path, c.body, status, body, c.status, c.want)
		}
	}
}
