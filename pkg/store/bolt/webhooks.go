package bolt

import (
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Buckets of the webhooks: order key → JSON, id → order key, folded name → id.
var bWebhooks, bWebhooksID, bWebhooksName = []byte("webhooks"), []byte("webhooks.id"), []byte("webhooks.name")

var _ store.Webhooks = (*Store)(nil)

var webhooks = &table[notify.Webhook]{
	kind: "webhook", uniqField: "name",
	data: bWebhooks, ids: bWebhooksID, names: bWebhooksName,
	id:           func(w *notify.Webhook) string { return w.ID },
	uniq:         func(w *notify.Webhook) string { return w.Name },
	createdAt:    func(w *notify.Webhook) time.Time { return w.CreatedAt },
	version:      func(w *notify.Webhook) int64 { return w.Version },
	setCreatedAt: func(w *notify.Webhook, t time.Time) { w.CreatedAt = t },
}

// CreateWebhook stores a new webhook; EConflict if the id or name is taken.
func (s *Store) CreateWebhook(ctx context.Context, w *notify.Webhook) error {
	return s.update(ctx, func(tx *bbolt.Tx) error { return webhooks.insert(tx, w) })
}

// GetWebhook returns the webhook with the id or ENotFound.
func (s *Store) GetWebhook(ctx context.Context, id string) (*notify.Webhook, error) {
	var out *notify.Webhook
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		w, _, err := webhooks.get(tx, id)
		out = w
		return err
	})
	return out, err
}

// ListWebhooks returns every webhook, oldest first.
func (s *Store) ListWebhooks(ctx context.Context) ([]*notify.Webhook, error) {
	var out []*notify.Webhook
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		out, err = webhooks.all(tx)
		return err
	})
	return out, err
}

// UpdateWebhook replaces the webhook stored at version w.Version-1.
func (s *Store) UpdateWebhook(ctx context.Context, w *notify.Webhook) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, key, err := webhooks.get(tx, w.ID)
		if err != nil {
			return err
		}
		if old.Version != w.Version-1 {
			return stale("webhook", w.ID, old.Version, w.Version-1)
		}
		return webhooks.replace(tx, old, key, w)
	})
}

// DeleteWebhook removes a webhook (at version, unless version is 0).
func (s *Store) DeleteWebhook(ctx context.Context, id string, version int64) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, _, err := webhooks.get(tx, id)
		if err != nil {
			return err
		}
		if version != 0 && old.Version != version {
			return stale("webhook", id, old.Version, version)
		}
		return webhooks.remove(tx, old)
	})
}
