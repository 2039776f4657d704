package dynamo

import (
	"context"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// webhooks are items pk WEBHOOK#<id>, sk WEBHOOK, with a name guard
// WEBHOOKNAME#<folded name>. The secret stays behind SecretRef.
var webhooks = &kind[notify.Webhook]{
	name: "webhook", prefix: "WEBHOOK", guard: "WEBHOOKNAME", uniqField: "name",
	id:           func(w *notify.Webhook) string { return w.ID },
	uniq:         func(w *notify.Webhook) string { return w.Name },
	createdAt:    func(w *notify.Webhook) time.Time { return w.CreatedAt },
	version:      func(w *notify.Webhook) int64 { return w.Version },
	setCreatedAt: func(w *notify.Webhook, t time.Time) { w.CreatedAt = t },
}

var _ store.Webhooks = (*Store)(nil)

// CreateWebhook stores a new webhook; EConflict if the id or name is taken.
func (s *Store) CreateWebhook(ctx context.Context, w *notify.Webhook) error {
	return webhooks.insert(ctx, s, w)
}

// GetWebhook returns the webhook with the id or ENotFound.
func (s *Store) GetWebhook(ctx context.Context, id string) (*notify.Webhook, error) {
	return webhooks.get(ctx, s, id)
}

// ListWebhooks returns every webhook, oldest first.
func (s *Store) ListWebhooks(ctx context.Context) ([]*notify.Webhook, error) {
	return webhooks.all(ctx, s)
}

// UpdateWebhook replaces the webhook stored at version w.Version-1.
func (s *Store) UpdateWebhook(ctx context.Context, w *notify.Webhook) error {
	return webhooks.update(ctx, s, w, nil)
}

// DeleteWebhook removes a webhook (at version, unless version is 0).
func (s *Store) DeleteWebhook(ctx context.Context, id string, version int64) error {
	return webhooks.remove(ctx, s, id, version, nil)
}
