package awslambda_test

// Issue 16 on the emulators: SES throttling beyond the receive budget ends
// in the dead-letter queue (not `failed`) and is redriven to success; an
// SES sandbox AccessDenied is retried and counted.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/argoproj-labs/argo-notify/pkg/awslambda"
	"github.com/argoproj-labs/argo-notify/pkg/deploy"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
	sqsqueue "github.com/argoproj-labs/argo-notify/pkg/queue/sqs"
	"github.com/argoproj-labs/argo-notify/pkg/store/dynamo"
)

// faultySES answers SendEmail with err while it is set, else passes the
// call to kumo.
type faultySES struct {
	real  *sesv2.Client
	mu    sync.Mutex
	err   error
	calls atomic.Int32
}

func (f *faultySES) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.mu.Lock()
	err := f.err
	f.mu.Unlock()
	if err != nil {
		f.calls.Add(1)
		return nil, err
	}
	return f.real.SendEmail(ctx, in, opts...)
}

func (f *faultySES) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// syncBuf collects the metric lines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// count sums the values of the named EMF metric written so far.
func (s *syncBuf) count(t *testing.T, name string) float64 {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var n float64
	for _, line := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("metric line is not JSON: %s", line)
		}
		if v, ok := m[name].(float64); ok {
			n += v
		}
	}
	return n
}

// redriveQueues creates a queue whose redrive policy parks a message in
// its own dead-letter queue after deploy.MaxReceiveCount receives, as the
// stack's.
func (c awsClients) redriveQueues(t *testing.T) (mainURL, dlqURL string) {
	t.Helper()
	ctx := context.Background()
	dlqURL = c.newQueue(t)
	attrs, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &dlqURL, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	name := "fn-" + sanitize(t.Name()) + "-main-" + tag()
	policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, attrs.Attributes["QueueArn"], deploy.MaxReceiveCount)
	out, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: map[string]string{"RedrivePolicy": policy}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.sqs.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
	return *out.QueueUrl, dlqURL
}

// receiveOne receives at most one message, as the event source mapping
// would, and returns it as a one-record event (no records if none came).
func receiveOne(t *testing.T, c awsClients, queueURL string) events.SQSEvent {
	t.Helper()
	out, err := c.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: &queueURL, MaxNumberOfMessages: 1, WaitTimeSeconds: 1, VisibilityTimeout: 60,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	for _, m := range out.Messages {
		ev.Records = append(ev.Records, record(queueURL, m))
	}
	return ev
}

// sesFixture is a table with one rule mailing one address, a queue with
// its DLQ, an event on the queue and a dispatcher whose SES fails on
// demand.
type sesFixture struct {
	c               awsClients
	tg, to, from    string
	mainURL, dlqURL string
	ses             *faultySES
	metrics         *syncBuf
	store           *dynamo.Store
	disp            *awslambda.Dispatcher
	ev              *notify.Event
	producer        *sqsqueue.Producer
}

func newSESFixture(t *testing.T) *sesFixture {
	t.Helper()
	ctx := context.Background()
	c := newAWS(t)
	f := &sesFixture{c: c, tg: tag(), metrics: &syncBuf{}}
	f.to, f.from = "ops-"+f.tg+"@example.com", "notify-"+f.tg+"@example.com"
	table := c.newTable(t)
	f.mainURL, f.dlqURL = c.redriveQueues(t)
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.ses = &faultySES{real: sesv2.NewFromConfig(cfg)}
	f.store = dynamo.New(c.ddb, table)
	now := time.Now().UTC()
	if err := f.store.CreateRule(ctx, &notify.Rule{
		ID: "r-" + f.tg, Name: "Failed jobs", Enabled: true,
		EventTypes: []notify.EventType{"JOB"}, Severities: []notify.Severity{"CRITICAL"},
		Recipients: notify.Recipients{Emails: []string{f.to}}, Version: 1, CreatedAt: now, UpdatedAt: now,
	}); err != nil {
		t.Fatal(err)
	}
	f.disp, err = awslambda.NewDispatcher(
		awslambda.Config{Table: table, QueueURL: f.mainURL, EmailFrom: f.from},
		awslambda.Clients{DynamoDB: c.ddb, SQS: c.sqs, SES: f.ses, SecretsManager: c.sm},
		awslambda.Options{Logger: slog.New(slog.DiscardHandler), Metrics: f.metrics})
	if err != nil {
		t.Fatal(err)
	}
	f.ev = &notify.Event{ID: "prod-" + f.tg, Type: "JOB", Severity: "CRITICAL", Title: "Job reindex failed", Source: "argo-test", OccurredAt: now}
	m, err := queue.EncodeEvent(f.ev)
	if err != nil {
		t.Fatal(err)
	}
	f.producer = sqsqueue.NewProducer(c.sqs, f.mainURL)
	if err := f.producer.Send(ctx, []queue.Message{m}); err != nil {
		t.Fatal(err)
	}
	return f
}

// dispatch receives the event once and runs the dispatcher on it; it
// reports whether the record came back as a failure (false: no message).
func (f *sesFixture) dispatch(t *testing.T) (received, failed bool) {
	t.Helper()
	ev := receiveOne(t, f.c, f.mainURL)
	if len(ev.Records) == 0 {
		return false, false
	}
	resp, err := f.disp.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) == 0 {
		return true, false
	}
	// The delay the dispatcher asked for passes: the message is visible
	// again now.
	if _, err := f.c.sqs.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
		QueueUrl: &f.mainURL, ReceiptHandle: &ev.Records[0].ReceiptHandle, VisibilityTimeout: 0,
	}); err != nil {
		t.Fatal(err)
	}
	return true, true
}

func (f *sesFixture) delivery(t *testing.T) *notify.Delivery {
	t.Helper()
	d, err := f.store.GetDelivery(context.Background(), notify.DeliveryID(f.ev.ID, notify.ChannelEmail, f.to))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSESThrottlingEndsInDLQAndRedrives(t *testing.T) {
	integration(t)
	ctx := context.Background()
	f := newSESFixture(t)
	f.ses.fail(&sestypes.TooManyRequestsException{Message: aws.String("Maximum sending rate exceeded.")})

	// Throttled on every receive the queue allows: each comes back.
	receives := 0
	for range deploy.MaxReceiveCount + 2 {
		received, failed := f.dispatch(t)
		if !received {
			break
		}
		receives++
		if !failed {
			t.Fatalf("receive %d: the throttled event was not reported for a retry", receives)
		}
	}
	if receives != deploy.MaxReceiveCount {
		t.Errorf("the event was received %d times, want %d then parked", receives, deploy.MaxReceiveCount)
	}
	if got := f.ses.calls.Load(); got != int32(deploy.MaxReceiveCount) {
		t.Errorf("SES was called %d times, want one per receive (%d)", got, deploy.MaxReceiveCount)
	}
	// Not recorded failed: still queued, the event parked in the DLQ.
	if d := f.delivery(t); d.Status != notify.DeliveryQueued {
		t.Errorf("after the last receive the delivery is %s (%s), want queued", d.Status, d.LastError)
	}
	if n := f.metrics.count(t, deploy.MetricDeliveriesFailed); n != 0 {
		t.Errorf("%v deliveries counted failed, want 0", n)
	}
	dl := sqsqueue.NewDeadLetters(f.c.sqs, f.dlqURL, f.producer)
	dead, _, err := dl.ListDead(ctx, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].ID != f.ev.ID {
		t.Fatalf("dead letters = %+v, want the event %s", dead, f.ev.ID)
	}

	// SES recovers; an admin redrives: the mail goes out once.
	f.ses.fail(nil)
	if err := dl.Redrive(ctx, f.ev.ID); err != nil {
		t.Fatal(err)
	}
	if received, failed := f.dispatch(t); !received || failed {
		t.Fatalf("redriven event: received %v, failed %v; want handled", received, failed)
	}
	if d := f.delivery(t); d.Status != notify.DeliverySent {
		t.Errorf("after the redrive the delivery is %s (%s), want sent", d.Status, d.LastError)
	}
	if got := sesSent(t, f.tg, f.from); got[f.to] != 1 {
		t.Errorf("mails sent %v, want one to %s", got, f.to)
	}
}

func TestSESSandboxAccessDeniedRetriedAndCounted(t *testing.T) {
	integration(t)
	f := newSESFixture(t)
	f.ses.fail(&smithy.GenericAPIError{Code: "AccessDeniedException",
		Message: "User is not authorized to perform `ses:SendEmail' on resource `arn:aws:ses:us-east-1:123456789012:identity/" + f.to + "'"})

	for i := range 2 {
		received, failed := f.dispatch(t)
		if !received || !failed {
			t.Fatalf("attempt %d: received %v, failed %v; want the event back for a retry", i+1, received, failed)
		}
		if d := f.delivery(t); d.Status != notify.DeliveryQueued {
			t.Fatalf("attempt %d: delivery %s (%s), want queued (retryable)", i+1, d.Status, d.LastError)
		}
	}
	if n := f.metrics.count(t, deploy.MetricSESAccountErrors); n != 2 {
		t.Errorf("%v SES account errors counted, want 2", n)
	}

	// The identity is verified (or production access granted): the next
	// receive sends.
	f.ses.fail(nil)
	if received, failed := f.dispatch(t); !received || failed {
		t.Fatalf("after the fix: received %v, failed %v; want handled", received, failed)
	}
	if d := f.delivery(t); d.Status != notify.DeliverySent {
		t.Errorf("delivery %s, want sent", d.Status)
	}
}
