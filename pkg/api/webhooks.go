package api

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
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

// input is the part of the body a client sets.
func (w *Webhook) input() admin.WebhookInput {
	return admin.WebhookInput{Name: w.Name, URL: w.URL, Secret: w.Secret, Headers: w.Headers}
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

func (s *server) registerWebhooks(api huma.API) {
	h := s.webhooks
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
		all, err := h.List(ctx)
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
		w, secret, err := h.Connect(ctx, in.Body.input())
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
		w, err := h.Get(ctx, in.ID)
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
		w, err := h.Update(ctx, in.ID, in.Body.input(), ifMatchLater(in.IfMatch, true))
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
		if err := h.Disconnect(ctx, in.ID, ifMatchLater(in.IfMatch, false)); err != nil {
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
		res, err := h.Test(ctx, in.ID)
		if err != nil {
			return nil, fail(ctx, "test webhook", err)
		}
		return &struct{ Body WebhookTestResult }{Body: WebhookTestResult(res)}, nil
	})
}
