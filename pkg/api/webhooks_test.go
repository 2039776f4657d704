package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/api"
	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/send/webhook"
)

// hookReceiver is a webhook receiver on 127.0.0.1 answering status.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	status int
	bodies [][]byte
	heads  []http.Header
}

func newHookReceiver(t *testing.T) *hookReceiver {
	rc := &hookReceiver{status: http.StatusOK}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.bodies, rc.heads = append(rc.bodies, b), append(rc.heads, r.Header.Clone())
		w.WriteHeader(rc.status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *hookReceiver) last(t *testing.T) ([]byte, http.Header) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bodies) == 0 {
		t.Fatal("the receiver got nothing")
	}
	return rc.bodies[len(rc.bodies)-1], rc.heads[len(rc.heads)-1]
}

func loopbackWebhooks(c *api.Config) { c.Webhooks = webhook.Options{AllowLoopbackHTTP: true} }

func TestWebhookLifecycle(t *testing.T) {
	rc := newHookReceiver(t)
	e := newEnv(t, loopbackWebhooks)
	r := e.do("POST", "/v1/integrations/webhooks", `{"name":"Pager","url":"`+rc.URL+`/in","headers":{"Authorization":"Bearer hdr-token-77"}}`)
	if r.status != http.StatusCreated {
		t.Fatalf("connect: %d %s", r.status, r.body)
	}
	w := r.json(t)
	id, _ := w["id"].(string)
	secret, _ := w["secret"].(string)
	if !strings.HasPrefix(id, "whk_") || !strings.HasPrefix(secret, "whsec_") || len(secret) < 40 {
		t.Fatalf("connect answered id %q secret %q", id, secret)
	}
	if r.header.Get("Location") != "/v1/integrations/webhooks/"+id || r.header.Get("ETag") != `"1"` {
		t.Errorf("Location %q ETag %q", r.header.Get("Location"), r.header.Get("ETag"))
	}
	if w["secretSet"] != true || strings.Contains(string(r.body), "hdr-token-77") {
		t.Errorf("connect body = %s: want secretSet and no header value", r.body)
	}
	for _, path := range []string{"/v1/integrations/webhooks", "/v1/integrations/webhooks/" + id} {
		raw := e.do("GET", path, "").body
		if strings.Contains(string(raw), secret) || strings.Contains(string(raw), "hdr-token-77") {
			t.Errorf("GET %s shows a secret: %s", path, raw)
		}
		if !strings.Contains(string(raw), `"headerNames":["Authorization"]`) {
			t.Errorf("GET %s lacks the header names: %s", path, raw)
		}
	}

	// The test delivery is signed with the secret shown once.
	res := e.must(http.StatusOK, "POST", "/v1/integrations/webhooks/"+id+"/test", "")
	if res["ok"] != true {
		t.Fatalf("test = %v", res)
	}
	body, h := rc.last(t)
	if err := ingest.VerifySignature(h.Get("X-Argo-Signature"), body, []string{secret}, time.Now()); err != nil {
		t.Errorf("test delivery signature: %v", err)
	}
	if h.Get("Authorization") != "Bearer hdr-token-77" || h.Get("Idempotency-Key") != res["deliveryId"] {
		t.Errorf("test delivery headers = %v", h)
	}

	// PUT: If-Match required; an omitted secret and headers keep the stored ones.
	put := `{"name":"Pager 2","url":"` + rc.URL + `/v2"}`
	if r := e.do("PUT", "/v1/integrations/webhooks/"+id, put); r.status != http.StatusPreconditionRequired {
		t.Errorf("PUT without If-Match: %d", r.status)
	}
	if r := e.do("PUT", "/v1/integrations/webhooks/"+id, put, "If-Match", `"7"`); r.status != http.StatusPreconditionFailed {
		t.Errorf("PUT with a stale If-Match: %d", r.status)
	}
	e.must(http.StatusOK, "PUT", "/v1/integrations/webhooks/"+id, put, "If-Match", `"1"`)
	e.must(http.StatusOK, "POST", "/v1/integrations/webhooks/"+id+"/test", "")
	body, h = rc.last(t)
	if err := ingest.VerifySignature(h.Get("X-Argo-Signature"), body, []string{secret}, time.Now()); err != nil {
		t.Errorf("after a PUT without secret, the old secret no longer signs: %v", err)
	}
	if h.Get("Authorization") != "Bearer hdr-token-77" {
		t.Errorf("after a PUT without headers, they were lost: %v", h)
	}
	e.must(http.StatusOK, "PUT", "/v1/integrations/webhooks/"+id, `{"name":"Pager 2","url":"`+rc.URL+`/v2","secret":"a-new-secret-0123456789","headers":{}}`, "If-Match", `"2"`)
	e.must(http.StatusOK, "POST", "/v1/integrations/webhooks/"+id+"/test", "")
	body, h = rc.last(t)
	if err := ingest.VerifySignature(h.Get("X-Argo-Signature"), body, []string{"a-new-secret-0123456789"}, time.Now()); err != nil {
		t.Errorf("the new secret does not sign: %v", err)
	}
	if h.Get("Authorization") != "" {
		t.Errorf("headers {} did not remove them: %v", h)
	}

	// Rules name it by id; it cannot go while they do.
	if r := e.do("POST", "/v1/rules", ruleJSON("Hooked", `"webhooks":["whk_nope"]`)); r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "recipients.webhooks[0]") {
		t.Errorf("rule naming an unknown webhook: %d %s", r.status, r.body)
	}
	rule := e.must(http.StatusCreated, "POST", "/v1/rules", ruleJSON("Hooked", `"webhooks":["`+id+`"]`))
	if r := e.do("DELETE", "/v1/integrations/webhooks/"+id, ""); r.status != http.StatusConflict || !strings.Contains(string(r.body), `"in_use"`) || !strings.Contains(string(r.body), rule["id"].(string)) {
		t.Errorf("delete a webhook a rule names: %d %s", r.status, r.body)
	}
	e.must(http.StatusNoContent, "DELETE", "/v1/rules/"+rule["id"].(string), "")
	wh, err := e.store.GetWebhook(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusNoContent, "DELETE", "/v1/integrations/webhooks/"+id, "")
	e.secretGone(wh.SecretRef)
	e.must(http.StatusNotFound, "GET", "/v1/integrations/webhooks/"+id, "")

	if strings.Contains(e.logs.String(), secret) || strings.Contains(e.logs.String(), "hdr-token-77") {
		t.Errorf("the logs show a secret or header value")
	}
}

func TestWebhookRefusals(t *testing.T) {
	rc := newHookReceiver(t)
	e := newEnv(t, loopbackWebhooks)
	e.must(http.StatusCreated, "POST", "/v1/integrations/webhooks", `{"name":"Pager","url":"`+rc.URL+`"}`)
	tests := []struct {
		name, body string
		status     int
		field      string
	}{
		{"name taken, other case", `{"name":"PAGER","url":"` + rc.URL + `"}`, http.StatusConflict, ""},
		{"metadata address", `{"name":"m","url":"https://169.254.169.254/latest"}`, http.StatusUnprocessableEntity, "url"},
		{"link-local v6", `{"name":"m","url":"https://[fe80::1]/x"}`, http.StatusUnprocessableEntity, "url"},
		{"http off loopback", `{"name":"m","url":"http://93.184.216.34/x"}`, http.StatusUnprocessableEntity, "url"},
		{"not a URL", `{"name":"m","url":"hooks"}`, http.StatusUnprocessableEntity, "url"},
		{"credentials in URL", `{"name":"m","url":"https://u:p@127.0.0.1/x"}`, http.StatusUnprocessableEntity, "url"},
		{"reserved header", `{"name":"m","url":"` + rc.URL + `","headers":{"Idempotency-Key":"x"}}`, http.StatusUnprocessableEntity, "headers"},
		{"host header", `{"name":"m","url":"` + rc.URL + `","headers":{"host":"x"}}`, http.StatusUnprocessableEntity, "headers"},
		{"short secret", `{"name":"m","url":"` + rc.URL + `","secret":"short"}`, http.StatusUnprocessableEntity, "secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/v1/integrations/webhooks", tt.body)
			if r.status != tt.status || !strings.Contains(string(r.body), `"field":"`+tt.field) {
				t.Errorf("status %d body %s; want %d on field %q", r.status, r.body, tt.status, tt.field)
			}
		})
	}
	if all, _ := e.store.ListWebhooks(context.Background()); len(all) != 1 {
		t.Errorf("refused connects stored webhooks: %d", len(all))
	}
}

func TestWebhookTestReportsFailure(t *testing.T) {
	rc := newHookReceiver(t)
	e := newEnv(t, loopbackWebhooks)
	id := e.must(http.StatusCreated, "POST", "/v1/integrations/webhooks", `{"name":"Pager","url":"`+rc.URL+`"}`)["id"].(string)
	for _, tt := range []struct {
		status    int
		retryable bool
	}{{http.StatusServiceUnavailable, true}, {http.StatusBadRequest, false}} {
		rc.mu.Lock()
		rc.status = tt.status
		rc.mu.Unlock()
		res := e.must(http.StatusOK, "POST", "/v1/integrations/webhooks/"+id+"/test", "")
		if res["ok"] != false || (res["retryable"] == true) != tt.retryable || !strings.Contains(res["error"].(string), "HTTP") {
			t.Errorf("test against HTTP %d = %v", tt.status, res)
		}
	}
}

func TestWebhooksNeedLoopbackOption(t *testing.T) {
	rc := newHookReceiver(t)
	e := newEnv(t) // as on AWS: no loopback
	r := e.do("POST", "/v1/integrations/webhooks", `{"name":"Pager","url":"`+rc.URL+`"}`)
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("http://127.0.0.1 without the local option: %d %s", r.status, r.body)
	}
	if n := len(rc.bodies); n != 0 {
		t.Errorf("the receiver was called %d times", n)
	}
}
