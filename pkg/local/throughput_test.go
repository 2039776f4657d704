package local_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	throughputBatch   = flag.Int("throughput.batch", 1, "BenchmarkEndToEnd: events per signed request")
	throughputClients = flag.Int("throughput.clients", 16, "BenchmarkEndToEnd: concurrent posting clients")
)

// BenchmarkEndToEnd measures events per second from HTTP ingest (signed
// posts) to SMTP delivered (accepted by an in-process go-smtp server with
// STARTTLS and AUTH), through the built binary. Each event reaches one
// address; b.N is the number of events. It reports ingest and end-to-end
// rates and fails if any event did not arrive exactly once:
//
//	go test ./pkg/local -run '^$' -bench EndToEnd -benchtime 2000x
func BenchmarkEndToEnd(b *testing.B) {
	t := b
	n, batch, clients := b.N, max(*throughputBatch, 1), max(*throughputClients, 1)
	_, mail := startGoSMTP(t)
	s := newService(t, "ARGO_NOTIFY_SMTP_CA_FILE="+mail.CAFile)
	s.startProcess(t)
	s.connectSMTP(t, mail)
	s.must(t, http.MethodPost, "/v1/rules", map[string]any{
		"name": "throughput", "eventTypes": []string{"JOB"}, "severities": []string{"CRITICAL"},
		"recipients": map[string]any{"emails": []string{"load@throughput.test"}},
	}, http.StatusCreated, nil)

	var bodies [][]byte
	for i := 0; i < n; i += batch {
		var evs []map[string]any
		for j := i; j < min(i+batch, n); j++ {
			evs = append(evs, event(fmt.Sprintf("t-%d", j), "JOB", "CRITICAL"))
		}
		b, err := json.Marshal(evs)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b)
	}

	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				status, b, err := s.postEvents(context.Background(), bodies[i], s.sign(bodies[i]))
				if err != nil || status != http.StatusAccepted {
					errs <- fmt.Errorf("post %d: %d %v %s", i, status, err, b)
					return
				}
			}
		})
	}
	wg.Wait()
	ingested := time.Since(start)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	eventually(t, 10*time.Minute, func() string {
		if got := len(mail.Messages(t)); got < n {
			return fmt.Sprintf("%d of %d mails", got, n)
		}
		return ""
	})
	msgs := mail.Messages(t)
	last := msgs[len(msgs)-1].At
	total := last.Sub(start)
	seen := map[string]int{}
	for _, m := range msgs {
		seen[tagOf(m.Subject, "t")]++
	}
	for tag, c := range seen {
		if c != 1 {
			t.Errorf("%s arrived %d times", tag, c)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/ingested.Seconds(), "accepted-events/s")
	b.ReportMetric(float64(n)/total.Seconds(), "delivered-events/s")
	b.Logf("%d events, %d per request, %d clients: ingest %s; ingest to last SMTP delivery %s",
		n, batch, clients, ingested.Round(time.Millisecond), total.Round(time.Millisecond))
}
