package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lodestone-kg/lodestone/graph"
)

const hookSecret = "whsec-0123456789abcdef"

// delivery is one request a test receiver got.
type delivery struct {
	seq, id, sig string
	body         []byte
}

// receiver is an httptest webhook receiver: status decides each answer (nil: 200).
type receiver struct {
	*httptest.Server
	got    chan delivery
	mu     sync.Mutex
	status func(n int, d delivery) int
	n      int
}

func newReceiver(t *testing.T, status func(n int, d delivery) int) *receiver {
	t.Helper()
	rc := &receiver{got: make(chan delivery, 100), status: status}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("delivery %s with Content-Type %q, want POST application/json", r.Method, r.Header.Get("Content-Type"))
		}
		d := delivery{seq: r.Header.Get("Lodestone-Seq"), id: r.Header.Get("Lodestone-Webhook-Id"), sig: r.Header.Get("Lodestone-Signature"), body: body}
		rc.mu.Lock()
		rc.n++
		code := 200
		if rc.status != nil {
			code = rc.status(rc.n, d)
		}
		rc.mu.Unlock()
		w.WriteHeader(code)
		rc.got <- d
	}))
	t.Cleanup(rc.Close)
	return rc
}

// next returns the next delivery, failing after 5 s without one.
func (rc *receiver) next(t *testing.T) delivery {
	t.Helper()
	select {
	case d := <-rc.got:
		return d
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook delivery within 5 s")
	}
	return delivery{}
}

// none fails if a delivery comes within d.
func (rc *receiver) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case got := <-rc.got:
		t.Fatalf("unexpected delivery seq %s: %s", got.seq, got.body)
	case <-time.After(d):
	}
}

// checkSignature verifies the Lodestone-Signature of d as a receiver must: the HMAC of
// "<t>.<body>" with the secret, compared in constant time.
func checkSignature(t *testing.T, d delivery, secret string) {
	t.Helper()
	ts, v1, ok := strings.Cut(d.sig, ",v1=")
	if !ok || !strings.HasPrefix(ts, "t=") {
		t.Fatalf("Lodestone-Signature %q does not have the form t=…,v1=…", d.sig)
	}
	ts = strings.TrimPrefix(ts, "t=")
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		t.Fatalf("signature timestamp %q: %v", ts, err)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(d.body)))
	want := mac.Sum(nil)
	got, err := hex.DecodeString(v1)
	if err != nil || !hmac.Equal(got, want) {
		t.Fatalf("signature %q does not verify for body %s", d.sig, d.body)
	}
}

// fakeClock is WebhookOptions' clock: Sleep moves it on at once.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.slept = append(c.slept, d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// testHookOptions are fast, deterministic options (backoff n seconds after the n-th
// failure) that reach loopback receivers.
func testHookOptions(c *fakeClock) WebhookOptions {
	return WebhookOptions{AllowPrivate: true, Timeout: 2 * time.Second, Now: c.Now, Sleep: c.Sleep,
		Backoff: func(n int) time.Duration { return time.Duration(n) * time.Second }, WatchInterval: 10 * time.Millisecond}
}

// startHooks runs StartWebhooks on ts's store until the test ends or stop is called.
func startHooks(t *testing.T, ts *testServer, opts WebhookOptions) (stop func()) {
	t.Helper()
	schema, err := ParseSchema(schemaSDL(t), ts.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wait := StartWebhooks(ctx, nil, ts.store, schema, opts)
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wait() }) }
	t.Cleanup(stop)
	return stop
}

// createHook registers a webhook through POST /admin/webhooks and returns its info.
func createHook(t *testing.T, ts *testServer, body string) WebhookInfo {
	t.Helper()
	status, _, raw := ts.send(t, "POST", "/admin/webhooks", map[string]string{"Authorization": "Bearer " + ts.token, "Content-Type": "application/json"}, body)
	var out struct{ Webhook WebhookInfo }
	if err := json.Unmarshal([]byte(raw), &out); status != http.StatusCreated || err != nil || out.Webhook.ID == "" {
		t.Fatalf("POST /admin/webhooks %s = %d %s, want 201 with a webhook", body, status, raw)
	}
	if strings.Contains(raw, hookSecret) || !out.Webhook.SecretSet {
		t.Fatalf("POST /admin/webhooks answered %s: it must say a secret is set and never show it", raw)
	}
	return out.Webhook
}

func listHooks(t *testing.T, ts *testServer) []WebhookInfo {
	t.Helper()
	status, _, raw := ts.send(t, "GET", "/admin/webhooks", map[string]string{"Authorization": "Bearer " + ts.token}, "")
	var out struct{ Webhooks []WebhookInfo }
	if err := json.Unmarshal([]byte(raw), &out); status != 200 || err != nil {
		t.Fatalf("GET /admin/webhooks = %d %s", status, raw)
	}
	if strings.Contains(raw, hookSecret) {
		t.Fatalf("GET /admin/webhooks shows the secret: %s", raw)
	}
	return out.Webhooks
}

// rename commits a new name for entity id and returns the commit's sequence.
func rename(t *testing.T, ts *testServer, id, name string) uint64 {
	t.Helper()
	if _, err := ts.store.Apply(context.Background(), &graph.Batch{Entities: []graph.Entity{{ID: id, Kind: "Company", Name: name}}}); err != nil {
		t.Fatal(err)
	}
	return ts.store.Seq()
}

// TestWebhookFilterDelivery: a filter webhook gets exactly the matching commits, in
// order, each signed, with its sequence as Lodestone-Seq and in the body, and with only
// the matching changes; its cursor is then the last one delivered.
func TestWebhookFilterDelivery(t *testing.T) {
	ts := newTestServer(t, Config{})
	rc := newReceiver(t, nil)
	h := createHook(t, ts, `{"url":"`+rc.URL+`/hook","secret":"`+hookSecret+`","filter":{"ids":["nzb"]}}`)
	startHooks(t, ts, testHookOptions(&fakeClock{t: time.Now()}))

	s1 := rename(t, ts, "nzb", "Northern Zhaobao 1")
	rename(t, ts, "weld", "Mount Weld 2") // does not match
	b := &graph.Batch{Entities: []graph.Entity{{ID: "torin", Kind: "Company", Name: "Torin 3"}, {ID: "nzb", Kind: "Company", Name: "Northern Zhaobao 3"}}}
	if _, err := ts.store.Apply(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	s3 := ts.store.Seq()
	for _, want := range []struct {
		seq  uint64
		name string
	}{{s1, "Northern Zhaobao 1"}, {s3, "Northern Zhaobao 3"}} {
		d := rc.next(t)
		checkSignature(t, d, hookSecret)
		if d.seq != strconv.FormatUint(want.seq, 10) || d.id != h.ID {
			t.Fatalf("delivery Lodestone-Seq %s, Lodestone-Webhook-Id %s; want %d, %s", d.seq, d.id, want.seq, h.ID)
		}
		var c struct {
			Seq     string
			Bulk    bool
			Changes []struct {
				Op, Kind, ID string
				Entity       *graph.Entity
			}
		}
		if err := json.Unmarshal(d.body, &c); err != nil {
			t.Fatal(err)
		}
		if c.Seq != d.seq || len(c.Changes) != 1 || c.Changes[0].ID != "nzb" || c.Changes[0].Op != "UPSERT" || c.Changes[0].Kind != "ENTITY" || c.Changes[0].Entity == nil || c.Changes[0].Entity.Name != want.name {
			t.Fatalf("delivery of seq %d: %s; want the nzb change only, named %q", want.seq, d.body, want.name)
		}
	}
	rc.none(t, 200*time.Millisecond)
	waitFor(t, func() bool {
		l := listHooks(t, ts)
		return len(l) == 1 && l[0].Delivery.LastSeq == strconv.FormatUint(s3, 10) && l[0].Delivery.Delivered == 2
	}, "the webhook's cursor at the last delivery")
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for range 250 {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestWebhookRetry: a receiver that answers 500 twice, then 200, gets the delivery
// three times with the same Lodestone-Seq, after backoffs of 1 s and 2 s, then the next
// one; GET /admin/webhooks shows the failures while they last.
func TestWebhookRetry(t *testing.T) {
	ts := newTestServer(t, Config{})
	rc := newReceiver(t, func(n int, _ delivery) int {
		if n <= 2 {
			return 500
		}
		return 204
	})
	createHook(t, ts, `{"url":"`+rc.URL+`","secret":"`+hookSecret+`","filter":{"kinds":["ENTITY"]}}`)
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	startHooks(t, ts, testHookOptions(clock))
	s1 := rename(t, ts, "nzb", "A")
	for i := range 3 {
		if d := rc.next(t); d.seq != strconv.FormatUint(s1, 10) {
			t.Fatalf("attempt %d: Lodestone-Seq %s, want %d", i+1, d.seq, s1)
		} else {
			checkSignature(t, d, hookSecret)
		}
	}
	s2 := rename(t, ts, "nzb", "B")
	if d := rc.next(t); d.seq != strconv.FormatUint(s2, 10) {
		t.Fatalf("after the retried delivery: Lodestone-Seq %s, want %d", d.seq, s2)
	}
	rc.none(t, 100*time.Millisecond)
	if got, want := clock.sleeps(), []time.Duration{time.Second, 2 * time.Second}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("backoffs %v, want %v", got, want)
	}
	waitFor(t, func() bool {
		l := listHooks(t, ts)
		return len(l) == 1 && l[0].Delivery.LastSeq == strconv.FormatUint(s2, 10) && l[0].Delivery.Failures == 0 && l[0].Delivery.PendingSeq == nil
	}, "the cursor at the second delivery")
}

// TestWebhookDropAfterRetryWindow: a delivery that fails for 24 hours is dropped (and
// counted), and the next one goes.
func TestWebhookDropAfterRetryWindow(t *testing.T) {
	ts := newTestServer(t, Config{})
	var bad string
	rc := newReceiver(t, func(n int, d delivery) int {
		if n == 1 {
			bad = d.seq
		}
		if d.seq == bad {
			return 503
		}
		return 200
	})
	createHook(t, ts, `{"url":"`+rc.URL+`","secret":"`+hookSecret+`","filter":{}}`)
	opts := testHookOptions(&fakeClock{t: time.Now()})
	opts.Backoff = func(int) time.Duration { return time.Hour }
	startHooks(t, ts, opts)
	s1 := rename(t, ts, "nzb", "A")
	for i := range 25 { // at 0 h, 1 h, … 24 h
		if d := rc.next(t); d.seq != strconv.FormatUint(s1, 10) {
			t.Fatalf("attempt %d: seq %s, want %d", i+1, d.seq, s1)
		}
	}
	s2 := rename(t, ts, "nzb", "B")
	if d := rc.next(t); d.seq != strconv.FormatUint(s2, 10) {
		t.Fatalf("after the dropped delivery: seq %s, want %d", d.seq, s2)
	}
	waitFor(t, func() bool { l := listHooks(t, ts); return l[0].Delivery.Dropped == 1 && l[0].Delivery.Delivered == 1 }, "one dropped, one delivered")
}

// TestWebhookRestart: a new dispatcher on the same store resumes from the stored cursor:
// the commits made while none ran are delivered, the ones delivered before are not; and
// a delivery being retried when the dispatcher stopped is retried after the restart.
func TestWebhookRestart(t *testing.T) {
	ts := newTestServer(t, Config{})
	var failing sync.Map
	rc := newReceiver(t, func(_ int, d delivery) int {
		if _, ok := failing.Load(d.seq); ok {
			return 500
		}
		return 200
	})
	createHook(t, ts, `{"url":"`+rc.URL+`","secret":"`+hookSecret+`","filter":{"ids":["nzb"]}}`)
	opts := testHookOptions(&fakeClock{t: time.Now()})
	stop := startHooks(t, ts, opts)
	s1 := rename(t, ts, "nzb", "A")
	if d := rc.next(t); d.seq != strconv.FormatUint(s1, 10) {
		t.Fatalf("first delivery: seq %s, want %d", d.seq, s1)
	}
	waitFor(t, func() bool { return listHooks(t, ts)[0].Delivery.LastSeq == strconv.FormatUint(s1, 10) }, "the cursor stored")
	stop()

	s2 := rename(t, ts, "nzb", "B")
	s3 := rename(t, ts, "nzb", "C")
	stop = startHooks(t, ts, opts)
	for _, want := range []uint64{s2, s3} {
		if d := rc.next(t); d.seq != strconv.FormatUint(want, 10) {
			t.Fatalf("after the restart: seq %s, want %d", d.seq, want)
		}
	}
	rc.none(t, 100*time.Millisecond)

	// A delivery failing when the dispatcher stops is pending in the store and is the
	// first one the next dispatcher makes.
	stop()
	s4 := rename(t, ts, "nzb", "D") // no dispatcher runs: nothing else commits meanwhile
	failing.Store(strconv.FormatUint(s4, 10), true)
	slow := opts
	slow.Sleep = sleepCtx // real backoffs: the dispatcher stops while waiting
	stop = startHooks(t, ts, slow)
	rc.next(t)
	waitFor(t, func() bool {
		d := listHooks(t, ts)[0].Delivery
		return d.PendingSeq != nil && *d.PendingSeq == strconv.FormatUint(s4, 10) && d.Failures >= 1
	}, "the failing delivery pending in the store")
	stop()
	failing.Delete(strconv.FormatUint(s4, 10))
	for len(rc.got) > 0 {
		<-rc.got
	}
	startHooks(t, ts, opts)
	if d := rc.next(t); d.seq != strconv.FormatUint(s4, 10) {
		t.Fatalf("after the restart: seq %s, want the pending %d", d.seq, s4)
	}
	waitFor(t, func() bool {
		d := listHooks(t, ts)[0].Delivery
		return d.PendingSeq == nil && d.LastSeq == strconv.FormatUint(s4, 10)
	}, "the pending delivery made")
}

// TestWebhookDeletedWhileRetrying: deleting a webhook stops its retries.
func TestWebhookDeletedWhileRetrying(t *testing.T) {
	ts := newTestServer(t, Config{})
	rc := newReceiver(t, func(int, delivery) int { return 500 })
	h := createHook(t, ts, `{"url":"`+rc.URL+`","secret":"`+hookSecret+`","filter":{}}`)
	opts := testHookOptions(&fakeClock{t: time.Now()})
	opts.Sleep = sleepCtx
	opts.Backoff = func(int) time.Duration { return 20 * time.Millisecond }
	startHooks(t, ts, opts)
	rename(t, ts, "nzb", "A")
	rc.next(t)
	rc.next(t)
	status, _, raw := ts.send(t, "DELETE", "/admin/webhooks/"+h.ID, map[string]string{"Authorization": "Bearer " + ts.token}, "")
	if status != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s, want 204", status, raw)
	}
	time.Sleep(100 * time.Millisecond) // an attempt in flight may still land
	for len(rc.got) > 0 {
		<-rc.got
	}
	rc.none(t, 200*time.Millisecond)
	if l := listHooks(t, ts); len(l) != 0 {
		t.Fatalf("webhooks after DELETE: %+v", l)
	}
	if status, _, _ := ts.send(t, "DELETE", "/admin/webhooks/"+h.ID, map[string]string{"Authorization": "Bearer " + ts.token}, ""); status != http.StatusNotFound {
		t.Fatalf("DELETE again = %d, want 404", status)
	}
}

// TestWebhookSavedQuery: a saved-query webhook is sent the result only when it changes,
// as savedQueryResult sends it.
func TestWebhookSavedQuery(t *testing.T) {
	ts := newTestServer(t, Config{})
	schema, err := ParseSchema(schemaSDL(t), ts.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := PrepareSavedQuery(schema, &graph.SavedQuery{Name: "nzb-name", Query: `query($id: ID!) { entity(id: $id) { name } }`,
		Params: []graph.QueryParam{{Name: "id", Type: "ID!", Required: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.store.SaveQuery(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	rc := newReceiver(t, nil)
	h := createHook(t, ts, `{"url":"`+rc.URL+`","secret":"`+hookSecret+`","savedQuery":{"name":"nzb-name","variables":{"id":"nzb"}}}`)
	opts := testHookOptions(&fakeClock{t: time.Now()})
	stop := startHooks(t, ts, opts)

	rename(t, ts, "weld", "Mount Weld II") // the result does not change
	time.Sleep(100 * time.Millisecond)
	rc.none(t, 100*time.Millisecond)
	s := rename(t, ts, "nzb", "Northern Zhaobao II")
	d := rc.next(t)
	checkSignature(t, d, hookSecret)
	var r struct {
		Seq     string
		Data    struct{ Entity struct{ Name string } }
		Errors  json.RawMessage
		Changed bool
	}
	if err := json.Unmarshal(d.body, &r); err != nil {
		t.Fatal(err)
	}
	if r.Data.Entity.Name != "Northern Zhaobao II" || !r.Changed || r.Seq != d.seq || d.id != h.ID || r.Seq != strconv.FormatUint(s, 10) {
		t.Fatalf("saved-query delivery %s (Lodestone-Seq %s), want the new name, changed, at %d", d.body, d.seq, s)
	}
	rename(t, ts, "nzb", "Northern Zhaobao II") // same name again: same result
	rc.none(t, 200*time.Millisecond)

	// A restart sends nothing while the result is the one delivered, and the result
	// changed while no dispatcher ran once one runs again.
	waitFor(t, func() bool { return listHooks(t, ts)[0].Delivery.LastSeq == strconv.FormatUint(s, 10) }, "the cursor at the delivered result")
	stop()
	stop = startHooks(t, ts, opts)
	rename(t, ts, "weld", "Mount Weld III")
	rc.none(t, 200*time.Millisecond)
	stop()
	s = rename(t, ts, "nzb", "Northern Zhaobao III")
	startHooks(t, ts, opts)
	d = rc.next(t)
	if err := json.Unmarshal(d.body, &r); err != nil || r.Data.Entity.Name != "Northern Zhaobao III" || r.Seq != strconv.FormatUint(s, 10) {
		t.Fatalf("after a restart: %s, want the result changed meanwhile", d.body)
	}
	rc.none(t, 100*time.Millisecond)
}

// TestWebhookAdminInput: bad input is refused with the field named and nothing stored;
// only admin keys may use the endpoints; bodies are JSON only.
func TestWebhookAdminInput(t *testing.T) {
	ts := newTestServer(t, Config{})
	admin := map[string]string{"Authorization": "Bearer " + ts.token, "Content-Type": "application/json"}
	for _, c := range []struct{ body, field string }{
		{`{"url":"ftp://example.com","secret":"` + hookSecret + `","filter":{}}`, "url"},
		{`{"url":"example.com/hook","secret":"` + hookSecret + `","filter":{}}`, "url"},
		{`{"url":"https://example.com/hook","filter":{}}`, "secret"},
		{`{"url":"https://example.com/hook","secret":"short","filter":{}}`, "secret"},
		{`{"url":"https://example.com/hook","secret":"` + hookSecret + `"}`, "filter"},
		{`{"url":"https://example.com/hook","secret":"` + hookSecret + `","filter":{},"savedQuery":{"name":"x"}}`, "filter"},
		{`{"url":"https://example.com/hook","secret":"` + hookSecret + `","filter":{"kinds":["API_KEY"]}}`, "filter.kinds"},
		{`{"url":"https://example.com/hook","secret":"` + hookSecret + `","savedQuery":{"name":"no-such-query"}}`, "savedQuery.name"},
		{`{"url":"https://example.com/hook","secret":"` + hookSecret + `","colour":"red"}`, "body"},
	} {
		status, _, raw := ts.send(t, "POST", "/admin/webhooks", admin, c.body)
		var e struct{ Error struct{ Code, Field string } }
		json.Unmarshal([]byte(raw), &e)
		if status != http.StatusBadRequest || e.Error.Code != graph.EINVALID || e.Error.Field != c.field {
			t.Errorf("POST /admin/webhooks %s = %d %s, want 400 INVALID_INPUT on %s", c.body, status, raw, c.field)
		}
		if strings.Contains(raw, hookSecret) {
			t.Errorf("the error %s shows the secret", raw)
		}
	}
	if l := listHooks(t, ts); len(l) != 0 {
		t.Fatalf("refused webhooks were stored: %+v", l)
	}
	good := `{"url":"https://example.com/hook","secret":"` + hookSecret + `","filter":{}}`
	if status, _, _ := ts.send(t, "POST", "/admin/webhooks", map[string]string{"Authorization": "Bearer " + ts.token, "Content-Type": "text/plain"}, good); status != http.StatusUnsupportedMediaType {
		t.Errorf("POST with text/plain = %d, want 415", status)
	}
	_, reader, err := ts.store.CreateAPIKey(context.Background(), graph.RoleWriter, "not admin")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ method, path, body string }{{"GET", "/admin/webhooks", ""}, {"POST", "/admin/webhooks", good}, {"DELETE", "/admin/webhooks/0123456789abcdef", ""}} {
		if status, _, raw := ts.send(t, r.method, r.path, map[string]string{"Authorization": "Bearer " + reader, "Content-Type": "application/json"}, r.body); status != http.StatusForbidden {
			t.Errorf("%s %s with a writer key = %d %s, want 403", r.method, r.path, status, raw)
		}
	}
	if l := listHooks(t, ts); len(l) != 0 {
		t.Fatalf("a refused request stored a webhook: %+v", l)
	}
}

// TestWebhookClientRefusesPrivateAddresses: without AllowPrivate, the client does not
// connect to loopback (nor other private addresses), whatever the URL's host says.
func TestWebhookClientRefusesPrivateAddresses(t *testing.T) {
	rc := newReceiver(t, nil)
	_, err := webhookClient(false).Post(rc.URL, "application/json", strings.NewReader("{}"))
	if !errors.Is(err, errPrivateAddress) {
		t.Fatalf("POST to %s = %v, want errPrivateAddress", rc.URL, err)
	}
	resp, err := webhookClient(true).Post(rc.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("with AllowPrivate: %v", err)
	}
	resp.Body.Close()
}

// TestWebhookTimeoutIsRetried: an attempt that gets no answer within the timeout fails
// and is retried with the same Lodestone-Seq.
func TestWebhookTimeoutIsRetried(t *testing.T) {
	ts := newTestServer(t, Config{})
	rc := newReceiver(t, func(n int, _ delivery) int {
		if n == 1 {
			time.Sleep(300 * time.Millisecond)
		}
		return 200
	})
	createHook(t, ts, `{"url":"`+rc.URL+`","secret":"`+hookSecret+`","filter":{}}`)
	opts := testHookOptions(&fakeClock{t: time.Now()})
	opts.Timeout = 100 * time.Millisecond
	startHooks(t, ts, opts)
	s1 := rename(t, ts, "nzb", "A")
	first, second := rc.next(t), rc.next(t)
	if want := strconv.FormatUint(s1, 10); first.seq != want || second.seq != want {
		t.Fatalf("attempts with Lodestone-Seq %s and %s, want %s twice", first.seq, second.seq, want)
	}
	waitFor(t, func() bool {
		d := listHooks(t, ts)[0].Delivery
		return d.LastSeq == strconv.FormatUint(s1, 10) && d.Delivered == 1
	}, "the retried delivery made")
}
