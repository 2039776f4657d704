package local_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
)

// hookSink is a webhook receiver on 127.0.0.1: /ok answers 204, /flaky 503
// (Retry-After: 1) to the first POST of each delivery and 200 after,
// /bad 400, /moved a 302 to /target. It verifies every signature with the
// ingest verifier, against the secret of the webhook the path belongs to.
type hookSink struct {
	*httptest.Server
	mu      sync.Mutex
	secrets map[string]string         // path → signing secret
	hits    map[string]map[string]int // path → deliveryId → POSTs
	bodies  map[string]map[string]hookBody
	badSigs []string
	other   []string // requests that break the contract
}

type hookBody struct {
	DeliveryID string `json:"deliveryId"`
	Event      struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"event"`
	Rules []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"rules"`
}

func startHookSink(t *testing.T) *hookSink {
	k := &hookSink{secrets: map[string]string{}, hits: map[string]map[string]int{}, bodies: map[string]map[string]hookBody{}}
	k.Server = httptest.NewServer(http.HandlerFunc(k.serve))
	t.Cleanup(k.Close)
	return k
}

func (k *hookSink) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	k.mu.Lock()
	defer k.mu.Unlock()
	path := r.URL.Path
	if path == "/target" {
		k.count(path, "redirected")
		w.WriteHeader(http.StatusOK)
		return
	}
	var b hookBody
	switch {
	case r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json":
		k.other = append(k.other, fmt.Sprintf("%s %s with Content-Type %q", r.Method, path, r.Header.Get("Content-Type")))
	case json.Unmarshal(body, &b) != nil || b.DeliveryID == "":
		k.other = append(k.other, fmt.Sprintf("%s: body %s", path, body))
	case r.Header.Get("Idempotency-Key") != b.DeliveryID:
		k.other = append(k.other, fmt.Sprintf("%s: Idempotency-Key %q for delivery %q", path, r.Header.Get("Idempotency-Key"), b.DeliveryID))
	}
	if err := ingest.VerifySignature(r.Header.Get(ingest.SignatureHeader), body, []string{k.secrets[path]}, time.Now()); err != nil {
		k.badSigs = append(k.badSigs, path+" "+b.DeliveryID+": "+err.Error())
	}
	n := k.count(path, b.DeliveryID)
	if k.bodies[path] == nil {
		k.bodies[path] = map[string]hookBody{}
	}
	k.bodies[path][b.DeliveryID] = b
	switch path {
	case "/ok":
		w.WriteHeader(http.StatusNoContent)
	case "/flaky":
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	case "/bad":
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "unknown field")
	case "/moved":
		http.Redirect(w, r, "/target", http.StatusFound)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (k *hookSink) count(path, id string) int {
	if k.hits[path] == nil {
		k.hits[path] = map[string]int{}
	}
	k.hits[path][id]++
	return k.hits[path][id]
}

func (k *hookSink) snapshot() (hits map[string]map[string]int, badSigs, other []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	hits = map[string]map[string]int{}
	for p, m := range k.hits {
		hits[p] = map[string]int{}
		for id, n := range m {
			hits[p][id] = n
		}
	}
	return hits, slices.Clone(k.badSigs), slices.Clone(k.other)
}

// TestWebhookEndToEnd runs the built binary with four webhooks on a
// receiver on 127.0.0.1 and checks what each received: every delivery
// exactly once and correctly signed, a 503 retried once then sent, a 400
// failed, a redirect failed and not followed; an event posted twice
// notifies once.
func TestWebhookEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the service binary")
	}
	sink := startHookSink(t)
	s := newService(t)
	s.startProcess(t)

	ids := map[string]string{} // path → webhook id
	for _, path := range []string{"/ok", "/flaky", "/bad", "/moved"} {
		var w struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		}
		s.must(t, http.MethodPost, "/v1/integrations/webhooks", map[string]any{
			"name": "hook " + path, "url": sink.URL + path, "headers": map[string]string{"Authorization": "Bearer e2e"},
		}, http.StatusCreated, &w)
		if w.ID == "" || w.Secret == "" {
			t.Fatalf("connect %s answered %+v", path, w)
		}
		sink.mu.Lock()
		sink.secrets[path] = w.Secret
		sink.mu.Unlock()
		ids[path] = w.ID
	}
	all := []string{ids["/ok"], ids["/flaky"], ids["/bad"], ids["/moved"]}
	s.must(t, http.MethodPost, "/v1/rules", map[string]any{
		"name": "all hooks", "eventTypes": []string{"JOB"}, "severities": []string{"CRITICAL"},
		"recipients": map[string]any{"webhooks": all},
	}, http.StatusCreated, nil)
	var second struct {
		ID string `json:"id"`
	}
	s.must(t, http.MethodPost, "/v1/rules", map[string]any{
		"name": "ok hook too", "eventTypes": []string{"JOB"}, "severities": []string{"CRITICAL", "INFO"},
		"recipients": map[string]any{"webhooks": []string{ids["/ok"]}},
	}, http.StatusCreated, &second)
	if st, b := s.call(t, http.MethodDelete, "/v1/integrations/webhooks/"+ids["/ok"], nil); st != http.StatusConflict || !strings.Contains(string(b), second.ID) {
		t.Errorf("delete a webhook rules name = %d %s, want 409 naming the rules", st, b)
	}

	const n = 6
	var events []map[string]any
	for i := range n {
		events = append(events, event(fmt.Sprintf("wh-%d", i), "JOB", "CRITICAL"))
	}
	s.mustPost(t, events...)
	s.mustPost(t, events[0]) // the same event again: no second delivery

	want := map[string]string{"/ok": "sent", "/flaky": "sent", "/bad": "failed", "/moved": "failed"}
	eventually(t, 60*time.Second, func() string {
		for _, ev := range events {
			ds := s.deliveries(t, ev["id"].(string))
			for path, status := range want {
				i := slices.IndexFunc(ds, func(d delivery) bool { return d.Channel == "webhook" && d.Recipient == ids[path] })
				if i < 0 {
					return fmt.Sprintf("event %s: no delivery to %s yet", ev["id"], path)
				}
				if ds[i].Status != status {
					return fmt.Sprintf("event %s: delivery to %s is %s (%s), want %s", ev["id"], path, ds[i].Status, ds[i].LastError, status)
				}
			}
		}
		return ""
	})
	time.Sleep(1500 * time.Millisecond) // a stray resend would arrive by now

	hits, badSigs, other := sink.snapshot()
	if len(badSigs) > 0 || len(other) > 0 {
		t.Errorf("bad signatures %q; contract breaks %q", badSigs, other)
	}
	for path, per := range map[string]int{"/ok": 1, "/flaky": 2, "/bad": 1, "/moved": 1} {
		if len(hits[path]) != n {
			t.Errorf("%s received %d deliveries, want %d: %v", path, len(hits[path]), n, hits[path])
		}
		for id, got := range hits[path] {
			if got != per {
				t.Errorf("%s: delivery %s arrived %d times, want %d", path, id, got, per)
			}
		}
	}
	if len(hits["/target"]) != 0 {
		t.Errorf("the redirect was followed: %v", hits["/target"])
	}
	for _, ev := range events {
		id := ev["id"].(string)
		ds := s.deliveries(t, id)
		for _, d := range ds {
			switch {
			case d.Recipient == ids["/flaky"] && d.Attempts != 2:
				t.Errorf("%s: flaky delivery took %d attempts, want 2", id, d.Attempts)
			case d.Recipient == ids["/moved"] && !strings.Contains(d.LastError, "redirect"):
				t.Errorf("%s: redirect failure says %q", id, d.LastError)
			case d.Recipient == ids["/bad"] && !strings.Contains(d.LastError, "400"):
				t.Errorf("%s: 400 failure says %q", id, d.LastError)
			case d.Recipient == ids["/ok"] && len(d.RuleIDs) != 2:
				t.Errorf("%s: the ok delivery names rules %v, want both", id, d.RuleIDs)
			}
		}
		did := id + "|webhook|" + ids["/ok"]
		sink.mu.Lock()
		b := sink.bodies["/ok"][did]
		sink.mu.Unlock()
		if b.Event.ID != id || len(b.Rules) != 2 {
			t.Errorf("payload of %s = %+v, want the event and both rules", did, b)
		}
	}
}
