package local

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	qlocal "github.com/argoproj-labs/argo-notify/pkg/queue/local"
)

// TestFaultQueueWriteError injects the error a full disk or a failed fsync
// gives into every write of the durable queue: ingest answers 503 with
// Retry-After, nothing is half-written (the queue holds no message and no
// fingerprint: the same body is new, not a duplicate, once the disk is
// back), and the same request is accepted and delivered after recovery.
func TestFaultQueueWriteError(t *testing.T) {
	var fault atomic.Bool
	fault.Store(true)
	envs := make(chan Env, 1)
	cfg := Config{Addr: "127.0.0.1:0", DataDir: filepath.Join(t.TempDir(), "data"), AdminToken: "tok", IngestSecret: "sec"}
	s := start(t, cfg, Options{
		queueWriteFault: func() error {
			if fault.Load() {
				return errors.New("injected: write /data/queue.db: no space left on device")
			}
			return nil
		},
		Background: []func(context.Context, Env) error{func(_ context.Context, env Env) error { envs <- env; return nil }},
	})
	defer s.stop()
	env := <-envs
	if code, body := s.request("POST", "/v1/rules", "tok", `{"name":"all","eventTypes":["JOB"],"severities":["CRITICAL"],"recipients":{"emails":["ops@disk.test"]}}`); code != http.StatusCreated {
		t.Fatalf("create rule: %d %s", code, body)
	}
	body := `{"id":"disk-1","type":"JOB","severity":"CRITICAL","title":"disk-1"}`
	post := func() (int, http.Header, string) {
		req, _ := http.NewRequest("POST", s.base+"/v1/events", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(ingest.SignatureHeader, ingest.Sign("sec", []byte(body), time.Now()))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}

	failed := 0
	for range 3 {
		code, h, b := post()
		if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || strings.Contains(b, "no space") {
			t.Fatalf("with the disk failing: %d %v %s; want 503 with Retry-After and no detail", code, h, b)
		}
		failed++
	}
	st, err := env.Queue.Stats(context.Background())
	if err != nil || st != (qlocal.Stats{}) {
		t.Errorf("queue after the failed writes: %+v %v, want empty", st, err)
	}
	if code, b := s.request("GET", "/v1/deliveries", "tok", ""); code != http.StatusOK || strings.Contains(b, "disk-1") {
		t.Errorf("deliveries after the failed writes: %d %s", code, b)
	}

	fault.Store(false)
	code, _, b := post()
	if code != http.StatusAccepted || strings.Contains(b, "duplicates") {
		t.Fatalf("after recovery: %d %s; want 202, not a duplicate (nothing was half-written)", code, b)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, b := s.request("GET", "/v1/deliveries?eventId=disk-1", "tok", "")
		if strings.Contains(b, `"status":"sent"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("disk-1 not delivered after recovery: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("FIGURE queue write error: %d requests answered 503 while writes failed, queue empty after them (nothing half-written); after recovery the same request was accepted and delivered once", failed)
}
