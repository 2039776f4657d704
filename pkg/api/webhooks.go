package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/webhook"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Webhook is the JSON representation of a connected webhook. The signing
// secret and the header values are write-only: the secret is shown once,
// in the answer to the POST that connects the webhook; afterwards only
// secretSet and headerNames are returned.
type Webhook struct {
	ID          string            `json:"id,omitzero" readOnly:"true" doc:"Assigned by the service: whk_<ulid>. Rules name it in recipients.webhooks." example:"whk_01JDZ5Q8X9K7W3M2N4P6R8T0VB"`
	Name        string            `json:"name" doc:"Unique (case-insensitive), 1-128 characters." example:"PagerDuty"`
	URL         string            `json:"url" maxLength:"2048" doc:"An https:// URL (http:// to loopback in local mode). Its host must not resolve to a link-local or cloud metadata address. Redirects are not followed." example:"https://hooks.example.com/argo"`
	Secret      string            `json:"secret,omitempty" maxLength:"256" doc:"The HMAC-SHA256 signing secret (16-256 characters). Generated when omitted on connect, and returned only in that answer; omit it on PUT to keep the stored one."`
	Headers     map[string]string `json:"headers,omitempty" writeOnly:"true" maxProperties:"16" doc:"Extra request headers, e.g. Authorization. Write-only: values are never returned. Omit on PUT to keep the stored ones; {} removes them. Content-Type, Idempotency-Key, X-Argo-Signature and Host cannot be set."`
	HeaderNames []string          `json:"headerNames,omitzero" readOnly:"true" doc:"The names of the extra headers that are set."`
	SecretSet   bool              `json:"secretSet" readOnly:"true" required:"false" doc:"Whether a signing secret is kept (always, once connected)."`
	Version     int64             `json:"version,omitzero" readOnly:"true" doc:"Incremented on every change; the ETag is this number, quoted."`
	CreatedAt   time.Time         `json:"createdAt,omitzero" readOnly:"true"`
	UpdatedAt   time.Time         `json:"updatedAt,omitzero" readOnly:"true"`
}

func webhookFrom(w *notify.Webhook) Webhook {
	names := slices.Clone(w.HeaderNames)
	if names == nil {
		names = []string{}
	}
	return Webhook{ID: w.ID, Name: w.Name, URL: w.URL, HeaderNames: names, SecretSet: w.SecretRef != "",
		Version: w.Version, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

// WebhookList is every connected webhook.
type WebhookList struct {
	Items []Webhook `json:"items" doc:"The webhooks, oldest first."`
}

// WebhookTestResult is the outcome of a test delivery.
type WebhookTestResult struct {
	OK         bool   `json:"ok" doc:"Whether the webhook answered 2xx."`
	DeliveryID string `json:"deliveryId" doc:"The deliveryId (and Idempotency-Key) of the test payload."`
	Retryable  bool   `json:"retryable,omitempty" doc:"On failure: whether a real delivery would be retried (408, 429, 5xx, network)."`
	Error      string `json:"error,omitempty" doc:"Why it failed." example:"webhook hooks.example.com answered HTTP 401"`
}

type webhookIDInput struct {
	ID string `path:"id" maxLength:"200" doc:"The webhook id."`
}

type webhookOutput struct {
	Status   int
	ETag     string `header:"ETag"`
	Location string `header:"Location"`
	Body     Webhook
}

type updateWebhookInput struct {
	ID      string `path:"id" maxLength:"200" doc:"The webhook id."`
	IfMatch string `header:"If-Match" doc:"Required: the ETag of the version you read, e.g. \"3\"."`
	Body    Webhook
}

type deleteWebhookInput struct {
	ID      string `path:"id" maxLength:"200" doc:"The webhook id."`
	IfMatch string `header:"If-Match" doc:"Optional: delete only if the webhook is still at this version (its ETag)."`
}

// webhooks holds the webhook use cases (connect, change, test, disconnect
// with the secret lifecycle); the handlers below only translate HTTP.
type webhooks struct {
	store  store.Store
	client *webhook.Client
	ids    func() string
	now    func() time.Time
	drop   func(ctx context.Context, ref string)
}

func (s *server) registerWebhooks(api huma.API, opts webhook.Options) {
	h := &webhooks{store: s.store, client: webhook.NewClient(opts), ids: s.ids, now: s.stamp, drop: s.dropSecret}
	reg := func(op huma.Operation) huma.Operation {
		op.Tags = []string{"integrations"}
		if op.Method == http.MethodPost || op.Method == http.MethodPut {
			op.MaxBodyBytes = maxBody + 1
		}
		return op
	}
	fail := s.fail
	huma.Register(api, reg(huma.Operation{
		OperationID: "listWebhooks", Method: http.MethodGet, Path: "/v1/integrations/webhooks",
		Summary: "List webhooks", Errors: []int{401},
	}), func(ctx context.Context, _ *struct{}) (*struct{ Body WebhookList }, error) {
		all, err := h.store.ListWebhooks(ctx)
		if err != nil {
			return nil, fail(ctx, "list webhooks", err)
		}
		out := &struct{ Body WebhookList }{Body: WebhookList{Items: make([]Webhook, 0, len(all))}}
		for _, w := range all {
			out.Body.Items = append(out.Body.Items, webhookFrom(w))
		}
		return out, nil
	})
	huma.Register(api, reg(huma.Operation{
		OperationID: "connectWebhook", Method: http.MethodPost, Path: "/v1/integrations/webhooks",
		Summary: "Connect a webhook",
		Description: "Saves a webhook; the signing secret (generated when omitted) and the header values go to the secret store. " +
			"The answer is the only one that shows the secret. Each delivery is a POST of {deliveryId, event, rules} with " +
			"X-Argo-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")> and Idempotency-Key: <deliveryId>.",
		DefaultStatus: http.StatusCreated, Errors: []int{400, 401, 409, 413, 415, 422},
	}), func(ctx context.Context, in *struct{ Body Webhook }) (*webhookOutput, error) {
		w, secret, err := h.connect(ctx, &in.Body)
		if err != nil {
			return nil, fail(ctx, "connect webhook", err)
		}
		out := &webhookOutput{Status: http.StatusCreated, ETag: etag(w.Version), Location: "/v1/integrations/webhooks/" + w.ID, Body: webhookFrom(w)}
		out.Body.Secret = secret
		return out, nil
	})
	huma.Register(api, reg(huma.Operation{
		OperationID: "getWebhook", Method: http.MethodGet, Path: "/v1/integrations/webhooks/{id}",
		Summary: "Get a webhook", Errors: []int{401, 404},
	}), func(ctx context.Context, in *webhookIDInput) (*webhookOutput, error) {
		w, err := h.store.GetWebhook(ctx, in.ID)
		if err != nil {
			return nil, fail(ctx, "get webhook", err)
		}
		return &webhookOutput{Status: http.StatusOK, ETag: etag(w.Version), Body: webhookFrom(w)}, nil
	})
	huma.Register(api, reg(huma.Operation{
		OperationID: "updateWebhook", Method: http.MethodPut, Path: "/v1/integrations/webhooks/{id}",
		Summary:     "Replace a webhook",
		Description: "Replaces the name, URL and, when sent, the secret and headers; an omitted secret or headers keeps the stored ones.",
		Errors:      []int{400, 401, 404, 409, 412, 413, 415, 422, 428},
	}), func(ctx context.Context, in *updateWebhookInput) (*webhookOutput, error) {
		pre, err := requireIfMatch(in.IfMatch)
		if err != nil {
			return nil, err
		}
		w, err := h.update(ctx, in.ID, pre, &in.Body)
		if err != nil {
			return nil, fail(ctx, "update webhook", err)
		}
		return &webhookOutput{Status: http.StatusOK, ETag: etag(w.Version), Body: webhookFrom(w)}, nil
	})
	huma.Register(api, reg(huma.Operation{
		OperationID: "disconnectWebhook", Method: http.MethodDelete, Path: "/v1/integrations/webhooks/{id}",
		Summary:       "Disconnect a webhook",
		Description:   "Removes the webhook and its secret. Refused (409 in_use, refs = the rule ids) while a rule names it.",
		DefaultStatus: http.StatusNoContent, Errors: []int{401, 404, 409, 412},
	}), func(ctx context.Context, in *deleteWebhookInput) (*struct{}, error) {
		pre, err := parseIfMatch(in.IfMatch)
		if err != nil {
			return nil, err
		}
		if err := h.disconnect(ctx, in.ID, pre); err != nil {
			return nil, fail(ctx, "disconnect webhook", err)
		}
		return nil, nil
	})
	huma.Register(api, reg(huma.Operation{
		OperationID: "testWebhook", Method: http.MethodPost, Path: "/v1/integrations/webhooks/{id}/test",
		Summary:     "Send a test delivery",
		Description: "Posts a signed test payload (a SYSTEM INFO event, no rules) to the webhook and reports how it answered. Nothing is recorded.",
		Errors:      []int{401, 404},
	}), func(ctx context.Context, in *webhookIDInput) (*struct{ Body WebhookTestResult }, error) {
		res, err := h.test(ctx, in.ID)
		if err != nil {
			return nil, fail(ctx, "test webhook", err)
		}
		return &struct{ Body WebhookTestResult }{Body: res}, nil
	})
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

// check validates the body's name, URL (resolving its host), secret and
// headers.
func (h *webhooks) check(ctx context.Context, b *Webhook) error {
	err := notify.ValidateWebhook(b.Name, b.URL, b.Headers)
	var fields []ProblemField
	if err != nil {
		p, ok := problemFrom(err)
		if !ok || p.Code != notify.EInvalid {
			return err
		}
		fields = p.Errors
	}
	if b.Secret != "" && (len(b.Secret) < 16 || len(b.Secret) > 256) {
		fields = append(fields, ProblemField{Field: "secret", Message: "must be 16-256 characters"})
	}
	if !slices.ContainsFunc(fields, func(f ProblemField) bool { return f.Field == "url" }) {
		if err := h.client.CheckURL(ctx, b.URL); err != nil {
			p, ok := problemFrom(err)
			if !ok {
				return err
			}
			fields = append(fields, p.Errors...)
		}
	}
	if len(fields) > 0 {
		return invalidFields(fields)
	}
	return nil
}

// nameTaken fails with EConflict if another webhook has the name (the
// store checks again, atomically; this answers before a secret is written).
func (h *webhooks) nameTaken(ctx context.Context, id, name string) error {
	all, err := h.store.ListWebhooks(ctx)
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

// connect stores a new webhook and its secret; it returns the webhook and
// the signing secret, to be shown once.
func (h *webhooks) connect(ctx context.Context, b *Webhook) (*notify.Webhook, string, error) {
	if err := h.check(ctx, b); err != nil {
		return nil, "", err
	}
	if err := h.nameTaken(ctx, "", b.Name); err != nil {
		return nil, "", err
	}
	sec := webhook.Secret{Signing: b.Secret, Headers: b.Headers}
	if sec.Signing == "" {
		sec.Signing = newSigningSecret()
	}
	now := h.now()
	w := &notify.Webhook{ID: "whk_" + h.ids(), Name: b.Name, URL: b.URL, HeaderNames: headerNames(b.Headers),
		Version: 1, CreatedAt: now, UpdatedAt: now}
	ref, err := h.store.PutSecret(ctx, webhookSecretName(w.ID, 1), sec.Encode())
	if err != nil {
		return nil, "", err
	}
	w.SecretRef = ref
	if err := h.store.CreateWebhook(ctx, w); err != nil {
		h.drop(ctx, ref)
		return nil, "", err
	}
	return w, sec.Signing, nil
}

// update replaces a webhook at the version pre names; an omitted secret or
// headers keeps the stored ones.
func (h *webhooks) update(ctx context.Context, id string, pre precondition, b *Webhook) (*notify.Webhook, error) {
	cur, err := h.store.GetWebhook(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := pre.check("webhook "+cur.ID, cur.Version); err != nil {
		return nil, err
	}
	if err := h.check(ctx, b); err != nil {
		return nil, err
	}
	if err := h.nameTaken(ctx, cur.ID, b.Name); err != nil {
		return nil, err
	}
	w := &notify.Webhook{ID: cur.ID, Name: b.Name, URL: b.URL, HeaderNames: cur.HeaderNames, SecretRef: cur.SecretRef,
		Version: cur.Version + 1, CreatedAt: cur.CreatedAt, UpdatedAt: h.now()}
	if b.Secret != "" || b.Headers != nil {
		old, err := h.store.GetSecret(ctx, cur.SecretRef)
		if err != nil {
			return nil, err
		}
		sec, err := webhook.DecodeSecret(old)
		if err != nil {
			return nil, err
		}
		if b.Secret != "" {
			sec.Signing = b.Secret
		}
		if b.Headers != nil {
			sec.Headers = b.Headers
			w.HeaderNames = headerNames(b.Headers)
		}
		if w.SecretRef, err = h.store.PutSecret(ctx, webhookSecretName(w.ID, w.Version), sec.Encode()); err != nil {
			return nil, err
		}
	}
	if err := h.store.UpdateWebhook(ctx, w); err != nil {
		if w.SecretRef != cur.SecretRef {
			h.drop(ctx, w.SecretRef)
		}
		return nil, err
	}
	if w.SecretRef != cur.SecretRef {
		h.drop(ctx, cur.SecretRef)
	}
	return w, nil
}

// disconnect removes a webhook no rule names, then its secret. The rule
// check is not atomic with the delete: a rule created meanwhile naming
// the webhook makes its deliveries fail as "not connected".
func (h *webhooks) disconnect(ctx context.Context, id string, pre precondition) error {
	cur, err := h.store.GetWebhook(ctx, id)
	if err != nil {
		return err
	}
	if err := pre.check("webhook "+cur.ID, cur.Version); err != nil {
		return err
	}
	rules, err := h.store.AllRules(ctx)
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
	if err := h.store.DeleteWebhook(ctx, id, cur.Version); err != nil {
		return err
	}
	h.drop(ctx, cur.SecretRef)
	return nil
}

// test posts a test payload to a stored webhook.
func (h *webhooks) test(ctx context.Context, id string) (WebhookTestResult, error) {
	w, err := h.store.GetWebhook(ctx, id)
	if err != nil {
		return WebhookTestResult{}, err
	}
	v, err := h.store.GetSecret(ctx, w.SecretRef)
	if err != nil {
		return WebhookTestResult{}, err
	}
	sec, err := webhook.DecodeSecret(v)
	if err != nil {
		return WebhookTestResult{}, err
	}
	ev := &notify.Event{ID: "test_" + h.ids(), Type: notify.TypeSystem, Severity: notify.SeverityInfo,
		Title: "argo-notify test delivery", Message: "Sent by POST /v1/integrations/webhooks/" + id + "/test.",
		Source: "argo-notify", ReceivedAt: h.now()}
	p := &webhook.Payload{DeliveryID: notify.DeliveryID(ev.ID, notify.ChannelWebhook, id), Event: ev, Rules: []send.RuleRef{}}
	res := WebhookTestResult{DeliveryID: p.DeliveryID}
	if _, err := h.client.Post(ctx, webhook.Target{URL: w.URL, Secret: sec.Signing, Headers: sec.Headers}, p); err != nil {
		res.Error, res.Retryable = err.Error(), !send.IsPermanent(err)
		return res, nil
	}
	res.OK = true
	return res, nil
}

// checkWebhookRefs adds a field error for each webhook r names that is
// not connected.
func (s *server) checkWebhookRefs(ctx context.Context, r *notify.Rule, fields *[]ProblemField) error {
	for i, id := range r.Recipients.Webhooks {
		if !notify.ValidID(id) {
			continue // reported by Validate
		}
		if _, err := s.store.GetWebhook(ctx, id); notify.IsCode(err, notify.ENotFound) {
			*fields = append(*fields, ProblemField{Field: indexed("recipients.webhooks", i), Message: quote(id) + " is not a connected webhook id"})
		} else if err != nil {
			return s.fail(ctx, "check rule webhooks", err)
		}
	}
	return nil
}

func headerNames(h map[string]string) []string {
	out := make([]string, 0, len(h))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		out = append(out, http.CanonicalHeaderKey(k))
	}
	return out
}
