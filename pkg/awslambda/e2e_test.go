package awslambda_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/argoproj-labs/argo-notify/pkg/awslambda"
	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store/awssecrets"
	"github.com/argoproj-labs/argo-notify/pkg/store/dynamo"
)

// apigw builds an API Gateway HTTP API (payload 2.0) request, as the stack's
// HTTP API sends it to the functions.
func apigw(method, path, body string, headers map[string]string) []byte {
	h := map[string]string{"content-type": "application/json", "accept": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	req := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "ANY /v1/{proxy+}",
		RawPath:  path,
		Headers:  h,
		Body:     body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID:  "123456789012",
			APIID:      "abc123",
			DomainName: "abc123.execute-api.us-east-1.amazonaws.com",
			Stage:      "$default",
			RequestID:  "req-" + tag(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.10",
			},
		},
	}
	b, _ := json.Marshal(req)
	return b
}

// slackServer is a Slack Web API stand-in that records chat.postMessage.
type slackServer struct {
	*httptest.Server
	mu    sync.Mutex
	posts []slackPost
}

type slackPost struct{ Channel, Text string }

func newSlackServer(t *testing.T) *slackServer {
	s := &slackServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/auth.test", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.Header.Get("Authorization") != "Bearer xoxb-e2e-token" && r.Form.Get("token") != "xoxb-e2e-token" {
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": "https://e2e.slack.example/", "team": "E2E",
			"user": "argo-notify", "team_id": "T0E2E", "user_id": "U0BOT", "bot_id": "B0BOT"})
	})
	mux.HandleFunc("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if r.Header.Get("Authorization") != "Bearer xoxb-e2e-token" && r.Form.Get("token") != "xoxb-e2e-token" {
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		s.mu.Lock()
		s.posts = append(s.posts, slackPost{Channel: r.Form.Get("channel"), Text: r.Form.Get("text")})
		n := len(s.posts)
		s.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.Form.Get("channel"), "ts": fmt.Sprintf("1795660200.%06d", n)})
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// byChannel counts the posts per channel.
func (s *slackServer) byChannel() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, p := range s.posts {
		out[p.Channel]++
	}
	return out
}

// sesSent counts kumo's sent emails per recipient, for recipients that
// contain tag (kumo is shared by every test), and fails on a message with
// several recipients (the dispatcher sends one mail per address).
func sesSent(t *testing.T, tag, wantFrom string) map[string]int {
	t.Helper()
	resp, err := http.Get(os.Getenv("ARGO_NOTIFY_TEST_KUMO_URL") + "/kumo/ses/v2/sent-emails")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var all struct {
		SentEmails []struct {
			FromEmailAddress string
			Destination      struct{ ToAddresses, CcAddresses, BccAddresses []string }
			Subject          string
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&all); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range all.SentEmails {
		to := m.Destination.ToAddresses
		if !slices.ContainsFunc(to, func(a string) bool { return strings.Contains(a, tag) }) {
			continue
		}
		if len(to) != 1 || len(m.Destination.CcAddresses)+len(m.Destination.BccAddresses) != 0 {
			t.Errorf("mail %q went to %v (cc %v, bcc %v), want one recipient", m.Subject, to, m.Destination.CcAddresses, m.Destination.BccAddresses)
		}
		if m.FromEmailAddress != wantFrom {
			t.Errorf("mail %q from %q, want %q", m.Subject, m.FromEmailAddress, wantFrom)
		}
		for _, a := range to {
			out[a]++
		}
	}
	return out
}

// directory is the users, groups and rules both end-to-end tests create.
func directory(tag string) (users, groups, rules []string) {
	users = []string{
		fmt.Sprintf(`{"id":"alice","name":"Alice","email":"alice-%s@example.com","role":"admin"}`, tag),
		fmt.Sprintf(`{"id":"bob","name":"Bob","email":"bob-%s@example.com","role":"member"}`, tag),
	}
	groups = []string{`{"id":"sre","name":"SRE","members":["alice","bob"]}`}
	rules = []string{
		// Alice is named directly and through the group: one mail.
		fmt.Sprintf(`{"name":"Failed jobs","eventTypes":["JOB"],"severities":["CRITICAL"],"recipients":{"users":["alice"],"groups":["sre"],"emails":["oncall-%s@example.com"],"slackChannels":["C0ONCALL01"]}}`, tag),
		// The same Slack channel again: one post.
		`{"name":"Jobs to Slack","eventTypes":["JOB"],"severities":["CRITICAL","WARNING"],"recipients":{"slackChannels":["C0ONCALL01","C0JOBS0002"]}}`,
		// Matches none of the events sent.
		fmt.Sprintf(`{"name":"Spending","eventTypes":["SPENDING"],"severities":["CRITICAL"],"recipients":{"emails":["finance-%s@example.com"]}}`, tag),
	}
	return users, groups, rules
}

// connectSlack writes a connected Slack workspace to the table and its
// token to Secrets Manager directly, as the api's POST
// /v1/integrations/slack does.
func connectSlack(t *testing.T, c awsClients, table, prefix string) {
	t.Helper()
	ctx := context.Background()
	ref, err := awssecrets.New(c.sm, awssecrets.Config{Prefix: prefix}).PutSecret(ctx, "slack-bot-token", "xoxb-e2e-token")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { awssecrets.New(c.sm, awssecrets.Config{}).DeleteSecret(context.Background(), ref) })
	now := time.Now().UTC().Truncate(time.Millisecond)
	err = dynamo.New(c.ddb, table).PutSlack(ctx, &notify.Slack{
		TeamID: "T0E2E", Team: "E2E", BotUserID: "U0BOT", BotName: "argo-notify",
		TokenRef: ref, Version: 1, CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestEndToEnd runs the AWS wiring on the emulators: the api function
// creates the directory and the rules, the ingest function queues a signed
// event and two EventBridge events on SQS, the test hands the received
// batch to the dispatcher function (as the event source mapping would),
// which mails through SES (kumo) and posts to a Slack test server. The
// same batch delivered again notifies nobody twice.
func TestEndToEnd(t *testing.T) {
	integration(t)
	c := newAWS(t)
	tg := tag()
	table, queueURL := c.newTable(t), c.newQueue(t)
	ingestSecret := "e2e-" + tg
	prefix := "argo-notify-test/" + tg + "/"
	slack := newSlackServer(t)
	from := "notify-" + tg + "@example.com"
	env := map[string]string{
		awslambda.EnvTable:           table,
		awslambda.EnvQueueURL:        queueURL,
		awslambda.EnvIngestSecretARN: c.newSecret(t, ingestSecret),
		awslambda.EnvSecretPrefix:    prefix,
		awslambda.EnvEmailFrom:       "Argo Notify <" + from + ">",
		awslambda.EnvSlackAPIURL:     slack.URL + "/",
	}
	apiFn := startRIE(t, bootstrap(t, "api"), env)
	ingestFn := startRIE(t, bootstrap(t, "ingest"), env)
	dispatcherFn := startRIE(t, bootstrap(t, "dispatcher"), env)

	// The directory and the rules, through the api awslambda.
	users, groups, rules := directory(tg)
	for _, step := range []struct {
		path   string
		bodies []string
	}{{"/v1/users", users}, {"/v1/groups", groups}, {"/v1/rules", rules}} {
		for _, b := range step.bodies {
			r := decodeAPI(t, first(apiFn.invoke(t, apigw("POST", step.path, b, nil))))
			if r.StatusCode != http.StatusCreated {
				t.Fatalf("POST %s: %s", step.path, r)
			}
		}
	}
	// Slack, through the api function: auth.test on the test server, the
	// token into Secrets Manager under the prefix, the workspace into the
	// table.
	if r := decodeAPI(t, first(apiFn.invoke(t, apigw("POST", "/v1/integrations/slack", `{"token":"xoxb-e2e-token"}`, nil)))); r.StatusCode != http.StatusCreated {
		t.Fatalf("POST /v1/integrations/slack: %s", r)
	} else if strings.Contains(r.Body, "xoxb") {
		t.Errorf("the Slack token came back: %s", r.Body)
	}

	// Three events into the ingest awslambda.
	jobEvent := fmt.Sprintf(`{"id":"e2e-%s-job","type":"JOB","severity":"CRITICAL","title":"Job reindex failed","message":"exit 137","source":"argo-e2e","occurredAt":"2026-11-26T02:00:00Z"}`, tg)
	r := decodeAPI(t, first(ingestFn.invoke(t, apigw("POST", awslambda.IngestPath, jobEvent,
		map[string]string{"x-argo-signature": ingest.Sign(ingestSecret, []byte(jobEvent), time.Now())}))))
	if r.StatusCode != http.StatusAccepted {
		t.Fatalf("signed POST /v1/events: %s", r)
	}
	if out := first(ingestFn.invoke(t, fixture(t, "eventbridge/batch.failed.json"))); string(out) != "null" {
		t.Fatalf("EventBridge Batch event: %s", out)
	}
	spending := fmt.Sprintf(`{"version":"0","id":"e2e-%s-bus","detail-type":"Argo Event","source":"argo","account":"123456789012","time":"2026-11-26T02:20:00Z","region":"us-east-1","resources":[],`+
		`"detail":{"id":"e2e-%s-spend","type":"SPENDING","severity":"INFO","title":"Spend is on track","message":"ok","source":"argo-e2e","occurredAt":"2026-11-26T02:19:58Z"}}`, tg, tg)
	if out := first(ingestFn.invoke(t, []byte(spending))); string(out) != "null" {
		t.Fatalf("EventBridge Argo bus event: %s", out)
	}

	// SQS → dispatcher, as the event source mapping would do it.
	batch := receiveAll(t, c, queueURL, 3)
	payload, _ := json.Marshal(batch)
	dispatch := func(round string) {
		out := first(dispatcherFn.invoke(t, payload))
		var resp events.SQSEventResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("%s: not an SQSEventResponse: %s", round, out)
		}
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s: batch item failures %v, want none", round, resp.BatchItemFailures)
		}
	}
	dispatch("first delivery")
	for _, rec := range batch.Records {
		c.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &queueURL, ReceiptHandle: &rec.ReceiptHandle})
	}

	// Two JOB CRITICAL events (the signed one, the failed Batch job) each
	// reach Alice, Bob and on-call once by mail, and both Slack channels
	// once; the spending event reaches nobody.
	wantMail := map[string]int{"alice-" + tg + "@example.com": 2, "bob-" + tg + "@example.com": 2, "oncall-" + tg + "@example.com": 2}
	wantSlack := map[string]int{"C0ONCALL01": 2, "C0JOBS0002": 2}
	// SES is paced to the sandbox rate here (kumo has no GetAccount): an
	// event whose sends are further than pace.MaxWait from their slots is
	// put back on the queue; hand what comes back to the dispatcher, as
	// the event source mapping would.
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); {
		if maps.Equal(sesSent(t, tg, `"Argo Notify" <`+from+`>`), wantMail) && maps.Equal(slack.byChannel(), wantSlack) {
			break
		}
		out, err := c.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &queueURL, MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, VisibilityTimeout: 60, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			continue
		}
		var back events.SQSEvent
		for _, m := range out.Messages {
			back.Records = append(back.Records, record(queueURL, m))
		}
		p, _ := json.Marshal(back)
		first(dispatcherFn.invoke(t, p))
		for _, m := range out.Messages {
			c.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &queueURL, ReceiptHandle: m.ReceiptHandle})
		}
	}
	check := func(round string) {
		t.Helper()
		if got := sesSent(t, tg, `"Argo Notify" <`+from+`>`); !maps.Equal(got, wantMail) {
			t.Errorf("%s: mails per recipient %v, want %v", round, got, wantMail)
		}
		if got := slack.byChannel(); !maps.Equal(got, wantSlack) {
			t.Errorf("%s: Slack posts per channel %v, want %v", round, got, wantSlack)
		}
	}
	check("first delivery")

	// The queue delivers the same batch again: nobody is notified twice.
	dispatch("redelivery")
	check("redelivery")

	// The deliveries are on record, through the api awslambda.
	d := decodeAPI(t, first(apiFn.invoke(t, apigw("GET", "/v1/deliveries", "", nil))))
	if d.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/deliveries: %s", d)
	}
	var list struct {
		Items []struct{ Status string } `json:"items"`
	}
	json.Unmarshal([]byte(d.Body), &list)
	if len(list.Items) != 10 {
		t.Errorf("GET /v1/deliveries: %d deliveries, want 10 (2 events × 3 mails + 2 channels): %s", len(list.Items), d.Body)
	}
	for _, it := range list.Items {
		if it.Status != string(notify.DeliverySent) {
			t.Errorf("delivery status %q, want sent", it.Status)
		}
	}
}
