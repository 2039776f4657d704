// Package kumotest connects integration tests to the kumo AWS emulator
// (DynamoDB, SQS, SES v2, Secrets Manager) that _tools/with-peers.sh starts
// on 127.0.0.1 for `make test`. It imports nothing of argo-notify.
package kumotest

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Config skips t unless ARGO_NOTIFY_INTEGRATION=1. With it set, it fails t
// if ARGO_NOTIFY_TEST_KUMO_URL is unset or kumo does not answer its health
// check, and returns the SDK configuration that reaches kumo: endpoint and
// credentials come from the SDK's own variables (AWS_ENDPOINT_URL, …) that
// with-peers.sh exports. Keep-alives are off: over reused connections kumo
// now and then cuts a response short.
func Config(t testing.TB) aws.Config {
	t.Helper()
	if os.Getenv("ARGO_NOTIFY_INTEGRATION") != "1" {
		t.Skip("integration test: set ARGO_NOTIFY_INTEGRATION=1 (make test-integration starts kumo)")
	}
	base := URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/health", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("kumo unreachable: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("kumo health: %s", resp.Status)
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(
		awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.DisableKeepAlives = true })))
	if err != nil {
		t.Fatalf("load AWS config: %v", err)
	}
	return cfg
}

// URL is kumo's base URL, for its own read-back endpoints such as
// /kumo/ses/v2/sent-emails. It fails t if ARGO_NOTIFY_TEST_KUMO_URL is
// unset.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("ARGO_NOTIFY_TEST_KUMO_URL")
	if u == "" {
		t.Fatal("ARGO_NOTIFY_INTEGRATION=1 but ARGO_NOTIFY_TEST_KUMO_URL is not set: run under _tools/with-peers.sh")
	}
	return u
}
