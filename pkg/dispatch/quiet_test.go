package dispatch

import (
	"strings"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// TestQuietHoursHoldUntilTheEnd: with a fake clock inside a 22:00–07:00
// Europe/Paris window across midnight, WARNING events are held (nothing
// sent), CRITICAL goes through at once with allowCritical, and when the
// window ends one digest carries the held events.
func TestQuietHoursHoldUntilTheEnd(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	sched := &fakeScheduler{}
	f := newFixture(t, func(c *Config) { c.Scheduler = sched })
	f.clk.t = time.Date(2026, 6, 10, 23, 30, 0, 0, paris).UTC()
	now := f.clk.Now()
	r := &notify.Rule{ID: "night", Name: "Night", Enabled: true, Source: notify.SourceUser,
		EventTypes: []notify.EventType{notify.TypeConfiguration}, Severities: notify.Severities,
		Recipients: notify.Recipients{Emails: []string{stormTo}},
		QuietHours: &notify.QuietHours{TimeZone: "Europe/Paris", Start: "22:00", End: "07:00", AllowCritical: true},
		Version:    1, CreatedAt: now, UpdatedAt: now}
	r.Recipients.Normalize()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := f.st.CreateRule(ctx, r); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 12; i++ { // 10 is CRITICAL
		if err := f.d.Dispatch(ctx, stormEvent(i)); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(30 * time.Minute) // past midnight: 23:30 → 05:00
	}
	if _, sent := f.email.counts(); sent[stormTo] != 1 {
		t.Fatalf("sends during quiet hours: %d, want 1 (the CRITICAL)", sent[stormTo])
	}
	held := f.delivery(t, "ev-001", notify.ChannelEmail, stormTo)
	wantDue := time.Date(2026, 6, 11, 7, 0, 0, 0, paris).UTC()
	if held.Status != notify.DeliveryHeld || held.DueAt == nil || !held.DueAt.Equal(wantDue) {
		t.Fatalf("held delivery: %s due %v, want held until %s", held.Status, held.DueAt, wantDue)
	}
	f.clk.t = wantDue.Add(time.Second)
	for range 2 {
		for _, m := range sched.taken() {
			if err := f.d.Handle(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, sent := f.email.counts(); sent[stormTo] != 2 {
		t.Fatalf("sends: %d, want 2 (the CRITICAL and one digest)", sent[stormTo])
	}
	f.email.mu.Lock()
	last := f.email.notes[len(f.email.notes)-1].Event
	f.email.mu.Unlock()
	if !strings.Contains(last.Title, "Digest: 11 events") || !strings.Contains(last.Title, "quiet hours") {
		t.Errorf("digest title %q, want the 11 held events", last.Title)
	}
	// After the window: sent at once.
	if err := f.d.Dispatch(ctx, stormEvent(13)); err != nil {
		t.Fatal(err)
	}
	if _, sent := f.email.counts(); sent[stormTo] != 3 {
		t.Errorf("after quiet hours: %d sends, want 3", sent[stormTo])
	}
}
