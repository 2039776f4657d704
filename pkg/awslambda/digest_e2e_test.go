package awslambda_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/argoproj-labs/argo-notify/pkg/awslambda"
	"github.com/argoproj-labs/argo-notify/pkg/ingest"
)

// TestDigestOnAWS runs a digest through the AWS wiring on the emulators:
// two events in one window reach a rule with a digest; the dispatcher
// function sends the first at once and schedules the digest as a delayed
// message on the event queue; once the window has closed, that message,
// handed to the dispatcher function, sends the held digest through SES.
func TestDigestOnAWS(t *testing.T) {
	integration(t)
	const window = 10
	c := newAWS(t)
	tg := tag()
	table, queueURL := c.newTable(t), c.newQueue(t)
	ingestSecret := "digest-" + tg
	from := "notify-" + tg + "@example.com"
	env := map[string]string{
		awslambda.EnvTable:           table,
		awslambda.EnvQueueURL:        queueURL,
		awslambda.EnvIngestSecretARN: c.newSecret(t, ingestSecret),
		awslambda.EnvSecretPrefix:    "argo-notify-test/" + tg + "/",
		awslambda.EnvEmailFrom:       "Argo Notify <" + from + ">",
	}
	apiFn := startRIE(t, bootstrap(t, "api"), env)
	ingestFn := startRIE(t, bootstrap(t, "ingest"), env)
	dispatcherFn := startRIE(t, bootstrap(t, "dispatcher"), env)
	to := "storm-" + tg + "@example.com"
	rule := fmt.Sprintf(`{"name":"storm %s","eventTypes":["SYSTEM"],"severities":["CRITICAL","WARNING","INFO"],"recipients":{"emails":[%q]},"digest":{"windowSeconds":%d}}`, tg, to, window)
	if r := decodeAPI(t, first(apiFn.invoke(t, apigw("POST", "/v1/rules", rule, nil)))); r.StatusCode != http.StatusCreated {
		t.Fatalf("POST /v1/rules: %s", r)
	}
	dispatch := func(round string, payload []byte) {
		t.Helper()
		var resp events.SQSEventResponse
		if out := first(dispatcherFn.invoke(t, payload)); json.Unmarshal(out, &resp) != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s: %s, want no batch item failures", round, out)
		}
	}

	// Start just after a window boundary, so both events fall in one.
	now := time.Now()
	start := now.Truncate(window * time.Second).Add(window * time.Second)
	time.Sleep(start.Sub(now) + 100*time.Millisecond)
	end := start.Add(window * time.Second)
	for i := range 2 {
		ev := fmt.Sprintf(`{"id":"digest-%s-%d","type":"SYSTEM","severity":"WARNING","title":"node %d down"}`, tg, i, i)
		r := decodeAPI(t, first(ingestFn.invoke(t, apigw("POST", awslambda.IngestPath, ev,
			map[string]string{"x-argo-signature": ingest.Sign(ingestSecret, []byte(ev), time.Now())}))))
		if r.StatusCode != http.StatusAccepted {
			t.Fatalf("POST /v1/events: %s", r)
		}
	}
	batch := receiveAll(t, c, queueURL, 2)
	payload, _ := json.Marshal(batch)
	dispatch("events", payload)
	for _, rec := range batch.Records {
		c.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &queueURL, ReceiptHandle: &rec.ReceiptHandle})
	}
	if time.Now().After(end) {
		t.Fatalf("the events were dispatched after their %d s window closed: too slow a machine for this test", window)
	}
	wantFrom := `"Argo Notify" <` + from + `>`
	if got := sesSent(t, tg, wantFrom)[to]; got != 1 {
		t.Fatalf("%d mails inside the window, want 1 (the first event)", got)
	}

	// The digest's release: a delayed message on the same queue.
	time.Sleep(time.Until(end) + 500*time.Millisecond)
	due := receiveAll(t, c, queueURL, 1)
	payload, _ = json.Marshal(due)
	dispatch("release", payload)
	if got := sesSent(t, tg, wantFrom)[to]; got != 2 {
		t.Fatalf("%d mails after the window, want 2 (the first event and the digest)", got)
	}
	dispatch("release again", payload) // redelivered: nobody notified twice
	if got := sesSent(t, tg, wantFrom)[to]; got != 2 {
		t.Errorf("%d mails after a redelivered release, want 2", got)
	}
}
