package awslambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/argoproj-labs/argo-notify/pkg/awslambda"
	"github.com/argoproj-labs/argo-notify/pkg/ingest"
)

// fakeSQS records SendMessageBatch calls (sqs.BatchSender, our interface);
// the other calls are not used by ingest.
type fakeSQS struct {
	awslambda.SQS // nil: any other call panics
	mu            sync.Mutex
	bodies        []string
	fail          error
}

func (f *fakeSQS) SendMessageBatch(ctx context.Context, in *awssqs.SendMessageBatchInput, _ ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &awssqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		f.bodies = append(f.bodies, *e.MessageBody)
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id, MessageId: e.Id})
	}
	return out, nil
}

// fakeSecrets holds one secret (secrets.Client, our interface).
type fakeSecrets struct{ arn, value string }

func (f *fakeSecrets) CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error) {
	return nil, errors.New("not used")
}
func (f *fakeSecrets) PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	return nil, errors.New("not used")
}
func (f *fakeSecrets) RestoreSecret(context.Context, *secretsmanager.RestoreSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.RestoreSecretOutput, error) {
	return nil, errors.New("not used")
}
func (f *fakeSecrets) DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error) {
	return nil, errors.New("not used")
}
func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	if *in.SecretId != f.arn {
		return nil, errors.New("no such secret")
	}
	return &secretsmanager.GetSecretValueOutput{ARN: &f.arn, SecretString: &f.value}, nil
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		awslambda.EnvTable:           " notify ",
		awslambda.EnvQueueURL:        "http://q",
		awslambda.EnvIngestSecretARN: "arn:secret",
		awslambda.EnvSlackAPIURL:     "https://slack.example/api/",
	}
	got := awslambda.ConfigFromEnv(func(k string) string { return env[k] })
	want := awslambda.Config{Table: "notify", QueueURL: "http://q", IngestSecretARN: "arn:secret", SlackAPIURL: "https://slack.example/api/"}
	if got != want {
		t.Errorf("ConfigFromEnv = %+v, want %+v", got, want)
	}
}

func TestConstructorsCheckConfig(t *testing.T) {
	full := awslambda.Config{Table: "t", QueueURL: "http://q", IngestSecretARN: "arn", EmailFrom: "notify@example.com"}
	tests := []struct {
		name    string
		build   func(awslambda.Config) error
		mutate  func(*awslambda.Config)
		wantErr []string // substrings; nil: no error
	}{
		{"api ok", newAPI, func(*awslambda.Config) {}, nil},
		{"api without table", newAPI, func(c *awslambda.Config) { c.Table = "" }, []string{"api function", awslambda.EnvTable}},
		{"api bad Slack URL", newAPI, func(c *awslambda.Config) { c.SlackAPIURL = "slack.com/api" }, []string{awslambda.EnvSlackAPIURL}},
		{"ingest ok without table", newIngest, func(c *awslambda.Config) { c.Table = "" }, nil},
		{"ingest without queue and secret", newIngest, func(c *awslambda.Config) { c.QueueURL, c.IngestSecretARN = "", "" },
			[]string{"ingest function", awslambda.EnvQueueURL, awslambda.EnvIngestSecretARN}},
		{"dispatcher ok", newDispatcher, func(*awslambda.Config) {}, nil},
		{"dispatcher ok without SES sender", newDispatcher, func(c *awslambda.Config) { c.EmailFrom = "" }, nil},
		{"dispatcher without queue", newDispatcher, func(c *awslambda.Config) { c.QueueURL = "" }, []string{"dispatcher function", awslambda.EnvQueueURL}},
		{"dispatcher bad sender", newDispatcher, func(c *awslambda.Config) { c.EmailFrom = "not an address" }, []string{"from"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := full
			tt.mutate(&cfg)
			err := tt.build(cfg)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one naming %v", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func newAPI(c awslambda.Config) error {
	_, err := awslambda.NewAPI(c, awslambda.Clients{}, awslambda.Options{Logger: slog.New(slog.DiscardHandler)})
	return err
}

func newIngest(c awslambda.Config) error {
	_, err := awslambda.NewIngest(c, awslambda.Clients{}, awslambda.Options{Logger: slog.New(slog.DiscardHandler)})
	return err
}

func newDispatcher(c awslambda.Config) error {
	_, err := awslambda.NewDispatcher(c, awslambda.Clients{}, awslambda.Options{Logger: slog.New(slog.DiscardHandler)})
	return err
}

// sample reads a file under events/.
func sample(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIngestHandle(t *testing.T) {
	const secret = "s3cret"
	now := time.Date(2026, 11, 26, 2, 30, 0, 0, time.UTC)
	body := `{"id":"evt-1","type":"JOB","severity":"CRITICAL","title":"t","message":"m","source":"s","occurredAt":"2026-11-26T02:00:00Z"}`
	// Two v1 values: the header carries commas the proxy must not split.
	sig := ingest.Sign(secret, []byte(body), now) + ",v1=" + strings.Repeat("0", 64)
	tests := []struct {
		name       string
		payload    []byte
		queueFails bool
		wantStatus int    // API Gateway requests; 0: an EventBridge event
		wantErr    string // substring; "": no error
		wantQueued []string
	}{
		{name: "signed request", payload: apigw("POST", "/v1/events", body, map[string]string{"x-argo-signature": sig}),
			wantStatus: http.StatusAccepted, wantQueued: []string{"evt-1"}},
		{name: "unsigned request", payload: apigw("POST", "/v1/events", body, nil), wantStatus: http.StatusUnauthorized},
		{name: "queue down answers 503", payload: apigw("POST", "/v1/events", body, map[string]string{"x-argo-signature": sig}),
			queueFails: true, wantStatus: http.StatusServiceUnavailable},
		{name: "admin route is not served", payload: apigw("GET", "/v1/rules", "", nil), wantStatus: http.StatusNotFound},
		{name: "other method", payload: apigw("GET", "/v1/events", "", nil), wantStatus: http.StatusMethodNotAllowed},
		{name: "terminal job state", payload: sample(t, "eventbridge/batch.failed.json"), wantQueued: []string{"eb:5e7d1a4c-2b3f-4c8d-9e0a-1b2c3d4e5f60"}},
		{name: "non-terminal job state", payload: sample(t, "eventbridge/stepfunctions-running.ignored.json")},
		{name: "unsupported detail-type", payload: sample(t, "eventbridge/ec2-instance-state.unsupported.json")},
		{name: "malformed EventBridge event", payload: []byte(`{"id":"x","source":"aws.batch","detail-type":"Batch Job State Change","detail":[]}`)},
		{name: "queue down fails the EventBridge invocation", payload: sample(t, "eventbridge/batch.failed.json"), queueFails: true, wantErr: "queue"},
		{name: "neither kind", payload: []byte(`{"hello":"world"}`), wantErr: "neither"},
		{name: "not an object", payload: []byte(`[1,2]`), wantErr: "not a JSON object"},
		{name: "payload format 1.0", payload: []byte(`{"version":"1.0","requestContext":{},"path":"/v1/events"}`), wantErr: "2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &fakeSQS{}
			if tt.queueFails {
				q.fail = errors.New("connection refused")
			}
			h, err := awslambda.NewIngest(awslambda.Config{QueueURL: "http://q", IngestSecretARN: "arn:ingest"},
				awslambda.Clients{SQS: q, SecretsManager: &fakeSecrets{arn: "arn:ingest", value: secret + "\n"}},
				awslambda.Options{Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			out, err := h.Handle(context.Background(), tt.payload)
			switch {
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.wantStatus != 0 {
				resp, ok := out.(events.APIGatewayV2HTTPResponse)
				if !ok || resp.StatusCode != tt.wantStatus {
					t.Fatalf("response %+v, want status %d", out, tt.wantStatus)
				}
			} else if out != nil {
				t.Errorf("EventBridge invocation returned %v, want nil", out)
			}
			var ids []string
			for _, b := range q.bodies {
				var ev struct{ ID string }
				json.Unmarshal([]byte(b), &ev)
				ids = append(ids, ev.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.wantQueued, ",") {
				t.Errorf("queued %v, want %v", ids, tt.wantQueued)
			}
		})
	}
}
