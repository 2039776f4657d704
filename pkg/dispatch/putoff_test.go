package dispatch

import (
	"errors"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// notTried is a send our pacing put off (as pace.Deferred is).
type notTried struct{}

func (notTried) Error() string  { return "paced: no slot" }
func (notTried) NotTried() bool { return true }

// TestPacedSendsPutTheEventBack: when every failure of an event is a send
// pacing put off, the event goes back on the queue as a new message for
// when a slot is free, and the message is handled: no receive is spent,
// no attempt counted. A real failure among them retries as before.
func TestPacedSendsPutTheEventBack(t *testing.T) {
	sched := &fakeScheduler{}
	f := newFixture(t, func(c *Config) { c.Scheduler = sched })
	f.slack.script[slackID] = []error{send.Transient(notTried{}, 7*time.Second)}
	m := message(t, event("e1"), 4) // the 4th receive: not spent
	if err := f.d.Handle(ctx, m); err != nil {
		t.Fatalf("Handle = %v, want nil: the event is put back", err)
	}
	got := sched.taken()
	if len(got) != 1 || string(got[0].Body) != string(m.Body) || !got[0].NotBefore.Equal(f.clk.Now().Add(7*time.Second)) || got[0].Attributes[queue.AttrPutBack] == "" {
		t.Fatalf("put back %+v, want the event's body, marked put back, not before now+7s", got)
	}
	d := f.delivery(t, "e1", notify.ChannelSlack, slackID)
	if d.Status != notify.DeliveryQueued || d.Attempts != 0 || d.LastError != "" {
		t.Errorf("paced delivery: %s, attempts %d, error %q; want queued, 0, none", d.Status, d.Attempts, d.LastError)
	}
	// The put-back message is a new one: its first receive sends what is left.
	f.clk.Add(7 * time.Second)
	again := got[0]
	again.ReceiveCount = 1
	if err := f.d.Handle(ctx, again); err != nil {
		t.Fatalf("Handle of the put-back event: %v", err)
	}
	wantOnce(t, f)
	if d := f.delivery(t, "e1", notify.ChannelSlack, slackID); d.Status != notify.DeliverySent || d.Attempts != 1 {
		t.Errorf("after the slot: %s, attempts %d; want sent, 1", d.Status, d.Attempts)
	}

	// A real failure with a put-off send: retried, nothing put back.
	sched = &fakeScheduler{}
	f = newFixture(t, func(c *Config) { c.Scheduler = sched })
	f.slack.script[slackID] = []error{send.Transient(notTried{}, 7*time.Second)}
	f.email.script["ext@partner.io"] = []error{send.Transient(errors.New("421 busy"), 0)}
	if err := f.d.Handle(ctx, message(t, event("e2"), 1)); err == nil {
		t.Fatal("Handle = nil with a failed send, want a retry")
	}
	if n := len(sched.taken()); n != 0 {
		t.Errorf("%d messages put back, want none", n)
	}
}

// TestPutBackSettlesOrphans: when the rule that reached a put-off
// recipient is disabled before the event comes back, the put-back event
// settles that delivery (skipped) instead of leaving it queued for good.
func TestPutBackSettlesOrphans(t *testing.T) {
	sched := &fakeScheduler{}
	f := newFixture(t, func(c *Config) { c.Scheduler = sched })
	f.slack.script[slackID] = []error{send.Transient(notTried{}, 7*time.Second)}
	if err := f.d.Handle(ctx, message(t, event("e1"), 1)); err != nil {
		t.Fatalf("Handle = %v, want the event put back", err)
	}
	for _, id := range []string{"r1", "r2"} { // both rules name the Slack channel
		r, err := f.st.GetRule(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		r.Recipients.SlackChannels = nil
		r.Version++
		if err := f.st.UpdateRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	back := sched.taken()[0]
	back.ReceiveCount = 1
	if err := f.d.Handle(ctx, back); err != nil {
		t.Fatalf("Handle of the put-back event: %v", err)
	}
	if d := f.delivery(t, "e1", notify.ChannelSlack, slackID); d.Status != notify.DeliverySkipped || d.Note != orphanNote {
		t.Errorf("the orphaned delivery: %s %q, want skipped %q", d.Status, d.Note, orphanNote)
	}
}
