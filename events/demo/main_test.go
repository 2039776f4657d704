package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
)

// fakeIngest is a stand-in for POST /v1/events: it checks the signature
// and decodes the body as the real route does, and remembers what it got.
type fakeIngest struct {
	secret string
	mu     sync.Mutex
	events int
	bad    int
}

func (f *fakeIngest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path != "/v1/events" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ingest.VerifySignature(r.Header.Get(ingest.SignatureHeader), body, []string{f.secret}, time.Now()); err != nil {
		f.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	evs, err := ingest.Decode(body, time.Now(), nil)
	if err != nil {
		f.bad++
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	f.events += len(evs)
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"ids":["x"]}`))
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestRun(t *testing.T) {
	samples, _ := filepath.Glob("../argo/*.json")
	if len(samples) == 0 {
		t.Fatal("no samples")
	}
	dataDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dataDir, "ingest-secret"), []byte("file-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		secret     string // the server's
		args       []string
		env        map[string]string
		wantErr    string
		wantEvents int
	}{
		{name: "secret from env, one request each", secret: "env-secret", env: map[string]string{"ARGO_NOTIFY_INGEST_SECRET": "env-secret"}, wantEvents: len(samples)},
		{name: "secret from the data dir, batch", secret: "file-secret", args: []string{"-batch"}, env: map[string]string{"ARGO_NOTIFY_DATA": dataDir}, wantEvents: len(samples)},
		{name: "wrong secret", secret: "server-secret", env: map[string]string{"ARGO_NOTIFY_INGEST_SECRET": "client-secret"}, wantErr: "not accepted"},
		{name: "no secret", secret: "x", env: map[string]string{"ARGO_NOTIFY_DATA": t.TempDir()}, wantErr: "no ingest secret"},
		{name: "no samples", secret: "x", args: []string{"-dir", t.TempDir()}, env: map[string]string{"ARGO_NOTIFY_INGEST_SECRET": "x"}, wantErr: "no *.json samples"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := &fakeIngest{secret: tc.secret}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			tc.env["ARGO_NOTIFY_ADDR"] = strings.TrimPrefix(ts.URL, "http://")
			args := append([]string{"-dir", "../argo"}, tc.args...)
			var out bytes.Buffer
			err := run(context.Background(), args, env(tc.env), &out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("run = %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v\n%s", err, out.String())
			}
			if srv.events != tc.wantEvents || srv.bad != 0 {
				t.Errorf("server got %d events and %d bad requests, want %d and 0", srv.events, srv.bad, tc.wantEvents)
			}
			for _, s := range []string{"env-secret", "file-secret"} {
				if strings.Contains(out.String(), s) {
					t.Errorf("output shows the secret")
				}
			}
		})
	}
}

func TestLocalURL(t *testing.T) {
	for addr, want := range map[string]string{
		"":               "http://127.0.0.1:8080",
		"127.0.0.1:9090": "http://127.0.0.1:9090",
		":9090":          "http://127.0.0.1:9090",
		"0.0.0.0:9090":   "http://127.0.0.1:9090",
		"[::]:9090":      "http://127.0.0.1:9090",
		"[::1]:9090":     "http://[::1]:9090",
		"localhost:7000": "http://localhost:7000",
	} {
		if got := localURL(addr); got != want {
			t.Errorf("localURL(%q) = %q, want %q", addr, got, want)
		}
	}
}
