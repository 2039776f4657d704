package dispatch

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// countingDeliveries counts the calls a dispatcher makes to its delivery
// store, and can fail the outcome writes of one event (a process that dies
// after sending, before recording).
type countingDeliveries struct {
	store.Deliveries
	mu      sync.Mutex
	calls   map[string]int
	crashAt string // the event whose outcome writes fail
}

func (c *countingDeliveries) count(op string) {
	c.mu.Lock()
	c.calls[op]++
	c.mu.Unlock()
}

func (c *countingDeliveries) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = map[string]int{}
	return out
}

func (c *countingDeliveries) ClaimDelivery(ctx context.Context, d *notify.Delivery) (*notify.Delivery, bool, error) {
	c.count("ClaimDelivery")
	return c.Deliveries.ClaimDelivery(ctx, d)
}

func (c *countingDeliveries) ClaimDeliveries(ctx context.Context, ds []*notify.Delivery) (bool, error) {
	c.count("ClaimDeliveries")
	return c.Deliveries.ClaimDeliveries(ctx, ds)
}

func (c *countingDeliveries) UpdateDelivery(ctx context.Context, d *notify.Delivery) error {
	c.count("UpdateDelivery")
	c.mu.Lock()
	crash := d.EventID == c.crashAt
	c.mu.Unlock()
	if crash {
		return errors.New("killed before the outcome was written")
	}
	return c.Deliveries.UpdateDelivery(ctx, d)
}

func (c *countingDeliveries) GetDelivery(ctx context.Context, id string) (*notify.Delivery, error) {
	c.count("GetDelivery")
	return c.Deliveries.GetDelivery(ctx, id)
}

func (c *countingDeliveries) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*notify.Delivery, string, error) {
	c.count("ListDeliveries")
	return c.Deliveries.ListDeliveries(ctx, f)
}

// TestFirstAttemptWritesOncePerDelivery: an event seen for the first time
// takes its deliveries with one store write and records each outcome with
// one more, reading nothing; an event dispatched again (a replay) finds its
// deliveries and sends nothing.
func TestFirstAttemptWritesOncePerDelivery(t *testing.T) {
	var cd *countingDeliveries
	f := newFixture(t, func(c *Config) {
		cd = &countingDeliveries{Deliveries: c.Deliveries, calls: map[string]int{}}
		c.Deliveries = cd
	})
	if err := f.d.Dispatch(ctx, event("e1")); err != nil {
		t.Fatal(err)
	}
	wantOnce(t, f)
	n := len(every)
	if d := cmp.Diff(map[string]int{"ClaimDeliveries": 1, "UpdateDelivery": n}, cd.take()); d != "" {
		t.Errorf("store calls of a first attempt reaching %d recipients (-want +got):\n%s", n, d)
	}
	if err := f.d.Dispatch(ctx, event("e1")); err != nil {
		t.Fatal(err)
	}
	wantOnce(t, f)
	calls := cd.take()
	if calls["ClaimDeliveries"] != 1 || calls["ClaimDelivery"] != n || calls["UpdateDelivery"] != 0 {
		t.Errorf("store calls of a replay = %v: want the batch claim refused, then each delivery found sent", calls)
	}
}

// TestCrashAfterBatchClaim: a process that took an event's deliveries with
// the batch claim and died before recording the outcomes leaves them in
// sending; the next receive after the lease sends each again once, noted
// as a possible duplicate. Duplicates: exactly what was in flight.
func TestCrashAfterBatchClaim(t *testing.T) {
	var cd *countingDeliveries
	f := newFixture(t, func(c *Config) {
		cd = &countingDeliveries{Deliveries: c.Deliveries, calls: map[string]int{}, crashAt: "e1"}
		c.Deliveries = cd
	})
	if err := f.d.Handle(ctx, message(t, event("e1"), 1)); err == nil {
		t.Fatal("Handle = nil after the outcome writes failed, want an error")
	}
	d := f.delivery(t, "e1", notify.ChannelEmail, "ann@example.com")
	if d.Status != notify.DeliverySending || d.Attempts != 1 {
		t.Fatalf("after the crash: %s attempts %d, want sending 1", d.Status, d.Attempts)
	}
	cd.mu.Lock()
	cd.crashAt = ""
	cd.mu.Unlock()
	// Within the lease the next receive waits for the running attempt.
	if err := f.d.Handle(ctx, message(t, event("e1"), 2)); err == nil {
		t.Fatal("Handle within the lease = nil, want a retry")
	}
	wantOnce(t, f)
	f.clk.Add(DefaultSendingLease + time.Second)
	if err := f.d.Handle(ctx, message(t, event("e1"), 3)); err != nil {
		t.Fatalf("Handle after the lease: %v", err)
	}
	want := map[string]int{}
	for _, r := range every {
		want[r] = 2
	}
	if diff := cmp.Diff(want, f.sentCounts()); diff != "" {
		t.Errorf("sends per recipient: each in flight at the crash sent once more (-want +got):\n%s", diff)
	}
	d = f.delivery(t, "e1", notify.ChannelEmail, "ann@example.com")
	if d.Status != notify.DeliverySent || d.Note != PossibleDuplicateNote || d.Attempts != 2 {
		t.Errorf("after the resend: %s %q attempts %d, want sent, %q, 2", d.Status, d.Note, d.Attempts, PossibleDuplicateNote)
	}
}
