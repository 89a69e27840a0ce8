package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/graph-gophers/graphql-go"
	"github.com/lodestone-kg/lodestone/graph"
	"go.uber.org/zap"
)

// Webhooks (api.md, "Changes and subscriptions"; admin role, routes.go):
//
//	POST   /admin/webhooks        {"url","secret","filter":{"ids","types","kinds"}}
//	                              or {"url","secret","savedQuery":{"name","variables"}} → 201 {"webhook":WebhookInfo}
//	GET    /admin/webhooks        {"webhooks":[WebhookInfo…]} with their delivery state
//	DELETE /admin/webhooks/{id}   204
//
// No answer holds a secret. Deliveries are made by StartWebhooks: one goroutine per
// webhook follows the change log from the webhook's cursor (stored with it, so that a
// restarted server resumes there) and POSTs to its URL, one delivery at a time, in order:
//
//   - a filter webhook gets each commit with a change that matches its filter (the
//     commit as the GraphQL Commit type shows it, with the matching changes only);
//   - a saved-query webhook gets the saved query's result each time it changes (as the
//     savedQueryResult subscription sends it: {"seq","data","errors","changed":true}),
//     decided by watchSavedQuery as for the subscription.
//
// Each POST carries Content-Type: application/json, Lodestone-Seq (the commit's or the
// result's sequence: the idempotency key), Lodestone-Webhook-Id and Lodestone-Signature:
// t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>. A 2xx
// answer delivers it; anything else (a redirect included: none is followed), or no answer
// within the timeout, is retried with exponential backoff for RetryFor (24 h) from the
// first failure, after which that delivery is dropped (logged) and the next one goes.

// WebhookInfo is a webhook as the admin endpoints show it: never its secret.
type WebhookInfo struct {
	ID         string                   `json:"id"`
	URL        string                   `json:"url"`
	SecretSet  bool                     `json:"secretSet"`
	Filter     *graph.WebhookFilter     `json:"filter,omitempty"`
	SavedQuery *graph.WebhookSavedQuery `json:"savedQuery,omitempty"`
	CreatedAt  time.Time                `json:"createdAt"`
	Delivery   WebhookDeliveryInfo      `json:"delivery"`
}

// WebhookDeliveryInfo is where a webhook's deliveries stand.
type WebhookDeliveryInfo struct {
	// LastSeq is the cursor: the sequence through which the log was delivered or passed
	// over (a saved-query webhook: the sequence of the last result delivered).
	LastSeq     string     `json:"lastSeq"`
	DeliveredAt *time.Time `json:"deliveredAt,omitempty"`
	Delivered   uint64     `json:"delivered"`
	Dropped     uint64     `json:"dropped"`
	// The delivery being retried, if any.
	PendingSeq   *string    `json:"pendingSeq,omitempty"`
	Failures     int        `json:"failures"`
	FirstFailure *time.Time `json:"firstFailure,omitempty"`
	NextRetry    *time.Time `json:"nextRetry,omitempty"`
	LastError    string     `json:"lastError,omitempty"`
}

// NewWebhookInfo is h as the admin endpoints show it.
func NewWebhookInfo(h *graph.Webhook) WebhookInfo {
	d := h.Delivery
	t := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	info := WebhookInfo{ID: h.ID, URL: h.URL, SecretSet: h.Secret != "", Filter: h.Filter, SavedQuery: h.SavedQuery, CreatedAt: h.CreatedAt,
		Delivery: WebhookDeliveryInfo{LastSeq: strconv.FormatUint(d.Seq, 10), DeliveredAt: t(d.DeliveredAt), Delivered: d.Delivered,
			Dropped: d.Dropped, Failures: d.Failures, FirstFailure: t(d.FirstFailure), NextRetry: t(d.NextRetry), LastError: d.LastError}}
	if d.PendingSeq != 0 {
		s := strconv.FormatUint(d.PendingSeq, 10)
		info.Delivery.PendingSeq = &s
	}
	return info
}

// maxWebhookRequestBytes caps the body of POST /admin/webhooks.
const maxWebhookRequestBytes = 16 << 10

func handleListWebhooks(log *zap.Logger, store *graph.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hooks, err := store.Webhooks(r.Context())
		if err != nil {
			writeAdminFailure(w, r, log, err)
			return
		}
		out := make([]WebhookInfo, len(hooks))
		for i, h := range hooks {
			out[i] = NewWebhookInfo(h)
		}
		writeJSON(w, http.StatusOK, map[string]any{"webhooks": out})
	})
}

func handleCreateWebhook(log *zap.Logger, store *graph.Store, schema *graphql.Schema) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := jsonBodyError(r); e != nil {
			writeAdminError(w, http.StatusUnsupportedMediaType, e)
			return
		}
		var req struct {
			URL        string                   `json:"url"`
			Secret     string                   `json:"secret"`
			Filter     *graph.WebhookFilter     `json:"filter"`
			SavedQuery *graph.WebhookSavedQuery `json:"savedQuery"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxWebhookRequestBytes))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeAdminError(w, http.StatusBadRequest, graph.Invalid("body", "must be a JSON object {\"url\", \"secret\", and \"filter\": {\"ids\", \"types\", \"kinds\"} or \"savedQuery\": {\"name\", \"variables\"}} of at most %d bytes: %v", maxWebhookRequestBytes, err))
			return
		}
		if dec.Decode(&struct{}{}) != io.EOF {
			writeAdminError(w, http.StatusBadRequest, graph.Invalid("body", "must hold one JSON object"))
			return
		}
		h := graph.Webhook{URL: req.URL, Secret: req.Secret, Filter: req.Filter, SavedQuery: req.SavedQuery}
		if q := req.SavedQuery; q != nil && req.Filter == nil && q.Name != "" {
			// The saved query's result now is what later results compare to: check that
			// it exists and that the variables suit it, and start from there.
			sq, err := store.SavedQuery(r.Context(), q.Name, 0)
			if graph.ErrorCode(err) == graph.ENOTFOUND {
				writeAdminError(w, http.StatusBadRequest, graph.Invalid("savedQuery.name", "there is no saved query %q", q.Name))
				return
			} else if err != nil {
				writeAdminFailure(w, r, log, err)
				return
			}
			vars, e := webhookVariables(q.Variables)
			if e != nil {
				writeAdminError(w, http.StatusBadRequest, e)
				return
			}
			first, err := runSavedQueryResult(r.Context(), store, schema, sq, vars)
			var ge *graph.Error
			if errors.As(err, &ge) && ge.Code == graph.EINVALID {
				writeAdminError(w, http.StatusBadRequest, &graph.Error{Code: ge.Code, Field: "savedQuery.variables." + ge.Field, Message: ge.Message})
				return
			} else if err != nil {
				writeAdminFailure(w, r, log, err)
				return
			}
			h.Delivery = graph.WebhookDelivery{Seq: first.seq, Digest: first.digest()}
		}
		created, err := store.CreateWebhook(graph.WithActor(r.Context(), actingKeyID(r)), h)
		if err != nil {
			writeAdminFailure(w, r, log, err)
			return
		}
		log.Info("webhook created", zap.String("request_id", requestID(r.Context())), zap.String("id", created.ID),
			zap.String("url", created.URL), zap.String("by", actingKeyID(r)))
		writeJSON(w, http.StatusCreated, map[string]any{"webhook": NewWebhookInfo(created)})
	})
}

func handleDeleteWebhook(log *zap.Logger, store *graph.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := jsonBodyError(r); e != nil {
			writeAdminError(w, http.StatusUnsupportedMediaType, e)
			return
		}
		id := r.PathValue("id")
		if err := store.DeleteWebhook(graph.WithActor(r.Context(), actingKeyID(r)), id); err != nil {
			writeAdminFailure(w, r, log, err)
			return
		}
		log.Info("webhook deleted", zap.String("request_id", requestID(r.Context())), zap.String("id", id), zap.String("by", actingKeyID(r)))
		w.WriteHeader(http.StatusNoContent)
	})
}

// webhookVariables decodes the variables of a saved-query webhook (absent or null: none).
func webhookVariables(raw json.RawMessage) (map[string]any, *graph.Error) {
	vars := map[string]any{}
	if len(raw) == 0 || string(raw) == "null" {
		return vars, nil
	}
	if err := json.Unmarshal(raw, &vars); err != nil || vars == nil {
		return nil, graph.Invalid("savedQuery.variables", "must be a JSON object of parameter values, e.g. {\"company\": \"mp-materials\"}")
	}
	return vars, nil
}

// WebhookOptions configures the delivery of webhooks; the zero value is what `lodestone
// serve` uses.
type WebhookOptions struct {
	// AllowPrivate lets webhooks reach loopback, private (RFC 1918, fc00::/7),
	// link-local and unspecified addresses, which are refused by default: a webhook is
	// a request the server makes on someone's behalf (--webhook-allow-private).
	AllowPrivate bool
	// Timeout bounds one attempt (default 10 s).
	Timeout time.Duration
	// RetryFor is how long a failing delivery is retried from its first failure before it
	// is dropped (default 24 h).
	RetryFor time.Duration
	// Backoff is the wait after the n-th failed attempt of a delivery (n ≥ 1); default
	// 1 s doubling up to 1 h, with ±20 % jitter.
	Backoff func(n int) time.Duration
	// Now and Sleep are the clock (defaults: time.Now, and a timer that ctx cancels).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// WatchInterval is how often, at most, a saved-query webhook's query runs again
	// (default DefaultWatchInterval).
	WatchInterval time.Duration
	// Client makes the requests (default: no proxy, no redirects, the address check of
	// AllowPrivate at connection time).
	Client *http.Client
}

func (o WebhookOptions) withDefaults() WebhookOptions {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.RetryFor <= 0 {
		o.RetryFor = 24 * time.Hour
	}
	if o.Backoff == nil {
		o.Backoff = defaultWebhookBackoff
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.WatchInterval <= 0 {
		o.WatchInterval = DefaultWatchInterval
	}
	if o.Client == nil {
		o.Client = webhookClient(o.AllowPrivate)
	}
	return o
}

// defaultWebhookBackoff is 1 s doubling up to 1 h, with ±20 % jitter so that the
// retries of many webhooks to one receiver spread out.
func defaultWebhookBackoff(n int) time.Duration {
	d := time.Hour
	if n < 13 {
		d = min(time.Second<<(n-1), time.Hour)
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errPrivateAddress refuses a connection to an address webhooks may not reach.
var errPrivateAddress = errors.New("server: webhook address is loopback, private or link-local (allowed with --webhook-allow-private)")

// webhookClient makes webhook requests: no proxy from the environment (it would hide
// the address), no redirects (a 3xx is a failed attempt), and unless allowPrivate a
// check of each address dialed, after DNS resolution, so that a name that resolves to
// a private address is refused too.
func webhookClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
				ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
				return errPrivateAddress
			}
			return nil
		}
	}
	return &http.Client{
		Transport: &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 2, IdleConnTimeout: 90 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// StartWebhooks delivers the webhooks of store until ctx ends: one goroutine per
// webhook, started for those registered now and for each one registered later, stopped
// when its webhook is deleted. schema runs the saved queries of saved-query webhooks.
// The returned function waits for every goroutine to stop once ctx has ended (call it
// before closing the store).
func StartWebhooks(ctx context.Context, log *zap.Logger, store *graph.Store, schema *graphql.Schema, opts WebhookOptions) (wait func()) {
	if log == nil {
		log = zap.NewNop()
	}
	d := &webhookDispatcher{log: log.Named("webhooks"), store: store, schema: schema, opts: opts.withDefaults()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.run(ctx)
	}()
	return func() { <-done }
}

type webhookDispatcher struct {
	log    *zap.Logger
	store  *graph.Store
	schema *graphql.Schema
	opts   WebhookOptions
}

// run starts and stops the webhooks' goroutines: after each commit it lists the
// webhooks again (a short prefix scan) and compares.
func (d *webhookDispatcher) run(ctx context.Context) {
	running := map[string]context.CancelFunc{}
	var wg sync.WaitGroup
	defer func() {
		for _, cancel := range running {
			cancel()
		}
		wg.Wait()
	}()
	for {
		seq := d.store.Seq()
		hooks, err := d.store.Webhooks(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, graph.ErrClosed) {
				return
			}
			d.log.Error("list webhooks", zap.Error(err))
		}
		present := make(map[string]bool, len(hooks))
		for _, h := range hooks {
			present[h.ID] = true
			if running[h.ID] != nil {
				continue
			}
			hctx, cancel := context.WithCancel(ctx)
			running[h.ID] = cancel
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.follow(hctx, h)
			}()
		}
		for id, cancel := range running {
			if !present[id] {
				cancel() // deleted: a delivery being retried stops
				delete(running, id)
			}
		}
		if _, err := d.store.WaitCommit(ctx, seq); err != nil {
			return
		}
	}
}

// errWebhookGone ends a webhook's goroutine: it was deleted.
var errWebhookGone = errors.New("server: webhook deleted")

// follow delivers h until ctx ends or h is deleted.
func (d *webhookDispatcher) follow(ctx context.Context, h *graph.Webhook) {
	hk := &webhookRun{webhookDispatcher: d, h: h, state: h.Delivery, log: d.log.With(zap.String("webhook", h.ID))}
	var err error
	if h.SavedQuery != nil {
		err = hk.followSavedQuery(ctx)
	} else {
		err = hk.followLog(ctx)
	}
	if err != nil && ctx.Err() == nil && !errors.Is(err, errWebhookGone) && !errors.Is(err, graph.ErrClosed) {
		hk.log.Error("webhook stopped", zap.Error(err))
	}
}

// webhookRun is one webhook's goroutine.
type webhookRun struct {
	*webhookDispatcher
	h     *graph.Webhook
	state graph.WebhookDelivery // as stored
	log   *zap.Logger
}

// followLog delivers the commits that match the webhook's filter, from its cursor on.
func (k *webhookRun) followLog(ctx context.Context) error {
	q := graph.ChangesQuery{After: k.state.Seq, First: subscriptionPage, Filter: k.h.Filter.ChangeFilter()}
	for {
		page, err := k.store.Changes(subscriptionReadContext(ctx), q)
		var ge *graph.Error
		if errors.As(err, &ge) && ge.Code == graph.EINVALID && ge.Field == "after" {
			// Down longer than the log's retention: what was pruned cannot be sent.
			k.log.Warn("webhook deliveries lost: the change log was pruned past the webhook's cursor", zap.Uint64("cursor", q.After), zap.String("detail", ge.Message))
			q.After = k.store.Seq()
			continue
		}
		if err != nil {
			return err
		}
		for i := range page.Commits {
			c := &page.Commits[i]
			// An empty filter keeps every commit; one that changed only what clients
			// never see (keys, webhooks: this webhook's own cursor) is not sent.
			if !c.Bulk && len(c.Changes) == 0 {
				continue
			}
			body, err := json.Marshal(newWebhookCommit(c))
			if err != nil {
				return err
			}
			if err := k.deliver(ctx, c.Seq, body, func(d *graph.WebhookDelivery) { d.Seq = c.Seq }); err != nil {
				return err
			}
		}
		q.After = page.Through
		if !page.HasNext {
			if _, err := k.store.WaitCommit(ctx, q.After); err != nil {
				return err
			}
		}
	}
}

// followSavedQuery delivers the saved query's new results (watchSavedQuery), from the
// result the webhook's cursor and digest stand for.
func (k *webhookRun) followSavedQuery(ctx context.Context) error {
	seq := k.store.Seq()
	sq, err := k.store.SavedQuery(ctx, k.h.SavedQuery.Name, 0)
	if graph.ErrorCode(err) == graph.ENOTFOUND {
		// Deleted since: wait until it is saved again (or the webhook deleted).
		k.log.Warn("webhook waits: its saved query was deleted", zap.String("saved_query", k.h.SavedQuery.Name))
	}
	for graph.ErrorCode(err) == graph.ENOTFOUND {
		if seq, err = k.store.WaitCommit(ctx, seq); err != nil {
			return err
		}
		sq, err = k.store.SavedQuery(ctx, k.h.SavedQuery.Name, 0)
	}
	if err != nil {
		return err
	}
	vars, e := webhookVariables(k.h.SavedQuery.Variables)
	if e != nil {
		return e
	}
	return watchSavedQuery(ctx, k.store, k.schema, sq, vars, k.state.Seq, k.state.Digest, k.opts.WatchInterval, func(r *savedQueryResultResolver) error {
		body, err := json.Marshal(map[string]any{"seq": r.Seq(), "data": r.data, "errors": r.errors, "changed": r.changed})
		if err != nil {
			return err
		}
		digest := r.digest()
		return k.deliver(ctx, r.seq, body, func(d *graph.WebhookDelivery) { d.Seq, d.Digest = r.seq, digest })
	})
}

// deliver POSTs body as the delivery of seq until it is delivered or dropped, then
// moves the cursor (advance) and stores it. It returns only ctx's error, errWebhookGone,
// or the store's.
func (k *webhookRun) deliver(ctx context.Context, seq uint64, body []byte, advance func(*graph.WebhookDelivery)) error {
	d := k.state
	if d.PendingSeq != seq { // a new delivery (not one a restart resumes)
		d.PendingSeq, d.Failures, d.FirstFailure, d.NextRetry, d.LastError = seq, 0, time.Time{}, time.Time{}, ""
	}
	for {
		if !d.NextRetry.IsZero() {
			if wait := d.NextRetry.Sub(k.opts.Now()); wait > 0 {
				if err := k.opts.Sleep(ctx, wait); err != nil {
					return err
				}
			}
		}
		now := k.opts.Now()
		err := k.post(ctx, seq, body, now)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			d.Delivered++
			d.DeliveredAt = now.UTC()
			return k.done(ctx, d, advance)
		}
		d.Failures++
		d.LastError = err.Error()
		if d.FirstFailure.IsZero() {
			d.FirstFailure = now.UTC()
		}
		if now.Sub(d.FirstFailure) >= k.opts.RetryFor {
			k.log.Warn("webhook delivery dropped after retrying", zap.Uint64("seq", seq), zap.Int("attempts", d.Failures),
				zap.Duration("retried_for", now.Sub(d.FirstFailure)), zap.String("last_error", d.LastError))
			d.Dropped++
			return k.done(ctx, d, advance)
		}
		d.NextRetry = now.Add(k.opts.Backoff(d.Failures)).UTC()
		k.log.Info("webhook delivery failed; retrying", zap.Uint64("seq", seq), zap.Int("failures", d.Failures),
			zap.Time("next_retry", d.NextRetry), zap.String("error", d.LastError))
		if err := k.save(ctx, d); err != nil {
			return err
		}
	}
}

// done ends the pending delivery, moves the cursor and stores both.
func (k *webhookRun) done(ctx context.Context, d graph.WebhookDelivery, advance func(*graph.WebhookDelivery)) error {
	d.PendingSeq, d.Failures, d.FirstFailure, d.NextRetry, d.LastError = 0, 0, time.Time{}, time.Time{}, ""
	advance(&d)
	return k.save(ctx, d)
}

func (k *webhookRun) save(ctx context.Context, d graph.WebhookDelivery) error {
	// The cursor is stored even as ctx ends (a shutdown): a delivery made is not made
	// again after the restart.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := k.store.SetWebhookDelivery(sctx, k.h.ID, d)
	if graph.ErrorCode(err) == graph.ENOTFOUND {
		return errWebhookGone
	}
	if err != nil {
		return err
	}
	k.state = d
	return nil
}

// post makes one attempt at a delivery; nil means a 2xx answer.
func (k *webhookRun) post(ctx context.Context, seq uint64, body []byte, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, k.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.h.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Lodestone-Webhook/1")
	req.Header.Set("Lodestone-Seq", strconv.FormatUint(seq, 10))
	req.Header.Set("Lodestone-Webhook-Id", k.h.ID)
	req.Header.Set("Lodestone-Signature", WebhookSignature(k.h.Secret, now, body))
	resp, err := k.opts.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// WebhookSignature is the Lodestone-Signature header of a delivery of body at t:
// t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with secret>.
func WebhookSignature(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// webhookCommit is a commit as the GraphQL Commit type shows it.
type webhookCommit struct {
	Seq     string          `json:"seq"`
	At      time.Time       `json:"at"`
	Actor   *string         `json:"actor"`
	Bulk    bool            `json:"bulk"`
	Changes []webhookChange `json:"changes"`
}

type webhookChange struct {
	Op           graph.ChangeOp      `json:"op"`
	Kind         graph.ItemKind      `json:"kind"`
	ID           string              `json:"id"`
	Entity       *graph.Entity       `json:"entity"`
	Relationship *graph.Relationship `json:"relationship"`
	Type         *string             `json:"type"`
	From         *string             `json:"from"`
	To           *string             `json:"to"`
}

func newWebhookCommit(c *graph.Commit) webhookCommit {
	out := webhookCommit{Seq: strconv.FormatUint(c.Seq, 10), At: c.At, Actor: strOrNil(c.Actor), Bulk: c.Bulk, Changes: make([]webhookChange, len(c.Changes))}
	for i, ch := range c.Changes {
		wc := webhookChange{Op: ch.Op, Kind: ch.Kind, ID: ch.ID, Entity: ch.Entity, Relationship: ch.Relationship,
			Type: strOrNil(ch.Type), From: strOrNil(ch.From), To: strOrNil(ch.To)}
		if r := ch.Relationship; r != nil {
			wc.Type, wc.From, wc.To = &r.Type, &r.From, &r.To
		}
		out.Changes[i] = wc
	}
	return out
}
