// Package pace spaces calls to a provider to the rate it allows, so that a
// burst waits in the caller (or, past its deadline, in the queue) instead of
// being throttled by the provider and burning retries.
//
// It imports only the standard library, pkg/notify and pkg/send; it must
// not import senders or stores.
package pace

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// MaxWait is the longest pacing wait the dispatchers take in a send: a
// slot further away puts the event back on the queue until then (see
// send.NotTried), so a burst to one Slack channel neither holds the
// workers other events need nor spends the receives that decide when a
// message is dead.
const MaxWait = 5 * time.Second

// Limiter hands out send slots at a fixed rate. The zero value is not
// usable; New returns one. It is safe for concurrent use.
type Limiter struct {
	mu       sync.Mutex
	interval time.Duration // between two slots; 0: unlimited
	next     time.Time     // the first free slot
	maxWait  time.Duration // the longest wait taken; 0: up to the deadline
	deferred time.Time     // the time the next deferred caller is told to come back
	now      func() time.Time
}

// New returns a Limiter of perSecond slots a second (unlimited if
// perSecond <= 0). now is the clock (time.Now if nil).
func New(perSecond float64, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	l := &Limiter{now: now}
	l.SetRate(perSecond)
	return l
}

// SetRate changes the rate (unlimited if perSecond <= 0).
func (l *Limiter) SetRate(perSecond float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.interval = 0
	if perSecond > 0 {
		l.interval = time.Duration(float64(time.Second) / perSecond)
	}
}

// SetMaxWait bounds the waits Wait takes: a slot further away than d is
// deferred as one past the deadline is (0: only the deadline bounds it).
// It keeps a burst from holding its callers (a dispatcher's workers) for
// minutes while other work waits behind them.
func (l *Limiter) SetMaxWait(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maxWait = max(d, 0)
}

// Rate is the current rate in slots a second (0: unlimited).
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.interval == 0 {
		return 0
	}
	return float64(time.Second) / float64(l.interval)
}

// Wait takes n slots, sleeping until the last of them. When that would be
// past ctx's deadline it takes none and returns a transient *send.Error
// (Deferred) asking to be retried after the wait, so the message waits in
// the queue instead of the function timing out; it returns ctx's error if
// ctx ends while sleeping.
func (l *Limiter) Wait(ctx context.Context, n int) error {
	wait, ok := l.reserve(ctx, n)
	if !ok {
		return send.Transient(&Deferred{After: wait}, wait)
	}
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("pace: %w", ctx.Err())
	}
}

// reserve takes n slots unless the last is past ctx's deadline or further
// than the longest wait, and says how long until it. A refused caller
// takes no slot; it is told when to come back, each refused caller one
// slot (n slots) after the one refused before it, so that a burst put
// off comes back spread at the rate instead of all at once.
func (l *Limiter) reserve(ctx context.Context, n int) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.interval == 0 || n <= 0 {
		return 0, true
	}
	now := l.now()
	start := l.next
	if start.Before(now) {
		start = now
	}
	// The first slot is at start, the n-th (n-1) intervals later.
	last := start.Add(time.Duration(n-1) * l.interval)
	wait := last.Sub(now)
	dl, ok := ctx.Deadline()
	if l.maxWait > 0 && (!ok || now.Add(l.maxWait).Before(dl)) {
		dl, ok = now.Add(l.maxWait), true
	}
	if ok && last.After(dl) {
		back := last
		if l.deferred.After(back) {
			back = l.deferred
		}
		l.deferred = back.Add(time.Duration(n) * l.interval)
		return back.Sub(now), false
	}
	l.next = last.Add(l.interval)
	return wait, true
}

// Deferred is the error of a Wait that would have outlasted its deadline
// (or the longest wait): the send was not tried; a slot should be free
// After from then.
type Deferred struct {
	After time.Duration
}

func (e *Deferred) Error() string {
	return fmt.Sprintf("paced: no send slot within the time allowed; come back in %s", e.After.Round(time.Millisecond))
}

// NotTried says that nothing reached the provider (see send.NotTried).
func (e *Deferred) NotTried() bool { return true }

// Keyed is one Limiter per key (a Slack channel, say), all at one rate. It
// is safe for concurrent use.
type Keyed struct {
	mu        sync.Mutex
	perSecond float64
	maxWait   time.Duration
	now       func() time.Time
	m         map[string]*Limiter
}

// SetMaxWait sets the longest wait of every key's Limiter (see
// Limiter.SetMaxWait).
func (k *Keyed) SetMaxWait(d time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.maxWait = d
	for _, l := range k.m {
		l.SetMaxWait(d)
	}
}

// NewKeyed returns limiters of perSecond slots a second per key.
func NewKeyed(perSecond float64, now func() time.Time) *Keyed {
	return &Keyed{perSecond: perSecond, now: now, m: map[string]*Limiter{}}
}

// Wait takes n slots of key's limiter (see Limiter.Wait).
func (k *Keyed) Wait(ctx context.Context, key string, n int) error {
	k.mu.Lock()
	l, ok := k.m[key]
	if !ok {
		l = New(k.perSecond, k.now)
		l.SetMaxWait(k.maxWait)
		k.m[key] = l
	}
	k.mu.Unlock()
	return l.Wait(ctx, n)
}

// Sender paces an inner send.Sender per recipient (for Slack: one limit per
// channel) before each send.
type Sender struct {
	Inner send.Sender
	Per   *Keyed
}

var _ send.Sender = Sender{}

// Send waits for a slot of each recipient in n.To, then sends.
func (s Sender) Send(ctx context.Context, n *send.Notification) (send.Result, error) {
	for _, to := range n.To {
		if err := s.Per.Wait(ctx, to, 1); err != nil {
			return send.Result{}, err
		}
	}
	return s.Inner.Send(ctx, n)
}

// Router paces the sends of one channel of an inner send.Router per
// recipient (Slack: Slack's limit per channel), through Per.
type Router struct {
	send.Router
	Channel notify.Channel
	Per     *Keyed
}

// Sender returns the inner router's sender, paced when it is Channel's.
func (r Router) Sender(ctx context.Context, ch notify.Channel) (send.Sender, error) {
	s, err := r.Router.Sender(ctx, ch)
	if err != nil || ch != r.Channel {
		return s, err
	}
	return Sender{Inner: s, Per: r.Per}, nil
}
