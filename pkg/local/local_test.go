package local

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{name: "defaults", env: nil, want: Config{Addr: DefaultAddr, DataDir: DefaultData}},
		{name: "all set", env: map[string]string{
			EnvAddr: "127.0.0.1:9999", EnvData: "/var/lib/an", EnvAdminToken: "tok", EnvIngestSecret: "sec", EnvSlackAPIURL: "http://127.0.0.1:1/api/",
		}, want: Config{Addr: "127.0.0.1:9999", DataDir: "/var/lib/an", AdminToken: "tok", IngestSecret: "sec", SlackAPIURL: "http://127.0.0.1:1/api/"}},
		{name: "blank is unset", env: map[string]string{EnvAddr: "  ", EnvAdminToken: " "}, want: Config{Addr: DefaultAddr, DataDir: DefaultData}},
		{name: "SMTP CA and sending lease", env: map[string]string{EnvSMTPCAFile: "/etc/ca.pem", EnvSendingLease: "45s"},
			want: Config{Addr: DefaultAddr, DataDir: DefaultData, SMTPCAFile: "/etc/ca.pem", SendingLease: 45 * time.Second}},
		{name: "sending lease unparsable", env: map[string]string{EnvSendingLease: "soon"},
			want: Config{Addr: DefaultAddr, DataDir: DefaultData, SendingLease: -1}},
		{name: "Slack rate", env: map[string]string{EnvSlackRate: "2.5"},
			want: Config{Addr: DefaultAddr, DataDir: DefaultData, SlackRate: 2.5}},
		{name: "Slack rate not positive", env: map[string]string{EnvSlackRate: "0"},
			want: Config{Addr: DefaultAddr, DataDir: DefaultData, SlackRate: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ConfigFromEnv(func(k string) string { return tc.env[k] })
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := Config{Addr: DefaultAddr, DataDir: DefaultData}
	tests := []struct {
		name   string
		change func(*Config)
		want   string // substring of the error; "" for none
	}{
		{name: "defaults", change: func(*Config) {}},
		{name: "addr without port", change: func(c *Config) { c.Addr = "localhost" }, want: EnvAddr},
		{name: "slack URL not http", change: func(c *Config) { c.SlackAPIURL = "ftp://x/" }, want: EnvSlackAPIURL},
		{name: "slack URL with credentials", change: func(c *Config) { c.SlackAPIURL = "https://u:p@slack.example/api/" }, want: EnvSlackAPIURL},
		{name: "slack URL", change: func(c *Config) { c.SlackAPIURL = "https://slack.com/api/" }},
		{name: "sending lease unparsable", change: func(c *Config) { c.SendingLease = -1 }, want: EnvSendingLease},
		{name: "sending lease", change: func(c *Config) { c.SendingLease = time.Minute }},
		{name: "Slack rate unparsable", change: func(c *Config) { c.SlackRate = -1 }, want: EnvSlackRate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.change(&c)
			err := c.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want an error naming %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "u:p") {
				t.Errorf("the error shows credentials: %v", err)
			}
		})
	}
}

func TestLoadSecret(t *testing.T) {
	dir := t.TempDir()
	first, err := loadSecret(dir, AdminTokenFile, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(first.value) < 20 || !first.fresh || first.file != filepath.Join(dir, AdminTokenFile) {
		t.Errorf("generated %+v", first)
	}
	fi, err := os.Stat(first.file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	again, err := loadSecret(dir, AdminTokenFile, "")
	if err != nil || again.value != first.value || again.fresh {
		t.Errorf("second load %+v (%v), want the first value reused", again, err)
	}
	other, err := loadSecret(dir, IngestSecretFile, "")
	if err != nil || other.value == first.value {
		t.Errorf("ingest secret %+v (%v) must differ from the token", other, err)
	}

	// A secret from the environment wins and is not written down.
	envDir := t.TempDir()
	s, err := loadSecret(envDir, AdminTokenFile, "from-env")
	if err != nil || s.value != "from-env" || s.file != "" {
		t.Errorf("from env: %+v (%v)", s, err)
	}
	if _, err := os.Stat(filepath.Join(envDir, AdminTokenFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a token from the environment was written to disk (%v)", err)
	}

	// A file readable by others is restricted.
	if err := os.Chmod(first.file, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadSecret(dir, AdminTokenFile, ""); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(first.file); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after load, want 0600", fi.Mode().Perm())
	}
}

// service is Run in a goroutine.
type service struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan error
	base   string
	stdout *bytes.Buffer
}

func start(t *testing.T, cfg Config, opts Options) *service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	opts.Ready = func(a net.Addr) { ready <- a }
	stdout := new(bytes.Buffer)
	opts.Stdout = stdout
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &service{t: t, cancel: cancel, done: make(chan error, 1), stdout: stdout}
	go func() { s.done <- Run(ctx, cfg, opts) }()
	select {
	case a := <-ready:
		s.base = "http://" + a.String()
	case err := <-s.done:
		t.Fatalf("Run returned before serving: %v", err)
	}
	return s
}

func (s *service) stop() error {
	s.cancel()
	return <-s.done
}

func (s *service) request(method, path, token, body string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestOneProcessOwnsTheDataDirectory: while local mode runs on a data
// directory, a second Run on it fails (bbolt's flock on the store file)
// instead of sharing the store and the queue; this is what lets the
// dispatcher resend at start-up what the previous process left in sending.
func TestOneProcessOwnsTheDataDirectory(t *testing.T) {
	cfg := Config{Addr: "127.0.0.1:0", DataDir: filepath.Join(t.TempDir(), "data")}
	s := start(t, cfg, Options{})
	defer s.stop()
	err := Run(context.Background(), cfg, Options{})
	if err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("a second Run on the same data directory = %v, want it refused as locked", err)
	}
	if code, body := s.request("GET", "/healthz", "", ""); code != http.StatusOK {
		t.Errorf("the first process after the refusal: %d %s", code, body)
	}
}

// TestRunRestart starts local mode, writes through the API, stops it, starts
// it again on the same data directory and finds the data and the token.
func TestRunRestart(t *testing.T) {
	cfg := Config{Addr: "127.0.0.1:0", DataDir: filepath.Join(t.TempDir(), "data")}

	s := start(t, cfg, Options{})
	token, err := os.ReadFile(filepath.Join(cfg.DataDir, AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(token))
	out := s.stdout.String()
	for _, want := range []string{s.base + "/v1", "admin token    " + tok, "ingest secret", "data           " + cfg.DataDir, `curl -H "Authorization: Bearer ` + tok + `" ` + s.base + "/v1/rules", "generated, kept in", "events         POST " + s.base + "/v1/events", "email          printed here"} {
		if !strings.Contains(out, want) {
			t.Errorf("start-up block lacks %q:\n%s", want, out)
		}
	}
	if code, body := s.request("GET", "/healthz", "", ""); code != http.StatusOK {
		t.Errorf("healthz: %d %s", code, body)
	}
	if code, _ := s.request("GET", "/v1/rules", "", ""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", code)
	}
	if code, body := s.request("POST", "/v1/users", tok, `{"id":"alice","name":"Alice","email":"alice@example.com"}`); code != http.StatusCreated {
		t.Fatalf("create user: %d %s", code, body)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	s = start(t, cfg, Options{})
	defer s.stop()
	if code, body := s.request("GET", "/v1/users/alice", tok, ""); code != http.StatusOK || !strings.Contains(body, "alice@example.com") {
		t.Errorf("after restart: %d %s", code, body)
	}
	if strings.Contains(s.stdout.String(), "generated") {
		t.Errorf("the restart generated a new secret:\n%s", s.stdout.String())
	}
}

func TestRunTokenFromEnv(t *testing.T) {
	cfg := Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), AdminToken: "env-token", IngestSecret: "env-secret"}
	s := start(t, cfg, Options{})
	defer s.stop()
	if code, body := s.request("GET", "/v1/rules", "env-token", ""); code != http.StatusOK {
		t.Errorf("with the env token: %d %s", code, body)
	}
	if !strings.Contains(s.stdout.String(), "(from "+EnvAdminToken+")") {
		t.Errorf("start-up block:\n%s", s.stdout.String())
	}
}

// TestGracefulShutdown holds a request in flight while shutdown starts and
// checks that it completes, and that Background functions stop after the
// server.
func TestGracefulShutdown(t *testing.T) {
	inHandler := make(chan struct{})
	release := make(chan struct{})
	shutdownBegan := make(chan struct{})
	var mu sync.Mutex
	var order []string
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }

	opts := Options{
		Handler: func(env Env, admin http.Handler) http.Handler {
			mux := http.NewServeMux()
			mux.Handle("/", admin)
			mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
				close(inHandler)
				<-release
				note("request finished")
				_, _ = io.WriteString(w, "done")
			})
			return mux
		},
		Background: []func(ctx context.Context, env Env) error{
			func(ctx context.Context, env Env) error {
				<-ctx.Done()
				note("background stopped")
				return ctx.Err()
			},
		},
		shutdownStarted: func() { close(shutdownBegan) },
	}
	s := start(t, Config{Addr: "127.0.0.1:0", DataDir: t.TempDir()}, opts)

	type result struct {
		code int
		body string
	}
	got := make(chan result, 1)
	go func() {
		code, body := s.request("GET", "/slow", "", "")
		got <- result{code, body}
	}()
	<-inHandler
	s.cancel()
	<-shutdownBegan
	close(release)

	r := <-got
	if r.code != http.StatusOK || r.body != "done" {
		t.Errorf("in-flight request: %d %q", r.code, r.body)
	}
	if err := <-s.done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if want := []string{"request finished", "background stopped"}; !cmp.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
}

func TestBackgroundFailureStops(t *testing.T) {
	boom := errors.New("queue broke")
	opts := Options{Background: []func(ctx context.Context, env Env) error{
		func(ctx context.Context, env Env) error { return boom },
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := Run(ctx, Config{Addr: "127.0.0.1:0", DataDir: t.TempDir()}, opts); !errors.Is(err, boom) {
		t.Errorf("Run = %v, want %v", err, boom)
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	err := Run(context.Background(), Config{Addr: "nope", DataDir: t.TempDir()}, Options{})
	if err == nil || !strings.Contains(err.Error(), EnvAddr) {
		t.Errorf("Run = %v, want an error naming %s", err, EnvAddr)
	}
}

func TestSMTPOptions(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		file     string
		wantErr  string // substring; "" for none
		wantOpts int
	}{
		{name: "none", file: "", wantOpts: 0},
		{name: "missing file", file: filepath.Join(dir, "missing.pem"), wantErr: EnvSMTPCAFile},
		{name: "not PEM", file: notPEM, wantErr: "no PEM certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := smtpOptions(tc.file)
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("smtpOptions(%q) = %v, want an error with %q", tc.file, err, tc.wantErr)
			}
			if len(opts) != tc.wantOpts {
				t.Errorf("%d options, want %d", len(opts), tc.wantOpts)
			}
		})
	}
}
