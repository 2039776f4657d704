package local_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// accepted is the 202 answer of POST /v1/events.
type accepted struct {
	IDs        []string `json:"ids"`
	Duplicates []string `json:"duplicates"`
	Conflicts  []string `json:"conflicts"`
}

func (s *service) postSigned(t *testing.T, body []byte, signature string) accepted {
	t.Helper()
	status, b, err := s.postEvents(context.Background(), body, signature)
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("POST /v1/events = %d, %v: %s", status, err, b)
	}
	var a accepted
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return a
}

// TestReplaySafeIngest: a signed request replayed as captured (same
// signature, same body) within the signature window gets the same ids for
// its id-less events, is reported as duplicates and notifies nobody twice;
// an id sent again with another body is reported as a conflict.
func TestReplaySafeIngest(t *testing.T) {
	r := newFaultRig(t, false)
	ev := event("x", "JOB", "CRITICAL")
	delete(ev, "id")
	ev["title"] = "replay-1 JOB CRITICAL"
	body, _ := json.Marshal([]map[string]any{ev})
	sig := r.s.sign(body)
	first := r.s.postSigned(t, body, sig)
	replay := r.s.postSigned(t, body, sig)
	if len(first.IDs) != 1 || !strings.HasPrefix(first.IDs[0], "evt_") || len(first.Duplicates) != 0 {
		t.Fatalf("first answer %+v", first)
	}
	if !slices.Equal(replay.IDs, first.IDs) || !slices.Equal(replay.Duplicates, first.IDs) || len(replay.Conflicts) != 0 {
		t.Errorf("the replay's answer %+v, want the same ids, all duplicates", replay)
	}
	// Signed again later (a new timestamp): a new request, new ids.
	time.Sleep(1100 * time.Millisecond)
	again := r.s.postSigned(t, body, r.s.sign(body))
	if slices.Equal(again.IDs, first.IDs) {
		t.Errorf("a request signed at another time got the same ids %v", again.IDs)
	}

	a := event("r-1", "JOB", "CRITICAL")
	b := event("r-1", "JOB", "CRITICAL")
	b["title"] = "r-1 another event reusing the id"
	ab, _ := json.Marshal([]map[string]any{a})
	bb, _ := json.Marshal([]map[string]any{b})
	if got := r.s.postSigned(t, ab, r.s.sign(ab)); len(got.Conflicts)+len(got.Duplicates) != 0 {
		t.Errorf("first r-1: %+v", got)
	}
	if got := r.s.postSigned(t, bb, r.s.sign(bb)); !slices.Equal(got.Conflicts, []string{"r-1"}) {
		t.Errorf("r-1 with another body: %+v, want a conflict", got)
	}
	if got := r.s.postSigned(t, ab, r.s.sign(ab)); !slices.Equal(got.Duplicates, []string{"r-1"}) {
		t.Errorf("r-1 with the first body again: %+v, want a duplicate", got)
	}

	for _, id := range []string{first.IDs[0], again.IDs[0], "r-1"} {
		if d := r.finalDelivery(t, id); d.Status != "sent" {
			t.Errorf("delivery of %s: %+v", id, d)
		}
	}
	time.Sleep(500 * time.Millisecond) // a second mail, if any, would come now
	mails := r.mail.Messages(t)
	if len(mails) != 3 {
		t.Errorf("%d mails, want 3 (the request, the one signed later, r-1 once)", len(mails))
	}
	if !strings.Contains(r.s.out.String(), "conflicts_total=1") {
		t.Errorf("no conflict logged with its counter:\n%s", r.s.out.String())
	}
}
