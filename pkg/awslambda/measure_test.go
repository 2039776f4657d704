package awslambda_test

// Measurements for the closing note, run with the integration
// tests: invoke times under the Runtime Interface Emulator next to a
// hello-world bootstrap, and the DynamoDB calls the dispatcher makes per
// event in steady state. They log numbers (go test -v); they assert only
// that the work was done, never how fast.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go/middleware"

	"github.com/argoproj-labs/argo-notify/pkg/awslambda"
	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/send/ses"
)

// How many invocations are timed: first invocations of a fresh emulator,
// and invocations after the first.
const (
	coldRuns    = 3
	warmInvokes = 10
)

// TestInvokeTimes logs, for each function and a hello-world bootstrap, the
// first invoke time of a fresh emulator (cold: process start, init, first
// call) with an invocation that calls no AWS service and with a
// representative one, and the median warm invoke time of the latter, under
// the emulator, seen from the client, on kumo. Representative work: api
// lists rules (DynamoDB), ingest queues a signed event (Secrets Manager,
// SQS), the dispatcher sends one event to one mailbox (DynamoDB, SES).
func TestInvokeTimes(t *testing.T) {
	integration(t)
	c := newAWS(t)
	tg := tag()
	table, queueURL := c.newTable(t), c.newQueue(t)
	secret := "measure-" + tg
	env := map[string]string{
		awslambda.EnvTable:           table,
		awslambda.EnvQueueURL:        queueURL,
		awslambda.EnvIngestSecretARN: c.newSecret(t, secret),
		awslambda.EnvEmailFrom:       "notify-" + tg + "@example.com",
	}
	// One rule, so each dispatched event sends one mail through SES.
	apiFn := startRIE(t, bootstrap(t, "api"), env)
	rule := fmt.Sprintf(`{"name":"Jobs","eventTypes":["JOB"],"severities":["CRITICAL"],"recipients":{"emails":["ops-%s@example.com"]}}`, tg)
	if r := decodeAPI(t, first(apiFn.invoke(t, apigw("POST", "/v1/rules", rule, nil)))); r.StatusCode != http.StatusCreated {
		t.Fatalf("create rule: %s", r)
	}

	n := 0
	event := func() string {
		n++
		return fmt.Sprintf(`{"id":"m-%s-%d","type":"JOB","severity":"CRITICAL","title":"Job %d failed","message":"m","source":"measure","occurredAt":"2026-11-26T02:00:00Z"}`, tg, n, n)
	}
	functions := []struct {
		name    string
		trivial []byte // an invocation that calls no AWS service
		payload func() []byte
		check   func(t *testing.T, out json.RawMessage)
	}{
		{"hello", []byte(`{}`), func() []byte { return []byte(`{}`) }, func(t *testing.T, out json.RawMessage) {
			if string(out) != `"hello"` {
				t.Fatalf("hello returned %s", out)
			}
		}},
		{"api", apigw("GET", "/healthz", "", nil), func() []byte { return apigw("GET", "/v1/rules", "", nil) }, func(t *testing.T, out json.RawMessage) {
			if r := decodeAPI(t, out); r.StatusCode != http.StatusOK {
				t.Fatalf("GET /v1/rules: %s", r)
			}
		}},
		{"ingest", fixture(t, "eventbridge/batch-running.ignored.json"), func() []byte {
			b := event()
			return apigw("POST", awslambda.IngestPath, b, map[string]string{"x-argo-signature": ingest.Sign(secret, []byte(b), time.Now())})
		}, func(t *testing.T, out json.RawMessage) {
			if r := decodeAPI(t, out); r.StatusCode != http.StatusAccepted {
				t.Fatalf("POST /v1/events: %s", r)
			}
		}},
		{"dispatcher", []byte(`{"Records":[]}`), func() []byte {
			ev := events.SQSEvent{Records: []events.SQSMessage{{
				MessageId: "msg-" + tag(), ReceiptHandle: "rh", Body: event(),
				Attributes:     map[string]string{"ApproximateReceiveCount": "1"},
				EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:measure",
			}}}
			b, _ := json.Marshal(ev)
			return b
		}, func(t *testing.T, out json.RawMessage) {
			var resp events.SQSEventResponse
			if err := json.Unmarshal(out, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("dispatcher: %s", out)
			}
		}},
	}
	var report []string
	for _, f := range functions {
		// First invocations of fresh emulators, the median of coldRuns:
		// one that does no I/O (process start and init), and the real work.
		var coldTrivial, coldWork []time.Duration
		var fn *rie
		for range coldRuns {
			_, d := startRIE(t, bootstrap(t, f.name), env).invoke(t, f.trivial)
			coldTrivial = append(coldTrivial, d)
			fn = startRIE(t, bootstrap(t, f.name), env)
			out, d := fn.invoke(t, f.payload())
			f.check(t, out)
			coldWork = append(coldWork, d)
		}
		trivial, cold := median(coldTrivial), median(coldWork)
		warm := make([]time.Duration, 0, warmInvokes)
		for range warmInvokes {
			out, d := fn.invoke(t, f.payload())
			f.check(t, out)
			warm = append(warm, d)
		}
		slices.Sort(warm)
		report = append(report, fmt.Sprintf("%-10s cold, no I/O %6.1f ms   cold with work %6.1f ms   warm %5.2f ms (min %.2f, max %.2f)",
			f.name, ms(trivial), ms(cold), ms(warm[len(warm)/2]), ms(warm[0]), ms(warm[len(warm)-1])))
	}
	// Every dispatched event was mailed once.
	if got := sesSent(t, tg, "notify-"+tg+"@example.com"); got["ops-"+tg+"@example.com"] != warmInvokes+coldRuns {
		t.Errorf("mails sent %v, want %d to ops", got, warmInvokes+coldRuns)
	}
	t.Logf("invoke times under aws-lambda-rie (host build, kumo on 127.0.0.1; medians of %d cold starts and %d warm invokes):\n%s", coldRuns, warmInvokes, strings.Join(report, "\n"))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// opCounter counts DynamoDB operations by name.
type opCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *opCounter) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("argoCountOps",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				c.n[awsmiddleware.GetOperationName(ctx)]++
				c.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}

// take returns the counts so far and resets them.
func (c *opCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.n
	c.n = map[string]int{}
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func describe(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// TestDispatcherDynamoDBCalls counts the DynamoDB calls of the dispatcher
// handler (in process, on kumo) per event in steady state: warm, rules
// cached, Slack connected, each event reaching 3 mailboxes and 2 Slack
// channels; and per redelivered event.
func TestDispatcherDynamoDBCalls(t *testing.T) {
	integration(t)
	counter := &opCounter{n: map[string]int{}}
	c := newAWS(t, counter.option)
	tg := tag()
	table, queueURL := c.newTable(t), c.newQueue(t)
	prefix := "argo-notify-test/" + tg + "/"
	slack := newSlackServer(t)
	cfg := awslambda.Config{Table: table, QueueURL: queueURL, EmailFrom: "notify-" + tg + "@example.com",
		SecretPrefix: prefix, SlackAPIURL: slack.URL + "/",
		// One instance: Slack's 1 post/s per channel is this dispatcher's
		// alone, so the 6 posts per channel fit in pace.MaxWait (the
		// clock below stands still: no later slot frees up).
		DispatcherConcurrency: 1}
	quiet := awslambda.Options{Logger: slog.New(slog.DiscardHandler)}

	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// SES without its quota reader is not paced: kumo's quota would
	// stretch the run to minutes, and the count does not depend on it.
	clients := awslambda.Clients{DynamoDB: c.ddb, SQS: c.sqs, SES: unpacedSES{sesv2.NewFromConfig(awsCfg)}, SecretsManager: c.sm}
	admin, err := awslambda.NewAPI(cfg, clients, quiet)
	if err != nil {
		t.Fatal(err)
	}
	users, groups, rules := directory(tg)
	for _, step := range []struct {
		path   string
		bodies []string
	}{{"/v1/users", users}, {"/v1/groups", groups}, {"/v1/rules", rules}} {
		for _, b := range step.bodies {
			rec := httptest.NewRecorder()
			admin.ServeHTTP(rec, httptest.NewRequest("POST", step.path, strings.NewReader(b)))
			if rec.Code != http.StatusCreated {
				t.Fatalf("POST %s: %d %s", step.path, rec.Code, rec.Body)
			}
		}
	}
	connectSlack(t, c, table, prefix)

	// The dispatcher's clock stands still: the rule, directory and
	// integration caches do not expire during the run (SES pacing against
	// kumo makes it last longer than their TTLs), so what is counted is
	// the per-event cost; each TTL adds its reads once per expiry, however
	// many events arrive.
	frozen := time.Now()
	warmOpts := quiet
	warmOpts.Now = func() time.Time { return frozen }
	d, err := awslambda.NewDispatcher(cfg, clients, warmOpts)
	if err != nil {
		t.Fatal(err)
	}
	batch := func(ids ...string) events.SQSEvent {
		var ev events.SQSEvent
		for _, id := range ids {
			ev.Records = append(ev.Records, events.SQSMessage{
				MessageId: "msg-" + id, ReceiptHandle: "rh-" + id,
				Body:           fmt.Sprintf(`{"id":%q,"type":"JOB","severity":"CRITICAL","title":"Job %s failed","message":"m","source":"count","occurredAt":"2026-11-26T02:00:00Z"}`, id, id),
				Attributes:     map[string]string{"ApproximateReceiveCount": "1"},
				EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:count",
			})
		}
		return ev
	}
	run := func(ev events.SQSEvent) map[string]int {
		t.Helper()
		counter.take()
		resp, err := d.Handle(context.Background(), ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("dispatch: %v, failures %v", err, resp.BatchItemFailures)
		}
		return counter.take()
	}

	first := run(batch(tg + "-0"))
	const steady = 5
	ids := make([]string, steady)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%d", tg, i+1)
	}
	warm := run(batch(ids...))
	again := run(batch(ids[0]))

	// Each of the 6 events reached 3 mailboxes and 2 channels, once.
	mails := sesSent(t, tg, "notify-"+tg+"@example.com")
	if total(mails) != 3*(steady+1) {
		t.Errorf("mails %v, want %d", mails, 3*(steady+1))
	}
	if got := slack.byChannel(); got["C0ONCALL01"] != steady+1 || got["C0JOBS0002"] != steady+1 {
		t.Errorf("Slack posts %v, want %d per channel", got, steady+1)
	}
	// Issue 12's target: in steady state at most one write per delivery
	// plus one per event, and no read.
	if reads := warm["GetItem"] + warm["Query"] + warm["BatchGetItem"] + warm["Scan"]; reads != 0 {
		t.Errorf("steady state: %d reads over %d events (%s), want 0", reads, steady, describe(warm))
	}
	if writes := total(warm) - warm["GetItem"] - warm["Query"] - warm["BatchGetItem"] - warm["Scan"]; writes > steady*(5+1) {
		t.Errorf("steady state: %d writes over %d events of 5 deliveries (%s), want at most %d", writes, steady, describe(warm), steady*6)
	}
	t.Logf("DynamoDB calls of the dispatcher (5 deliveries per event: 3 mails, 2 Slack posts):\n"+
		"  first event (rules read):   %d (%s)\n"+
		"  steady state, per event:    %.1f (%s over %d events)\n"+
		"  redelivered event (deduped): %d (%s)",
		total(first), describe(first), float64(total(warm))/steady, describe(warm), steady, total(again), describe(again))
}

// unpacedSES is an SES client without the quota reader the dispatcher
// paces SES sends with.
type unpacedSES struct{ ses.Client }
