package awslambda_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/argoproj-labs/argo-notify/pkg/awslambda"
	"github.com/argoproj-labs/argo-notify/pkg/ingest"
)

// apiResponse is the part of events.APIGatewayV2HTTPResponse the tests read.
type apiResponse struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

func decodeAPI(t *testing.T, raw json.RawMessage) apiResponse {
	t.Helper()
	var r apiResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("not an API Gateway v2 response: %v: %s", err, raw)
	}
	return r
}

// signed returns the ingest fixture with a valid X-Argo-Signature for
// secret (or the given header if sig is not "").
func signed(t *testing.T, fixturePath, secret, sig string) []byte {
	t.Helper()
	var req map[string]any
	if err := json.Unmarshal(fixture(t, fixturePath), &req); err != nil {
		t.Fatal(err)
	}
	body, _ := req["body"].(string)
	if sig == "" {
		sig = ingest.Sign(secret, []byte(body), time.Now())
	}
	req["headers"].(map[string]any)["x-argo-signature"] = sig
	out, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// receiveAll receives from the queue until want messages arrived or a few
// seconds passed, and returns them as the records of a Lambda SQS event,
// as the event source mapping would build it.
func receiveAll(t *testing.T, c awsClients, queueURL string, want int) events.SQSEvent {
	t.Helper()
	var ev events.SQSEvent
	deadline := time.Now().Add(10 * time.Second)
	for len(ev.Records) < want && time.Now().Before(deadline) {
		out, err := c.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl:                    &queueURL,
			MaxNumberOfMessages:         10,
			WaitTimeSeconds:             1,
			VisibilityTimeout:           60,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			ev.Records = append(ev.Records, record(queueURL, m))
		}
	}
	if len(ev.Records) != want {
		t.Fatalf("received %d messages from the queue, want %d", len(ev.Records), want)
	}
	return ev
}

func record(queueURL string, m sqstypes.Message) events.SQSMessage {
	r := events.SQSMessage{
		MessageId:         aws.ToString(m.MessageId),
		ReceiptHandle:     aws.ToString(m.ReceiptHandle),
		Body:              aws.ToString(m.Body),
		Md5OfBody:         aws.ToString(m.MD5OfBody),
		Attributes:        m.Attributes,
		MessageAttributes: map[string]events.SQSMessageAttribute{},
		EventSource:       "aws:sqs",
		EventSourceARN:    "arn:aws:sqs:us-east-1:000000000000:" + queueURL[strings.LastIndex(queueURL, "/")+1:],
		AWSRegion:         "us-east-1",
	}
	for k, v := range m.MessageAttributes {
		r.MessageAttributes[k] = events.SQSMessageAttribute{StringValue: v.StringValue, DataType: aws.ToString(v.DataType)}
	}
	return r
}

// eventIDs returns the event ids (message attribute eventId) of a batch.
func eventIDs(ev events.SQSEvent) []string {
	var ids []string
	for _, r := range ev.Records {
		if a, ok := r.MessageAttributes["eventId"]; ok && a.StringValue != nil {
			ids = append(ids, *a.StringValue)
		}
	}
	slices.Sort(ids)
	return ids
}

// TestAPIFunction creates and lists rules through the api binary under the
// Runtime Interface Emulator, on a DynamoDB table in kumo.
func TestAPIFunction(t *testing.T) {
	integration(t)
	c := newAWS(t)
	table, queueURL, dlqURL := c.newTable(t), c.newQueue(t), c.newQueue(t)
	fn := startRIE(t, bootstrap(t, "api"), map[string]string{
		awslambda.EnvTable: table, awslambda.EnvQueueURL: queueURL, awslambda.EnvDLQURL: dlqURL,
	})

	created := decodeAPI(t, first(fn.invoke(t, fixture(t, "apigw/create-rule.json"))))
	if created.StatusCode != http.StatusCreated {
		t.Fatalf("create rule: status %d, body %s", created.StatusCode, created.Body)
	}
	var rule struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Version int64  `json:"version"`
	}
	if err := json.Unmarshal([]byte(created.Body), &rule); err != nil || rule.ID == "" || rule.Name != "Failed jobs to on-call" || rule.Version != 1 {
		t.Fatalf("create rule: body %s (err %v)", created.Body, err)
	}
	if got := created.Headers["Etag"] + created.Headers["ETag"]; got != `"1"` {
		t.Errorf("create rule: ETag %q, want \"1\" (headers %v)", got, created.Headers)
	}

	listed := decodeAPI(t, first(fn.invoke(t, fixture(t, "apigw/list-rules.json"))))
	if listed.StatusCode != http.StatusOK {
		t.Fatalf("list rules: status %d, body %s", listed.StatusCode, listed.Body)
	}
	var list struct {
		Items []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(listed.Body), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].ID != rule.ID {
		t.Errorf("list rules: %s, want exactly rule %s", listed.Body, rule.ID)
	}

	// A dry run names the rule (the dispatcher's planner on the table).
	match := decodeAPI(t, first(fn.invoke(t, apigw("POST", "/v1/match",
		`{"type":"JOB","severity":"CRITICAL","title":"t","message":"m","source":"s","occurredAt":"2026-11-26T02:00:00Z"}`, nil))))
	if match.StatusCode != http.StatusOK || !strings.Contains(match.Body, rule.ID) || !strings.Contains(match.Body, "oncall@example.com") {
		t.Errorf("POST /v1/match: %s; want the rule and its recipients", match)
	}

	// Dead letters are read from the DLQ.
	dead := `{"id":"dead-` + tag() + `","type":"JOB","severity":"INFO","title":"t","message":"m","source":"s","occurredAt":"2026-11-26T02:00:00Z"}`
	if _, err := c.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &dlqURL, MessageBody: &dead}); err != nil {
		t.Fatal(err)
	}
	dl := decodeAPI(t, first(fn.invoke(t, apigw("GET", "/v1/dead-letters", "", nil))))
	if dl.StatusCode != http.StatusOK || !strings.Contains(dl.Body, `"dead-`) {
		t.Errorf("GET /v1/dead-letters: %s; want the parked event", dl)
	}

	// The same name again is a conflict, as problem+json.
	dup := decodeAPI(t, first(fn.invoke(t, fixture(t, "apigw/create-rule.json"))))
	if dup.StatusCode != http.StatusConflict || !strings.Contains(dup.Headers["Content-Type"], "problem+json") {
		t.Errorf("duplicate rule: status %d, headers %v, body %s; want 409 problem+json", dup.StatusCode, dup.Headers, dup.Body)
	}
}

// TestIngestFunction sends a signed request and EventBridge events through
// the ingest binary under the emulator and reads back what reached SQS.
func TestIngestFunction(t *testing.T) {
	integration(t)
	c := newAWS(t)
	queueURL := c.newQueue(t)
	secret := "ingest-" + tag() + "-secret"
	fn := startRIE(t, bootstrap(t, "ingest"), map[string]string{
		awslambda.EnvQueueURL:        queueURL,
		awslambda.EnvIngestSecretARN: c.newSecret(t, secret),
	})

	t.Run("signed request", func(t *testing.T) {
		r := decodeAPI(t, first(fn.invoke(t, signed(t, "apigw/ingest-event.json", secret, ""))))
		if r.StatusCode != http.StatusAccepted || !strings.Contains(r.Body, "evt-apigw-sample-0001") {
			t.Fatalf("status %d, body %s; want 202 with the event id", r.StatusCode, r.Body)
		}
	})
	t.Run("bad signature", func(t *testing.T) {
		r := decodeAPI(t, first(fn.invoke(t, signed(t, "apigw/ingest-event.json", "not-the-secret", ""))))
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, body %s; want 401", r.StatusCode, r.Body)
		}
	})
	t.Run("admin route refused", func(t *testing.T) {
		r := decodeAPI(t, first(fn.invoke(t, fixture(t, "apigw/list-rules.json"))))
		if r.StatusCode != http.StatusNotFound {
			t.Fatalf("GET /v1/rules on ingest: status %d, body %s; want 404", r.StatusCode, r.Body)
		}
	})
	for _, tc := range []struct{ name, file string }{
		{"terminal job state", "eventbridge/batch.failed.json"},
		{"non-terminal job state", "eventbridge/batch-running.ignored.json"},
		{"unsupported detail-type", "eventbridge/ec2-instance-state.unsupported.json"},
		{"argo bus", "eventbridge/argo-bus.event.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := first(fn.invoke(t, fixture(t, tc.file)))
			if string(out) != "null" {
				t.Errorf("EventBridge invocation returned %s, want null", out)
			}
		})
	}
	t.Run("malformed EventBridge event", func(t *testing.T) {
		out := first(fn.invoke(t, []byte(`{"version":"0","id":"x","detail-type":"Batch Job State Change","source":"aws.batch","detail":"nope"}`)))
		if string(out) != "null" {
			t.Errorf("returned %s, want null (dropped, not retried)", out)
		}
	})

	// Exactly the signed event, the failed Batch job and the Argo bus event
	// reached the queue.
	batch := receiveAll(t, c, queueURL, 3)
	ids := eventIDs(batch)
	var argoBus struct {
		ID     string `json:"id"`
		Detail struct {
			ID string `json:"id"`
		} `json:"detail"`
	}
	json.Unmarshal(fixture(t, "eventbridge/argo-bus.event.json"), &argoBus)
	want := []string{"eb:5e7d1a4c-2b3f-4c8d-9e0a-1b2c3d4e5f60", "evt-apigw-sample-0001", argoBus.Detail.ID}
	if argoBus.Detail.ID == "" {
		want[2] = "eb:" + argoBus.ID
	}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("queued event ids %v, want %v", ids, want)
	}
	for _, r := range batch.Records {
		var ev struct{ ID, Type, Severity string }
		if err := json.Unmarshal([]byte(r.Body), &ev); err != nil || ev.ID == "" || ev.Type == "" {
			t.Errorf("queued body is not an event: %s", r.Body)
		}
	}
}

// TestDispatcherFunction invokes the dispatcher binary with an SQS batch
// holding one poison message: exactly that message is reported failed.
func TestDispatcherFunction(t *testing.T) {
	integration(t)
	c := newAWS(t)
	fn := startRIE(t, bootstrap(t, "dispatcher"), map[string]string{
		awslambda.EnvTable:     c.newTable(t),
		awslambda.EnvQueueURL:  c.newQueue(t),
		awslambda.EnvEmailFrom: "notify@example.com",
	})
	out := first(fn.invoke(t, fixture(t, "sqs/batch-with-poison.json")))
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("not an SQSEventResponse: %s", out)
	}
	var got []string
	for _, f := range resp.BatchItemFailures {
		got = append(got, f.ItemIdentifier)
	}
	if want := []string{"2e1424d4-f796-459a-8184-9c92662be6da"}; !slices.Equal(got, want) {
		t.Errorf("batch item failures %v, want %v", got, want)
	}
}

func first[A, B any](a A, _ B) A { return a }

// String helps failure messages.
func (r apiResponse) String() string { return fmt.Sprintf("%d %s", r.StatusCode, r.Body) }
