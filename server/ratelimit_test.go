package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
)

// TestClientLimiter: each client has its own bucket of Burst requests refilled at
// PerSecond; an empty bucket says how long to wait; clients whose buckets have filled up
// again are forgotten.
func TestClientLimiter(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	c := newClientLimiter(RateLimit{PerSecond: 2, Burst: 3}, func() time.Time { return now })
	for i := range 3 {
		if ok, _ := c.allow("a"); !ok {
			t.Fatalf("request %d of a burst of 3 refused", i+1)
		}
	}
	ok, wait := c.allow("a")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("4th request at once = %v, wait %v; want refused, wait 500ms", ok, wait)
	}
	if ok, _ := c.allow("b"); !ok {
		t.Fatal("another client was refused for a's requests")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := c.allow("a"); !ok {
		t.Fatal("a was refused after waiting what it was told")
	}
	if ok, _ := c.allow("a"); ok {
		t.Fatal("a got a second request after waiting for one")
	}
	// Both buckets are full again after Burst/PerSecond = 1.5 s; the sweep, at most once a
	// minute, forgets them.
	now = now.Add(time.Minute)
	c.allow("c")
	if n := len(c.clients); n != 1 {
		t.Errorf("after a minute idle the limiter remembers %d clients, want 1 (c)", n)
	}
	// A rate too low to express in nanoseconds waits a day at most, never a negative time.
	slow := newClientLimiter(RateLimit{PerSecond: 1e-12, Burst: 1}, func() time.Time { return now })
	slow.allow("a")
	if ok, wait := slow.allow("a"); ok || wait != maxWait {
		t.Errorf("at 1e-12 a second, the 2nd request = %v, wait %v; want refused, wait %v", ok, wait, maxWait)
	}
	if d := (RateLimit{PerSecond: 0.2}).withDefaults().Burst; d != 1 {
		t.Errorf("default burst for 0.2/s = %d, want 1", d)
	}
	if d := (RateLimit{PerSecond: 10}).withDefaults().Burst; d != 20 {
		t.Errorf("default burst for 10/s = %d, want 20", d)
	}
}

// TestRateLimitHTTP: over its limit a client gets 429, LIMIT_EXCEEDED and Retry-After
// and nothing runs; an API key is a client of its own; health probes are not limited;
// without a limit nothing is refused.
func TestRateLimitHTTP(t *testing.T) {
	ts := newTestServer(t, Config{RateLimit: RateLimit{PerSecond: 0.01, Burst: 2}})
	for i := range 2 {
		if status, out := ts.gql(t, "", `{ stats { entities } }`); status != 200 || len(out.Errors) > 0 {
			t.Fatalf("anonymous request %d = %d %+v, want 200", i+1, status, out.Errors)
		}
	}
	status, header, body := ts.request(t, "POST", "/graphql", "", `{"query":"{ stats { entities } }"}`)
	if status != 429 || header.Get("Retry-After") != "100" || !strings.Contains(body, graph.ELIMIT) || !strings.Contains(body, "too many requests") {
		t.Fatalf("3rd anonymous request = %d, Retry-After %q, %s; want 429, 100, LIMIT_EXCEEDED", status, header.Get("Retry-After"), body)
	}
	_, reader := mustKey(t, ts.store, graph.RoleReader)
	if status, out := ts.gql(t, reader, `{ stats { entities } }`); status != 200 || len(out.Errors) > 0 {
		t.Errorf("a request with a key after the anonymous client's limit = %d %+v, want 200", status, out.Errors)
	}
	for range 3 {
		if status, _, _ := ts.request(t, "GET", "/healthz", "", ""); status != 200 {
			t.Fatalf("GET /healthz = %d, want 200 whatever the rate", status)
		}
	}
	// A refused mutation writes nothing.
	_, writer := mustKey(t, ts.store, graph.RoleWriter)
	for range 2 {
		ts.gql(t, writer, `{ stats { entities } }`)
	}
	if status, out := ts.gql(t, writer, upsertProbe); status != 429 || firstCode(out) != graph.ELIMIT {
		t.Fatalf("mutation over the limit = %d %+v, want 429 LIMIT_EXCEEDED", status, out.Errors)
	}
	if _, err := ts.store.Entity(context.Background(), "probe"); graph.ErrorCode(err) != graph.ENOTFOUND {
		t.Errorf("the refused mutation wrote: Entity(probe) error %v", err)
	}

	free := newTestServer(t, Config{})
	for i := range 20 {
		if status, _ := free.gql(t, "", `{ stats { entities } }`); status != 200 {
			t.Fatalf("request %d without a rate limit = %d", i+1, status)
		}
	}
}
