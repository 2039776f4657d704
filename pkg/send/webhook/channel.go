package webhook

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/argoproj-labs/argo-notify/pkg/channel"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// Webhooks reads a connected webhook (store.Webhooks is one).
type Webhooks interface {
	GetWebhook(ctx context.Context, id string) (*notify.Webhook, error)
}

// Secrets reads a secret by reference (store.Secrets is one).
type Secrets interface {
	GetSecret(ctx context.Context, ref string) (string, error)
}

// Config says where the webhook channel finds its webhooks.
type Config struct {
	Webhooks Webhooks
	Secrets  Secrets
	Options  Options
}

// Spec returns the webhook channel for the registry: rules name webhook
// ids under recipients.webhooks.
//
// Without cfg.Webhooks the channel has no router and its deliveries are
// skipped.
func Spec(cfg Config) channel.Channel {
	c := channel.Channel{
		Name:      notify.ChannelWebhook,
		Field:     "webhooks",
		Via:       "webhook",
		Addresses: func(r notify.Recipients) []string { return r.Webhooks },
	}
	if cfg.Webhooks != nil {
		s := NewSender(cfg)
		c.Router = channel.RouterFunc(func(context.Context) (send.Sender, error) { return s, nil })
	}
	return c
}

// Sender delivers to the webhook n.To[0] names, reading it (and, once per
// version, its secret) from the store. It is safe for concurrent use.
type Sender struct {
	cfg    Config
	client *Client

	mu      sync.Mutex
	secrets map[string]notify.WebhookSecret // by "<id>@<version>"
}

// NewSender returns the webhook channel's sender.
func NewSender(cfg Config) *Sender {
	return &Sender{cfg: cfg, client: NewClient(cfg.Options), secrets: map[string]notify.WebhookSecret{}}
}

// Send posts n to the webhook whose id is n.To[0]. A webhook that no
// longer exists is a permanent failure; a store or secret that cannot be
// read, a transient one.
func (s *Sender) Send(ctx context.Context, n *send.Notification) (send.Result, error) {
	if n == nil || n.Event == nil {
		return send.Result{}, send.Permanent(errors.New("webhook: notification has no event"))
	}
	if len(n.To) != 1 || n.To[0] == "" {
		return send.Result{}, send.Permanent(fmt.Errorf("webhook: want exactly one webhook id, got %q", n.To))
	}
	id := n.To[0]
	w, err := s.cfg.Webhooks.GetWebhook(ctx, id)
	if notify.IsCode(err, notify.ENotFound) {
		return send.Result{}, send.Permanent(fmt.Errorf("webhook %q is not connected", id))
	}
	if err != nil {
		return send.Result{}, send.Transient(fmt.Errorf("webhook %q: read it: %w", id, err), 0)
	}
	sec, err := s.secret(ctx, w)
	if err != nil {
		return send.Result{}, send.Transient(err, 0)
	}
	p := &Payload{DeliveryID: notify.DeliveryID(n.Event.ID, notify.ChannelWebhook, id), Event: n.Event, Rules: n.Rules}
	if p.Rules == nil {
		p.Rules = []send.RuleRef{}
	}
	return s.client.Post(ctx, Target{URL: w.URL, Secret: sec.Signing, Headers: sec.Headers}, p)
}

func (s *Sender) secret(ctx context.Context, w *notify.Webhook) (notify.WebhookSecret, error) {
	key := fmt.Sprintf("%s@%d", w.ID, w.Version)
	s.mu.Lock()
	sec, ok := s.secrets[key]
	s.mu.Unlock()
	if ok {
		return sec, nil
	}
	v, err := s.cfg.Secrets.GetSecret(ctx, w.SecretRef)
	if err != nil {
		return notify.WebhookSecret{}, fmt.Errorf("webhook %q: read its secret: %w", w.Name, err)
	}
	if sec, err = notify.DecodeWebhookSecret(v); err != nil {
		return notify.WebhookSecret{}, fmt.Errorf("webhook %q: %w", w.Name, err)
	}
	s.mu.Lock()
	if len(s.secrets) > 256 {
		clear(s.secrets)
	}
	s.secrets[key] = sec
	s.mu.Unlock()
	return sec, nil
}
