package local_test

// The service under test: the built binary (functions/local) started as a
// process the test can kill -9, or local.Run in process. Both are driven
// over HTTP only.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/local"
)

// binary is the service built once for this test binary.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// buildBinary builds functions/local once and returns its path.
func buildBinary(t testing.TB) string {
	t.Helper()
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "argo-notify-e2e-")
		if binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "argo-notify")
		cmd := exec.Command("go", "build", "-o", binary.path, "github.com/argoproj-labs/argo-notify/functions/local")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build ./functions/local: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// syncBuffer is an io.Writer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// service is a running argo-notify.
type service struct {
	URL    string // http://127.0.0.1:port
	Token  string
	Secret string
	Data   string
	Env    local.Env // in process only

	addr   string
	extra  []string // more environment for the process
	cmd    *exec.Cmd
	exited chan struct{}
	out    *syncBuffer
	stop   func()
	client *http.Client
}

// freeAddr returns a 127.0.0.1 address with a port free right now.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// newService prepares a service on a fresh data directory; start it with
// startProcess or startInProcess. extra is more environment (KEY=value).
func newService(t testing.TB, extra ...string) *service {
	t.Helper()
	s := &service{
		Token:  "e2e-admin-token",
		Secret: "e2e-ingest-secret",
		Data:   t.TempDir(),
		addr:   freeAddr(t),
		// The test Slack server has no rate limit: the service paces to
		// 1,000 posts a second per channel instead of Slack's 1
		// (BenchmarkSlackStorm measures the pacing).
		extra:  append([]string{local.EnvSlackRate + "=1000"}, extra...),
		out:    &syncBuffer{},
		client: &http.Client{Timeout: 30 * time.Second},
	}
	s.URL = "http://" + s.addr
	t.Cleanup(func() {
		if t.Failed() {
			out := s.out.String()
			if dir := os.Getenv("ARGO_NOTIFY_TEST_KEEP_OUTPUT"); dir != "" {
				_ = os.WriteFile(filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".log"), []byte(out), 0o644)
			}
			if len(out) > 8000 {
				out = "…" + out[len(out)-8000:]
			}
			t.Logf("service output:\n%s", out)
		}
	})
	return s
}

// startProcess starts the built binary on s's data directory and address
// and waits until it answers /healthz.
func (s *service) startProcess(t testing.TB) {
	t.Helper()
	cmd := exec.Command(buildBinary(t))
	cmd.Env = append(os.Environ(),
		local.EnvAddr+"="+s.addr, local.EnvData+"="+s.Data,
		local.EnvAdminToken+"="+s.Token, local.EnvIngestSecret+"="+s.Secret)
	cmd.Env = append(cmd.Env, s.extra...)
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.exited) }()
	s.stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-s.exited
		}
	}
	t.Cleanup(func() { s.stop() })
	s.waitHealthy(t)
}

// kill stops the process with SIGKILL: no shutdown, no flush.
func (s *service) kill(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.exited
}

// startInProcess runs local.Run with the same configuration.
func (s *service) startInProcess(t testing.TB, cfg local.Config) {
	t.Helper()
	cfg.Addr, cfg.DataDir, cfg.AdminToken, cfg.IngestSecret = s.addr, s.Data, s.Token, s.Secret
	if cfg.SlackRate == 0 {
		cfg.SlackRate = 1000 // as newService sets it for the built binary
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan local.Env, 1)
	done := make(chan error, 1)
	go func() {
		done <- local.Run(ctx, cfg, local.Options{
			Stdout: s.out,
			Logger: slog.New(slog.NewTextHandler(s.out, nil)),
			Background: []func(context.Context, local.Env) error{func(ctx context.Context, env local.Env) error {
				ready <- env
				return nil
			}},
		})
	}()
	select {
	case s.Env = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("local.Run: %v", err)
	}
	s.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("local.Run: %v", err)
		}
	}
	t.Cleanup(func() { s.stop() })
	s.waitHealthy(t)
}

func (s *service) waitHealthy(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := s.client.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if s.exited != nil {
			select {
			case <-s.exited:
				t.Fatalf("the service exited during start-up")
			default:
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service did not answer /healthz within 60s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// call sends an admin API request and returns the status and body. body
// is marshalled to JSON unless it is []byte.
func (s *service) call(t testing.TB, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				t.Fatal(err)
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, b
}

// must sends an admin API request that must answer want, and decodes the
// answer into out (if not nil).
func (s *service) must(t testing.TB, method, path string, body any, want int, out any) {
	t.Helper()
	got, b := s.call(t, method, path, body)
	if got != want {
		t.Fatalf("%s %s = %d, want %d: %s", method, path, got, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// postEvents signs body with the ingest secret (at time at) and posts it
// to /v1/events. It returns the status (0 with err on a transport error)
// and the answer.
func (s *service) postEvents(ctx context.Context, body []byte, signature string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set("X-Argo-Signature", signature)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// sign is the X-Argo-Signature of body with the service's secret, now.
func (s *service) sign(body []byte) string { return ingest.Sign(s.Secret, body, time.Now()) }

// mustPost posts events (one JSON array, signed) and requires a 202.
func (s *service) mustPost(t testing.TB, events ...map[string]any) {
	t.Helper()
	body, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	status, b, err := s.postEvents(context.Background(), body, s.sign(body))
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("POST /v1/events = %d, %v: %s", status, err, b)
	}
}

// delivery is the part of a delivery record the tests read.
type delivery struct {
	ID        string   `json:"id"`
	EventID   string   `json:"eventId"`
	Channel   string   `json:"channel"`
	Recipient string   `json:"recipient"`
	RuleIDs   []string `json:"ruleIds"`
	Status    string   `json:"status"`
	Attempts  int      `json:"attempts"`
	LastError string   `json:"lastError"`
	Provider  string   `json:"provider"`
	Note      string   `json:"note"`
}

// deliveries returns every delivery record (all pages), or those of one
// event.
func (s *service) deliveries(t testing.TB, eventID string) []delivery {
	t.Helper()
	var all []delivery
	cursor := ""
	for {
		q := url.Values{"limit": {"500"}}
		if eventID != "" {
			q.Set("eventId", eventID)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Items []delivery `json:"items"`
			Next  *string    `json:"next"`
		}
		s.must(t, http.MethodGet, "/v1/deliveries?"+q.Encode(), nil, http.StatusOK, &page)
		all = append(all, page.Items...)
		if page.Next == nil || *page.Next == "" {
			return all
		}
		cursor = *page.Next
	}
}

// connectSMTP connects the SMTP peer through the API.
func (s *service) connectSMTP(t testing.TB, p smtpPeer) {
	t.Helper()
	s.must(t, http.MethodPost, "/v1/integrations/smtp", map[string]any{
		"nickname": "e2e", "host": p.Host, "port": p.Port, "adminAddress": "argo-notify@e2e.test",
		"timeoutSeconds": 10, "tls": "starttls", "useAuth": true, "username": p.User, "password": p.Pass,
	}, http.StatusCreated, nil)
}

// connectSlack connects the Slack peer through the API.
func (s *service) connectSlack(t testing.TB, p *slackPeer) {
	t.Helper()
	got, b := s.call(t, http.MethodPost, "/v1/integrations/slack", map[string]any{"token": p.Token})
	if got != http.StatusOK && got != http.StatusCreated {
		t.Fatalf("POST /v1/integrations/slack = %d: %s", got, b)
	}
}

// eventually polls cond until it returns "" or the deadline passes, then
// fails with cond's last complaint.
func eventually(t testing.TB, within time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tagOf returns the event id tag ("<prefix>-<n>") found in s, or "".
func tagOf(s, prefix string) string {
	i := strings.Index(s, prefix+"-")
	if i < 0 {
		return ""
	}
	j := i + len(prefix) + 1
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	return s[i:j]
}
