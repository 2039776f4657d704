package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/api"
	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// signed returns the headers of an ingest request: the signature of body
// with secret at time at, and no bearer token.
func signed(secret, body string, at time.Time) []string {
	return []string{"X-Argo-Signature", ingest.Sign(secret, []byte(body), at), "Authorization", ""}
}

// eventJSON is a valid event; extra is spliced into the object.
func eventJSON(title, extra string) string {
	return fmt.Sprintf(`{"type":"DEPLOYMENT","severity":"CRITICAL","title":%q,"source":"argo/prod"%s}`, title, extra)
}

func TestIngest(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		secret  string
		wantIDs []string
	}{
		{name: "one event, id derived from the request", body: eventJSON("web-7 failed", ""), secret: ingestSecret, wantIDs: []string{"derived:0"}},
		{name: "one event with its id", body: eventJSON("web-7 failed", `,"id":"argo-42"`), secret: ingestSecret, wantIDs: []string{"argo-42"}},
		{name: "a batch keeps the order", secret: ingestSecret,
			body:    "[" + eventJSON("a", `,"id":"e-1"`) + "," + eventJSON("b", "") + "," + eventJSON("c", `,"id":"e-3"`) + "]",
			wantIDs: []string{"e-1", "derived:1", "e-3"}},
		{name: "the same id twice is accepted", secret: ingestSecret,
			body:    "[" + eventJSON("a", `,"id":"dup"`) + "," + eventJSON("a", `,"id":"dup"`) + "]",
			wantIDs: []string{"dup", "dup"}},
		{name: "signed with the secret being rotated out", body: eventJSON("x", ""), secret: oldIngestSecret, wantIDs: []string{"derived:0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// "derived:<i>": the id derived from the signed request.
			for i, id := range tc.wantIDs {
				var n int
				if _, err := fmt.Sscanf(id, "derived:%d", &n); err == nil {
					tc.wantIDs[i] = ingest.DerivedID(clock.Unix(), []byte(tc.body), n)
				}
			}
			e := newEnv(t)
			r := e.do("POST", "/v1/events", tc.body, signed(tc.secret, tc.body, clock)...)
			if r.status != http.StatusAccepted {
				t.Fatalf("status %d, want 202; body %s", r.status, r.body)
			}
			var got api.EventsAccepted
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.IDs, tc.wantIDs) {
				t.Errorf("ids %v, want %v", got.IDs, tc.wantIDs)
			}
			msgs := e.producer.sent()
			if len(msgs) != len(tc.wantIDs) {
				t.Fatalf("queued %d messages, want %d", len(msgs), len(tc.wantIDs))
			}
			for i, m := range msgs {
				var ev notify.Event
				if err := json.Unmarshal(m.Body, &ev); err != nil {
					t.Fatalf("message %d body %s: %v", i, m.Body, err)
				}
				if m.ID != tc.wantIDs[i] || ev.ID != m.ID || ev.ReceivedAt.IsZero() || ev.Source != "argo/prod" {
					t.Errorf("message %d: id %q, event %+v", i, m.ID, ev)
				}
				want := map[string]string{"eventId": m.ID, "eventType": "DEPLOYMENT", "severity": "CRITICAL"}
				if diff := cmp.Diff(want, m.Attributes); diff != "" {
					t.Errorf("message %d attributes (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

// TestIngestQueueFailure checks that nothing is claimed accepted when the
// queue or the secret fails.
func TestIngestQueueFailure(t *testing.T) {
	body := eventJSON("x", "")
	t.Run("producer fails", func(t *testing.T) {
		e := newEnv(t)
		e.producer.err = errBroken
		r := e.do("POST", "/v1/events", body, signed(ingestSecret, body, clock)...)
		if r.status != http.StatusServiceUnavailable || r.json(t)["code"] != "unavailable" || r.header.Get("Retry-After") == "" {
			t.Fatalf("answer %d %v %s", r.status, r.header, r.body)
		}
		if strings.Contains(string(r.body), "queue.sock") || strings.Contains(string(r.body), "ids") {
			t.Errorf("the answer reveals the cause or claims ids: %s", r.body)
		}
		if !strings.Contains(e.logs.String(), "queue.sock") {
			t.Errorf("the log lacks the cause: %s", e.logs)
		}
	})
	t.Run("secrets unreadable", func(t *testing.T) {
		e := newEnv(t, func(c *api.Config) {
			c.IngestSecrets = func(context.Context) ([]string, error) { return nil, errors.New("secrets manager throttled") }
		})
		r := e.do("POST", "/v1/events", body, signed(ingestSecret, body, clock)...)
		if r.status != http.StatusServiceUnavailable {
			t.Fatalf("answer %d %s", r.status, r.body)
		}
		if n := len(e.producer.sent()); n != 0 {
			t.Errorf("queued %d messages", n)
		}
	})
}

// TestOptionalRoutes checks that the routes of nil Config fields are left
// out.
func TestOptionalRoutes(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.Producer, c.IngestSecrets, c.Planner, c.DeadLetters = nil, nil, nil, nil })
	for _, tc := range []struct{ method, path string }{
		{"POST", "/v1/events"}, {"POST", "/v1/match"}, {"GET", "/v1/dead-letters"}, {"POST", "/v1/dead-letters/x/redrive"},
	} {
		if r := e.do(tc.method, tc.path, `{}`); r.status != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", tc.method, tc.path, r.status)
		}
		// Without the ingest route, nothing is open to an unauthenticated caller.
		if r := e.do(tc.method, tc.path, `{}`, "Authorization", ""); r.status != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d, want 401", tc.method, tc.path, r.status)
		}
	}
	for _, path := range []string{"/v1/deliveries", "/v1/integrations/smtp", "/v1/integrations/slack"} {
		if r := e.do("GET", path, ""); r.status != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}
}

// TestNewIngestAlone checks the ingest handler the ingest Lambda serves
// without the admin API: the same answers as the admin API's route.
func TestNewIngestAlone(t *testing.T) {
	body := eventJSON("x", `,"id":"e-1"`)
	tests := []struct {
		name, method, body string
		headers            []string
		status             int
		code               string
	}{
		{name: "signed", method: "POST", body: body, headers: signed(ingestSecret, body, clock), status: http.StatusAccepted},
		{name: "unsigned", method: "POST", body: body, status: http.StatusUnauthorized, code: "unauthorized"},
		{name: "empty body", method: "POST", headers: signed(ingestSecret, "", clock), status: http.StatusBadRequest, code: "malformed"},
		{name: "oversized", method: "POST", body: strings.Repeat(" ", notify.MaxEventBody+1), status: http.StatusRequestEntityTooLarge, code: "too_large"},
		{name: "invalid", method: "POST", body: `{"type":"JOB"}`, headers: signed(ingestSecret, `{"type":"JOB"}`, clock), status: http.StatusUnprocessableEntity, code: "invalid"},
		{name: "other method", method: "GET", status: http.StatusMethodNotAllowed, code: "method_not_allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &fakeProducer{}
			h := api.NewIngest(api.IngestConfig{Producer: p, Secrets: ingestSecrets, Now: func() time.Time { return clock }})
			e := &env{t: t, h: h}
			r := e.do(tc.method, "/v1/events", tc.body, tc.headers...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.code != "" {
				if got := r.json(t)["code"]; got != tc.code || r.header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("code %v (%s), want %s problem+json", got, r.header.Get("Content-Type"), tc.code)
				}
				if n := len(p.sent()); n != 0 {
					t.Errorf("queued %d messages", n)
				}
				return
			}
			var got api.EventsAccepted
			if err := json.Unmarshal(r.body, &got); err != nil || !slices.Equal(got.IDs, []string{"e-1"}) {
				t.Errorf("body %s, want ids [e-1]", r.body)
			}
			if msgs := p.sent(); len(msgs) != 1 || msgs[0].ID != "e-1" {
				t.Errorf("queued %v", msgs)
			}
		})
	}
}
