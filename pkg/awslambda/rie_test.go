package awslambda_test

// Helpers of the integration tests: the Lambda binaries built for the host,
// run under the AWS Lambda Runtime Interface Emulator, against kumo (see
// _tools/README.md for the environment _tools/with-peers.sh provides).

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/argoproj-labs/argo-notify/pkg/store/dynamo"
)

// integration skips the test unless ARGO_NOTIFY_INTEGRATION=1; when it is
// set, a missing peer is a failure.
func integration(t *testing.T) {
	t.Helper()
	if os.Getenv("ARGO_NOTIFY_INTEGRATION") != "1" {
		t.Skip("integration test: set ARGO_NOTIFY_INTEGRATION=1 (make test-integration starts the emulators)")
	}
	for _, v := range []string{"AWS_ENDPOINT_URL", "ARGO_NOTIFY_TEST_KUMO_URL", "ARGO_NOTIFY_TEST_RIE"} {
		if os.Getenv(v) == "" {
			t.Fatalf("ARGO_NOTIFY_INTEGRATION=1 but %s is not set: run under _tools/with-peers.sh", v)
		}
	}
	resp, err := http.Get(os.Getenv("ARGO_NOTIFY_TEST_KUMO_URL") + "/health")
	if err != nil {
		t.Fatalf("kumo is not reachable: %v", err)
	}
	resp.Body.Close()
}

// tag returns a short random suffix for names unique to a test.
func tag() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// binaries are the functions built once per test process for the host.
var binaries struct {
	once sync.Once
	dir  string
	err  error
}

// TestMain removes the binaries built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binaries.dir != "" {
		os.RemoveAll(binaries.dir)
	}
	os.Exit(code)
}

// bootstrap returns the path of the named function's binary (api, ingest,
// dispatcher, or hello: the baseline), built for the host's OS and
// architecture with the deploy build's flags.
func bootstrap(t *testing.T, name string) string {
	t.Helper()
	binaries.once.Do(func() {
		dir, err := os.MkdirTemp("", "argo-notify-lambdas-")
		if err != nil {
			binaries.err = err
			return
		}
		binaries.dir = dir
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", dir+string(os.PathSeparator),
			"./functions/api", "./functions/ingest", "./functions/dispatcher", "./pkg/awslambda/testdata/hello")
		cmd.Dir = repoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
		if out, err := cmd.CombinedOutput(); err != nil {
			binaries.err = fmt.Errorf("build the functions: %v\n%s", err, out)
		}
	})
	if binaries.err != nil {
		t.Fatal(binaries.err)
	}
	return filepath.Join(binaries.dir, name)
}

// repoRoot is the module root, two levels above this package.
func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

// fixture reads a file under events/.
func fixture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "events", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rie is one function running under the Runtime Interface Emulator. It
// takes one invocation at a time (a concurrent one crashes the emulator):
// invoke serializes them.
type rie struct {
	url string
	mu  sync.Mutex
}

// startRIE runs bin under aws-lambda-rie on a free 127.0.0.1 port with the
// test's environment plus env, and stops it when the test ends.
func startRIE(t *testing.T, bin string, env map[string]string) *rie {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	// The runtime API the function polls defaults to 127.0.0.1:9001 for
	// every emulator: give each its own, so several can run at once.
	runtimeAPI := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(os.Getenv("ARGO_NOTIFY_TEST_RIE"),
		"--runtime-interface-emulator-address", addr, "--runtime-api-address", runtimeAPI, bin)
	// Not AWS_CA_BUNDLE, which some machines set for their own proxy: the
	// functions talk plain HTTP to kumo here, a Lambda has no such bundle,
	// and the SDK would parse it at every cold start (~4 ms measured).
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_CA_BUNDLE=") })
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start aws-lambda-rie: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("aws-lambda-rie %s output:\n%s", filepath.Base(bin), out.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("aws-lambda-rie exited at start-up:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("aws-lambda-rie did not listen on %s:\n%s", addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &rie{url: "http://" + addr + "/2015-03-31/functions/function/invocations"}
}

// invoke sends one invocation and returns the function's response and how
// long the invocation took, seen from the client. A handler error (HTTP 200
// with errorMessage/errorType) fails the test.
func (r *rie) invoke(t *testing.T, payload []byte) (json.RawMessage, time.Duration) {
	t.Helper()
	out, d, err := r.try(payload)
	if err != nil {
		t.Fatal(err)
	}
	return out, d
}

// try is invoke returning a handler error instead of failing.
func (r *rie) try(payload []byte) (json.RawMessage, time.Duration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := time.Now()
	resp, err := http.Post(r.url, "application/json", bytes.NewReader(payload))
	if err != nil {
		return nil, 0, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	d := time.Since(start)
	if err != nil {
		return nil, d, fmt.Errorf("invoke: read the response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, d, fmt.Errorf("invoke: HTTP %d: %s", resp.StatusCode, body)
	}
	var fnErr struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	if json.Unmarshal(body, &fnErr) == nil && (fnErr.ErrorMessage != "" || fnErr.ErrorType != "") {
		return body, d, fmt.Errorf("function error %s: %s", fnErr.ErrorType, fnErr.ErrorMessage)
	}
	return body, d, nil
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer is a bytes.Buffer safe for the emulator's two output streams.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// awsClients are SDK clients on kumo, from the environment as the functions
// build theirs.
type awsClients struct {
	ddb *dynamodb.Client
	sqs *sqs.Client
	sm  *secretsmanager.Client
}

func newAWS(t *testing.T, optFns ...func(*dynamodb.Options)) awsClients {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// kumo's DynamoDB responses carry a bad CRC32 (EMULATORS.md).
	opts := append([]func(*dynamodb.Options){func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true }}, optFns...)
	return awsClients{
		ddb: dynamodb.NewFromConfig(cfg, opts...),
		sqs: sqs.NewFromConfig(cfg),
		sm:  secretsmanager.NewFromConfig(cfg),
	}
}

// newTable creates a table for this test.
func (c awsClients) newTable(t *testing.T) string {
	t.Helper()
	name := "fn-" + sanitize(t.Name()) + "-" + tag()
	if err := dynamo.CreateTable(context.Background(), c.ddb, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.ddb.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name}) })
	return name
}

// newQueue creates a queue for this test and returns its URL.
func (c awsClients) newQueue(t *testing.T) string {
	t.Helper()
	name := "fn-" + sanitize(t.Name()) + "-" + tag()
	out, err := c.sqs.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: &name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.sqs.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
	return *out.QueueUrl
}

// newSecret creates a secret for this test and returns its ARN.
func (c awsClients) newSecret(t *testing.T, value string) string {
	t.Helper()
	name := "argo-notify-test/" + sanitize(t.Name()) + "-" + tag()
	out, err := c.sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: &name, SecretString: &value})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.sm.DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{SecretId: out.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)})
	})
	return *out.ARN
}

// sanitize makes a test name usable in table, queue and secret names.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := b.String()
	if len(out) > 40 {
		out = out[:40]
	}
	return out
}
