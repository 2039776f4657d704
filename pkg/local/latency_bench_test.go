package local_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/local"
)

var (
	latencyRate    = flag.Int("latency.rate", 1000, "BenchmarkIngestLatency: requests per second offered (one event each)")
	latencySeconds = flag.Float64("latency.seconds", 5, "BenchmarkIngestLatency: how long the load is offered")
)

// BenchmarkIngestLatency offers signed posts of one event each at a fixed
// rate (1,000/s for 5 s by default), open loop: request i is sent at
// start + i/rate whatever the earlier ones are doing, each from its own
// goroutine, and its latency runs from that scheduled time to the end of
// the answer, so a stall is charged to every request it delays
// (no coordinated omission). It reports p50, p99 and max in ms:
//
//   - service: local mode in process (local.Run on 127.0.0.1, the
//     durable queue and the dispatcher running, one rule sending each
//     event to the console);
//   - reference: the same load against a net/http handler on 127.0.0.1
//     that reads the body and answers 202, the HTTP stack's own cost,
//     measured in the same process and run.
//
// Every answer must be a 202: anything else, or a transport error, fails
// the benchmark. Each sub-benchmark offers the load once per b.N; run it
// with -benchtime 1x:
//
//	go test ./pkg/local -run '^$' -bench IngestLatency -benchtime 1x
func BenchmarkIngestLatency(b *testing.B) {
	rate, dur := max(*latencyRate, 1), max(*latencySeconds, 0.1)
	n := int(float64(rate) * dur)

	b.Run("reference", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusAccepted)
		}))
		defer srv.Close()
		sign := func([]byte) string { return "" } // unsigned: nothing checks it
		for run := range b.N {
			offer(b, srv.URL+"/v1/events", fmt.Sprintf("ref%d", run), rate, n, sign)
		}
	})

	b.Run("service", func(b *testing.B) {
		s := newService(b)
		s.startInProcess(b, local.Config{})
		s.must(b, http.MethodPost, "/v1/rules", map[string]any{
			"name": "latency", "eventTypes": []string{"JOB"}, "severities": []string{"CRITICAL"},
			"recipients": map[string]any{"emails": []string{"load@latency.test"}},
		}, http.StatusCreated, nil)
		for run := range b.N {
			offer(b, s.URL+"/v1/events", fmt.Sprintf("svc%d", run), rate, n, s.sign)
		}
	})
}

// offer sends n signed single-event posts to url at rate a second, open
// loop, after a short unmeasured warm-up, and reports the latency
// percentiles. It fails b on any answer other than 202.
func offer(b *testing.B, url, prefix string, rate, n int, sign func([]byte) string) {
	b.Helper()
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute,
			DisableCompression: true,
		},
	}
	defer client.CloseIdleConnections()
	type req struct{ body, sig []byte }
	build := func(tag string, count int) []req {
		out := make([]req, count)
		for i := range out {
			body, err := json.Marshal([]map[string]any{event(fmt.Sprintf("%s-%s-%d", prefix, tag, i), "JOB", "CRITICAL")})
			if err != nil {
				b.Fatal(err)
			}
			out[i] = req{body: body, sig: []byte(sign(body))}
		}
		return out
	}
	post := func(r req) error {
		hr, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(r.body))
		if err != nil {
			return err
		}
		hr.Header.Set("Content-Type", "application/json")
		if len(r.sig) > 0 {
			hr.Header.Set("X-Argo-Signature", string(r.sig))
		}
		resp, err := client.Do(hr)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(body))
		}
		return nil
	}

	// Warm-up: connections, the rule index, the first queue writes.
	warm := build("warm", max(rate/10, 10))
	var wwg sync.WaitGroup
	for _, r := range warm {
		wwg.Go(func() {
			if err := post(r); err != nil {
				b.Errorf("warm-up post: %v", err)
			}
		})
		time.Sleep(time.Second / time.Duration(rate))
	}
	wwg.Wait()
	if b.Failed() {
		b.FailNow()
	}

	reqs := build("t", n)
	lat := make([]time.Duration, n)
	errs := make([]error, n)
	interval := time.Second / time.Duration(rate)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	var behind time.Duration // how late the generator itself sent the last request
	for i := range reqs {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		behind = max(behind, time.Since(at))
		wg.Go(func() {
			errs[i] = post(reqs[i])
			lat[i] = time.Since(at)
		})
	}
	offered := time.Since(start)
	wg.Wait()
	b.StopTimer()

	failed := 0
	for i, err := range errs {
		if err != nil {
			if failed < 5 {
				b.Errorf("request %d: %v", i, err)
			}
			failed++
		}
	}
	if failed > 0 {
		b.Fatalf("%d of %d requests not accepted", failed, n)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := min(int(float64(len(lat))*p), len(lat)-1)
		return float64(lat[i]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/float64(time.Millisecond), "max-ms")
	b.ReportMetric(float64(n)/offered.Seconds(), "offered-req/s")
	b.Logf("%d requests at %d/s: p50 %.2f ms, p99 %.2f ms, max %.2f ms; the generator was at most %s late",
		n, rate, pct(0.5), pct(0.99), float64(lat[len(lat)-1])/1e6, behind.Round(time.Microsecond))
}
