package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Webhooks (api.md, "Changes and subscriptions") live under the key family W, outside
// the graph like API keys:
//
//	key                    value
//	W · webhook id (hex)   0x02 · JSON Webhook: URL, secret, filter or saved query, delivery state
//
// They are written through Store.commit like every other write (setRecord), so the
// change log records them as items of kindWebhookItem, which clients never see, and a
// follower or a restored store has them. The record holds the webhook's delivery cursor
// (WebhookDelivery.Seq, the last sequence delivered or given up on) and the state of the
// delivery being retried, so that a restarted server resumes where it stopped: a
// delivery may then be made twice (at least once), never lost.
//
// The secret is kept as given: the server needs it to sign deliveries (HMAC), so unlike
// an API key's it cannot be hashed. A backup holds it; Export never reads family W.
const famWebhook = 'W'

// Limits of webhooks.
const (
	// MinWebhookSecret and MaxWebhookSecret bound the length of a secret, in bytes.
	MinWebhookSecret = 16
	MaxWebhookSecret = 1024
	// MaxWebhookURL caps the length of a webhook's URL, in bytes.
	MaxWebhookURL = 2048
	// MaxWebhooks caps how many webhooks a store holds.
	MaxWebhooks    = 1000
	webhookIDBytes = 8
)

func webhookKey(id string) []byte { return append([]byte{famWebhook}, id...) }

// Webhook is a registered webhook: a URL the server POSTs to, signed with Secret, the
// commits that match Filter or the new results of SavedQuery (exactly one of the two).
type Webhook struct {
	ID         string             `json:"id"`
	URL        string             `json:"url"`
	Secret     string             `json:"secret"`
	Filter     *WebhookFilter     `json:"filter,omitempty"`
	SavedQuery *WebhookSavedQuery `json:"savedQuery,omitempty"`
	CreatedAt  time.Time          `json:"createdAt"`
	// Actor is the id of the API key that registered it, or empty.
	Actor    string          `json:"actor,omitempty"`
	Delivery WebhookDelivery `json:"delivery"`
}

// WebhookFilter selects the commits a filter webhook is sent, as ChangeFilter does
// (empty lists match all).
type WebhookFilter struct {
	IDs   []string   `json:"ids,omitempty"`
	Types []string   `json:"types,omitempty"`
	Kinds []ItemKind `json:"kinds,omitempty"`
}

// ChangeFilter returns f as the change log's filter.
func (f *WebhookFilter) ChangeFilter() ChangeFilter {
	return ChangeFilter{IDs: f.IDs, Types: f.Types, Kinds: f.Kinds}
}

// WebhookSavedQuery names the saved query a webhook watches (its latest version, run
// with Variables over its defaults).
type WebhookSavedQuery struct {
	Name      string          `json:"name"`
	Variables json.RawMessage `json:"variables,omitempty"`
}

// WebhookDelivery is where a webhook's deliveries stand.
type WebhookDelivery struct {
	// Seq is the cursor: the sequence through which the log was delivered (or passed
	// over: commits that do not match, deliveries given up on). For a saved-query
	// webhook it is the sequence of the last result delivered.
	Seq uint64 `json:"seq"`
	// Digest is, for a saved-query webhook, the SHA-256 (hex) of the last result
	// delivered (or of the first result, at registration), to which new results compare.
	Digest string `json:"digest,omitempty"`
	// DeliveredAt is when a delivery last succeeded.
	DeliveredAt time.Time `json:"deliveredAt,omitzero"`
	// Delivered and Dropped count the deliveries made and given up on.
	Delivered uint64 `json:"delivered,omitempty"`
	Dropped   uint64 `json:"dropped,omitempty"`
	// The delivery being retried, if any: its sequence, how many attempts failed, when
	// the first one did, when the next one is due, and why the last one failed.
	PendingSeq   uint64    `json:"pendingSeq,omitempty"`
	Failures     int       `json:"failures,omitempty"`
	FirstFailure time.Time `json:"firstFailure,omitzero"`
	NextRetry    time.Time `json:"nextRetry,omitzero"`
	LastError    string    `json:"lastError,omitempty"`
}

// validateWebhook checks h as CreateWebhook receives it. Errors: EINVALID naming the field.
func validateWebhook(h *Webhook) error {
	if len(h.URL) > MaxWebhookURL {
		return Invalid("url", "must be at most %d bytes", MaxWebhookURL)
	}
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" || u.User != nil || u.Fragment != "" {
		return Invalid("url", "must be an absolute http or https URL without credentials or fragment, e.g. https://hooks.example.com/lodestone; got %q", h.URL)
	}
	if h.Secret == "" {
		return Invalid("secret", "is required: the server signs every delivery with it (HMAC-SHA256); use at least %d random bytes", MinWebhookSecret)
	}
	if len(h.Secret) < MinWebhookSecret || len(h.Secret) > MaxWebhookSecret {
		return Invalid("secret", "must be %d to %d bytes long; got %d", MinWebhookSecret, MaxWebhookSecret, len(h.Secret))
	}
	if (h.Filter == nil) == (h.SavedQuery == nil) {
		return Invalid("filter", "give exactly one of filter (which commits to send) or savedQuery (whose new results to send)")
	}
	if f := h.Filter; f != nil {
		for _, k := range f.Kinds {
			if !k.Public() {
				return Invalid("filter.kinds", "%q is not an item kind; use ENTITY, RELATIONSHIP, SOURCE or SAVED_QUERY", string(k))
			}
		}
		if slices.Contains(f.IDs, "") {
			return Invalid("filter.ids", "must not hold an empty id")
		}
		if slices.Contains(f.Types, "") {
			return Invalid("filter.types", "must not hold an empty type")
		}
	}
	if q := h.SavedQuery; q != nil {
		if strings.TrimSpace(q.Name) == "" {
			return Invalid("savedQuery.name", "is required")
		}
		if v := q.Variables; len(v) > 0 && string(v) != "null" {
			var m map[string]any
			if err := json.Unmarshal(v, &m); err != nil || m == nil {
				return Invalid("savedQuery.variables", "must be a JSON object of parameter values")
			}
		}
	}
	return nil
}

// CreateWebhook registers h (URL, Secret, and Filter or SavedQuery; for a saved-query
// webhook, Delivery.Seq and Delivery.Digest say which result it starts from) and returns
// it with its new ID. Deliveries start after h.Delivery.Seq, or after the commit that
// registers it when that is 0.
//
// Errors: EINVALID naming the field (url: not an absolute http(s) URL; secret: missing
// or shorter than MinWebhookSecret; filter: neither or both of filter and savedQuery;
// filter.kinds; savedQuery.name: no such saved query; savedQuery.variables); ELIMIT
// beyond MaxWebhooks; ErrClosed.
func (s *Store) CreateWebhook(ctx context.Context, h Webhook) (*Webhook, error) {
	if err := validateWebhook(&h); err != nil {
		return nil, err
	}
	var id [webhookIDBytes]byte
	rand.Read(id[:])
	h.ID = hex.EncodeToString(id[:])
	h.CreatedAt = time.Now().UTC().Truncate(time.Second)
	h.Actor = actorFrom(ctx)
	_, err := s.commit(ctx, func(w *writer) error {
		if q := h.SavedQuery; q != nil {
			if _, err := w.txn.Get(queryHeadKey(q.Name)); errors.Is(err, badger.ErrKeyNotFound) {
				return Invalid("savedQuery.name", "there is no saved query %q", q.Name)
			} else if err != nil {
				return err
			}
		}
		n, err := countWebhooks(w.txn)
		if err != nil {
			return err
		}
		if n >= MaxWebhooks {
			return Errorf(ELIMIT, "a store holds at most %d webhooks; delete some first", MaxWebhooks)
		}
		if h.Delivery.Seq == 0 {
			h.Delivery.Seq = w.reg.version + 1 // this commit's sequence
		}
		return w.setRecord(kindWebhookItem, h.ID, webhookKey(h.ID), &h)
	})
	if err != nil {
		return nil, err
	}
	return &h, nil
}

func countWebhooks(txn *badger.Txn) (int, error) {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{famWebhook}})
	defer it.Close()
	n := 0
	for it.Rewind(); it.Valid(); it.Next() {
		n++
	}
	return n, nil
}

// Webhooks lists every webhook, by id.
func (s *Store) Webhooks(ctx context.Context) ([]*Webhook, error) {
	var hooks []*Webhook
	err := s.viewQueries(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{famWebhook}, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var h Webhook
			if err := it.Item().Value(func(b []byte) error { return decodeJSON(b, &h) }); err != nil {
				return err
			}
			hooks = append(hooks, &h)
		}
		return nil
	})
	return hooks, err
}

// Webhook returns the webhook id. Errors: ENOTFOUND; ErrClosed.
func (s *Store) Webhook(ctx context.Context, id string) (*Webhook, error) {
	var h Webhook
	err := s.viewQueries(ctx, func(txn *badger.Txn) error {
		ok, err := getJSON(txn, webhookKey(id), &h)
		if err == nil && !ok {
			err = Errorf(ENOTFOUND, "there is no webhook %s", id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// DeleteWebhook deletes the webhook id; its dispatcher stops at its next step (a
// delivery being retried is abandoned). Errors: ENOTFOUND; ErrClosed.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	_, err := s.commit(ctx, func(w *writer) error {
		k := webhookKey(id)
		if _, err := w.txn.Get(k); errors.Is(err, badger.ErrKeyNotFound) {
			return Errorf(ENOTFOUND, "there is no webhook %s", id)
		} else if err != nil {
			return err
		}
		w.changed(Change{Op: OpDelete, Kind: kindWebhookItem, ID: id, Key: k})
		return w.del(k)
	})
	return err
}

// SetWebhookDelivery records where the deliveries of webhook id stand (its cursor and
// retry state). Errors: ENOTFOUND when the webhook was deleted; ErrClosed.
func (s *Store) SetWebhookDelivery(ctx context.Context, id string, d WebhookDelivery) error {
	_, err := s.commit(ctx, func(w *writer) error {
		var h Webhook
		ok, err := getJSON(w.txn, webhookKey(id), &h)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(ENOTFOUND, "there is no webhook %s", id)
		}
		h.Delivery = d
		return w.setRecord(kindWebhookItem, id, webhookKey(id), &h)
	})
	return err
}
