package graph

import (
	"context"
	"errors"
	"strings"
	"testing"
)

const testWebhookSecret = "0123456789abcdef-secret"

// TestWebhookLifecycle: a webhook is created with an id and a cursor at its own commit,
// listed, its delivery state recorded, and deleted; after that, recording its delivery
// is ENOTFOUND. The log has its commits, but no client reader sees them or the secret.
func TestWebhookLifecycle(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	before := s.Seq()
	h, err := s.CreateWebhook(ctx, Webhook{URL: "https://hooks.example.com/x", Secret: testWebhookSecret,
		Filter: &WebhookFilter{IDs: []string{"nzb"}, Kinds: []ItemKind{KindEntityItem}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.ID) != 16 || h.Delivery.Seq != before+1 || s.Seq() != before+1 {
		t.Fatalf("CreateWebhook = id %q cursor %d (store at %d), want a 16-digit id and cursor %d", h.ID, h.Delivery.Seq, s.Seq(), before+1)
	}
	list, err := s.Webhooks(ctx)
	if err != nil || len(list) != 1 || list[0].ID != h.ID || list[0].Secret != testWebhookSecret || list[0].Filter.IDs[0] != "nzb" {
		t.Fatalf("Webhooks = %+v, %v; want the one created", list, err)
	}
	d := WebhookDelivery{Seq: 42, Delivered: 3, Failures: 1, PendingSeq: 43}
	if err := s.SetWebhookDelivery(ctx, h.ID, d); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Webhook(ctx, h.ID); err != nil || got.Delivery != d || got.URL != h.URL {
		t.Fatalf("Webhook after SetWebhookDelivery = %+v, %v; want delivery %+v", got, err, d)
	}
	page, err := s.Changes(ctx, ChangesQuery{After: before, First: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Commits) != 2 {
		t.Fatalf("the log holds %d commits after the webhook's creation, want 2", len(page.Commits))
	}
	for _, c := range page.Commits {
		if kept, _ := (ChangeFilter{}).Match(&c); len(kept) != 0 {
			t.Errorf("commit %d shows clients %+v; webhooks are internal", c.Seq, kept)
		}
	}
	if err := s.DeleteWebhook(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SetWebhookDelivery(ctx, h.ID, d); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("SetWebhookDelivery(deleted) = %v, want NOT_FOUND", err)
	}
	if err := s.DeleteWebhook(ctx, h.ID); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("DeleteWebhook(deleted) = %v, want NOT_FOUND", err)
	}
	if list, _ := s.Webhooks(ctx); len(list) != 0 {
		t.Fatalf("Webhooks after delete = %+v, want none", list)
	}
}

// TestCreateWebhookInvalid: each bad input is INVALID_INPUT naming its field, and
// nothing is stored.
func TestCreateWebhookInvalid(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	MustSaveQuery(t, s, SavedQuery{Name: "stats", Query: `{ stats { entities } }`})
	f := &WebhookFilter{}
	for _, c := range []struct {
		name  string
		h     Webhook
		field string
	}{
		{"relative url", Webhook{URL: "/hooks", Secret: testWebhookSecret, Filter: f}, "url"},
		{"ftp url", Webhook{URL: "ftp://example.com/x", Secret: testWebhookSecret, Filter: f}, "url"},
		{"credentials", Webhook{URL: "https://u:p@example.com/x", Secret: testWebhookSecret, Filter: f}, "url"},
		{"no secret", Webhook{URL: "https://example.com/x", Filter: f}, "secret"},
		{"short secret", Webhook{URL: "https://example.com/x", Secret: "short", Filter: f}, "secret"},
		{"neither", Webhook{URL: "https://example.com/x", Secret: testWebhookSecret}, "filter"},
		{"both", Webhook{URL: "https://example.com/x", Secret: testWebhookSecret, Filter: f, SavedQuery: &WebhookSavedQuery{Name: "stats"}}, "filter"},
		{"internal kind", Webhook{URL: "https://example.com/x", Secret: testWebhookSecret, Filter: &WebhookFilter{Kinds: []ItemKind{kindAPIKeyItem}}}, "filter.kinds"},
		{"unknown saved query", Webhook{URL: "https://example.com/x", Secret: testWebhookSecret, SavedQuery: &WebhookSavedQuery{Name: "nope"}}, "savedQuery.name"},
		{"variables not an object", Webhook{URL: "https://example.com/x", Secret: testWebhookSecret, SavedQuery: &WebhookSavedQuery{Name: "stats", Variables: []byte(`[1]`)}}, "savedQuery.variables"},
	} {
		t.Run(c.name, func(t *testing.T) {
			seq := s.Seq()
			_, err := s.CreateWebhook(ctx, c.h)
			var ge *Error
			if !errors.As(err, &ge) || ge.Code != EINVALID || ge.Field != c.field {
				t.Fatalf("CreateWebhook(%+v) = %v, want INVALID_INPUT on %s", c.h, err, c.field)
			}
			if strings.Contains(ge.Message, testWebhookSecret) {
				t.Errorf("the message %q shows the secret", ge.Message)
			}
			if list, _ := s.Webhooks(ctx); len(list) != 0 || s.Seq() != seq {
				t.Fatalf("after a refused CreateWebhook: %d webhooks, store at %d (was %d)", len(list), s.Seq(), seq)
			}
		})
	}
	if _, err := s.CreateWebhook(ctx, Webhook{URL: "http://example.com/x", Secret: testWebhookSecret, SavedQuery: &WebhookSavedQuery{Name: "stats"}}); err != nil {
		t.Fatalf("CreateWebhook(saved query that exists) = %v", err)
	}
}
