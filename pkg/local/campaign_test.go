package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/dispatch"
	"github.com/argoproj-labs/argo-notify/pkg/local"
)

// EnvFaultsHeavy selects the heavy variants of the fault campaign (make
// faults-heavy): 10 kills during 3,000 events instead of 3 during 600.
const EnvFaultsHeavy = "ARGO_NOTIFY_FAULTS_HEAVY"

// TestFaultKillCampaign posts events from a client that retries until it
// gets a 202 (same ids), kills the built binary with SIGKILL at random
// moments while events are accepted and delivered, restarts it on the same
// data directory each time, and checks, once everything settled, that:
//   - every (event, recipient) arrived at least once: lost 0;
//   - a message arrived twice only if its delivery is recorded sent as a
//     possible duplicate (resent after the kill), never more than twice;
//   - the deliveries resent after one kill are at most the sends that can
//     be in flight at once (local.Workers × dispatch.DefaultConcurrency);
//   - the history lists exactly the (event, recipient) pairs the peers
//     received, each sent.
func TestFaultKillCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the service binary")
	}
	kills, events := 3, 600
	if os.Getenv(EnvFaultsHeavy) == "1" {
		kills, events = 10, 3000
	}
	const perRequest = 10
	slack := startSlack(t)
	_, mail := startGoSMTP(t)
	s := newService(t, "ARGO_NOTIFY_SLACK_API_URL="+slack.URL, "ARGO_NOTIFY_SMTP_CA_FILE="+mail.CAFile)
	s.startProcess(t)
	s.connectSMTP(t, mail)
	s.connectSlack(t, slack)
	// Every event reaches two mailboxes and a Slack channel; CRITICAL ones
	// a third mailbox and a second channel.
	s.must(t, http.MethodPost, "/v1/rules", map[string]any{
		"name": "all", "eventTypes": allTypes, "severities": allSeverities,
		"recipients": map[string]any{"emails": []string{"a@kill.test", "b@kill.test"}, "slackChannels": []string{chOps}},
	}, http.StatusCreated, nil)
	s.must(t, http.MethodPost, "/v1/rules", map[string]any{
		"name": "critical", "eventTypes": allTypes, "severities": []string{"CRITICAL"},
		"recipients": map[string]any{"emails": []string{"c@kill.test"}, "slackChannels": []string{chFin}},
	}, http.StatusCreated, nil)

	prefix := "c" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	var want []string
	var batches [][]map[string]any
	for i := 0; i < events; i += perRequest {
		var b []map[string]any
		for j := i; j < min(i+perRequest, events); j++ {
			sev := allSeverities[j%3]
			ev := event(fmt.Sprintf("%s-%d", prefix, j), allTypes[j%5], sev)
			b = append(b, ev)
			id := ev["id"].(string)
			want = append(want, id+"|email|a@kill.test", id+"|email|b@kill.test", id+"|slack|"+chOps)
			if sev == "CRITICAL" {
				want = append(want, id+"|email|c@kill.test", id+"|slack|"+chFin)
			}
		}
		batches = append(batches, b)
	}

	// The client: each batch until it is accepted, through the kills.
	var acceptedBatches atomic.Int64
	posted := make(chan struct{})
	go func() {
		defer close(posted)
		for _, b := range batches {
			body, _ := json.Marshal(b)
			for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				status, _, err := s.postEvents(ctx, body, s.sign(body))
				cancel()
				if err == nil && status == http.StatusAccepted {
					acceptedBatches.Add(1)
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}()

	// The kills: each once a random share of the next slice of the
	// expected messages has arrived, so they fall while events are both
	// accepted and delivered.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var arrivedAt []int
	for k := range kills {
		lo := len(want) * k / (kills + 1)
		target := lo + 1 + rng.IntN(len(want)/(kills+1))
		var got int
		eventually(t, 3*time.Minute, func() string {
			if got = len(outcome(t, mail, slack, prefix)); got < target {
				return fmt.Sprintf("kill %d: waiting for %d messages, %d arrived", k+1, target, got)
			}
			return ""
		})
		s.kill(t)
		arrivedAt = append(arrivedAt, got)
		s.startProcess(t)
	}
	<-posted
	if n := acceptedBatches.Load(); n != int64(len(batches)) {
		t.Fatalf("%d of %d requests accepted within their deadline", n, len(batches))
	}

	eventually(t, 5*time.Minute, func() string {
		n := 0
		for _, d := range s.deliveries(t, "") {
			if !strings.HasPrefix(d.EventID, prefix+"-") {
				continue
			}
			if d.Status != "sent" && d.Status != "failed" && d.Status != "skipped" {
				return fmt.Sprintf("delivery %s is %s", d.ID, d.Status)
			}
			n++
		}
		if n < len(want) {
			return fmt.Sprintf("%d of %d deliveries recorded", n, len(want))
		}
		return ""
	})
	time.Sleep(time.Second) // a late duplicate, if any, would come now

	resent := map[string]bool{}
	count := map[string]int{}
	for _, d := range s.deliveries(t, "") {
		if !strings.HasPrefix(d.EventID, prefix+"-") {
			continue
		}
		key := deliveryKey(d)
		count[key] += 0
		switch {
		case d.Status != "sent":
			t.Errorf("delivery %s: %s (%s): the history must say sent", d.ID, d.Status, d.LastError)
		case strings.HasPrefix(d.Note, dispatch.PossibleDuplicateNote):
			resent[key] = true
		}
	}
	if len(count) != len(want) {
		t.Errorf("%d deliveries recorded, want %d", len(count), len(want))
	}
	got := outcome(t, mail, slack, prefix)
	arrived := map[string]int{}
	for _, g := range got {
		arrived[g]++
	}
	lost, dups := 0, 0
	for _, w := range want {
		if _, ok := count[w]; !ok {
			t.Errorf("%s has no delivery record", w)
		}
		switch c := arrived[w]; {
		case c == 0:
			lost++
			t.Errorf("%s never arrived: lost", w)
		case c == 2 && resent[w]:
			dups++
		case c > 1:
			t.Errorf("%s arrived %d times (recorded as a possible duplicate: %v)", w, c, resent[w])
		}
		delete(arrived, w)
	}
	for k, c := range arrived {
		t.Errorf("message %s arrived %d times and was never expected", k, c)
	}
	inFlight := local.Workers * dispatch.DefaultConcurrency
	if len(resent) > kills*inFlight {
		t.Errorf("%d deliveries resent after %d kills, more than %d in flight per kill", len(resent), kills, inFlight)
	}
	t.Logf("FIGURE kill campaign: %d kill -9 during %d events (%d messages expected, kills after %v arrived): lost %d, duplicates %d (every one recorded sent as a possible duplicate), resent %d ≤ %d kills × %d in flight; history: %d deliveries, all sent, equal to what the peers received",
		kills, events, len(want), arrivedAt, lost, dups, len(resent), kills, inFlight, len(count))
}

// TestSecondProcessRefused: the built binary started on the data directory
// of a running one exits with an error saying the store is locked, instead
// of sharing the store and the queue; the first keeps serving. This is
// what lets a restarted process resend at once what it finds in sending.
func TestSecondProcessRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the service binary")
	}
	s := newService(t)
	s.startProcess(t)
	cmd := exec.Command(buildBinary(t))
	cmd.Env = append(os.Environ(), local.EnvAddr+"="+freeAddr(t), local.EnvData+"="+s.Data,
		local.EnvAdminToken+"="+s.Token, local.EnvIngestSecret+"="+s.Secret)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("the second process on the same data directory kept running")
	}
	if err == nil || !strings.Contains(string(out), "locked by another process") {
		t.Errorf("second process: %v, output:\n%s\nwant a failure saying the store is locked", err, out)
	}
	s.must(t, http.MethodGet, "/v1/rules", nil, http.StatusOK, nil)
}
