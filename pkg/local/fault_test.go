package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/local"
	qlocal "github.com/argoproj-labs/argo-notify/pkg/queue/local"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp/smtptest"
)

// faultRig is local mode in process with an SMTP server and a Slack
// workspace connected and one rule sending every event to one address
// and one channel.
type faultRig struct {
	s     *service
	smtp  *smtptest.Server
	mail  smtpPeer
	slack *slackPeer
}

const (
	faultTo      = "ops@fault.test"
	faultChannel = "C0FAULT0001"
)

func newFaultRig(t *testing.T, withSlack bool) *faultRig {
	t.Helper()
	srv, mail := startGoSMTP(t)
	slack := startSlack(t)
	s := newService(t)
	s.startInProcess(t, local.Config{SlackAPIURL: slack.URL, SMTPCAFile: mail.CAFile})
	s.connectSMTP(t, mail)
	recipients := map[string]any{"emails": []string{faultTo}}
	if withSlack {
		s.connectSlack(t, slack)
		recipients = map[string]any{"slackChannels": []string{faultChannel}}
	}
	s.must(t, http.MethodPost, "/v1/rules", map[string]any{
		"name": "all", "eventTypes": allTypes, "severities": allSeverities, "recipients": recipients,
	}, http.StatusCreated, nil)
	return &faultRig{s: s, smtp: srv, mail: mail, slack: slack}
}

// finalDelivery waits until the only delivery of event id is final.
func (r *faultRig) finalDelivery(t *testing.T, id string) delivery {
	t.Helper()
	var got delivery
	eventually(t, 60*time.Second, func() string {
		ds := r.s.deliveries(t, id)
		if len(ds) != 1 {
			return fmt.Sprintf("%d deliveries of %s", len(ds), id)
		}
		got = ds[0]
		if got.Status != "sent" && got.Status != "failed" && got.Status != "skipped" {
			return fmt.Sprintf("delivery %s is %s", got.ID, got.Status)
		}
		return ""
	})
	return got
}

// queueEmpty waits until the queue holds nothing: every message handled
// and acknowledged, none dead.
func (r *faultRig) queueEmpty(t *testing.T) {
	t.Helper()
	eventually(t, 30*time.Second, func() string {
		st, err := r.s.Env.Queue.Stats(context.Background())
		if err != nil {
			return err.Error()
		}
		if st != (qlocal.Stats{}) {
			return fmt.Sprintf("queue: %+v", st)
		}
		return ""
	})
}

func TestFaultSMTP(t *testing.T) {
	tests := []struct {
		name         string
		replies      []int // the DATA replies in turn; 250 after the list
		wantStatus   string
		wantAttempts int
		wantMails    int
		wantDatas    int
	}{
		{name: "421 then 250: retried, one mail", replies: []int{421}, wantStatus: "sent", wantAttempts: 2, wantMails: 1, wantDatas: 2},
		{name: "550: failed, not retried", replies: []int{550}, wantStatus: "failed", wantAttempts: 1, wantMails: 0, wantDatas: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFaultRig(t, false)
			r.smtp.SetDataReply(func(n int) error {
				if n > len(tc.replies) {
					return nil
				}
				code := tc.replies[n-1]
				return smtptest.Reply(code, "scripted "+strconv.Itoa(code))
			})
			r.s.mustPost(t, event("f-1", "JOB", "CRITICAL"))
			d := r.finalDelivery(t, "f-1")
			r.queueEmpty(t)
			if d.Status != tc.wantStatus || d.Attempts != tc.wantAttempts {
				t.Errorf("delivery: status %s after %d attempts (%s), want %s after %d", d.Status, d.Attempts, d.LastError, tc.wantStatus, tc.wantAttempts)
			}
			if tc.wantStatus == "failed" && !strings.Contains(d.LastError, "550") {
				t.Errorf("last error %q does not give the server's reply", d.LastError)
			}
			if got := len(r.mail.Messages(t)); got != tc.wantMails {
				t.Errorf("%d mails arrived, want %d", got, tc.wantMails)
			}
			if got := r.smtp.DataCount(); got != tc.wantDatas {
				t.Errorf("the server answered %d DATA commands, want %d", got, tc.wantDatas)
			}
		})
	}
}

func TestFaultSlackRateLimited(t *testing.T) {
	t.Parallel()
	r := newFaultRig(t, true)
	const retryAfter = 2 * time.Second
	r.slack.setScript(func(n int, _ string) (int, string) {
		if n == 1 {
			return http.StatusTooManyRequests, strconv.Itoa(int(retryAfter / time.Second))
		}
		return 0, ""
	})
	r.s.mustPost(t, event("f-1", "SPENDING", "WARNING"))
	d := r.finalDelivery(t, "f-1")
	r.queueEmpty(t)
	if d.Status != "sent" || d.Attempts != 2 {
		t.Errorf("delivery: status %s after %d attempts (%s), want sent after 2", d.Status, d.Attempts, d.LastError)
	}
	posts, tried := r.slack.Posts(), r.slack.Tried()
	if len(posts) != 1 || len(tried) != 2 {
		t.Fatalf("%d posts accepted of %d calls, want 1 of 2", len(posts), len(tried))
	}
	if posts[0].Channel != faultChannel || tagOf(posts[0].Text, "f") != "f-1" {
		t.Errorf("post %+v", posts[0])
	}
	// The retry honoured Retry-After: it came no sooner.
	if gap := tried[1].Sub(tried[0]); gap < retryAfter {
		t.Errorf("retried %s after the 429, before its Retry-After of %s", gap, retryAfter)
	}
}

// TestFaultIngestRefused posts requests that must be refused and checks
// that nothing was queued (the queue is empty at once: ingest queues
// before it answers) and nothing was delivered.
func TestFaultIngestRefused(t *testing.T) {
	r := newFaultRig(t, false)
	good, err := json.Marshal(event("f-1", "JOB", "CRITICAL"))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(body []byte) string { return r.s.sign(body) }
	big := event("f-2", "JOB", "CRITICAL")
	big["message"] = strings.Repeat("x", 300<<10)
	bigBody, _ := json.Marshal(big)
	var many []map[string]any
	for i := range 101 {
		many = append(many, event(fmt.Sprintf("f-%d", 100+i), "JOB", "CRITICAL"))
	}
	manyBody, _ := json.Marshal(many)
	unknown := event("f-3", "JOB", "CRITICAL")
	unknown["colour"] = "red"
	unknownBody, _ := json.Marshal(unknown)
	badType := event("f-4", "LAUNCH", "CRITICAL")
	badTypeBody, _ := json.Marshal(badType)
	noTitle := event("f-5", "JOB", "CRITICAL")
	delete(noTitle, "title")
	noTitleBody, _ := json.Marshal(noTitle)

	tests := []struct {
		name      string
		body      []byte
		signature string
		want      int
	}{
		{name: "signature missing", body: good, signature: "", want: http.StatusUnauthorized},
		{name: "signature wrong", body: good, signature: ingest.Sign("not-the-secret", good, time.Now()), want: http.StatusUnauthorized},
		{name: "signature expired", body: good, signature: ingest.Sign(r.s.Secret, good, time.Now().Add(-6*time.Minute)), want: http.StatusUnauthorized},
		{name: "signature from the future", body: good, signature: ingest.Sign(r.s.Secret, good, time.Now().Add(6*time.Minute)), want: http.StatusUnauthorized},
		{name: "signature malformed", body: good, signature: "v1=abc", want: http.StatusUnauthorized},
		{name: "signature of another body", body: good, signature: sign(append(bytes.Clone(good), ' ')), want: http.StatusUnauthorized},
		{name: "body over 256 KiB", body: bigBody, signature: sign(bigBody), want: http.StatusRequestEntityTooLarge},
		{name: "more than 100 events", body: manyBody, signature: sign(manyBody), want: 0},
		{name: "not JSON", body: []byte(`{"type":`), signature: sign([]byte(`{"type":`)), want: 0},
		{name: "empty array", body: []byte(`[]`), signature: sign([]byte(`[]`)), want: 0},
		{name: "unknown field", body: unknownBody, signature: sign(unknownBody), want: 0},
		{name: "unknown type", body: badTypeBody, signature: sign(badTypeBody), want: 0},
		{name: "no title", body: noTitleBody, signature: sign(noTitleBody), want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body, err := r.s.postEvents(context.Background(), tc.body, tc.signature)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != 0 && status != tc.want || status < 400 || status >= 500 {
				t.Errorf("status %d, want %s: %s", status, wantText(tc.want), body)
			}
			st, err := r.s.Env.Queue.Stats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st != (qlocal.Stats{}) {
				t.Errorf("the refused request queued something: %+v", st)
			}
		})
	}
	if ds := r.s.deliveries(t, ""); len(ds) != 0 {
		t.Errorf("deliveries after refused requests: %+v", ds)
	}
	if n := len(r.mail.Messages(t)); n != 0 {
		t.Errorf("%d mails after refused requests", n)
	}
	// The same event, signed, goes through: the refusals were about the
	// requests, not the rig.
	r.s.mustPost(t, event("f-1", "JOB", "CRITICAL"))
	if d := r.finalDelivery(t, "f-1"); d.Status != "sent" {
		t.Errorf("the valid event's delivery: %+v", d)
	}
}

func wantText(code int) string {
	if code == 0 {
		return "a 4xx"
	}
	return strconv.Itoa(code)
}

// TestRuleChangeTakesEffect checks that a rule created through the API
// applies to the very next event, although the dispatcher caches the
// rules: writes through the API invalidate the cache.
func TestRuleChangeTakesEffect(t *testing.T) {
	t.Parallel()
	r := newFaultRig(t, false)
	r.s.mustPost(t, event("f-1", "SYSTEM", "INFO")) // loads the rule index
	if d := r.finalDelivery(t, "f-1"); d.Status != "sent" {
		t.Fatalf("first delivery: %+v", d)
	}
	r.s.must(t, http.MethodPost, "/v1/rules", map[string]any{
		"name": "new", "eventTypes": []string{"SYSTEM"}, "severities": []string{"INFO"},
		"recipients": map[string]any{"emails": []string{"new@fault.test"}},
	}, http.StatusCreated, nil)
	r.s.mustPost(t, event("f-2", "SYSTEM", "INFO"))
	eventually(t, 30*time.Second, func() string {
		ds := r.s.deliveries(t, "f-2")
		if len(ds) != 2 {
			return fmt.Sprintf("%d deliveries of f-2, want 2 (the old rule's and the new one's): %+v", len(ds), ds)
		}
		return ""
	})
}
