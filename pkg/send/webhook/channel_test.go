package webhook_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/webhook"
)

type fakeStore struct {
	mu      sync.Mutex
	hooks   map[string]*notify.Webhook
	secrets map[string]string
	reads   int
}

func (f *fakeStore) GetWebhook(_ context.Context, id string) (*notify.Webhook, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.hooks[id]
	if !ok {
		return nil, notify.Errorf(notify.ENotFound, "no webhook %q", id)
	}
	cp := *w
	return &cp, nil
}

func (f *fakeStore) GetSecret(_ context.Context, ref string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	v, ok := f.secrets[ref]
	if !ok {
		return "", notify.Errorf(notify.ENotFound, "no secret")
	}
	return v, nil
}

func TestChannelSendsToTheNamedWebhook(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {})
	st := &fakeStore{
		hooks:   map[string]*notify.Webhook{"whk_1": {ID: "whk_1", Name: "Pager", URL: rc.URL + "/in", SecretRef: "ref1", Version: 1}},
		secrets: map[string]string{"ref1": notify.WebhookSecret{Signing: secret, Headers: map[string]string{"Authorization": "Bearer t"}}.Encode()},
	}
	spec := webhook.Spec(webhook.Config{Webhooks: st, Secrets: st, Options: webhook.Options{AllowLoopbackHTTP: true}})
	if spec.Name != notify.ChannelWebhook || spec.Field != "webhooks" {
		t.Fatalf("spec = %+v", spec)
	}
	if got := spec.Addresses(notify.Recipients{Emails: []string{"a@example.com"}, Webhooks: []string{"whk_1"}}); len(got) != 1 || got[0] != "whk_1" {
		t.Errorf("Addresses = %v, want [whk_1]", got)
	}
	s, err := spec.Router.Sender(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev := &notify.Event{ID: "evt-9", Type: notify.TypeSystem, Severity: notify.SeverityInfo, Title: "t"}
	for range 2 {
		if _, err := s.Send(ctx, &send.Notification{Event: ev, Channel: notify.ChannelWebhook, To: []string{"whk_1"}}); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	reqs := rc.requests()
	if len(reqs) != 2 {
		t.Fatalf("receiver saw %d requests, want 2", len(reqs))
	}
	if k := reqs[0].header.Get("Idempotency-Key"); k != "evt-9|webhook|whk_1" {
		t.Errorf("Idempotency-Key = %q", k)
	}
	if err := ingest.VerifySignature(reqs[1].header.Get("X-Argo-Signature"), reqs[1].body, []string{secret}, reqs[1].when()); err != nil {
		t.Errorf("signature: %v", err)
	}
	if reqs[0].header.Get("Authorization") != "Bearer t" {
		t.Errorf("the stored header was not sent")
	}
	if st.reads != 1 {
		t.Errorf("the secret was read %d times, want once per version", st.reads)
	}
	_, err = s.Send(ctx, &send.Notification{Event: ev, Channel: notify.ChannelWebhook, To: []string{"whk_gone"}})
	if !send.IsPermanent(err) {
		t.Errorf("Send to a webhook that is not connected = %v, want permanent", err)
	}
}

func TestChannelWithoutStoreSkips(t *testing.T) {
	spec := webhook.Spec(webhook.Config{})
	if spec.Router != nil {
		t.Errorf("a webhook channel without a store has a router")
	}
}
