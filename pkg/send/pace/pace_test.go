package pace

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// fakeClock advances only when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestReserveSpacesSlots(t *testing.T) {
	c := &fakeClock{t: time.Unix(1000, 0)}
	l := New(2, c.now) // a slot every 500 ms
	ctx := context.Background()
	var waits []time.Duration
	for range 3 {
		w, ok := l.reserve(ctx, 1)
		if !ok {
			t.Fatal("reserve refused without a deadline")
		}
		waits = append(waits, w)
	}
	want := []time.Duration{0, 500 * time.Millisecond, time.Second}
	for i := range want {
		if waits[i] != want[i] {
			t.Errorf("wait %d = %v, want %v", i, waits[i], want[i])
		}
	}
	// n slots at once: the last of 4 is 3 intervals after the first free.
	if w, _ := l.reserve(ctx, 4); w != 3*time.Second {
		t.Errorf("4 slots: wait %v, want 3s", w)
	}
}

func TestWaitDefersPastDeadline(t *testing.T) {
	c := &fakeClock{t: time.Unix(1000, 0)}
	l := New(1, c.now)
	ctx, cancel := context.WithDeadline(context.Background(), c.t.Add(1500*time.Millisecond))
	defer cancel()
	if _, ok := l.reserve(ctx, 2); !ok { // slots at 0 s and 1 s
		t.Fatal("slots before the deadline refused")
	}
	err := l.Wait(ctx, 1) // the next slot is at 2 s, past the deadline
	var d *Deferred
	if !errors.As(err, &d) || send.IsPermanent(err) || send.RetryAfter(err) != 2*time.Second {
		t.Fatalf("err = %v (retry after %v), want a transient Deferred after 2s", err, send.RetryAfter(err))
	}
	// A refused wait takes no slot.
	if w, _ := l.reserve(context.Background(), 1); w != 2*time.Second {
		t.Errorf("after a refusal the next slot is in %v, want 2s", w)
	}
}

func TestUnlimited(t *testing.T) {
	l := New(0, nil)
	for range 100 {
		if err := l.Wait(context.Background(), 50); err != nil {
			t.Fatal(err)
		}
	}
	if l.Rate() != 0 {
		t.Errorf("rate = %v", l.Rate())
	}
	l.SetRate(14)
	if r := l.Rate(); r < 13.99 || r > 14.01 {
		t.Errorf("rate = %v, want 14", r)
	}
}

func TestKeyedLimitsApart(t *testing.T) {
	c := &fakeClock{t: time.Unix(1000, 0)}
	k := NewKeyed(1, c.now)
	ctx, cancel := context.WithDeadline(context.Background(), c.t.Add(500*time.Millisecond))
	defer cancel()
	if err := k.Wait(ctx, "C1", 1); err != nil {
		t.Fatal(err)
	}
	if err := k.Wait(ctx, "C2", 1); err != nil {
		t.Errorf("another channel waited on the first: %v", err)
	}
	if err := k.Wait(ctx, "C1", 1); err == nil {
		t.Error("a second message to C1 within a second was not deferred")
	}
}

// TestMaxWaitSpreadsDeferrals: past the longest wait a burst is deferred,
// taking no slot, and each deferred caller is told to come back one slot
// after the one before it, so the burst returns at the rate.
func TestMaxWaitSpreadsDeferrals(t *testing.T) {
	c := &fakeClock{t: time.Unix(1000, 0)}
	l := New(1, c.now)
	l.SetMaxWait(2 * time.Second)
	ctx := context.Background() // no deadline: only the longest wait bounds it
	var waits, backs []time.Duration
	for range 6 {
		if w, ok := l.reserve(ctx, 1); ok {
			waits = append(waits, w)
		} else {
			backs = append(backs, w)
		}
	}
	if want := []time.Duration{0, time.Second, 2 * time.Second}; !slices.Equal(waits, want) {
		t.Errorf("waits taken %v, want %v", waits, want)
	}
	if want := []time.Duration{3 * time.Second, 4 * time.Second, 5 * time.Second}; !slices.Equal(backs, want) {
		t.Errorf("deferred callers told to come back in %v, want %v", backs, want)
	}
	err := l.Wait(ctx, 1)
	if !send.NotTried(err) || send.RetryAfter(err) != 6*time.Second {
		t.Errorf("Wait past the longest wait = %v (retry after %v), want not tried, after 6s", err, send.RetryAfter(err))
	}
	// Each comes back when told and finds its slot free.
	c.t = c.t.Add(3 * time.Second)
	if w, ok := l.reserve(ctx, 1); !ok || w != 0 {
		t.Errorf("the first deferred caller, back: wait %v ok %v, want 0 true", w, ok)
	}
	c.t = c.t.Add(time.Second)
	if w, ok := l.reserve(ctx, 1); !ok || w != 0 {
		t.Errorf("the second deferred caller, back: wait %v ok %v, want 0 true", w, ok)
	}
}

type okSender struct{ n int }

func (s *okSender) Send(context.Context, *send.Notification) (send.Result, error) {
	s.n++
	return send.Result{Provider: "fake"}, nil
}

type oneSender struct{ s send.Sender }

func (r oneSender) Sender(context.Context, notify.Channel) (send.Sender, error) { return r.s, nil }

// TestRouterSlackPerChannel: the paced channel's sends are paced per
// recipient, apart; other channels are not paced.
func TestRouterSlackPerChannel(t *testing.T) {
	now := time.Unix(1000, 0)
	inner := &okSender{}
	r := Router{Router: oneSender{inner}, Channel: notify.ChannelSlack, Per: NewKeyed(0.5, func() time.Time { return now })}
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(time.Second))
	defer cancel()
	slack, err := r.Sender(ctx, notify.ChannelSlack)
	if err != nil {
		t.Fatal(err)
	}
	post := func(ch string) error {
		_, err := slack.Send(ctx, &send.Notification{Channel: notify.ChannelSlack, To: []string{ch}})
		return err
	}
	if err := post("C1"); err != nil {
		t.Fatal(err)
	}
	if err := post("C2"); err != nil {
		t.Errorf("another channel was held back: %v", err)
	}
	// Two instances share Slack's 1/s: C1's next slot is 2 s away, past
	// the deadline: deferred to the queue with that delay, not sent.
	err = post("C1")
	if send.IsPermanent(err) || send.RetryAfter(err) != 2*time.Second {
		t.Errorf("second post to C1: %v (after %v), want a deferral of 2s", err, send.RetryAfter(err))
	}
	if inner.n != 2 {
		t.Errorf("%d posts reached Slack, want 2", inner.n)
	}
	email, _ := r.Sender(ctx, notify.ChannelEmail)
	if _, ok := email.(Sender); ok {
		t.Error("email is paced per recipient (SES paces itself)")
	}
}
