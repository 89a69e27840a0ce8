package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// sseEvents opens a GraphQL-over-SSE stream of query and returns its events ("next"
// payloads as JSON, then "complete"), read on a goroutine.
func sseEvents(t *testing.T, ts *testServer, ctx context.Context, query string, vars map[string]any) <-chan string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/graphql", strings.NewReader(gqlBody(query, vars)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("SSE: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan string, 16)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "next":
				out <- strings.TrimPrefix(line, "data: ")
			case line == "" && event == "complete":
				out <- "complete"
				return
			}
		}
	}()
	return out
}

func waitEvent(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("the stream ended")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return ""
}

// seqOf returns data.changes.seq of a next payload.
func seqOf(t *testing.T, payload string) (uint64, string) {
	t.Helper()
	var r struct {
		Data struct {
			Changes struct {
				Seq     string
				Changes []struct{ Op, ID string }
			}
		}
		Errors []any
	}
	if err := json.Unmarshal([]byte(payload), &r); err != nil || len(r.Errors) > 0 {
		t.Fatalf("event %s: %v", payload, err)
	}
	n, _ := strconv.ParseUint(r.Data.Changes.Seq, 10, 64)
	var ids []string
	for _, c := range r.Data.Changes.Changes {
		ids = append(ids, c.Op+" "+c.ID)
	}
	return n, strings.Join(ids, ",")
}

func (ts *testServer) upsert(t *testing.T, id string) {
	t.Helper()
	ts.mustQuery(t, `mutation($id: ID!) { upsertEntity(input: {id: $id, kind: "Company", name: "Live"}) { id } }`, map[string]any{"id": id}, nil)
}

// TestSubscriptionOverSSE: a changes subscription replays from after, then follows live,
// filtered; a reconnect with the last seq seen misses nothing and repeats nothing; a query
// over SSE is one next then complete; a pruned sequence is an INVALID_INPUT event.
func TestSubscriptionOverSSE(t *testing.T) {
	ts := newTestServer(t, Config{})
	start := ts.store.Seq()
	ts.upsert(t, "live-1") // start+1, before the subscription: replayed
	ctx, cancel := context.WithCancel(context.Background())
	events := sseEvents(t, ts, ctx, `subscription($a: String) { changes(after: $a, ids: ["live-1", "live-2", "live-3"]) { seq changes { op id } } }`,
		map[string]any{"a": strconv.FormatUint(start, 10)})
	if seq, ids := seqOf(t, waitEvent(t, events)); seq != start+1 || ids != "UPSERT live-1" {
		t.Fatalf("replayed %d %s, want %d UPSERT live-1", seq, ids, start+1)
	}
	ts.upsert(t, "other") // filtered out
	ts.upsert(t, "live-2")
	seq2, ids := seqOf(t, waitEvent(t, events))
	if seq2 != start+3 || ids != "UPSERT live-2" {
		t.Fatalf("live %d %s, want %d UPSERT live-2", seq2, ids, start+3)
	}
	cancel()
	// While disconnected, one more; reconnecting from the last seq seen gets exactly it.
	ts.upsert(t, "live-3")
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	events = sseEvents(t, ts, ctx2, `subscription($a: String) { changes(after: $a, ids: ["live-1", "live-2", "live-3"]) { seq changes { op id } } }`,
		map[string]any{"a": strconv.FormatUint(seq2, 10)})
	if seq, ids := seqOf(t, waitEvent(t, events)); seq != start+4 || ids != "UPSERT live-3" {
		t.Fatalf("after reconnecting %d %s, want %d UPSERT live-3", seq, ids, start+4)
	}
	select {
	case e := <-events:
		t.Fatalf("an event more than the log holds: %s", e)
	case <-time.After(100 * time.Millisecond):
	}

	// A query over SSE: one result, then complete.
	q := sseEvents(t, ts, context.Background(), `{ entity(id: "live-1") { name } }`, nil)
	if e := waitEvent(t, q); !strings.Contains(e, `"name":"Live"`) {
		t.Errorf("query over SSE: %s", e)
	}
	if e := waitEvent(t, q); e != "complete" {
		t.Errorf("after the query's result: %s, want complete", e)
	}

	// A subscription sent as a plain request is told how to ask for a stream.
	_, resp := ts.post(t, `subscription { changes { seq } }`, nil, nil)
	if firstCode(resp) != "INVALID_INPUT" || !strings.Contains(resp.Errors[0].Message, "text/event-stream") {
		t.Errorf("a subscription without a stream: %+v", resp.Errors)
	}

	// A pruned sequence.
	if _, err := ts.store.PruneChanges(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	bad := sseEvents(t, ts, context.Background(), `subscription { changes(after: "0") { seq } }`, nil)
	if e := waitEvent(t, bad); !strings.Contains(e, "INVALID_INPUT") || !strings.Contains(e, fmt.Sprintf("oldest sequence still kept is %d", start+4)) {
		t.Errorf("pruned after: %s", e)
	}
}

// TestSubscriptionOverWebSocket: the graphql-ws protocol — ack, subscribe, live next
// messages, complete from the client, ping/pong, and the protocol's close codes.
func TestSubscriptionOverWebSocket(t *testing.T) {
	ts := newTestServer(t, Config{Auth: AuthRequired})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/graphql"
	dial := func() *websocket.Conn {
		c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{wsSubprotocol}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	send := func(c *websocket.Conn, m map[string]any) {
		raw, _ := json.Marshal(m)
		if err := c.Write(ctx, websocket.MessageText, raw); err != nil {
			t.Fatal(err)
		}
	}
	recv := func(c *websocket.Conn) wsMessage {
		_, raw, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var m wsMessage
		json.Unmarshal(raw, &m)
		return m
	}

	// Without a key on a server that requires one: 4403 at connection_init.
	c := dial()
	send(c, map[string]any{"type": "connection_init"})
	if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != 4403 {
		t.Errorf("connection_init without a key: %v, want close 4403", err)
	}
	// Subscribe before the ack: 4401.
	c = dial()
	send(c, map[string]any{"type": "subscribe", "id": "1", "payload": map[string]any{"query": "{ stats { entities } }"}})
	if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != 4401 {
		t.Errorf("subscribe before connection_init: %v, want close 4401", err)
	}

	c = dial()
	defer c.CloseNow()
	send(c, map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + ts.token}})
	if m := recv(c); m.Type != "connection_ack" {
		t.Fatalf("after connection_init: %+v", m)
	}
	send(c, map[string]any{"type": "ping"})
	if m := recv(c); m.Type != "pong" {
		t.Fatalf("after ping: %+v", m)
	}
	send(c, map[string]any{"type": "subscribe", "id": "s1", "payload": map[string]any{"query": `subscription { changes(kinds: [ENTITY]) { seq actor changes { op id } } }`}})
	time.Sleep(100 * time.Millisecond) // the subscription is running
	ts.upsert(t, "ws-1")
	m := recv(c)
	if m.ID != "s1" || m.Type != "next" {
		t.Fatalf("after a write: %+v", m)
	}
	if seq, ids := seqOf(t, string(m.Payload)); seq != ts.store.Seq() || ids != "UPSERT ws-1" {
		t.Errorf("next %d %s", seq, ids)
	}
	// A query on the same connection: next, complete.
	send(c, map[string]any{"type": "subscribe", "id": "q1", "payload": map[string]any{"query": `{ entity(id: "ws-1") { name } }`}})
	if m := recv(c); m.ID != "q1" || m.Type != "next" || !strings.Contains(string(m.Payload), "Live") {
		t.Errorf("query: %+v", m)
	}
	if m := recv(c); m.ID != "q1" || m.Type != "complete" {
		t.Errorf("after the query: %+v", m)
	}
	// A document that does not validate: error, no complete.
	send(c, map[string]any{"type": "subscribe", "id": "bad", "payload": map[string]any{"query": `subscription { nothing }`}})
	if m := recv(c); m.ID != "bad" || m.Type != "error" || !strings.Contains(string(m.Payload), "INVALID_INPUT") {
		t.Errorf("invalid document: %+v", m)
	}
	// The client completes s1: no more nexts for it.
	send(c, map[string]any{"type": "complete", "id": "s1"})
	time.Sleep(100 * time.Millisecond)
	ts.upsert(t, "ws-2")
	send(c, map[string]any{"type": "ping"})
	if m := recv(c); m.Type != "pong" {
		t.Errorf("after completing s1 and a write, the next message is %+v; want only the pong", m)
	}
	// The same id twice: 4409.
	send(c, map[string]any{"type": "subscribe", "id": "dup", "payload": map[string]any{"query": `subscription { changes { seq } }`}})
	send(c, map[string]any{"type": "subscribe", "id": "dup", "payload": map[string]any{"query": `subscription { changes { seq } }`}})
	if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != 4409 {
		t.Errorf("a second subscribe with a running id: %v, want close 4409", err)
	}
}

// TestWatchedSavedQuery: savedQueryResult sends the result at once, then a new one only
// when a commit changes it.
func TestWatchedSavedQuery(t *testing.T) {
	ts := newTestServer(t, Config{WatchInterval: 50 * time.Millisecond})
	ts.mustQuery(t, `mutation($in: SavedQueryInput!) { saveQuery(input: $in) { name } }`, map[string]any{"in": map[string]any{
		"name": "owners-of", "query": `query($id: ID!) { entity(id: $id) { relationships(direction: IN, types: ["OWNS"]) { edges { node { from { id } share } } } } }`}}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := sseEvents(t, ts, ctx, `subscription { savedQueryResult(name: "owners-of", variables: {id: "nzb"}) { seq data errors changed } }`, nil)
	type result struct {
		Data struct {
			SavedQueryResult struct {
				Seq     string
				Data    json.RawMessage
				Errors  json.RawMessage
				Changed bool
			}
		}
	}
	read := func() (r result) {
		e := waitEvent(t, events)
		if err := json.Unmarshal([]byte(e), &r); err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		return r
	}
	first := read().Data.SavedQueryResult
	if first.Changed || !strings.Contains(string(first.Data), `"nre"`) || first.Seq != strconv.FormatUint(ts.store.Seq(), 10) {
		t.Fatalf("first result: %+v", first)
	}
	ts.upsert(t, "unrelated") // leaves the result as it was: nothing sent
	ts.mustQuery(t, `mutation { upsertRelationship(input: {type: "OWNS", from: "hub", to: "nzb", share: 0.01}) { id } }`, nil, nil)
	second := read().Data.SavedQueryResult
	if !second.Changed || !strings.Contains(string(second.Data), `"hub"`) || second.Seq != strconv.FormatUint(ts.store.Seq(), 10) {
		t.Fatalf("after an owner was added: %+v (store at %d)", second, ts.store.Seq())
	}
	select {
	case e := <-events:
		t.Fatalf("a result more than the changes: %s", e)
	case <-time.After(200 * time.Millisecond):
	}
}
