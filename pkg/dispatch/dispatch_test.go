package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/channel"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/route"
	"github.com/argoproj-labs/argo-notify/pkg/store"
	"github.com/argoproj-labs/argo-notify/pkg/store/bolt"
)

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fakeSender records what it is asked to send. script gives, per
// recipient, the errors of its first calls (nil or missing: success).
type fakeSender struct {
	provider string
	mu       sync.Mutex
	script   map[string][]error
	calls    map[string]int // Send calls per recipient
	sent     map[string]int // successful sends per recipient
	notes    []*send.Notification
	// hold, if set for a recipient, is closed by the test to let its
	// first Send finish; entered is told when that Send starts.
	hold    map[string]chan struct{}
	entered chan string
}

func newSender(provider string) *fakeSender {
	return &fakeSender{provider: provider, script: map[string][]error{}, calls: map[string]int{}, sent: map[string]int{}, hold: map[string]chan struct{}{}}
}

func (s *fakeSender) Send(ctx context.Context, n *send.Notification) (send.Result, error) {
	if len(n.To) != 1 {
		return send.Result{}, fmt.Errorf("want one recipient, got %v", n.To)
	}
	to := n.To[0]
	s.mu.Lock()
	s.calls[to]++
	k := s.calls[to]
	var err error
	if k <= len(s.script[to]) {
		err = s.script[to][k-1]
	}
	hold := s.hold[to]
	if k > 1 {
		hold = nil
	}
	s.notes = append(s.notes, n)
	s.mu.Unlock()
	if hold != nil {
		s.entered <- to
		<-hold
	}
	if err != nil {
		return send.Result{}, err
	}
	s.mu.Lock()
	s.sent[to]++
	s.mu.Unlock()
	return send.Result{Provider: s.provider, MessageID: fmt.Sprintf("%s-%s-%d", s.provider, to, k)}, nil
}

func (s *fakeSender) counts() (calls, sent map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	calls, sent = map[string]int{}, map[string]int{}
	for k, v := range s.calls {
		calls[k] = v
	}
	for k, v := range s.sent {
		sent[k] = v
	}
	return calls, sent
}

// fakeRouter serves email and Slack; with slackSkip set, Slack is not
// connected.
type fakeRouter struct {
	email, slack *fakeSender
	slackSkip    string
}

func (r *fakeRouter) Sender(ctx context.Context, ch notify.Channel) (send.Sender, error) {
	switch {
	case ch == notify.ChannelEmail:
		return r.email, nil
	case ch == notify.ChannelSlack && r.slackSkip != "":
		return nil, &send.Skip{Reason: r.slackSkip}
	case ch == notify.ChannelSlack:
		return r.slack, nil
	}
	return nil, send.Permanent(fmt.Errorf("unknown channel %q", ch))
}

// hidingDirectory answers ENotFound for some users, as a directory does
// for a user deleted after the rules were read.
type hidingDirectory struct {
	store.Directory
	hide map[string]bool
}

func (h hidingDirectory) GetUser(ctx context.Context, id string) (*notify.User, error) {
	if h.hide[id] {
		return nil, notify.Errorf(notify.ENotFound, "no user %q", id)
	}
	return h.Directory.GetUser(ctx, id)
}

const slackID = "C0123456789"

type fixture struct {
	st           *bolt.Store
	clk          *clock
	email, slack *fakeSender
	router       *fakeRouter
	d            *Dispatcher
}

func newFixture(t testing.TB, configure ...func(*Config)) *fixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, clk: &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}, email: newSender("smtp"), slack: newSender("slack")}
	f.router = &fakeRouter{email: f.email, slack: f.slack}
	now := f.clk.Now()
	for _, u := range []*notify.User{
		{ID: "u1", Name: "Ann", Email: "ann@example.com"},
		{ID: "u2", Name: "Bob", Email: "Bob@Example.com"},
		{ID: "u3", Name: "Cy", Email: "cy@example.com"},
	} {
		u.Role, u.Version, u.CreatedAt, u.UpdatedAt = notify.RoleMember, 1, now, now
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatalf("create user: %v", err)
		}
	}
	if err := st.CreateGroup(ctx, &notify.Group{ID: "g1", Name: "Ops", Members: []string{"u1", "u2"}, Version: 1, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatalf("create group: %v", err)
	}
	jobs := []notify.EventType{notify.TypeJob}
	crit := []notify.Severity{notify.SeverityCritical}
	for _, r := range []*notify.Rule{
		{ID: "r1", Name: "Critical jobs", Enabled: true, EventTypes: jobs, Severities: crit, Recipients: notify.Recipients{
			Users: []string{"u1"}, Groups: []string{"g1"}, Emails: []string{"ANN@example.com", "ext@partner.io"}, SlackChannels: []string{slackID}}},
		{ID: "r2", Name: "All jobs", Enabled: true, EventTypes: jobs, Severities: notify.Severities, Recipients: notify.Recipients{
			Emails: []string{"bob@example.com"}, SlackChannels: []string{slackID}}},
		{ID: "r3", Name: "Deployments", Enabled: true, EventTypes: []notify.EventType{notify.TypeDeployment}, Severities: crit, Recipients: notify.Recipients{
			Emails: []string{"deploy@example.com"}}},
		{ID: "r4", Name: "Disabled", Enabled: false, EventTypes: jobs, Severities: crit, Recipients: notify.Recipients{
			Emails: []string{"off@example.com"}}},
		{ID: notify.PolicyRuleID("nightly"), Name: "Nightly policy", Enabled: true, EventTypes: jobs, Severities: crit, Source: notify.SourcePolicy,
			Policy: &notify.Policy{ID: "nightly", Name: "Nightly", OnFailure: true}, Recipients: notify.Recipients{Users: []string{"u3"}}},
	} {
		if r.Source == "" {
			r.Source = notify.SourceUser
		}
		r.Recipients.Normalize()
		r.Version, r.CreatedAt, r.UpdatedAt = 1, now, now
		if err := r.Validate(); err != nil {
			t.Fatalf("rule %s: %v", r.ID, err)
		}
		if err := st.CreateRule(ctx, r); err != nil {
			t.Fatalf("create rule %s: %v", r.ID, err)
		}
	}
	cfg := Config{Rules: st, Directory: st, Deliveries: st, Router: f.router, Channels: route.New(route.Config{}), Now: f.clk.Now, Logger: slog.New(slog.DiscardHandler)}
	for _, c := range configure {
		c(&cfg)
	}
	f.d = New(cfg)
	return f
}

func event(id string) *notify.Event {
	return &notify.Event{ID: id, Type: notify.TypeJob, Severity: notify.SeverityCritical, Title: "Nightly job failed",
		PolicyID: "nightly", JobID: "job-7", Status: notify.JobFailed}
}

func message(t testing.TB, ev *notify.Event, receives int) queue.Message {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return queue.Message{ID: "m-" + ev.ID, Body: b, ReceiveCount: receives}
}

func (f *fixture) delivery(t *testing.T, eventID string, ch notify.Channel, to string) *notify.Delivery {
	t.Helper()
	d, err := f.st.GetDelivery(ctx, notify.DeliveryID(eventID, ch, to))
	if err != nil {
		t.Fatalf("get delivery of %s to %s: %v", eventID, to, err)
	}
	return d
}

// every is the set of recipients event() reaches with the fixture's rules.
var every = []string{"ann@example.com", "Bob@Example.com", "cy@example.com", "ext@partner.io", slackID}

func (f *fixture) sentCounts() map[string]int {
	_, e := f.email.counts()
	_, s := f.slack.counts()
	for k, v := range s {
		e[k] += v
	}
	return e
}

func wantOnce(t *testing.T, f *fixture) {
	t.Helper()
	want := map[string]int{}
	for _, r := range every {
		want[r] = 1
	}
	if d := cmp.Diff(want, f.sentCounts()); d != "" {
		t.Errorf("sends per recipient (-want +got):\n%s", d)
	}
}

func TestPlan(t *testing.T) {
	r1 := send.RuleRef{ID: "r1", Name: "Critical jobs"}
	r2 := send.RuleRef{ID: "r2", Name: "All jobs"}
	pol := send.RuleRef{ID: "policy:nightly", Name: "Nightly policy"}
	tests := []struct {
		name string
		ev   *notify.Event
		hide map[string]bool
		want *Plan
	}{
		{
			name: "merged across rules, users, groups and case",
			ev:   event("e1"),
			want: &Plan{
				Rules: []send.RuleRef{pol, r1, r2},
				Recipients: []Recipient{
					{Channel: notify.ChannelEmail, Recipient: "ann@example.com", Rules: []send.RuleRef{r1}, Via: []string{"user:u1", "group:g1", "email"}},
					{Channel: notify.ChannelEmail, Recipient: "Bob@Example.com", Rules: []send.RuleRef{r1, r2}, Via: []string{"group:g1", "email"}},
					{Channel: notify.ChannelEmail, Recipient: "cy@example.com", Rules: []send.RuleRef{pol}, Via: []string{"user:u3"}},
					{Channel: notify.ChannelEmail, Recipient: "ext@partner.io", Rules: []send.RuleRef{r1}, Via: []string{"email"}},
					{Channel: notify.ChannelSlack, Recipient: slackID, Rules: []send.RuleRef{r1, r2}, Via: []string{"slackChannel"}},
				},
			},
		},
		{
			name: "unknown users are skipped with a note",
			ev:   event("e2"),
			hide: map[string]bool{"u2": true, "u3": true},
			want: &Plan{
				Rules: []send.RuleRef{pol, r1, r2},
				Recipients: []Recipient{
					{Channel: notify.ChannelEmail, Recipient: "ann@example.com", Rules: []send.RuleRef{r1}, Via: []string{"user:u1", "group:g1", "email"}},
					{Channel: notify.ChannelEmail, Recipient: "bob@example.com", Rules: []send.RuleRef{r2}, Via: []string{"email"}},
					{Channel: notify.ChannelEmail, Recipient: "ext@partner.io", Rules: []send.RuleRef{r1}, Via: []string{"email"}},
					{Channel: notify.ChannelSlack, Recipient: slackID, Rules: []send.RuleRef{r1, r2}, Via: []string{"slackChannel"}},
				},
				Notes: []string{
					`rule "Nightly policy" names user "u3", which does not exist: skipped`,
					`group "Ops" lists user "u2", which does not exist: skipped`,
				},
			},
		},
		{
			name: "a policy success reaches only the severity rules",
			ev:   &notify.Event{ID: "e3", Type: notify.TypeJob, Severity: notify.SeverityInfo, Title: "ok", PolicyID: "nightly", Status: notify.JobSucceeded},
			want: &Plan{
				Rules: []send.RuleRef{r2},
				Recipients: []Recipient{
					{Channel: notify.ChannelEmail, Recipient: "bob@example.com", Rules: []send.RuleRef{r2}, Via: []string{"email"}},
					{Channel: notify.ChannelSlack, Recipient: slackID, Rules: []send.RuleRef{r2}, Via: []string{"slackChannel"}},
				},
			},
		},
		{
			name: "nothing matches",
			ev:   &notify.Event{ID: "e4", Type: notify.TypeSpending, Severity: notify.SeverityInfo, Title: "x"},
			want: &Plan{Rules: []send.RuleRef{}, Recipients: []Recipient{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.Directory = hidingDirectory{Directory: c.Directory, hide: tt.hide} })
			got, err := f.d.Plan(ctx, tt.ev)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Plan (-want +got):\n%s", d)
			}
			if c, s := f.sentCounts(), 0; len(c) != s {
				t.Errorf("Plan sent something: %v", c)
			}
		})
	}
}

// TestPlanReadsTheRegistry: the planner knows no channel by name; a channel
// registered with its addresses is planned, one that is not is ignored.
func TestPlanReadsTheRegistry(t *testing.T) {
	pager := channel.Channel{Name: "pager", Field: "webhooks", Via: "page",
		Addresses: func(r notify.Recipients) []string { return r.Webhooks }}
	f := newFixture(t, func(c *Config) { c.Channels = channel.New(pager) })
	now := f.clk.Now()
	r := &notify.Rule{ID: "r9", Name: "Hooks", Enabled: true, EventTypes: []notify.EventType{notify.TypeSpending},
		Severities: notify.Severities, Source: notify.SourceUser, Version: 1, CreatedAt: now, UpdatedAt: now,
		Recipients: notify.Recipients{Emails: []string{"x@example.com"}, Webhooks: []string{"wh1", "wh2"}}}
	if err := f.st.CreateRule(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := f.d.Plan(ctx, &notify.Event{ID: "e9", Type: notify.TypeSpending, Severity: notify.SeverityInfo, Title: "x"})
	if err != nil {
		t.Fatal(err)
	}
	ref := []send.RuleRef{{ID: "r9", Name: "Hooks"}}
	want := []Recipient{
		{Channel: "pager", Recipient: "wh1", Rules: ref, Via: []string{"page"}},
		{Channel: "pager", Recipient: "wh2", Rules: ref, Via: []string{"page"}},
	}
	if d := cmp.Diff(want, got.Recipients); d != "" {
		t.Errorf("Plan recipients (-want +got); email is not registered, so not planned:\n%s", d)
	}
}

func TestDispatchSendsOncePerRecipient(t *testing.T) {
	f := newFixture(t)
	if err := f.d.Dispatch(ctx, event("e1")); err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
	wantOnce(t, f)
	bob := f.delivery(t, "e1", notify.ChannelEmail, "bob@example.com")
	sentAt := f.clk.Now()
	// Version 2: the first attempt stores the event's deliveries in
	// sending with one write (version 1), then each outcome (version 2).
	want := &notify.Delivery{
		ID: notify.DeliveryID("e1", notify.ChannelEmail, "bob@example.com"), EventID: "e1", Channel: notify.ChannelEmail,
		Recipient: "Bob@Example.com", RuleIDs: []string{"r1", "r2"}, Status: notify.DeliverySent, Attempts: 1,
		Provider: "smtp", ProviderMessageID: "smtp-Bob@Example.com-1", Version: 2, CreatedAt: sentAt, UpdatedAt: sentAt, SentAt: &sentAt,
	}
	if d := cmp.Diff(want, bob); d != "" {
		t.Errorf("delivery (-want +got):\n%s", d)
	}
	// The mail names every rule that reached the address.
	for _, n := range f.email.notes {
		if n.To[0] == "Bob@Example.com" {
			if d := cmp.Diff([]send.RuleRef{{ID: "r1", Name: "Critical jobs"}, {ID: "r2", Name: "All jobs"}}, n.Rules); d != "" {
				t.Errorf("rules in the notification (-want +got):\n%s", d)
			}
			if n.Event.ID != "e1" || n.Channel != notify.ChannelEmail {
				t.Errorf("notification = %+v", n)
			}
		}
	}
}

func TestRedeliveryNotifiesOnce(t *testing.T) {
	f := newFixture(t)
	m := message(t, event("e1"), 1)
	for i := 1; i <= 3; i++ {
		m.ReceiveCount = i
		if err := f.d.Handle(ctx, m); err != nil {
			t.Fatalf("Handle #%d: %v", i, err)
		}
	}
	// The same event id in a second message (a client retry) too.
	m2 := m
	m2.ID, m2.ReceiveCount = "another-message", 1
	if err := f.d.Handle(ctx, m2); err != nil {
		t.Fatalf("Handle of the duplicate: %v", err)
	}
	wantOnce(t, f)
}

func TestConcurrentDoubleDeliveryNotifiesOnce(t *testing.T) {
	t.Run("one attempt holds a send", func(t *testing.T) {
		f := newFixture(t)
		hold := make(chan struct{})
		f.email.hold["ann@example.com"] = hold
		f.email.entered = make(chan string, 1)
		first := make(chan error, 1)
		go func() { first <- f.d.Dispatch(ctx, event("e1")) }()
		<-f.email.entered // the first attempt is sending to ann
		err := f.d.Dispatch(ctx, event("e1"))
		var rerr *queue.RetryError
		if !errors.As(err, &rerr) || rerr.After <= 0 || rerr.After > DefaultSendingLease {
			t.Errorf("second Dispatch while the first sends = %v, want a RetryError within the lease", err)
		}
		close(hold)
		if err := <-first; err != nil {
			t.Fatalf("first Dispatch: %v", err)
		}
		if err := f.d.Dispatch(ctx, event("e1")); err != nil {
			t.Errorf("Dispatch after the first finished = %v, want nil", err)
		}
		wantOnce(t, f)
		if d := f.delivery(t, "e1", notify.ChannelEmail, "ann@example.com"); d.Status != notify.DeliverySent || d.Attempts != 1 {
			t.Errorf("ann's delivery = %s after %d attempts, want sent after 1", d.Status, d.Attempts)
		}
	})
	t.Run("a provider's retry is not held back by another attempt's lease", func(t *testing.T) {
		// A duplicate message races the first: the first holds ann's send,
		// and bob's server asks both for a retry in 2 s. The second message
		// must come back in 2 s, not after the first attempt's lease.
		f := newFixture(t)
		hold := make(chan struct{})
		f.email.hold["ann@example.com"] = hold
		f.email.entered = make(chan string, 1)
		later := send.Transient(errors.New("451 try later"), 2*time.Second)
		f.email.script["Bob@Example.com"] = []error{later, later}
		first := make(chan error, 1)
		go func() { first <- f.d.Dispatch(ctx, event("e1")) }()
		<-f.email.entered        // the first attempt is sending to ann
		waitFor(t, func() bool { // and has recorded bob's first refusal
			d := f.delivery(t, "e1", notify.ChannelEmail, "bob@example.com")
			return d.Status == notify.DeliveryQueued && d.Attempts == 1
		})
		err := f.d.Dispatch(ctx, event("e1"))
		close(hold)
		<-first
		var rerr *queue.RetryError
		if !errors.As(err, &rerr) {
			t.Fatalf("second Dispatch = %v, want a RetryError", err)
		}
		if rerr.After != 2*time.Second {
			t.Errorf("second Dispatch asks to come back after %s, want the provider's 2s (not the other attempt's lease)", rerr.After)
		}
	})
	t.Run("many racing handlers", func(t *testing.T) {
		f := newFixture(t)
		m := message(t, event("e1"), 1)
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.d.Handle(ctx, m) // losers may ask for a retry
			}()
		}
		wg.Wait()
		if err := f.d.Handle(ctx, m); err != nil {
			t.Errorf("Handle after the race = %v, want nil", err)
		}
		wantOnce(t, f)
		calls, _ := f.email.counts()
		for to, n := range calls {
			if n != 1 {
				t.Errorf("%s: %d Send calls, want 1", to, n)
			}
		}
	})
}

func TestTransientFailureIsRetriedAndSentOnce(t *testing.T) {
	tests := []struct {
		name      string
		errs      []error
		wantAfter time.Duration // 0: a plain error (queue backoff)
	}{
		{"SMTP 421", []error{send.Transient(errors.New("421 try later"), 0)}, 0},
		{"Slack 429 with Retry-After", []error{send.Transient(errors.New("ratelimited"), 30*time.Second)}, 30 * time.Second},
		{"an unclassified error is transient", []error{errors.New("connection reset")}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.email.script["ext@partner.io"] = tt.errs
			f.slack.script[slackID] = tt.errs
			m := message(t, event("e1"), 1)
			err := f.d.Handle(ctx, m)
			if err == nil {
				t.Fatal("Handle with a transient failure = nil, want an error for the queue to retry")
			}
			after, isRetry := queue.RetryAfter(err)
			if tt.wantAfter == 0 && isRetry || tt.wantAfter != 0 && after != tt.wantAfter {
				t.Errorf("Handle = %v: RetryAfter %v (%v), want %v", err, after, isRetry, tt.wantAfter)
			}
			ext := f.delivery(t, "e1", notify.ChannelEmail, "ext@partner.io")
			if ext.Status != notify.DeliveryQueued || ext.Attempts != 1 || ext.LastError != tt.errs[0].Error() {
				t.Errorf("after the failure: %s, %d attempts, last error %q; want queued, 1, %q", ext.Status, ext.Attempts, ext.LastError, tt.errs[0].Error())
			}
			m.ReceiveCount = 2
			if err := f.d.Handle(ctx, m); err != nil {
				t.Fatalf("second Handle: %v", err)
			}
			wantOnce(t, f)
			ext = f.delivery(t, "e1", notify.ChannelEmail, "ext@partner.io")
			if ext.Status != notify.DeliverySent || ext.Attempts != 2 {
				t.Errorf("after the retry: %s after %d attempts, want sent after 2", ext.Status, ext.Attempts)
			}
			calls, _ := f.email.counts()
			if calls["ann@example.com"] != 1 || calls["ext@partner.io"] != 2 {
				t.Errorf("Send calls = %v: the retry must resend only the failed recipient", calls)
			}
		})
	}
}

// A recipient that a transient failure left queued, and that no rule reaches
// by the time the event comes back, is settled as skipped, not left queued
// for good.
func TestOrphanedRetryIsSkipped(t *testing.T) {
	f := newFixture(t)
	f.email.script["ext@partner.io"] = []error{send.Transient(errors.New("421 try later"), 0)}
	m := message(t, event("e1"), 1)
	if err := f.d.Handle(ctx, m); err == nil {
		t.Fatal("Handle with a transient failure = nil, want an error for the queue to retry")
	}
	// The rule that reached ext@partner.io drops it before the retry.
	r, err := f.st.GetRule(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	r.Recipients.Emails = []string{"ANN@example.com"}
	r.Version++
	if err := f.st.UpdateRule(ctx, r); err != nil {
		t.Fatal(err)
	}
	m.ReceiveCount = 2
	if err := f.d.Handle(ctx, m); err != nil {
		t.Fatalf("second Handle = %v, want nil: nothing is left to retry", err)
	}
	ext := f.delivery(t, "e1", notify.ChannelEmail, "ext@partner.io")
	if ext.Status != notify.DeliverySkipped || ext.Note != orphanNote {
		t.Errorf("orphaned delivery: %s (%q), want skipped (%q)", ext.Status, ext.Note, orphanNote)
	}
	if calls, _ := f.email.counts(); calls["ext@partner.io"] != 1 {
		t.Errorf("Send calls to ext@partner.io = %d, want 1 (no resend)", calls["ext@partner.io"])
	}
	want := map[string]int{}
	for _, r := range every {
		if r != "ext@partner.io" {
			want[r] = 1
		}
	}
	if d := cmp.Diff(want, f.sentCounts()); d != "" {
		t.Errorf("sends per recipient (-want +got):\n%s", d)
	}
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	f := newFixture(t)
	f.email.script["ext@partner.io"] = []error{send.Permanent(errors.New("550 no such user"))}
	f.slack.script[slackID] = []error{send.Permanent(errors.New("channel_not_found"))}
	m := message(t, event("e1"), 1)
	if err := f.d.Handle(ctx, m); err != nil {
		t.Fatalf("Handle = %v, want nil (permanent failures are final)", err)
	}
	m.ReceiveCount = 2
	if err := f.d.Handle(ctx, m); err != nil {
		t.Fatalf("second Handle: %v", err)
	}
	for _, tc := range []struct {
		ch  notify.Channel
		to  string
		msg string
	}{{notify.ChannelEmail, "ext@partner.io", "550 no such user"}, {notify.ChannelSlack, slackID, "channel_not_found"}} {
		d := f.delivery(t, "e1", tc.ch, tc.to)
		if d.Status != notify.DeliveryFailed || d.Attempts != 1 || !strings.Contains(d.LastError, tc.msg) {
			t.Errorf("%s: %s after %d attempts (%q), want failed after 1 with %q", tc.to, d.Status, d.Attempts, d.LastError, tc.msg)
		}
	}
	calls, _ := f.email.counts()
	if calls["ext@partner.io"] != 1 {
		t.Errorf("ext@partner.io: %d Send calls, want 1", calls["ext@partner.io"])
	}
}

func TestSlackNotConnectedIsSkipped(t *testing.T) {
	f := newFixture(t)
	f.router.slackSkip = "no Slack workspace is connected"
	if err := f.d.Dispatch(ctx, event("e1")); err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
	d := f.delivery(t, "e1", notify.ChannelSlack, slackID)
	if d.Status != notify.DeliverySkipped || d.Note != "no Slack workspace is connected" || d.Attempts != 0 {
		t.Errorf("Slack delivery = %s (%q, %d attempts), want skipped with the reason", d.Status, d.Note, d.Attempts)
	}
	if calls, _ := f.slack.counts(); len(calls) != 0 {
		t.Errorf("Slack sender called: %v", calls)
	}
	if _, sent := f.email.counts(); len(sent) != 4 {
		t.Errorf("emails sent = %v, want 4 recipients", sent)
	}
}

// TestInterruptedAttemptIsResent: a delivery left in sending (the process
// died between handing the message to the provider and recording the
// outcome) is sent again once its lease is over, or at once when it was
// taken before ResumeBefore, and recorded sent as a possible duplicate.
func TestInterruptedAttemptIsResent(t *testing.T) {
	tests := []struct {
		name     string
		age      time.Duration
		receives int
		resume   bool // ResumeBefore set to now: taken by an earlier process
		want     notify.DeliveryStatus
		retry    bool
	}{
		{"older than the lease", DefaultSendingLease + time.Second, 2, false, notify.DeliverySent, false},
		{"within the lease: maybe still sending", time.Second, 2, false, notify.DeliverySending, true},
		{"within the lease on the last receive", time.Second, queue.MaxReceives, false, notify.DeliverySent, false},
		{"within the lease, taken by an earlier process", time.Second, 2, true, notify.DeliverySent, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
			f := newFixture(t, func(c *Config) {
				c.Now = clk.Now
				if tt.resume {
					c.ResumeBefore = clk.Now()
				}
			})
			id := notify.DeliveryID("e1", notify.ChannelEmail, "ann@example.com")
			then := f.clk.Now().Add(-tt.age)
			d := &notify.Delivery{ID: id, EventID: "e1", Channel: notify.ChannelEmail, Recipient: "ann@example.com", RuleIDs: []string{"r1"},
				Status: notify.DeliveryQueued, Version: 1, CreatedAt: then, UpdatedAt: then}
			if _, won, err := f.st.ClaimDelivery(ctx, d); err != nil || !won {
				t.Fatalf("claim: %v %v", won, err)
			}
			d.Status, d.Attempts, d.Version = notify.DeliverySending, 1, 2
			if err := f.st.UpdateDelivery(ctx, d); err != nil {
				t.Fatalf("to sending: %v", err)
			}
			err := f.d.Handle(ctx, message(t, event("e1"), tt.receives))
			if _, isRetry := queue.RetryAfter(err); isRetry != tt.retry || (!tt.retry && err != nil) {
				t.Errorf("Handle = %v, want retry=%v", err, tt.retry)
			}
			got := f.delivery(t, "e1", notify.ChannelEmail, "ann@example.com")
			calls, _ := f.email.counts()
			if tt.want == notify.DeliverySending {
				if got.Status != tt.want || got.Attempts != 1 || calls["ann@example.com"] != 0 {
					t.Errorf("delivery = %s after %d attempts, %d sends; want left sending after 1, no send", got.Status, got.Attempts, calls["ann@example.com"])
				}
				return
			}
			if got.Status != tt.want || got.Attempts != 2 || got.Note != PossibleDuplicateNote || got.ProviderMessageID == "" {
				t.Errorf("delivery = %s after %d attempts (note %q, id %q), want %s after 2 noted %q", got.Status, got.Attempts, got.Note, got.ProviderMessageID, tt.want, PossibleDuplicateNote)
			}
			if calls["ann@example.com"] != 1 || calls["ext@partner.io"] != 1 {
				t.Errorf("Send calls = %v: ann must be sent again once, the others once", calls)
			}
		})
	}
}

// TestResentThenFailedSaysSo: a resend that fails permanently is recorded
// failed with a LastError that says the interrupted attempt may have
// delivered it; a transient failure keeps the duplicate note for the retry.
func TestResentThenFailedSaysSo(t *testing.T) {
	f := newFixture(t)
	f.email.script["ann@example.com"] = []error{send.Transient(errors.New("421 busy"), 0), send.Permanent(errors.New("550 gone"))}
	id := notify.DeliveryID("e1", notify.ChannelEmail, "ann@example.com")
	then := f.clk.Now().Add(-DefaultSendingLease - time.Second)
	d := &notify.Delivery{ID: id, EventID: "e1", Channel: notify.ChannelEmail, Recipient: "ann@example.com", RuleIDs: []string{"r1"},
		Status: notify.DeliverySending, Attempts: 1, Version: 1, CreatedAt: then, UpdatedAt: then}
	if _, won, err := f.st.ClaimDelivery(ctx, d); err != nil || !won {
		t.Fatalf("claim: %v %v", won, err)
	}
	if err := f.d.Handle(ctx, message(t, event("e1"), 2)); err == nil {
		t.Fatal("Handle with a transient failure = nil, want a retry")
	}
	got := f.delivery(t, "e1", notify.ChannelEmail, "ann@example.com")
	if got.Status != notify.DeliveryQueued || got.Note != PossibleDuplicateNote || !strings.HasPrefix(got.LastError, interruptedPrefix) {
		t.Errorf("after the transient failure: %s (%q, %q)", got.Status, got.Note, got.LastError)
	}
	if err := f.d.Handle(ctx, message(t, event("e1"), 3)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	got = f.delivery(t, "e1", notify.ChannelEmail, "ann@example.com")
	if got.Status != notify.DeliveryFailed || got.Attempts != 3 || !strings.HasPrefix(got.LastError, interruptedPrefix) || !strings.Contains(got.LastError, "550 gone") {
		t.Errorf("after the permanent failure: %s after %d attempts (%q)", got.Status, got.Attempts, got.LastError)
	}
}

// TestSlowAttemptRecordsTheTruth: when another attempt resends a delivery
// whose send outlived the lease, the recipient gets it twice (bounded: one
// extra per attempt in flight) and the record ends sent, never failed.
func TestSlowAttemptRecordsTheTruth(t *testing.T) {
	f := newFixture(t)
	hold := make(chan struct{})
	f.email.hold["ann@example.com"] = hold
	f.email.entered = make(chan string, 1)
	first := make(chan error, 1)
	go func() { first <- f.d.Handle(ctx, message(t, event("e1"), 1)) }()
	<-f.email.entered
	f.clk.Add(DefaultSendingLease + time.Second) // the send outlives the lease
	if err := f.d.Handle(ctx, message(t, event("e1"), 2)); err != nil {
		t.Errorf("second Handle = %v", err)
	}
	if d := f.delivery(t, "e1", notify.ChannelEmail, "ann@example.com"); d.Status != notify.DeliverySent || d.Note != PossibleDuplicateNote || d.Attempts != 2 {
		t.Errorf("after the resend: %s (%q) after %d attempts, want sent as a possible duplicate after 2", d.Status, d.Note, d.Attempts)
	}
	close(hold)
	if err := <-first; err != nil {
		t.Fatalf("first Handle: %v", err)
	}
	d := f.delivery(t, "e1", notify.ChannelEmail, "ann@example.com")
	if d.Status != notify.DeliverySent || d.ProviderMessageID == "" {
		t.Errorf("after the send finished: %s (%q), want sent with the provider id", d.Status, d.LastError)
	}
	if _, sent := f.email.counts(); sent["ann@example.com"] != 2 {
		t.Errorf("ann got %d sends, want 2 (the slow one and the resend)", sent["ann@example.com"])
	}
}

func TestGiveUpOnTheLastReceive(t *testing.T) {
	f := newFixture(t)
	always := make([]error, 10)
	for i := range always {
		always[i] = send.Transient(errors.New("421 busy"), 0)
	}
	f.email.script["ext@partner.io"] = always
	m := message(t, event("e1"), 0)
	for i := 1; i < queue.MaxReceives; i++ {
		m.ReceiveCount = i
		if err := f.d.Handle(ctx, m); err == nil {
			t.Fatalf("Handle #%d = nil, want a retry", i)
		}
	}
	m.ReceiveCount = queue.MaxReceives
	if err := f.d.Handle(ctx, m); err != nil {
		t.Fatalf("last Handle = %v, want nil (the failure is recorded)", err)
	}
	d := f.delivery(t, "e1", notify.ChannelEmail, "ext@partner.io")
	if want := "gave up after 5 attempts: transient: 421 busy"; d.Status != notify.DeliveryFailed || d.Attempts != 5 || d.LastError != want {
		t.Errorf("delivery = %s after %d attempts (%q), want failed after 5 with %q", d.Status, d.Attempts, d.LastError, want)
	}
	if calls, _ := f.email.counts(); calls["ext@partner.io"] != 5 || calls["ann@example.com"] != 1 {
		t.Errorf("Send calls = %v, want 5 to ext and 1 to ann", calls)
	}
}

// TestShutdownDoesNotGiveUp: a send cut short by shutdown on the last
// receive stays queued for the next run instead of being given up.
func TestShutdownDoesNotGiveUp(t *testing.T) {
	f := newFixture(t)
	hold := make(chan struct{})
	f.email.hold["ext@partner.io"] = hold
	f.email.entered = make(chan string, 1)
	f.email.script["ext@partner.io"] = []error{context.Canceled}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.d.Handle(cctx, message(t, event("e1"), queue.MaxReceives)) }()
	<-f.email.entered
	cancel()
	close(hold)
	if err := <-done; err == nil {
		t.Error("Handle cut short by shutdown = nil, want an error")
	}
	if d := f.delivery(t, "e1", notify.ChannelEmail, "ext@partner.io"); d.Status != notify.DeliveryQueued {
		t.Errorf("delivery = %s (%q), want queued", d.Status, d.LastError)
	}
}

func TestPoisonMessage(t *testing.T) {
	tests := []struct{ name, body string }{
		{"not JSON", "{not json"},
		{"no id", `{"type":"JOB","severity":"CRITICAL","title":"x"}`},
		{"wrong shape", `[1,2,3]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			err := f.d.Handle(ctx, queue.Message{ID: "m1", Body: []byte(tt.body), ReceiveCount: 1})
			if !errors.Is(err, ErrPoison) {
				t.Errorf("Handle = %v, want ErrPoison", err)
			}
			if _, isRetry := queue.RetryAfter(err); isRetry {
				t.Errorf("Handle = %v, want a plain error", err)
			}
			if c := f.sentCounts(); len(c) != 0 {
				t.Errorf("sent %v", c)
			}
		})
	}
}

func TestRuleCache(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.RuleCacheTTL = time.Minute })
	plan := func() int {
		p, err := f.d.Plan(ctx, &notify.Event{ID: "x", Type: notify.TypeDeployment, Severity: notify.SeverityCritical, Title: "d"})
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Rules)
	}
	if n := plan(); n != 1 {
		t.Fatalf("matched %d rules, want 1", n)
	}
	if err := f.st.DeleteRule(ctx, "r3", 0); err != nil {
		t.Fatal(err)
	}
	if n := plan(); n != 1 {
		t.Errorf("within the TTL matched %d rules, want the cached 1", n)
	}
	f.clk.Add(time.Minute)
	if n := plan(); n != 0 {
		t.Errorf("after the TTL matched %d rules, want 0", n)
	}
}

// memDeliveries keeps deliveries in memory, to measure the dispatcher
// without the store's fsyncs.
type memDeliveries struct {
	store.Deliveries // ListDeliveries is not used
	mu               sync.Mutex
	m                map[string]notify.Delivery
}

func (s *memDeliveries) ClaimDelivery(ctx context.Context, d *notify.Delivery) (*notify.Delivery, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[d.ID]; ok {
		return &old, false, nil
	}
	s.m[d.ID] = *d
	return d, true, nil
}

func (s *memDeliveries) ClaimDeliveries(ctx context.Context, ds []*notify.Delivery) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range ds {
		if _, ok := s.m[d.ID]; ok {
			return false, nil
		}
	}
	for _, d := range ds {
		s.m[d.ID] = *d
	}
	return true, nil
}

func (s *memDeliveries) UpdateDelivery(ctx context.Context, d *notify.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[d.ID].Version != d.Version-1 {
		return notify.Errorf(notify.EStale, "stale")
	}
	s.m[d.ID] = *d
	return nil
}

func (s *memDeliveries) GetDelivery(ctx context.Context, id string) (*notify.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.m[id]
	if !ok {
		return nil, notify.Errorf(notify.ENotFound, "no delivery %q", id)
	}
	return &d, nil
}

// BenchmarkDispatch dispatches events reaching five recipients (four
// emails, one Slack channel) through a no-op sender, one at a time and
// with 32 workers as local mode runs them (local.Workers). "embedded" records
// deliveries in the embedded store (a commit of the batch claim, then of
// the outcomes: the fsyncs dominate, and concurrent events share them);
// "memory" in a map, to show the dispatcher's own cost.
func BenchmarkDispatch(b *testing.B) {
	for _, tc := range []struct {
		name    string
		mem     bool
		workers int
	}{{"embedded", false, 1}, {"memory", true, 1}, {"embedded-workers32", false, 32}, {"memory-workers32", true, 32}} {
		b.Run(tc.name, func(b *testing.B) {
			f := newFixture(b, func(c *Config) {
				c.RuleCacheTTL, c.Now = time.Minute, time.Now
				if tc.mem {
					c.Deliveries = &memDeliveries{m: map[string]notify.Delivery{}}
				}
			})
			b.ReportAllocs()
			if tc.workers == 1 {
				i := 0
				for b.Loop() {
					i++
					if err := f.d.Dispatch(ctx, event(fmt.Sprintf("bench-%d", i))); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
				return
			}
			// As local mode runs it: several queue workers, each
			// dispatching one event at a time; ns/op is per event.
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range tc.workers {
				wg.Go(func() {
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						if err := f.d.Dispatch(ctx, event(fmt.Sprintf("bench-%d", i))); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// unknownErr is a transient send error after which the provider may have
// accepted the message (SMTP: no reply after the final dot).
type unknownErr struct{}

func (unknownErr) Error() string        { return "no reply after the message was sent" }
func (unknownErr) OutcomeUnknown() bool { return true }

// TestUnknownOutcomeIsNoted: a retry after a send whose outcome is unknown
// is recorded sent as a possible duplicate.
func TestUnknownOutcomeIsNoted(t *testing.T) {
	f := newFixture(t)
	f.email.script["ext@partner.io"] = []error{send.Transient(unknownErr{}, 0)}
	m := message(t, event("e1"), 1)
	if err := f.d.Handle(ctx, m); err == nil {
		t.Fatal("Handle = nil, want a retry")
	}
	m.ReceiveCount = 2
	if err := f.d.Handle(ctx, m); err != nil {
		t.Fatalf("second Handle: %v", err)
	}
	if d := f.delivery(t, "e1", notify.ChannelEmail, "ext@partner.io"); d.Status != notify.DeliverySent || d.Note != PossibleDuplicateNote {
		t.Errorf("delivery = %s (%q), want sent noted %q", d.Status, d.Note, PossibleDuplicateNote)
	}
	if d := f.delivery(t, "e1", notify.ChannelEmail, "ann@example.com"); d.Note != "" {
		t.Errorf("ann's delivery noted %q, want no note", d.Note)
	}
}

// waitFor polls cond until it holds, or fails the test after 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
