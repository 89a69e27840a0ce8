package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
	"github.com/lodestone-kg/lodestone/synth"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// exportServer serves a synthetic graph of 3,000 companies with a hub of 3,000
// relationships (synth.HubID; a GraphML export of 12 hops around it is a few MB) from a
// store with limits, through NewServer(cfg). Its connections have small send buffers,
// so that a client that stops reading holds up the server's writes at once.
type exportServer struct {
	url   string
	store *graph.Store
	admin string // "Bearer <admin key>"
	logs  *observer.ObservedLogs
}

func serveExports(tb testing.TB, limits graph.Limits, cfg Config) *exportServer {
	tb.Helper()
	store, err := graph.Open(graph.Options{InMemory: true, Limits: limits})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	if _, err := store.BulkLoad(context.Background(), func(emit func(graph.Record) error) error {
		return synth.Generate(synth.Config{Companies: 3000, Seed: 1, HubDegree: 3000}, emit)
	}, nil); err != nil {
		tb.Fatal(err)
	}
	_, admin := mustKey(tb, store, graph.RoleAdmin)
	core, logs := observer.New(zapcore.InfoLevel)
	h, err := NewServer(zap.New(core), cfg, store, schemaSDL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(h)
	ts.Listener = smallSendBuffers{ts.Listener}
	ts.Start()
	tb.Cleanup(ts.Close)
	return &exportServer{url: ts.URL, store: store, admin: admin, logs: logs}
}

type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

// get sends GET path (with auth as the Authorization header when set) on a connection of
// its own and reads the whole answer.
func (s *exportServer) get(tb testing.TB, path, auth string) (*http.Response, string) {
	tb.Helper()
	req, _ := http.NewRequest("GET", s.url+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("GET %s: reading the body: %v", path, err)
	}
	return resp, string(body)
}

// stall sends GET path on a raw connection with a small receive buffer and reads only the
// answer's header: a client that stops reading. Close the connection to hang up.
func (s *exportServer) stall(tb testing.TB, path, auth string) (net.Conn, *http.Response) {
	tb.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	c.(*net.TCPConn).SetReadBuffer(4 << 10)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: lodestone\r\nAuthorization: %s\r\n\r\n", path, auth)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	return c, resp
}

// waitStopped waits up to limit for the server to log that an export stopped, and
// returns how long that took.
func (s *exportServer) waitStopped(tb testing.TB, start time.Time, limit time.Duration) time.Duration {
	tb.Helper()
	for time.Since(start) < limit {
		if s.logs.FilterMessage("export stopped").Len() > 0 {
			return time.Since(start)
		}
		time.Sleep(2 * time.Millisecond)
	}
	tb.Fatalf("the export did not stop within %s", limit)
	return 0
}

// setExportTimeouts shortens the export deadlines for one test.
func setExportTimeouts(tb testing.TB, idle, total time.Duration) {
	oldIdle, oldTotal := exportIdleTimeout, exportTimeout
	exportIdleTimeout, exportTimeout = idle, total
	tb.Cleanup(func() { exportIdleTimeout, exportTimeout = oldIdle, oldTotal })
}

// TestExportCapsRefuseBeforeTheBody: a reader's subgraph export beyond the caps
// (entities, visits, depth) is refused with 400 LIMIT_EXCEEDED and a JSON error before any
// of the file is sent; an admin's export of the same subgraph is whole; a reader's within
// the caps is served.
func TestExportCapsRefuseBeforeTheBody(t *testing.T) {
	s := serveExports(t, graph.Limits{MaxSubgraph: 1000, MaxDepth: 6}, Config{})
	visits := serveExports(t, graph.Limits{MaxVisits: 2000}, Config{})
	_, reader := mustKey(t, s.store, graph.RoleReader)
	for _, tc := range []struct {
		name, path, auth string
		s                *exportServer
		field, message   string
	}{
		{"entities", "/export?format=graphml&seeds=" + synth.HubID + "&depth=1", "", s, "seeds", "more than 1000 entities"},
		{"entities, reader key", "/export?format=jsonl&seeds=" + synth.HubID + "&depth=1", reader, s, "seeds", "more than 1000 entities"},
		{"depth", "/export?format=jsonl&seeds=" + synth.HubID + "&depth=12", "", s, "depth", "above this server's cap of 6"},
		{"visits", "/export?format=csv&seeds=" + synth.HubID + "&depth=1", "", visits, "seeds", "more than 2000 relationships"},
	} {
		s := tc.s
		resp, body := s.get(t, tc.path, tc.auth)
		var out struct{ Error graph.Error }
		json.Unmarshal([]byte(body), &out)
		if resp.StatusCode != 400 || out.Error.Code != graph.ELIMIT || out.Error.Field != tc.field ||
			!strings.Contains(out.Error.Message, tc.message) || !strings.Contains(out.Error.Message, "admin key") ||
			resp.Header.Get("Content-Disposition") != "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: GET %s = %s %q %.300s; want 400 LIMIT_EXCEEDED on %s saying %q and that an admin key may go further, as JSON",
				tc.name, tc.path, resp.Status, resp.Header.Get("Content-Type"), body, tc.field, tc.message)
		}
		resp, body = s.get(t, tc.path, s.admin)
		if resp.StatusCode != 200 || len(body) < 50_000 || !resp.Close {
			t.Errorf("%s: GET %s as an admin = %s, %d bytes (Connection: close %v); want the whole subgraph, on a connection that ends with it", tc.name, tc.path, resp.Status, len(body), resp.Close)
		}
	}
	path := "/export?format=jsonl&seeds=" + synth.CompanyID(7) + "&depth=2"
	resp, body := s.get(t, path, "")
	if n := strings.Count(body, `{"entity"`); resp.StatusCode != 200 || n < 2 || !strings.Contains(body, `"id":"`+synth.CompanyID(7)+`"`) {
		t.Errorf("GET %s = %s with %d entities, want the subgraph around the company", path, resp.Status, n)
	}
}

// TestExportHoldsASlot: an export holds one of the --max-expensive slots while it runs
// (here while its client reads nothing), so with one slot a second export is refused with
// 503 LIMIT_EXCEEDED and Retry-After; once the first client hangs up, the slot is free.
func TestExportHoldsASlot(t *testing.T) {
	setExportTimeouts(t, 10*time.Second, 10*time.Second)
	s := serveExports(t, graph.Limits{}, Config{Limits: RequestLimits{MaxExpensive: 1, BusyWait: 100 * time.Millisecond}})
	first, resp := s.stall(t, "/export?format=graphml", s.admin)
	if resp.StatusCode != 200 {
		t.Fatalf("first export = %s", resp.Status)
	}
	path := "/export?format=jsonl&seeds=" + synth.CompanyID(7)
	resp2, body := s.get(t, path, "")
	var out struct{ Error graph.Error }
	json.Unmarshal([]byte(body), &out)
	if resp2.StatusCode != 503 || out.Error.Code != graph.ELIMIT || resp2.Header.Get("Retry-After") == "" {
		t.Errorf("second export while the first is read slowly = %s (Retry-After %q) %.300s; want 503 LIMIT_EXCEEDED with Retry-After",
			resp2.Status, resp2.Header.Get("Retry-After"), body)
	}
	first.Close()
	s.waitStopped(t, time.Now(), 5*time.Second)
	if resp, body := s.get(t, path, ""); resp.StatusCode != 200 {
		t.Errorf("an export after the first client hung up = %s %.300s, want 200", resp.Status, body)
	}
}

// TestExportEndsWhenTheClientStopsReading: an export whose client stops reading ends (the
// handler returns, giving back its slot and its read transaction) once a chunk has waited
// for the idle timeout, an admin's included; a reader's export ends at its overall
// deadline however long the idle timeout.
func TestExportEndsWhenTheClientStopsReading(t *testing.T) {
	for _, tc := range []struct {
		name        string
		idle, total time.Duration
		path        string
		admin       bool
	}{
		{"admin, whole graph: idle timeout", 300 * time.Millisecond, time.Minute, "/export?format=gexf", true},
		{"reader, subgraph: idle timeout", 300 * time.Millisecond, time.Minute, "/export?format=cytoscape&seeds=" + synth.HubID + "&depth=12", false},
		// depth 1 (3,000 entities, 1 MB): the file starts well within the deadline, even
		// under the race detector.
		{"reader, subgraph: overall deadline", time.Minute, 3 * time.Second, "/export?format=jsonl&seeds=" + synth.HubID + "&depth=1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setExportTimeouts(t, tc.idle, tc.total)
			s := serveExports(t, graph.Limits{Timeout: time.Minute}, Config{}) // the search is not what is tested
			auth := ""
			if tc.admin {
				auth = s.admin
			}
			start := time.Now()
			_, resp := s.stall(t, tc.path, auth)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s = %s", tc.path, resp.Status)
			}
			// The first chunk of a GraphML or GEXF file comes after a whole first pass,
			// which can take seconds under the race detector: the wait counts from it.
			headers := time.Now()
			s.waitStopped(t, headers, min(tc.idle, tc.total)+10*time.Second)
			took := time.Since(start)
			t.Logf("stopped %s after the request, %s after the answer began (idle timeout %s, deadline %s)",
				took.Round(time.Millisecond), time.Since(headers).Round(time.Millisecond), tc.idle, tc.total)
			if took < min(tc.idle, tc.total) {
				t.Errorf("the export stopped after %s, before its timeout of %s", took, min(tc.idle, tc.total))
			}
		})
	}
}

// TestExportStopsWhenTheClientHangsUp: a client that hangs up in the middle of an export
// stops it within milliseconds, long before the idle timeout.
func TestExportStopsWhenTheClientHangsUp(t *testing.T) {
	setExportTimeouts(t, time.Minute, time.Minute)
	s := serveExports(t, graph.Limits{Timeout: time.Minute}, Config{})
	for _, auth := range []string{s.admin, ""} {
		path := "/export?format=graphml&seeds=" + synth.HubID + "&depth=12"
		if auth != "" {
			path = "/export?format=jsonl"
		}
		c, resp := s.stall(t, path, auth)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %s", path, resp.Status)
		}
		before := s.logs.FilterMessage("export stopped").Len()
		start := time.Now()
		c.Close()
		for s.logs.FilterMessage("export stopped").Len() == before {
			if time.Since(start) > 2*time.Second {
				t.Fatalf("GET %s: the export did not stop within 2 s of the hang-up", path)
			}
			time.Sleep(time.Millisecond)
		}
		t.Logf("GET %s stopped %s after the hang-up", path, time.Since(start).Round(time.Millisecond))
	}
}
