package awslambda_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/argoproj-labs/argo-notify/pkg/awslambda"
	"github.com/argoproj-labs/argo-notify/pkg/dispatch"
	"github.com/argoproj-labs/argo-notify/pkg/internal/faultproxy"
	"github.com/argoproj-labs/argo-notify/pkg/internal/kumotest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
	"github.com/argoproj-labs/argo-notify/pkg/store/dynamo"
)

// visibility records the delays the dispatcher asks SQS for
// (ChangeMessageVisibility): the backoff of a retried record.
type visibility struct {
	awslambda.SQS // nil: any other call panics
	mu            sync.Mutex
	delays        []int32
}

func (v *visibility) ChangeMessageVisibility(_ context.Context, in *awssqs.ChangeMessageVisibilityInput, _ ...func(*awssqs.Options)) (*awssqs.ChangeMessageVisibilityOutput, error) {
	v.mu.Lock()
	v.delays = append(v.delays, in.VisibilityTimeout)
	v.mu.Unlock()
	return &awssqs.ChangeMessageVisibilityOutput{}, nil
}

// shiftClock is the real clock moved forward by the test (past a sending
// lease, as time would between two SQS receives).
type shiftClock struct {
	mu    sync.Mutex
	shift time.Duration
}

func (c *shiftClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.shift)
}

func (c *shiftClock) Add(d time.Duration) { c.mu.Lock(); c.shift += d; c.mu.Unlock() }

// faultRig is the dispatcher function in process on kumo, its DynamoDB and
// SES clients through a fault proxy each, with one rule mailing two
// addresses (and a Slack channel, when slack is given).
type faultRig struct {
	tag      string
	st       *dynamo.Store
	ddbProxy *faultproxy.Proxy
	sesProxy *faultproxy.Proxy
	vis      *visibility
	clk      *shiftClock
	d        *awslambda.Dispatcher
	from     string
}

func newAWSFaultRig(t *testing.T, slackURL string) *faultRig {
	t.Helper()
	cfg := kumotest.Config(t)
	kumo := kumotest.URL(t)
	c := newAWS(t)
	r := &faultRig{tag: tag(), vis: &visibility{}, clk: &shiftClock{},
		ddbProxy: faultproxy.New(t, kumo), sesProxy: faultproxy.New(t, kumo)}
	table := c.newTable(t)
	r.st = dynamo.New(c.ddb, table)
	r.from = "notify-" + r.tag + "@example.com"
	now := time.Now().UTC().Truncate(time.Millisecond)
	rule := &notify.Rule{ID: "rul_fault", Name: "faults", Enabled: true, Source: notify.SourceUser,
		EventTypes: notify.EventTypes, Severities: notify.Severities,
		Recipients: notify.Recipients{Emails: []string{"a-" + r.tag + "@example.com", "b-" + r.tag + "@example.com"}},
		Version:    1, CreatedAt: now, UpdatedAt: now}
	prefix := "argo-notify-test/" + r.tag + "/"
	if slackURL != "" {
		rule.Recipients = notify.Recipients{SlackChannels: []string{"C0STORM001"}}
		connectSlack(t, c, table, prefix)
	}
	rule.Recipients.Normalize()
	if err := r.st.CreateRule(context.Background(), rule); err != nil {
		t.Fatal(err)
	}
	ddb := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = &r.ddbProxy.URL
		o.DisableValidateResponseChecksum = true
	})
	sesClient := sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.BaseEndpoint = &r.sesProxy.URL })
	d, err := awslambda.NewDispatcher(awslambda.Config{
		Table: table, QueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/fault", EmailFrom: r.from,
		SecretPrefix: prefix, SlackAPIURL: slackURL,
	}, awslambda.Clients{DynamoDB: ddb, SQS: r.vis, SES: sesClient, SecretsManager: secretsmanager.NewFromConfig(cfg)},
		awslambda.Options{Now: r.clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r.d = d
	return r
}

// records is one SQS record per event id, received n times.
func records(t *testing.T, ids []string, n int) []events.SQSMessage {
	t.Helper()
	var out []events.SQSMessage
	for _, id := range ids {
		m, err := queue.EncodeEvent(&notify.Event{ID: id, Type: notify.TypeJob, Severity: notify.SeverityCritical, Title: id + " failed", ReceivedAt: time.Now().UTC()})
		if err != nil {
			t.Fatal(err)
		}
		attrs := map[string]events.SQSMessageAttribute{}
		for k, v := range m.Attributes {
			attrs[k] = events.SQSMessageAttribute{StringValue: &v, DataType: "String"}
		}
		out = append(out, events.SQSMessage{MessageId: "msg-" + id, ReceiptHandle: "rh-" + id, Body: string(m.Body),
			Attributes: map[string]string{"ApproximateReceiveCount": fmt.Sprint(n)}, MessageAttributes: attrs})
	}
	return out
}

// failed returns the event ids of the records the response asks back.
func failed(batch []events.SQSMessage, resp events.SQSEventResponse) []string {
	back := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		back[f.ItemIdentifier] = true
	}
	var ids []string
	for _, r := range batch {
		if back[r.MessageId] {
			ids = append(ids, strings.TrimPrefix(r.MessageId, "msg-"))
		}
	}
	return ids
}

// TestFaultAWSDynamoDB runs the dispatcher function on kumo with a quarter
// of its DynamoDB requests failing (ProvisionedThroughputExceededException,
// 500, a reset before the request reached DynamoDB, a reset after it was
// applied), the first batch cut short mid-way (the Lambda's deadline) and
// redelivered whole, then only the records it asks back, as SQS would.
// Every (event, recipient) is mailed at least once; a second mail only
// where the delivery is recorded sent as a possible duplicate (its outcome
// was not recorded); every delivery ends sent.
func TestFaultAWSDynamoDB(t *testing.T) {
	r := newAWSFaultRig(t, "")
	const n = 30
	var ids []string
	for i := range n {
		ids = append(ids, fmt.Sprintf("aws-%s-%d", r.tag, i))
	}
	ctx, cut := context.WithCancel(context.Background())
	faults := []faultproxy.Fault{faultproxy.Throttle, faultproxy.Error500, faultproxy.ResetBefore, faultproxy.ResetAfter}
	r.ddbProxy.SetScript(func(k int, which string) faultproxy.Fault {
		if k == 60 {
			cut() // the first batch's deadline, mid-way
		}
		if k%4 == 0 {
			return faults[(k/4)%len(faults)]
		}
		return faultproxy.Pass
	})
	batch := records(t, ids, 1)
	resp, _ := r.d.Handle(ctx, events.SQSEvent{Records: batch})
	t.Logf("first batch cut short: %d of %d records asked back", len(resp.BatchItemFailures), n)
	// The cut-short invocation's batch comes back whole.
	pending := ids
	for round := 2; round <= queue.MaxReceives && len(pending) > 0; round++ {
		if round == 4 {
			r.ddbProxy.SetScript(nil) // the table recovers
		}
		r.clk.Add(dispatch.DefaultSendingLease + time.Minute)
		batch = records(t, pending, round)
		resp, _ = r.d.Handle(context.Background(), events.SQSEvent{Records: batch})
		pending = failed(batch, resp)
	}
	if len(pending) != 0 {
		t.Fatalf("records still asked back after %d receives: %v", queue.MaxReceives, pending)
	}

	mails := sesByEvent(t, r.tag, ids)
	lost, dups, noted := 0, 0, 0
	for _, id := range ids {
		for _, to := range []string{"a-" + r.tag + "@example.com", "b-" + r.tag + "@example.com"} {
			d, err := r.st.GetDelivery(context.Background(), notify.DeliveryID(id, notify.ChannelEmail, to))
			if err != nil {
				t.Errorf("delivery of %s to %s: %v", id, to, err)
				continue
			}
			possible := strings.HasPrefix(d.Note, dispatch.PossibleDuplicateNote)
			if possible {
				noted++
			}
			if d.Status != notify.DeliverySent {
				t.Errorf("delivery %s: %s (%s), want sent", d.ID, d.Status, d.LastError)
			}
			switch c := mails[to+"|"+id]; {
			case c == 0:
				lost++
				t.Errorf("%s to %s: never mailed", id, to)
			case c > 1 && !possible:
				t.Errorf("%s to %s: mailed %d times, its delivery recorded without a duplicate note", id, to, c)
			case c > 1:
				dups += c - 1
			}
		}
	}
	t.Logf("FIGURE DynamoDB faults (%v) + batch cut mid-way and redelivered: %d events × 2 mails: lost %d, duplicates %d (all among the %d deliveries recorded sent as possible duplicates; 0 where the outcome was recorded); history: all sent",
		r.ddbProxy.Counts(), n, lost, dups, noted)
}

// sesByEvent counts kumo's sent emails per "<recipient>|<event id>", for
// recipients holding tag and the events ids (whose titles are in the
// subjects).
func sesByEvent(t *testing.T, tag string, ids []string) map[string]int {
	t.Helper()
	resp, err := http.Get(kumotest.URL(t) + "/kumo/ses/v2/sent-emails")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var all struct {
		SentEmails []struct {
			Destination struct{ ToAddresses []string }
			Subject     string
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&all); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range all.SentEmails {
		for _, id := range ids {
			if !strings.Contains(m.Subject, id+" failed") {
				continue
			}
			for _, to := range m.Destination.ToAddresses {
				if strings.Contains(to, tag) {
					out[to+"|"+id]++
				}
			}
		}
	}
	return out
}

// TestFaultAWSProviderStorms: SES answering only TooManyRequests, and Slack
// only 503, through every receive: each record is retried — SES throttling
// no sooner than the delay it asks of SQS (ChangeMessageVisibility), a 5xx
// after the queue's visibility timeout — and, on the queue's last receive,
// the record is still reported failed, so SQS's redrive policy moves it to
// the dead-letter queue (redrivable): on AWS the dispatcher never records a
// transient failure as final; the delivery stays queued with the reason.
func TestFaultAWSProviderStorms(t *testing.T) {
	var slackCalls sync.Map
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.URL.Path, "/auth.test") {
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "team": "E2E", "team_id": "T0E2E", "user_id": "U0BOT"})
			return
		}
		n, _ := slackCalls.LoadOrStore("n", new(int))
		*n.(*int)++
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(slack.Close)
	tests := []struct {
		name    string
		slack   string
		channel notify.Channel
		to      string
		reason  string
		delays  bool // a delay asked of SQS on every receive but the last
	}{
		{name: "SES throttling", channel: notify.ChannelEmail, reason: "TooManyRequests", delays: true},
		{name: "Slack 5xx storm", slack: slack.URL + "/", channel: notify.ChannelSlack, to: "C0STORM001", reason: "503"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newAWSFaultRig(t, tc.slack)
			r.sesProxy.SetScript(func(_ int, which string) faultproxy.Fault {
				if strings.HasPrefix(which, "ses:") {
					return faultproxy.Throttle
				}
				return faultproxy.Pass
			})
			to := tc.to
			if to == "" {
				to = "a-" + r.tag + "@example.com"
			}
			id := "storm-" + r.tag
			receives, leftToDLQ := 0, false
			for round := 1; round <= queue.MaxReceives; round++ {
				receives = round
				batch := records(t, []string{id}, round)
				resp, _ := r.d.Handle(context.Background(), events.SQSEvent{Records: batch})
				leftToDLQ = len(failed(batch, resp)) > 0
				if !leftToDLQ {
					break
				}
			}
			d, err := r.st.GetDelivery(context.Background(), notify.DeliveryID(id, tc.channel, to))
			if err != nil {
				t.Fatal(err)
			}
			if receives != queue.MaxReceives || !leftToDLQ || d.Status != notify.DeliveryQueued || d.Attempts != queue.MaxReceives || !strings.Contains(d.LastError, tc.reason) {
				t.Errorf("after %d receives: %s after %d attempts (%q), record left failed for the DLQ: %v; want queued after %d with the reason %q, the record left failed for the DLQ",
					receives, d.Status, d.Attempts, d.LastError, leftToDLQ, queue.MaxReceives, tc.reason)
			}
			r.vis.mu.Lock()
			delays := append([]int32(nil), r.vis.delays...)
			r.vis.mu.Unlock()
			if tc.delays && len(delays) < queue.MaxReceives-1 {
				t.Errorf("visibility delays %v: want a backoff asked of SQS on each of the first %d receives", delays, queue.MaxReceives-1)
			}
			t.Logf("FIGURE %s: 1 delivery, %d receives, backoff delays asked of SQS %v s, then the dead-letter queue; history: %s after %d attempts: %q",
				tc.name, receives, delays, d.Status, d.Attempts, d.LastError)
		})
	}
}
