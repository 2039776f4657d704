package store

import (
	"context"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// Webhooks keeps the connected webhooks. Names are unique, compared
// case-insensitively. The signing secret and header values are not here:
// they sit in Secrets behind Webhook.SecretRef.
type Webhooks interface {
	// CreateWebhook stores a new webhook (the caller sets ID, timestamps
	// and Version 1); EConflict if the id or the name is taken.
	CreateWebhook(ctx context.Context, w *notify.Webhook) error
	// GetWebhook returns the webhook with the id or ENotFound.
	GetWebhook(ctx context.Context, id string) (*notify.Webhook, error)
	// ListWebhooks returns every webhook, oldest first.
	ListWebhooks(ctx context.Context) ([]*notify.Webhook, error)
	// UpdateWebhook replaces a webhook whose stored version is
	// w.Version-1: EStale otherwise, ENotFound if it does not exist,
	// EConflict if the new name is taken by another.
	UpdateWebhook(ctx context.Context, w *notify.Webhook) error
	// DeleteWebhook removes a webhook. version 0 deletes whatever version
	// is stored; otherwise EStale if it does not match. ENotFound if it
	// does not exist.
	DeleteWebhook(ctx context.Context, id string, version int64) error
}
