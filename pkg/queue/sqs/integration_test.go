package sqs

// Integration tests on kumo (see _tools/README.md): they skip unless
// ARGO_NOTIFY_INTEGRATION=1 and fail if it is set and kumo does not answer.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/argoproj-labs/argo-notify/pkg/internal/kumotest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

// kumoClient returns an SQS client on kumo, or skips the test when
// integration tests are off.
func kumoClient(t *testing.T) *awssqs.Client {
	t.Helper()
	return awssqs.NewFromConfig(kumotest.Config(t))
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// uniqueName is a queue name for this test that no other test uses.
func uniqueName(t *testing.T, suffix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	name := unsafeName.ReplaceAllString(t.Name(), "-")
	return fmt.Sprintf("%.50s-%s-%s", name, hex.EncodeToString(b), suffix)
}

// queues creates a main queue whose messages move to a DLQ after
// queue.MaxReceives receives, with the given visibility timeout.
func queues(t *testing.T, c *awssqs.Client, visibility int) (mainURL, dlqURL string) {
	t.Helper()
	ctx := context.Background()
	dlq, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(uniqueName(t, "dlq"))})
	if err != nil {
		t.Fatalf("create DLQ: %v", err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("DLQ ARN: %v", err)
	}
	policy, _ := json.Marshal(map[string]string{
		"deadLetterTargetArn": attrs.Attributes[string(types.QueueAttributeNameQueueArn)],
		"maxReceiveCount":     fmt.Sprint(queue.MaxReceives),
	})
	main, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{
		QueueName: aws.String(uniqueName(t, "main")),
		Attributes: map[string]string{
			string(types.QueueAttributeNameRedrivePolicy):     string(policy),
			string(types.QueueAttributeNameVisibilityTimeout): fmt.Sprint(visibility),
		},
	})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	t.Cleanup(func() {
		c.DeleteQueue(context.Background(), &awssqs.DeleteQueueInput{QueueUrl: main.QueueUrl})
		c.DeleteQueue(context.Background(), &awssqs.DeleteQueueInput{QueueUrl: dlq.QueueUrl})
	})
	return *main.QueueUrl, *dlq.QueueUrl
}

// poll does what the Lambda event source mapping does once: receive up to
// 10 messages, hand them to the consumer as an SQS event, and delete those
// not reported as failed. It returns the records handed over.
func poll(t *testing.T, c *awssqs.Client, url string, cons *Consumer, h queue.Handler) []events.SQSMessage {
	t.Helper()
	ctx := context.Background()
	out, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
		QueueUrl:                    &url,
		MaxNumberOfMessages:         10,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	var ev events.SQSEvent
	for _, m := range out.Messages {
		rec := events.SQSMessage{
			MessageId: *m.MessageId, ReceiptHandle: *m.ReceiptHandle, Body: *m.Body,
			Attributes: m.Attributes, MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSource: "aws:sqs",
		}
		for k, v := range m.MessageAttributes {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{DataType: *v.DataType, StringValue: v.StringValue}
		}
		ev.Records = append(ev.Records, rec)
	}
	if len(ev.Records) == 0 {
		return nil
	}
	resp := cons.HandleBatch(ctx, ev, h)
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, r := range ev.Records {
		if !failed[r.MessageId] {
			if _, err := c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: &r.ReceiptHandle}); err != nil {
				t.Fatalf("delete %s: %v", r.MessageId, err)
			}
		}
	}
	return ev.Records
}

// eventually calls f until it returns true, failing the test after 30 s.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func event(i int) queue.Message {
	return queue.Message{
		ID:   fmt.Sprintf("evt-%02d", i),
		Body: fmt.Appendf(nil, `{"id":"evt-%02d","type":"JOB","severity":"CRITICAL","title":"job %d failed"}`, i, i),
	}
}

func TestKumoSendReceiveDelete(t *testing.T) {
	c := kumoClient(t)
	mainURL, _ := queues(t, c, 30)
	sent := make([]queue.Message, 25)
	for i := range sent {
		sent[i] = event(i)
	}
	if err := NewProducer(c, mainURL).Send(context.Background(), sent); err != nil {
		t.Fatalf("Send(25) = %v", err)
	}
	cons := NewConsumer(c, mainURL, nil)
	var got []queue.Message
	h := func(_ context.Context, m queue.Message) error { got = append(got, m); return nil }
	eventually(t, "25 messages", func() bool { poll(t, c, mainURL, cons, h); return len(got) >= 25 })
	if len(got) != 25 {
		t.Fatalf("handled %d messages, want 25", len(got))
	}
	ids := make([]string, 0, len(got))
	for _, m := range got {
		ids = append(ids, m.ID)
		want := map[string]string{queue.AttrEventID: m.ID, queue.AttrEventType: "JOB", queue.AttrSeverity: "CRITICAL"}
		for k, v := range want {
			if m.Attributes[k] != v {
				t.Errorf("message %s attribute %s = %q, want %q", m.ID, k, m.Attributes[k], v)
			}
		}
		if m.ReceiveCount != 1 || m.FirstSentAt.IsZero() || !strings.Contains(string(m.Body), `"id":"`+m.ID+`"`) {
			t.Errorf("message %s: receive count %d, first sent %v, body %s", m.ID, m.ReceiveCount, m.FirstSentAt, m.Body)
		}
	}
	slices.Sort(ids)
	for i, id := range ids {
		if want := fmt.Sprintf("evt-%02d", i); id != want {
			t.Fatalf("ids %v: missing %s", ids, want)
		}
	}
	// All were deleted: nothing comes back even once their visibility ends.
	out, err := c.GetQueueAttributes(context.Background(), &awssqs.GetQueueAttributesInput{QueueUrl: &mainURL, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"} {
		if out.Attributes[a] != "0" {
			t.Errorf("%s = %s after deleting all, want 0", a, out.Attributes[a])
		}
	}
}

func TestKumoPartialFailureAndVisibility(t *testing.T) {
	c := kumoClient(t)
	// A failed record comes back after the queue's 1 s visibility timeout;
	// a *queue.RetryError of an hour keeps its record away.
	mainURL, _ := queues(t, c, 1)
	msgs := []queue.Message{event(0), event(1), event(2)}
	if err := NewProducer(c, mainURL).Send(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	cons := NewConsumer(c, mainURL, nil)
	seen := map[string]int{}
	h := func(_ context.Context, m queue.Message) error {
		seen[m.ID]++
		switch m.ID {
		case "evt-00":
			if seen[m.ID] == 1 {
				return fmt.Errorf("transient")
			}
			return nil
		case "evt-01":
			return &queue.RetryError{After: time.Hour, Err: fmt.Errorf("rate limited")}
		}
		return nil
	}
	eventually(t, "the failed record to come back", func() bool { poll(t, c, mainURL, cons, h); return seen["evt-00"] == 2 })
	if seen["evt-02"] != 1 {
		t.Errorf("the good record was handled %d times, want once", seen["evt-02"])
	}
	if seen["evt-01"] != 1 {
		t.Errorf("the delayed record was handled %d times, want once (hidden for an hour)", seen["evt-01"])
	}
	out, err := c.GetQueueAttributes(context.Background(), &awssqs.GetQueueAttributesInput{QueueUrl: &mainURL, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Attributes["ApproximateNumberOfMessagesNotVisible"] != "1" || out.Attributes["ApproximateNumberOfMessages"] != "0" {
		t.Errorf("queue attributes %v, want exactly the delayed record in flight", out.Attributes)
	}
}

func TestKumoDeadLetterAndRedrive(t *testing.T) {
	c := kumoClient(t)
	mainURL, dlqURL := queues(t, c, 30)
	p := NewProducer(c, mainURL)
	if err := p.Send(context.Background(), []queue.Message{event(7), event(8)}); err != nil {
		t.Fatal(err)
	}
	cons := NewConsumer(c, mainURL, nil)
	var counts []int
	// evt-07 is poison: it fails every time, asking to come back at once
	// (visibility 0), so it is received queue.MaxReceives times quickly.
	h := func(_ context.Context, m queue.Message) error {
		if m.ID == "evt-07" {
			counts = append(counts, m.ReceiveCount)
			return &queue.RetryError{After: 0, Err: fmt.Errorf("poison")}
		}
		return nil
	}
	d := NewDeadLetters(c, dlqURL, p)
	d.Wait = 0 // kumo answers from one store: no need to long-poll
	var dead []queue.DeadLetter
	eventually(t, "the poison message in the DLQ", func() bool {
		poll(t, c, mainURL, cons, h)
		var err error
		dead, _, err = d.ListDead(context.Background(), 10, "")
		if err != nil {
			t.Fatalf("ListDead() = %v", err)
		}
		return len(dead) > 0
	})
	if want := []int{1, 2, 3, 4, 5}; !slices.Equal(counts, want) {
		t.Errorf("poison message receive counts %v, want %v", counts, want)
	}
	if len(dead) != 1 || dead[0].ID != "evt-07" || dead[0].Attributes[queue.AttrEventType] != "JOB" || !strings.Contains(string(dead[0].Body), "job 7 failed") {
		t.Fatalf("ListDead() = %+v, want evt-07 with its body and attributes", dead)
	}
	// Listing leaves the message in the DLQ and visible: list again.
	again, _, err := d.ListDead(context.Background(), 10, "")
	if err != nil || len(again) != 1 {
		t.Fatalf("second ListDead() = %v, %v; want the same message", again, err)
	}

	if err := d.Redrive(context.Background(), "evt-07"); err != nil {
		t.Fatalf("Redrive() = %v", err)
	}
	var back []queue.Message
	eventually(t, "the redriven message", func() bool {
		poll(t, c, mainURL, cons, func(_ context.Context, m queue.Message) error { back = append(back, m); return nil })
		return len(back) > 0
	})
	if back[0].ID != "evt-07" || back[0].ReceiveCount != 1 || !back[0].FirstSentAt.Equal(dead[0].FirstSentAt) {
		t.Errorf("redriven message %+v, want evt-07 received once with first-sent %v", back[0], dead[0].FirstSentAt)
	}
	left, _, err := d.ListDead(context.Background(), 10, "")
	if err != nil || len(left) != 0 {
		t.Errorf("DLQ after redrive: %v, %v; want empty", left, err)
	}
	if err := d.Redrive(context.Background(), "evt-07"); err == nil {
		t.Errorf("second Redrive() = nil, want ENotFound")
	}
}

func TestKumoSendRefusedEntry(t *testing.T) {
	c := kumoClient(t)
	mainURL, _ := queues(t, c, 30)
	// An empty body is refused by SQS (sender fault): reported, not retried
	// forever; the good message of the same batch is queued.
	err := NewProducer(c, mainURL).Send(context.Background(), []queue.Message{event(1), {ID: "empty"}})
	if !notify.IsCode(err, notify.EInvalid) {
		t.Fatalf("Send() with an empty body = %v, want EInvalid", err)
	}
	cons := NewConsumer(c, mainURL, nil)
	var got []string
	eventually(t, "the good message", func() bool {
		poll(t, c, mainURL, cons, func(_ context.Context, m queue.Message) error { got = append(got, m.ID); return nil })
		return len(got) > 0
	})
	if !slices.Equal(got, []string{"evt-01"}) {
		t.Errorf("queued %v, want only evt-01", got)
	}
}
