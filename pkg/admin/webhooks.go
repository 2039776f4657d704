package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// WebhookClient is what the webhook service needs of the webhook channel:
// whether a URL is one the service may call (its host resolved and checked
// against link-local and metadata addresses), and a signed test post.
// pkg/send/webhook's Client, adapted in pkg/api, is the one in use.
type WebhookClient interface {
	// CheckURL returns an EInvalid *notify.Error (field "url") when the
	// service must not call rawURL.
	CheckURL(ctx context.Context, rawURL string) error
	// PostTest posts ev to w, signed with sec, as delivery deliveryID. On
	// failure, retry says whether a real delivery would be retried (408,
	// 429, 5xx, network errors).
	PostTest(ctx context.Context, w *notify.Webhook, sec notify.WebhookSecret, deliveryID string, ev *notify.Event) (retry bool, err error)
}

// WebhooksConfig holds what the webhook integration service needs. Every
// field but Now and Logger is required.
type WebhooksConfig struct {
	Webhooks store.Webhooks
	// Rules is read to refuse disconnecting a webhook a rule names.
	Rules store.Rules
	// Secrets keeps each webhook's signing secret and header values.
	Secrets store.Secrets
	Client  WebhookClient
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// IDs returns a new unique, sortable id (a ULID).
	IDs func() string
	// Logger receives failures to delete secrets no longer used. Default:
	// slog.Default().
	Logger *slog.Logger
	// Audit, if set, records every connect, update and disconnect (names
	// only: URLs and settings can hold credentials).
	Audit store.Audit
}

// Webhooks is the webhook integration service: endpoints connected,
// changed, tested and disconnected, each signing secret (with the header
// values) kept in the secret store under a name of its own version.
type Webhooks struct {
	store   store.Webhooks
	rules   store.Rules
	secrets store.Secrets
	client  WebhookClient
	clock   clock
	log     *slog.Logger
	audit   auditor
}

// NewWebhooks returns the webhook integration service. It panics if a
// required field of cfg is nil, a programming error in the caller's wiring.
func NewWebhooks(cfg WebhooksConfig) *Webhooks {
	if cfg.Webhooks == nil || cfg.Rules == nil || cfg.Secrets == nil || cfg.Client == nil {
		panic("admin.NewWebhooks: Config.Webhooks, Rules, Secrets or Client is nil")
	}
	c := newClock(cfg.Now, cfg.IDs)
	return &Webhooks{store: cfg.Webhooks, rules: cfg.Rules, secrets: cfg.Secrets, client: cfg.Client,
		clock: c, log: orDefault(cfg.Logger), audit: newAuditor(cfg.Audit, c, cfg.Logger)}
}

// WebhookInput is what a client sets on a webhook. An empty Secret on
// connect asks for a generated one, and on update keeps the stored one; nil
// Headers on update keeps the stored ones (an empty map removes them).
type WebhookInput struct {
	Name    string
	URL     string
	Secret  string
	Headers map[string]string
}

// WebhookTest is the outcome of a test delivery.
type WebhookTest struct {
	OK         bool
	DeliveryID string
	Retryable  bool   // on failure: whether a real delivery would be retried
	Error      string // why it failed
}

// webhookSecretName names the secret of webhook id at version v: a new
// version gets a new secret, as for SMTP passwords.
func webhookSecretName(id string, v int64) string {
	return "webhook/" + id + "/v" + strconv.FormatInt(v, 10)
}

// newSigningSecret returns 32 random bytes, hex-encoded.
func newSigningSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "whsec_" + hex.EncodeToString(b)
}

// List returns every connected webhook, oldest first.
func (s *Webhooks) List(ctx context.Context) ([]*notify.Webhook, error) {
	return s.store.ListWebhooks(ctx)
}

// Get returns the webhook with the id, or ENotFound.
func (s *Webhooks) Get(ctx context.Context, id string) (*notify.Webhook, error) {
	return s.store.GetWebhook(ctx, id)
}

// check validates the name, the URL (resolving its host), the secret and
// the headers, reporting every field at fault.
func (s *Webhooks) check(ctx context.Context, in WebhookInput) error {
	var fields []notify.FieldError
	if err := notify.ValidateWebhook(in.Name, in.URL, in.Headers); err != nil {
		f, ok := fieldsOf(err)
		if !ok {
			return err
		}
		fields = f
	}
	if in.Secret != "" && (len(in.Secret) < 16 || len(in.Secret) > 256) {
		fields = append(fields, notify.FieldError{Field: "secret", Message: "must be 16-256 characters"})
	}
	if !slices.ContainsFunc(fields, func(f notify.FieldError) bool { return f.Field == "url" }) {
		if err := s.client.CheckURL(ctx, in.URL); err != nil {
			f, ok := fieldsOf(err)
			if !ok {
				return err
			}
			fields = append(fields, f...)
		}
	}
	if len(fields) > 0 {
		return invalid(fields)
	}
	return nil
}

// nameTaken fails with EConflict if another webhook has the name (the
// store checks again, atomically; this answers before a secret is written).
func (s *Webhooks) nameTaken(ctx context.Context, id, name string) error {
	all, err := s.store.ListWebhooks(ctx)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.ID != id && strings.EqualFold(o.Name, name) {
			return &notify.Error{Code: notify.EConflict, Message: "a webhook is already called " + quote(name),
				Fields: []notify.FieldError{{Field: "name", Message: "is already taken"}}}
		}
	}
	return nil
}

// Connect stores a new webhook (id whk_<ulid>) and its secret. It returns
// the webhook and the signing secret, to be shown once.
func (s *Webhooks) Connect(ctx context.Context, in WebhookInput) (*notify.Webhook, string, error) {
	if err := s.check(ctx, in); err != nil {
		return nil, "", err
	}
	if err := s.nameTaken(ctx, "", in.Name); err != nil {
		return nil, "", err
	}
	sec := notify.WebhookSecret{Signing: in.Secret, Headers: in.Headers}
	if sec.Signing == "" {
		sec.Signing = newSigningSecret()
	}
	now := s.clock.stamp()
	w := &notify.Webhook{ID: "whk_" + s.clock.ids(), Name: in.Name, URL: in.URL, HeaderNames: notify.WebhookHeaderNames(in.Headers),
		Version: 1, CreatedAt: now, UpdatedAt: now}
	ref, err := s.secrets.PutSecret(ctx, webhookSecretName(w.ID, 1), sec.Encode())
	if err != nil {
		return nil, "", err
	}
	w.SecretRef = ref
	if err := s.store.CreateWebhook(ctx, w); err != nil {
		dropSecret(ctx, s.secrets, s.log, ref)
		return nil, "", err
	}
	s.audit.record(ctx, "webhook.connect", "webhook", w.ID, w.Name, nil, nil)
	return w, sec.Signing, nil
}

// Update replaces the webhook id, if pre accepts its stored version; an
// empty secret or nil headers keep the stored ones.
func (s *Webhooks) Update(ctx context.Context, id string, in WebhookInput, pre Precondition) (*notify.Webhook, error) {
	cur, err := s.store.GetWebhook(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := pre.check("webhook "+cur.ID, cur.Version); err != nil {
		return nil, err
	}
	if err := s.check(ctx, in); err != nil {
		return nil, err
	}
	if err := s.nameTaken(ctx, cur.ID, in.Name); err != nil {
		return nil, err
	}
	w := &notify.Webhook{ID: cur.ID, Name: in.Name, URL: in.URL, HeaderNames: cur.HeaderNames, SecretRef: cur.SecretRef,
		Version: cur.Version + 1, CreatedAt: cur.CreatedAt, UpdatedAt: s.clock.stamp()}
	if in.Secret != "" || in.Headers != nil {
		old, err := s.secrets.GetSecret(ctx, cur.SecretRef)
		if err != nil {
			return nil, err
		}
		sec, err := notify.DecodeWebhookSecret(old)
		if err != nil {
			return nil, err
		}
		if in.Secret != "" {
			sec.Signing = in.Secret
		}
		if in.Headers != nil {
			sec.Headers = in.Headers
			w.HeaderNames = notify.WebhookHeaderNames(in.Headers)
		}
		if w.SecretRef, err = s.secrets.PutSecret(ctx, webhookSecretName(w.ID, w.Version), sec.Encode()); err != nil {
			return nil, err
		}
	}
	if err := s.store.UpdateWebhook(ctx, w); err != nil {
		if w.SecretRef != cur.SecretRef {
			dropSecret(ctx, s.secrets, s.log, w.SecretRef)
		}
		return nil, err
	}
	if w.SecretRef != cur.SecretRef {
		dropSecret(ctx, s.secrets, s.log, cur.SecretRef)
	}
	s.audit.record(ctx, "webhook.update", "webhook", w.ID, w.Name, nil, nil)
	return w, nil
}

// Disconnect removes the webhook id, if pre accepts its stored version and
// no rule names it (EInUse, Refs = the rules), then its secret. The rule
// check is not atomic with the delete: a rule created meanwhile naming the
// webhook gets its deliveries failed ("webhook … is not connected").
func (s *Webhooks) Disconnect(ctx context.Context, id string, pre Precondition) error {
	cur, err := s.store.GetWebhook(ctx, id)
	if err != nil {
		return err
	}
	pin, err := pre.check("webhook "+cur.ID, cur.Version)
	if err != nil {
		return err
	}
	rules, err := s.rules.AllRules(ctx)
	if err != nil {
		return err
	}
	var refs []string
	for _, r := range rules {
		if slices.Contains(r.Recipients.Webhooks, id) {
			refs = append(refs, r.ID)
		}
	}
	if len(refs) > 0 {
		return &notify.Error{Code: notify.EInUse, Refs: refs,
			Message: "webhook " + quote(id) + " is named by " + strconv.Itoa(len(refs)) + " rule(s); remove it from them first"}
	}
	if pin == 0 {
		pin = cur.Version
	}
	if err := s.store.DeleteWebhook(ctx, id, pin); err != nil {
		return err
	}
	s.audit.record(ctx, "webhook.disconnect", "webhook", cur.ID, cur.Name, nil, nil)
	dropSecret(ctx, s.secrets, s.log, cur.SecretRef)
	return nil
}

// Test posts a signed test payload (a SYSTEM INFO event, no rules) to the
// stored webhook id and reports how it answered. Nothing is recorded.
func (s *Webhooks) Test(ctx context.Context, id string) (WebhookTest, error) {
	w, err := s.store.GetWebhook(ctx, id)
	if err != nil {
		return WebhookTest{}, err
	}
	v, err := s.secrets.GetSecret(ctx, w.SecretRef)
	if err != nil {
		return WebhookTest{}, err
	}
	sec, err := notify.DecodeWebhookSecret(v)
	if err != nil {
		return WebhookTest{}, err
	}
	ev := &notify.Event{ID: "test_" + s.clock.ids(), Type: notify.TypeSystem, Severity: notify.SeverityInfo,
		Title: "argo-notify test delivery", Message: "Sent by POST /v1/integrations/webhooks/" + id + "/test.",
		Source: "argo-notify", ReceivedAt: s.clock.stamp()}
	res := WebhookTest{DeliveryID: notify.DeliveryID(ev.ID, notify.ChannelWebhook, id)}
	if retry, err := s.client.PostTest(ctx, w, sec, res.DeliveryID, ev); err != nil {
		res.Error, res.Retryable = err.Error(), retry
		return res, nil
	}
	res.OK = true
	return res, nil
}
