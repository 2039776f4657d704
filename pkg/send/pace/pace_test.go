package pace

import (
	"context"
	"errors"
	"testing"
	"time"

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
