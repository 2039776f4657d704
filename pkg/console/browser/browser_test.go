package browser

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/local"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp/smtptest"
)

// repo is the repository root, relative to this package's directory.
const repo = "../../.."

// TestConsoleInBrowser walks the console as an administrator does (see
// _console/test/walk.mjs) against the real service. It runs under make
// test (ARGO_NOTIFY_INTEGRATION=1) and make console-test
// (ARGO_NOTIFY_CONSOLE_TEST=1); there a missing browser or package fails
// it, naming what to install. ARGO_NOTIFY_SCREENSHOTS=<dir> writes a
// screenshot of every screen there (make screenshots).
func TestConsoleInBrowser(t *testing.T) {
	if os.Getenv("ARGO_NOTIFY_INTEGRATION") != "1" && os.Getenv("ARGO_NOTIFY_CONSOLE_TEST") != "1" {
		t.Skip("the browser test runs in make test and make console-test (ARGO_NOTIFY_CONSOLE_TEST=1)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("the console's browser test needs Node.js 20 or later (Debian: apt-get install nodejs npm)")
	}
	chrome := findChrome(t)
	if _, err := os.Stat(filepath.Join(repo, "_console/node_modules/playwright-core/package.json")); err != nil {
		t.Fatal("_console/node_modules is missing: run make console-test (it runs npm ci in _console)")
	}

	smtp := smtptest.NewServer(t, smtptest.WithMaxRecipients(100))
	slack := startSlack(t)
	svc := startService(t, local.EnvSMTPCAFile+"="+smtp.CAFile, local.EnvSlackAPIURL+"="+slack.URL)
	seed(t, svc)
	// A webhook on 127.0.0.1 for the walk to pick in the rule editor.
	var hookPosts atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			hookPosts.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	seedWebhook(t, svc, hook.URL+"/hook")

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(repo, "_console/test/walk.mjs"))
	cmd.Env = append(os.Environ(),
		"CONSOLE_URL="+svc.url, "CONSOLE_TOKEN="+svc.token, "CONSOLE_INGEST_SECRET="+svc.secret,
		"CHROME_PATH="+chrome,
		fmt.Sprintf("SMTP_HOST=%s", smtp.Host), fmt.Sprintf("SMTP_PORT=%d", smtp.Port),
		"SMTP_USER="+smtp.Username, "SMTP_PASS="+smtp.Password,
		"SLACK_TOKEN="+slack.token,
		"SCREENSHOTS="+os.Getenv("ARGO_NOTIFY_SCREENSHOTS"),
		"SEED_RULES="+envOr("ARGO_NOTIFY_CONSOLE_RULES", "10000"),
	)
	out := &logWriter{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err = cmd.Run()
	out.flush()
	if err != nil {
		t.Fatalf("node _console/test/walk.mjs: %v (after %s)", err, time.Since(start).Round(time.Second))
	}
	t.Logf("browser walk passed in %s", time.Since(start).Round(time.Second))

	// The event the walk posted reached the rule it created, by email
	// through the SMTP server it connected and by Slack.
	deadline := time.Now().Add(30 * time.Second)
	for !reached(smtp, "oncall@console.test") || !slack.posted("C0OPS00001") || hookPosts.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the walk's event did not reach oncall@console.test by SMTP, #ops by Slack and the webhook (mail: %d messages, slack posts: %d, webhook posts: %d)", len(smtp.Messages()), slack.count(), hookPosts.Load())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func findChrome(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROME_PATH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CHROME_PATH=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium for the console's browser test: install Debian's chromium (apt-get install chromium; make console-test does it as root) or set CHROME_PATH")
	return ""
}

func reached(s *smtptest.Server, to string) bool {
	for _, m := range s.Messages() {
		for _, r := range m.To {
			if strings.EqualFold(r, to) {
				return true
			}
		}
	}
	return false
}

// logWriter passes the script's output to t.Log line by line.
type logWriter struct {
	t   *testing.T
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line)
			return len(p), nil
		}
		w.t.Log(strings.TrimRight(line, "\n"))
	}
}

func (w *logWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() > 0 {
		w.t.Log(w.buf.String())
		w.buf.Reset()
	}
}

// service is the built functions/local running as a process.
type service struct {
	url, token, secret string
}

func startService(t *testing.T, extra ...string) *service {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "argo-notify")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/argoproj-labs/argo-notify/functions/local").CombinedOutput(); err != nil {
		t.Fatalf("go build ./functions/local: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &service{url: "http://" + addr, token: "console-admin-token", secret: "console-ingest-secret"}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), local.EnvAddr+"="+addr, local.EnvData+"="+filepath.Join(dir, "data"),
		local.EnvAdminToken+"="+s.token, local.EnvIngestSecret+"="+s.secret)
	cmd.Env = append(cmd.Env, extra...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	var logs bytes.Buffer
	var logMu sync.Mutex
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			logMu.Lock()
			logs.WriteString(sc.Text() + "\n")
			logMu.Unlock()
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); pw.Close(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			logMu.Lock()
			out := logs.String()
			logMu.Unlock()
			if len(out) > 8000 {
				out = "…" + out[len(out)-8000:]
			}
			t.Logf("service output:\n%s", out)
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := http.Get(s.url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the service did not answer /healthz within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// seed makes the directory and a policy's notification: what an
// organization's sync and its policies provide before an admin arrives.
func seed(t *testing.T, s *service) {
	t.Helper()
	do := func(method, path string, body any, want int) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, s.url+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+s.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		rb, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, rb)
		}
	}
	for _, u := range []map[string]string{
		{"id": "alice", "name": "Alice Admin", "email": "alice@console.test", "role": "admin"},
		{"id": "bob", "name": "Bob Builder", "email": "bob@console.test", "role": "member"},
		{"id": "carol", "name": "Carol Cost", "email": "carol@console.test", "role": "viewer"},
		{"id": "dave", "name": "Dave Data", "email": "dave@console.test", "role": "member"},
	} {
		do(http.MethodPost, "/v1/users", u, http.StatusCreated)
	}
	do(http.MethodPost, "/v1/groups", map[string]any{"id": "sre", "name": "SRE", "members": []string{"alice", "bob"}}, http.StatusCreated)
	do(http.MethodPut, "/v1/policies/nightly-etl/notification", map[string]any{
		"name": "Policy nightly-etl", "policyName": "Nightly ETL", "enabled": true, "onSuccess": false, "onFailure": true,
		"recipients": map[string]any{"users": []string{"dave"}, "emails": []string{"etl@console.test"}},
	}, http.StatusCreated)
}

// seedWebhook connects the webhook "Console hook" at url.
func seedWebhook(t *testing.T, s *service, url string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"name": "Console hook", "url": url})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/v1/integrations/webhooks", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		rb, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST /v1/integrations/webhooks: %d, want 201: %s", resp.StatusCode, rb)
	}
}

// slackServer is a Slack Web API on 127.0.0.1: auth.test,
// conversations.list and chat.postMessage.
type slackServer struct {
	URL, token string
	mu         sync.Mutex
	posts      []string // channels posted to
}

func (s *slackServer) posted(ch string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.posts {
		if p == ch {
			return true
		}
	}
	return false
}

func (s *slackServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.posts)
}

func startSlack(t *testing.T) *slackServer {
	t.Helper()
	s := &slackServer{token: "xoxb-console-test"}
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	authed := func(w http.ResponseWriter, r *http.Request) bool {
		_ = r.ParseForm()
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if tok == "" {
			tok = r.Form.Get("token")
		}
		if tok != s.token {
			reply(w, map[string]any{"ok": false, "error": "invalid_auth"})
			return false
		}
		return true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/auth.test", func(w http.ResponseWriter, r *http.Request) {
		if authed(w, r) {
			reply(w, map[string]any{"ok": true, "url": "https://console-test.slack.test/", "team": "Console Test", "team_id": "T0CON", "user": "argo-notify", "user_id": "U0BOT", "bot_id": "B0BOT"})
		}
	})
	mux.HandleFunc("/api/conversations.list", func(w http.ResponseWriter, r *http.Request) {
		if authed(w, r) {
			reply(w, map[string]any{"ok": true, "channels": []map[string]any{
				{"id": "C0OPS00001", "name": "ops", "is_channel": true, "is_member": true},
				{"id": "C0ETL00001", "name": "etl-alerts", "is_channel": true, "is_member": true},
			}, "response_metadata": map[string]any{"next_cursor": ""}})
		}
	})
	mux.HandleFunc("/api/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
		if !authed(w, r) {
			return
		}
		ch := r.Form.Get("channel")
		s.mu.Lock()
		s.posts = append(s.posts, ch)
		n := len(s.posts)
		s.mu.Unlock()
		reply(w, map[string]any{"ok": true, "channel": ch, "ts": fmt.Sprintf("1700000000.%06d", n)})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/api/"
	return s
}
