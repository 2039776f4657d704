package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/dispatch"
	"github.com/argoproj-labs/argo-notify/pkg/local"
)

var (
	allTypes      = []string{"JOB", "DEPLOYMENT", "SPENDING", "CONFIGURATION", "SYSTEM"}
	allSeverities = []string{"INFO", "WARNING", "CRITICAL"}
)

// Slack channels of the scenario.
const (
	chOps = "C0OPS00001"
	chFin = "C0FIN00001"
	chETL = "C0ETL00001"
)

// scenario is the directory and rules the end-to-end test creates, kept
// as plain data so the test can compute by hand whom each event reaches.
type scenario struct {
	domain string
	users  map[string]string   // id → email
	groups map[string][]string // id → member ids
	rules  []testRule
}

// testRule is a user rule (policy == "") or a policy notification.
type testRule struct {
	name       string
	enabled    bool
	types      []string
	severities []string
	policy     string
	onSuccess  bool
	onFailure  bool
	users      []string
	groups     []string
	emails     []string
	slack      []string
}

func newScenario(domain string) *scenario {
	at := func(local string) string { return local + "@" + domain }
	return &scenario{
		domain: domain,
		users:  map[string]string{"alice": at("alice"), "bob": at("bob"), "carol": at("carol"), "dave": at("dave")},
		groups: map[string][]string{"sre": {"alice", "bob"}, "fin": {"carol"}},
		rules: []testRule{
			{name: "critical ops", enabled: true, types: []string{"JOB", "DEPLOYMENT"}, severities: []string{"CRITICAL"},
				users: []string{"alice"}, groups: []string{"sre"}, emails: []string{at("oncall")}, slack: []string{chOps}},
			{name: "spending", enabled: true, types: []string{"SPENDING"}, severities: []string{"WARNING", "CRITICAL"},
				groups: []string{"fin"}, slack: []string{chFin}},
			{name: "info audit", enabled: true, types: allTypes, severities: []string{"INFO"}, emails: []string{at("audit")}},
			{name: "everything, disabled", enabled: false, types: allTypes, severities: allSeverities, emails: []string{at("never")}},
			// Bob twice: as a user and by his address in other case; one mail.
			{name: "config and system", enabled: true, types: []string{"CONFIGURATION", "SYSTEM"}, severities: []string{"WARNING", "CRITICAL"},
				users: []string{"bob"}, emails: []string{"Bob@" + domain}, slack: []string{chOps}},
			{name: "Policy nightly-etl", enabled: true, policy: "nightly-etl", onFailure: true, users: []string{"dave"}, slack: []string{chETL}},
			{name: "Policy weekly-report", enabled: true, policy: "weekly-report", onSuccess: true, users: []string{"carol"}, emails: []string{at("oncall")}},
		},
	}
}

// create makes the directory and the rules through the API.
func (sc *scenario) create(t *testing.T, s *service) {
	t.Helper()
	for _, id := range sortedKeys(sc.users) {
		s.must(t, http.MethodPost, "/v1/users", map[string]any{"id": id, "name": id, "email": sc.users[id]}, http.StatusCreated, nil)
	}
	for _, id := range sortedKeys(sc.groups) {
		s.must(t, http.MethodPost, "/v1/groups", map[string]any{"id": id, "name": id, "members": sc.groups[id]}, http.StatusCreated, nil)
	}
	for _, r := range sc.rules {
		recipients := map[string]any{"users": nonNil(r.users), "groups": nonNil(r.groups), "emails": nonNil(r.emails), "slackChannels": nonNil(r.slack)}
		if r.policy != "" {
			s.must(t, http.MethodPut, "/v1/policies/"+r.policy+"/notification", map[string]any{
				"name": r.name, "enabled": r.enabled, "onSuccess": r.onSuccess, "onFailure": r.onFailure, "recipients": recipients,
			}, http.StatusCreated, nil)
			continue
		}
		s.must(t, http.MethodPost, "/v1/rules", map[string]any{
			"name": r.name, "enabled": r.enabled, "eventTypes": r.types, "severities": r.severities, "recipients": recipients,
		}, http.StatusCreated, nil)
	}
}

// reach computes, by hand, the (channel, recipient) pairs an event reaches:
// "email|<address, lower case>" and "slack|<channel>".
func (sc *scenario) reach(ev map[string]any) []string {
	str := func(k string) string { s, _ := ev[k].(string); return s }
	set := map[string]bool{}
	for _, r := range sc.rules {
		if !r.enabled {
			continue
		}
		if r.policy != "" {
			if str("type") != "JOB" || str("policyId") != r.policy ||
				!(str("status") == "SUCCEEDED" && r.onSuccess || str("status") == "FAILED" && r.onFailure) {
				continue
			}
		} else if !slices.Contains(r.types, str("type")) || !slices.Contains(r.severities, str("severity")) {
			continue
		}
		for _, u := range r.users {
			set["email|"+strings.ToLower(sc.users[u])] = true
		}
		for _, g := range r.groups {
			for _, u := range sc.groups[g] {
				set["email|"+strings.ToLower(sc.users[u])] = true
			}
		}
		for _, e := range r.emails {
			set["email|"+strings.ToLower(e)] = true
		}
		for _, c := range r.slack {
			set["slack|"+c] = true
		}
	}
	return sortedKeys(set)
}

// event is a sample event whose id and title carry tag.
func event(tag, typ, severity string) map[string]any {
	return map[string]any{
		"id": tag, "type": typ, "severity": severity,
		"title":      fmt.Sprintf("%s %s %s", tag, typ, severity),
		"message":    "end-to-end test event " + tag,
		"source":     "argo-notify-e2e",
		"occurredAt": time.Now().UTC().Format(time.RFC3339),
		"labels":     map[string]string{"test": "e2e"},
	}
}

func policyEvent(tag, policy, status, severity string) map[string]any {
	ev := event(tag, "JOB", severity)
	ev["policyId"], ev["jobId"], ev["status"] = policy, "run-"+tag, status
	return ev
}

// outcome is what the peers received: "<tag>|email|<to>" and
// "<tag>|slack|<channel>", one entry per message (duplicates kept).
func outcome(t *testing.T, mail smtpPeer, slack *slackPeer, prefix string) []string {
	t.Helper()
	var got []string
	for _, m := range mail.Messages(t) {
		if tag := tagOf(m.Subject, prefix); tag != "" {
			got = append(got, tag+"|email|"+m.To)
		}
	}
	for _, p := range slack.Posts() {
		if tag := tagOf(p.Text, prefix); tag != "" {
			got = append(got, tag+"|slack|"+p.Channel)
		}
	}
	sort.Strings(got)
	return got
}

// settled waits until every expected event has only final deliveries and
// the peers hold at least want messages, then lets stragglers arrive.
func settled(t *testing.T, s *service, mail smtpPeer, slack *slackPeer, prefix string, want int, within time.Duration) {
	t.Helper()
	eventually(t, within, func() string {
		if got := len(outcome(t, mail, slack, prefix)); got < want {
			return fmt.Sprintf("%d of %d messages arrived", got, want)
		}
		return ""
	})
	eventually(t, within, func() string {
		for _, d := range s.deliveries(t, "") {
			if d.Status != "sent" && d.Status != "failed" && d.Status != "skipped" {
				return fmt.Sprintf("delivery %s is %s", d.ID, d.Status)
			}
		}
		return ""
	})
	time.Sleep(time.Second) // a duplicate, if any, would come now
}

// TestEndToEnd runs the built binary against an SMTP server requiring
// STARTTLS and AUTH (go-smtp in process; mailpit too in the integration
// run) and a Slack API server, posts every type × severity and policy job
// outcomes, and checks exactly which messages arrived.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the service binary")
	}
	t.Run("go-smtp", func(t *testing.T) {
		t.Parallel()
		_, mail := startGoSMTP(t)
		matrix(t, mail, "e2e.test", true)
	})
	t.Run("mailpit", func(t *testing.T) {
		if os.Getenv("ARGO_NOTIFY_INTEGRATION") != "1" {
			t.Skip("set ARGO_NOTIFY_INTEGRATION=1 (make test-integration) to run against mailpit")
		}
		t.Parallel()
		domain := "e2e-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".test"
		// mailpit keeps 500 messages by default, shared by the whole
		// run: the crash test's hundreds of mails go to go-smtp only.
		matrix(t, mailpitPeer(t, domain), domain, false)
	})
}

// matrix checks every type × severity and the policy outcomes, then, if
// crash, the kill -9 and restart.
func matrix(t *testing.T, mail smtpPeer, domain string, crash bool) {
	slack := startSlack(t)
	// The default sending lease (2 minutes): deliveries the kill interrupts
	// are resent at start-up, not after the lease.
	s := newService(t, "ARGO_NOTIFY_SLACK_API_URL="+slack.URL, "ARGO_NOTIFY_SMTP_CA_FILE="+mail.CAFile)
	s.startProcess(t)
	s.connectSMTP(t, mail)
	s.connectSlack(t, slack)
	sc := newScenario(domain)
	sc.create(t, s)

	prefix := "m" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	var events []map[string]any
	n := 0
	next := func() string { n++; return fmt.Sprintf("%s-%d", prefix, n) }
	for _, typ := range allTypes {
		for _, sev := range allSeverities {
			events = append(events, event(next(), typ, sev))
		}
	}
	events = append(events,
		policyEvent(next(), "nightly-etl", "FAILED", "WARNING"),
		policyEvent(next(), "nightly-etl", "SUCCEEDED", "INFO"),
		policyEvent(next(), "weekly-report", "SUCCEEDED", "INFO"),
		policyEvent(next(), "weekly-report", "FAILED", "CRITICAL"),
		policyEvent(next(), "unknown-policy", "FAILED", "CRITICAL"),
	)
	// One request per event, the first one twice: the same id notifies once.
	for _, ev := range events {
		s.mustPost(t, ev)
	}
	s.mustPost(t, events[0])

	var want []string
	for _, ev := range events {
		for _, r := range sc.reach(ev) {
			want = append(want, ev["id"].(string)+"|"+r)
		}
	}
	sort.Strings(want)
	if len(want) < 30 {
		t.Fatalf("the scenario reaches only %d recipients; it should exercise more", len(want))
	}
	settled(t, s, mail, slack, prefix, len(want), 2*time.Minute)
	if diff := cmp.Diff(want, outcome(t, mail, slack, prefix)); diff != "" {
		t.Errorf("messages received (-want +got):\n%s", diff)
	}

	// The history agrees: one sent delivery per expected message.
	var recorded []string
	for _, d := range s.deliveries(t, "") {
		if d.Status != "sent" {
			t.Errorf("delivery %s: %s (%s)", d.ID, d.Status, d.LastError)
			continue
		}
		recorded = append(recorded, deliveryKey(d))
	}
	sort.Strings(recorded)
	if diff := cmp.Diff(want, recorded); diff != "" {
		t.Errorf("deliveries recorded (-want +got):\n%s", diff)
	}

	// Bob's two rules and two spellings make one mail naming both rules.
	for _, d := range s.deliveries(t, prefix+"-14") { // SYSTEM WARNING
		if d.Channel == "email" && strings.EqualFold(d.Recipient, "bob@"+domain) && len(d.RuleIDs) != 1 {
			t.Errorf("bob's delivery for SYSTEM WARNING names rules %v, want the one rule", d.RuleIDs)
		}
	}
	for _, d := range s.deliveries(t, prefix+"-3") { // JOB CRITICAL: alice as user and in sre
		if d.Channel == "email" && strings.EqualFold(d.Recipient, "alice@"+domain) && d.Status != "sent" {
			t.Errorf("alice's delivery for JOB CRITICAL: %+v", d)
		}
	}

	if crash {
		crashRestart(t, s, mail, slack, sc)
	}
}

// crashRestart posts a large batch, kills the service with SIGKILL in the
// middle, restarts it on the same data directory, posts again whatever was
// not acknowledged with a 202 (a client retry, same ids) and checks that
// every event reached each of its recipients at least once, and exactly
// once except a delivery recorded sent as a possible duplicate (the crash
// fell between handing the message to the provider and recording it; it
// was resent at start-up), which may have arrived twice, never more.
func crashRestart(t *testing.T, s *service, mail smtpPeer, slack *slackPeer, sc *scenario) {
	prefix := "k" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10)
	const perRequest, requests = 10, 40
	var batches [][]map[string]any
	var events []map[string]any
	for i := range requests {
		var b []map[string]any
		for j := range perRequest {
			n := i*perRequest + j
			ev := event(fmt.Sprintf("%s-%d", prefix, n), allTypes[n%5], allSeverities[(n/5)%3])
			b = append(b, ev)
			events = append(events, ev)
		}
		batches = append(batches, b)
	}
	var want []string
	for _, ev := range events {
		for _, r := range sc.reach(ev) {
			want = append(want, ev["id"].(string)+"|"+r)
		}
	}
	sort.Strings(want)

	// Post from one goroutine; kill once some messages have arrived.
	var mu sync.Mutex
	accepted := map[int]bool{}
	posted := make(chan struct{})
	go func() {
		defer close(posted)
		for i, b := range batches {
			body, _ := json.Marshal(b)
			status, _, err := s.postEvents(context.Background(), body, s.sign(body))
			if err == nil && status == http.StatusAccepted {
				mu.Lock()
				accepted[i] = true
				mu.Unlock()
			}
		}
	}()
	eventually(t, 60*time.Second, func() string {
		mu.Lock()
		n := len(accepted)
		mu.Unlock()
		if got := len(outcome(t, mail, slack, prefix)); got < 20 || n < 5 {
			return fmt.Sprintf("before the kill: %d messages, %d requests accepted", got, n)
		}
		return ""
	})
	s.kill(t)
	<-posted
	mu.Lock()
	before := len(accepted)
	mu.Unlock()
	arrivedBefore := len(outcome(t, mail, slack, prefix))
	t.Logf("killed with SIGKILL after %d of %d requests accepted and %d of %d messages arrived", before, requests, arrivedBefore, len(want))

	s.startProcess(t)
	for i, b := range batches {
		if !accepted[i] {
			s.mustPost(t, b...)
		}
	}
	// The restarted process owns the data directory: the queue's in-flight
	// messages come back at once and deliveries left in sending are resent
	// at once, without waiting for the visibility timeout or the lease.
	eventually(t, 4*time.Minute, func() string {
		ds := s.deliveries(t, "")
		n := 0
		for _, d := range ds {
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
	time.Sleep(time.Second)

	resent := map[string]bool{}
	var recorded []string
	for _, d := range s.deliveries(t, "") {
		if !strings.HasPrefix(d.EventID, prefix+"-") {
			continue
		}
		key := deliveryKey(d)
		recorded = append(recorded, key)
		switch {
		case d.Status == "sent" && strings.HasPrefix(d.Note, dispatch.PossibleDuplicateNote):
			resent[key] = true
		case d.Status == "sent":
		default:
			t.Errorf("delivery %s: %s (%s)", d.ID, d.Status, d.LastError)
		}
	}
	sort.Strings(recorded)
	if diff := cmp.Diff(want, recorded); diff != "" {
		t.Errorf("deliveries recorded after the crash (-want +got):\n%s", diff)
	}

	got := outcome(t, mail, slack, prefix)
	count := map[string]int{}
	for _, g := range got {
		count[g]++
	}
	dups := 0
	for _, w := range want {
		switch c := count[w]; {
		case c == 2 && resent[w]:
			dups++
		case c > 1:
			t.Errorf("%s arrived %d times (recorded as a possible duplicate: %v)", w, c, resent[w])
		case c == 0:
			t.Errorf("%s never arrived: lost", w)
		}
		delete(count, w)
	}
	for k, c := range count {
		t.Errorf("unexpected message %s (%d times)", k, c)
	}
	if inFlight := local.Workers * dispatch.DefaultConcurrency; len(resent) > inFlight {
		t.Errorf("%d deliveries resent after one kill, more than the %d sends that can be in flight", len(resent), inFlight)
	}
	t.Logf("after restart: %d events, %d messages expected, %d arrived: lost 0, %d duplicates, all among the %d deliveries in flight at the kill and recorded as possible duplicates",
		len(events), len(want), len(got), dups, len(resent))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// deliveryKey is "<event id>|<channel>|<recipient>", the address in lower
// case, as outcome and reach spell it.
func deliveryKey(d delivery) string {
	to := d.Recipient
	if d.Channel == "email" {
		to = strings.ToLower(to)
	}
	return d.EventID + "|" + d.Channel + "|" + to
}
