package local_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDigestAcrossKill runs the built binary: a rule with a digest window,
// 200 events in a burst with a kill -9 in the middle of it (inside the
// window), a restart and the rest of the burst. The mailbox gets the first
// event at once and, when the window closes, one digest naming the other
// 199 — exactly once, though the process died with the digest held.
//
// Time is compressed: a 20 s window instead of 60 s, and the burst starts
// just after a window boundary (windows are aligned to multiples of the
// window), so the test takes about a minute.
func TestDigestAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the service binary")
	}
	const window = 20
	_, mail := startGoSMTP(t)
	s := newService(t, "ARGO_NOTIFY_SMTP_CA_FILE="+mail.CAFile)
	s.startProcess(t)
	s.connectSMTP(t, mail)
	prefix := "d" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	to := prefix + "@digest.test"
	s.must(t, http.MethodPost, "/v1/rules", map[string]any{
		"name": "storm " + prefix, "eventTypes": allTypes, "severities": allSeverities,
		"recipients": map[string]any{"emails": []string{to}}, "digest": map[string]any{"windowSeconds": window},
	}, http.StatusCreated, nil)
	mine := func() []mailMsg {
		var out []mailMsg
		for _, m := range mail.Messages(t) {
			if m.To == to {
				out = append(out, m)
			}
		}
		return out
	}

	// Start just after a window boundary: the burst then fits in one.
	now := time.Now()
	next := now.Truncate(window * time.Second).Add(window * time.Second)
	time.Sleep(next.Sub(now) + 200*time.Millisecond)
	windowEnd := next.Add(window * time.Second)

	evs := make([]map[string]any, 200)
	for i := range evs {
		evs[i] = event(fmt.Sprintf("%s-%d", prefix, i), "SYSTEM", allSeverities[i%3])
	}
	s.mustPost(t, evs[0])
	eventually(t, 10*time.Second, func() string {
		if n := len(mine()); n < 1 {
			return "the first event has not arrived"
		}
		return ""
	})
	for i := 1; i < 100; i += 10 {
		s.mustPost(t, evs[i:i+10]...)
	}
	s.kill(t)
	s.startProcess(t)
	for i := 100; i < 200; i += 10 {
		s.mustPost(t, evs[i:i+10]...)
	}
	if time.Now().After(windowEnd) {
		t.Fatalf("the burst outlasted the %d s window: this machine is too slow for the test", window)
	}
	if n := len(mine()); n != 1 {
		t.Fatalf("%d messages inside the window, want 1 (the first event)", n)
	}
	eventually(t, 2*window*time.Second, func() string {
		if n := len(mine()); n < 2 {
			return "the digest has not arrived"
		}
		for _, d := range s.deliveries(t, "") {
			if strings.HasPrefix(d.EventID, prefix+"-") && d.Status != "sent" {
				return fmt.Sprintf("delivery %s is %s", d.ID, d.Status)
			}
		}
		return ""
	})
	time.Sleep(2 * time.Second) // a duplicate, if any, would come now
	got := mine()
	slices.SortFunc(got, func(a, b mailMsg) int { return a.At.Compare(b.At) })
	if len(got) != 2 {
		t.Fatalf("%d messages, want 2 (the first event and one digest): %+v", len(got), got)
	}
	if !strings.Contains(got[1].Subject, "Digest: 199 more events") {
		t.Errorf("second message %q, want the digest of 199", got[1].Subject)
	}
	t.Logf("first at %s, digest at %s (window end %s)", got[0].At.Format(time.TimeOnly), got[1].At.Format(time.TimeOnly), windowEnd.Format(time.TimeOnly))
}
