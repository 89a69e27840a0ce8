package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/server"
)

// fakeServer answers the endpoints the client uses the way server/ does, and records
// the Authorization header of the last request.
func fakeServer(t *testing.T, auth *string) *Client {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /graphql", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "bad") {
			io.WriteString(w, `{"data":null,"errors":[{"message":"too deep","extensions":{"code":"LIMIT_EXCEEDED"}}]}`)
			return
		}
		io.WriteString(w, `{"data":{"stats":{"entities":3}}}`)
	})
	mux.HandleFunc("GET /export", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("depth") == "x" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"code":"INVALID_INPUT","field":"depth","message":"\"x\" is not a depth"}}`)
			return
		}
		io.WriteString(w, "format="+r.URL.Query().Get("format")+" seeds="+r.URL.Query().Get("seeds"))
	})
	mux.HandleFunc("GET /admin/backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", server.BackupVersionHeader)
		io.WriteString(w, "backup since "+r.URL.Query().Get("since"))
		w.Header().Set(server.BackupVersionHeader, "42")
	})
	mux.HandleFunc("POST /admin/keys", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"key":{"id":"00000000000000aa","role":"reader","name":"n","createdAt":"2026-01-02T00:00:00Z","revoked":false},"token":"lsk_00000000000000aa_secret"}`)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*auth = r.Header.Get("Authorization")
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL+"/", "k1")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClient(t *testing.T) {
	ctx := context.Background()
	var auth string
	c := fakeServer(t, &auth)

	var out struct{ Stats struct{ Entities int } }
	if err := c.GraphQL(ctx, "{ stats { entities } }", nil, &out); err != nil || out.Stats.Entities != 3 {
		t.Errorf("GraphQL = %+v, %v; want 3 entities", out, err)
	}
	if auth != "Bearer k1" {
		t.Errorf("Authorization = %q, want Bearer k1", auth)
	}
	var gerr *GraphQLError
	if err := c.GraphQL(ctx, "{ bad }", nil, nil); !errors.As(err, &gerr) || gerr.Code() != graph.ELIMIT {
		t.Errorf("GraphQL with an error answer = %v, want a *GraphQLError coded %s", err, graph.ELIMIT)
	}

	var buf bytes.Buffer
	if n, err := c.Export(ctx, &buf, "jsonl", url.Values{"seeds": {"a,b"}}); err != nil || buf.String() != "format=jsonl seeds=a,b" || n != int64(buf.Len()) {
		t.Errorf("Export = %d, %q, %v", n, buf.String(), err)
	}
	_, err := c.Export(ctx, io.Discard, "jsonl", url.Values{"depth": {"x"}})
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.Code != graph.EINVALID || ge.Field != "depth" {
		t.Errorf("Export with a bad depth = %v, want the server's EINVALID on depth", err)
	}

	buf.Reset()
	if next, err := c.Backup(ctx, &buf, 7); err != nil || next != 42 || buf.String() != "backup since 7" {
		t.Errorf("Backup = %d, %q, %v; want 42 and the body", next, buf.String(), err)
	}

	k, token, err := c.CreateAPIKey(ctx, graph.RoleReader, "n")
	if err != nil || k.ID != "00000000000000aa" || k.Role != graph.RoleReader || token != "lsk_00000000000000aa_secret" {
		t.Errorf("CreateAPIKey = %+v, %q, %v", k, token, err)
	}
}

func TestNewRefusesNonHTTP(t *testing.T) {
	for _, base := range []string{"localhost:8080", "ftp://x", "http://", ""} {
		if _, err := New(base, ""); err == nil || !strings.Contains(err.Error(), "is not an http(s) URL") {
			t.Errorf("New(%q) = %v, want an error", base, err)
		}
	}
}
