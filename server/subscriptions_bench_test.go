package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Benchmarks of live updates, over GraphQL over SSE on HTTP/2 (so that thousands of
// streams share a few connections and file descriptors, as behind a proxy):
//
//	go test ./server -run XXX -bench 'Subscription' -benchtime 50x
//
// BenchmarkSubscriptionDelivery reports the p50 and p99, over every subscriber and
// write, from a mutation's acknowledgement to a subscriber's receipt of its commit;
// BenchmarkIdleSubscriptions the memory that 10,000 open subscriptions add to the test
// process (server and clients together, so an upper bound of the server's share).

// h2Server serves NewServer over TLS with HTTP/2.
func h2Server(b *testing.B) (*testServer, *http.Client) {
	b.Helper()
	ts := newTestServer(b, Config{})
	h2 := httptest.NewUnstartedServer(ts.Config.Handler)
	h2.EnableHTTP2 = true
	h2.StartTLS()
	b.Cleanup(h2.Close)
	client := h2.Client()
	client.Timeout = 0
	return &testServer{Server: h2, store: ts.store, token: ts.token}, client
}

// subscribe opens one changes subscription and returns a scanner of its stream.
func subscribe(ctx context.Context, b *testing.B, ts *testServer, client *http.Client) *bufio.Scanner {
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/graphql", strings.NewReader(gqlBody(`subscription { changes(kinds: [ENTITY]) { seq } }`, nil)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b.Fatalf("subscribe: %d", resp.StatusCode)
	}
	go func() { <-ctx.Done(); resp.Body.Close() }()
	return bufio.NewScanner(resp.Body)
}

func BenchmarkSubscriptionDelivery(b *testing.B) {
	const subscribers = 1000
	ts, client := h2Server(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	received := make(chan time.Time, subscribers)
	var ready sync.WaitGroup
	for range subscribers {
		sc := subscribe(ctx, b, ts, client)
		ready.Add(1)
		go func() {
			ready.Done()
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data: ") {
					received <- time.Now()
				}
			}
		}()
	}
	ready.Wait()
	time.Sleep(200 * time.Millisecond) // every subscription is following the log
	var lat []time.Duration
	i := 0
	for b.Loop() {
		req, _ := http.NewRequest("POST", ts.URL+"/graphql", strings.NewReader(gqlBody(
			`mutation($id: ID!) { upsertEntity(input: {id: $id, kind: "Company", name: "Bench"}) { id } }`, map[string]any{"id": fmt.Sprint("bench-", i)})))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+ts.token)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		acked := time.Now()
		for range subscribers {
			select {
			case at := <-received:
				lat = append(lat, max(at.Sub(acked), 0))
			case <-time.After(10 * time.Second):
				b.Fatal("a subscriber got no commit within 10 s")
			}
		}
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func BenchmarkIdleSubscriptions(b *testing.B) {
	const subscribers = 10_000
	for b.Loop() {
		ts, client := h2Server(b)
		ctx, cancel := context.WithCancel(context.Background())
		runtime.GC()
		before := residentBytes()
		var ms0 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		for range subscribers {
			subscribe(ctx, b, ts, client)
		}
		time.Sleep(time.Second)
		runtime.GC()
		var ms1 runtime.MemStats
		runtime.ReadMemStats(&ms1)
		rss := residentBytes() - before
		b.ReportMetric(float64(rss)/(1<<20), "RSS-MiB")
		b.ReportMetric(float64(int64(ms1.HeapInuse+ms1.StackInuse)-int64(ms0.HeapInuse+ms0.StackInuse))/(1<<20), "heap+stack-MiB")
		b.ReportMetric(float64(runtime.NumGoroutine())/subscribers, "goroutines/sub")
		cancel()
	}
}
