package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// fakeScheduler keeps the messages the dispatcher schedules.
type fakeScheduler struct {
	mu   sync.Mutex
	msgs []queue.Message
}

func (s *fakeScheduler) Send(ctx context.Context, msgs []queue.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, msgs...)
	return nil
}

func (s *fakeScheduler) taken() []queue.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]queue.Message(nil), s.msgs...)
}

// crashOnHeld fails, once, the write that records event crashAt's
// delivery held: the fold into the digest is stored, the process "dies"
// before the event's own record.
type crashOnHeld struct {
	store.Deliveries
	mu      sync.Mutex
	crashAt string
}

func (c *crashOnHeld) UpdateDelivery(ctx context.Context, d *notify.Delivery) error {
	c.mu.Lock()
	crash := d.EventID == c.crashAt && d.Status == notify.DeliveryHeld && !strings.HasPrefix(d.ID, "digest:")
	if crash {
		c.crashAt = ""
	}
	c.mu.Unlock()
	if crash {
		return errors.New("killed")
	}
	return c.Deliveries.UpdateDelivery(ctx, d)
}

const stormTo = "oncall@example.com"

func stormRule(t *testing.T, f *fixture, window int) {
	t.Helper()
	now := f.clk.Now()
	r := &notify.Rule{ID: "storm", Name: "Config storm", Enabled: true, Source: notify.SourceUser,
		EventTypes: []notify.EventType{notify.TypeConfiguration}, Severities: notify.Severities,
		Recipients: notify.Recipients{Emails: []string{stormTo}}, Digest: &notify.DigestPolicy{WindowSeconds: window},
		Version: 1, CreatedAt: now, UpdatedAt: now}
	r.Recipients.Normalize()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := f.st.CreateRule(ctx, r); err != nil {
		t.Fatal(err)
	}
}

func stormEvent(i int) *notify.Event {
	sev := notify.SeverityWarning
	if i%10 == 0 {
		sev = notify.SeverityCritical
	}
	return &notify.Event{ID: fmt.Sprintf("ev-%03d", i), Type: notify.TypeConfiguration, Severity: sev,
		Title: fmt.Sprintf("config drift %d", i), ReceivedAt: time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC).Add(time.Duration(i) * 100 * time.Millisecond)}
}

// TestDigestFoldsAStorm sends 200 events within 20 s of a 60 s window
// (time compressed with a fake clock), with a crash between folding one
// event and recording its delivery held, and every event handled twice:
// the recipient gets the first event at once and one digest naming the
// other 199, exactly once.
func TestDigestFoldsAStorm(t *testing.T) {
	sched := &fakeScheduler{}
	var crash *crashOnHeld
	f := newFixture(t, func(c *Config) {
		crash = &crashOnHeld{Deliveries: c.Deliveries, crashAt: "ev-050"}
		c.Deliveries, c.Scheduler = crash, sched
	})
	// Start at the beginning of an aligned minute: the 20 s burst stays
	// in one window.
	f.clk.t = time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
	stormRule(t, f, 60)

	evs := make(chan int)
	var wg sync.WaitGroup
	var failed sync.Map
	for range 8 {
		wg.Go(func() {
			for i := range evs {
				if err := f.d.Handle(ctx, message(t, stormEvent(i), 1)); err != nil {
					failed.Store(i, err)
				}
			}
		})
	}
	if err := f.d.Handle(ctx, message(t, stormEvent(0), 1)); err != nil {
		t.Fatalf("first event: %v", err)
	}
	if _, sent := f.email.counts(); sent[stormTo] != 1 {
		t.Fatalf("the first event is not out at once: %d sends", sent[stormTo])
	}
	for i := 1; i < 200; i++ {
		f.clk.Add(100 * time.Millisecond)
		evs <- i
	}
	close(evs)
	wg.Wait()
	// A first receive may fail (the crash, or a fold that lost to
	// concurrent ones too often): the queue delivers it again below.
	failed.Range(func(k, v any) bool {
		t.Logf("event %d, first receive: %v", k, v)
		return true
	})
	// The queue redelivers everything (the crashed one among them).
	for i := range 200 {
		if err := f.d.Handle(ctx, message(t, stormEvent(i), 2)); err != nil {
			t.Errorf("redelivery of %d: %v", i, err)
		}
	}
	if _, sent := f.email.counts(); sent[stormTo] != 1 {
		t.Fatalf("sends before the window closed: %d, want 1", sent[stormTo])
	}
	held := f.delivery(t, "ev-050", notify.ChannelEmail, stormTo)
	if held.Status != notify.DeliveryHeld || held.DueAt == nil || !held.DueAt.Equal(time.Date(2026, 3, 4, 5, 7, 0, 0, time.UTC)) {
		t.Fatalf("a folded delivery: status %s due %v, want held until 05:07", held.Status, held.DueAt)
	}

	due := sched.taken()
	if len(due) == 0 {
		t.Fatal("no digest scheduled")
	}
	// Early: asked back for later.
	if err := f.d.Handle(ctx, due[0]); err == nil {
		t.Fatal("a digest released before its window closed")
	} else if after, ok := queue.RetryAfter(err); !ok || after <= 0 {
		t.Fatalf("early release: %v, want a RetryError", err)
	}
	f.clk.Add(time.Minute)
	for range 2 { // duplicates and redeliveries of the due message
		for _, m := range due {
			if err := f.d.Handle(ctx, m); err != nil {
				t.Fatalf("release: %v", err)
			}
		}
	}
	if _, sent := f.email.counts(); sent[stormTo] != 2 {
		t.Fatalf("sends to the recipient: %d, want 2 (the first event and one digest)", sent[stormTo])
	}
	f.email.mu.Lock()
	last := f.email.notes[len(f.email.notes)-1].Event
	f.email.mu.Unlock()
	for _, want := range []string{"Digest: 199 more events", "- 19 × CRITICAL CONFIGURATION\n- 180 × WARNING CONFIGURATION", "The newest 5:\n\n[WARNING CONFIGURATION] config drift 199\n\n[WARNING CONFIGURATION] config drift 198", "…and 194 more"} {
		if !strings.Contains(last.Title+"\n"+last.Message, want) {
			t.Errorf("digest lacks %q:\n%s\n%s", want, last.Title, last.Message)
		}
	}
	if last.Severity != notify.SeverityCritical {
		t.Errorf("digest severity %s, want the most severe folded", last.Severity)
	}
	for i := range 200 {
		d := f.delivery(t, stormEvent(i).ID, notify.ChannelEmail, stormTo)
		if d.Status != notify.DeliverySent {
			t.Errorf("event %d: %s (%s), want sent", i, d.Status, d.Note)
		}
		if i > 0 && !strings.HasPrefix(d.Note, inDigestNote) {
			t.Errorf("event %d: note %q, want sent in the digest", i, d.Note)
		}
	}
}

// TestDigestEmptyWindowIsSkipped: a lone event goes out at once and its
// window's digest, with nothing in it, is recorded skipped.
func TestDigestEmptyWindowIsSkipped(t *testing.T) {
	sched := &fakeScheduler{}
	f := newFixture(t, func(c *Config) { c.Scheduler = sched })
	stormRule(t, f, 60)
	if err := f.d.Dispatch(ctx, stormEvent(1)); err != nil {
		t.Fatal(err)
	}
	f.clk.Add(2 * time.Minute)
	for _, m := range sched.taken() {
		if err := f.d.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	d := f.delivery(t, "ev-001", notify.ChannelEmail, stormTo)
	dg, err := f.st.GetDelivery(ctx, d.DigestID)
	if err != nil {
		t.Fatal(err)
	}
	if _, sent := f.email.counts(); sent[stormTo] != 1 || dg.Status != notify.DeliverySkipped {
		t.Errorf("sends %d, digest %s; want 1 and skipped", sent[stormTo], dg.Status)
	}
}

// TestDigestLateFoldIsSentAlone: an event of a window whose digest has
// already gone out is sent on its own, not lost.
func TestDigestLateFoldIsSentAlone(t *testing.T) {
	sched := &fakeScheduler{}
	f := newFixture(t, func(c *Config) { c.Scheduler = sched })
	f.clk.t = time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
	stormRule(t, f, 60)
	for i := 1; i <= 2; i++ {
		if err := f.d.Dispatch(ctx, stormEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Event 3 is claimed in the window (a first attempt that failed
	// before the hold stage ran is the same as this claim)...
	claim := &notify.Delivery{ID: notify.DeliveryID("ev-003", notify.ChannelEmail, stormTo), EventID: "ev-003", Channel: notify.ChannelEmail,
		Recipient: stormTo, RuleIDs: []string{"storm"}, Status: notify.DeliveryQueued, Version: 1, CreatedAt: f.clk.Now(), UpdatedAt: f.clk.Now()}
	first := f.delivery(t, "ev-001", notify.ChannelEmail, stormTo)
	claim.DigestID, claim.DueAt = first.DigestID, first.DueAt
	if _, _, err := f.st.ClaimDelivery(ctx, claim); err != nil {
		t.Fatal(err)
	}
	// ...and handled only after the digest went out.
	f.clk.Add(time.Minute)
	for _, m := range sched.taken() {
		if err := f.d.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.d.Handle(ctx, message(t, stormEvent(3), 2)); err != nil {
		t.Fatal(err)
	}
	if _, sent := f.email.counts(); sent[stormTo] != 3 {
		t.Errorf("sends %d, want 3: event 1, the digest of event 2, event 3 alone", sent[stormTo])
	}
	if d := f.delivery(t, "ev-003", notify.ChannelEmail, stormTo); d.Status != notify.DeliverySent || d.Note != "" {
		t.Errorf("late event: %s %q, want sent on its own", d.Status, d.Note)
	}
}
