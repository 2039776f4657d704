package api_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/dispatch"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

// Ingest secrets of the test API: the current one and the one being
// rotated out.
const (
	ingestSecret    = "test-ingest-secret"
	oldIngestSecret = "old-ingest-secret"
)

func ingestSecrets(context.Context) ([]string, error) {
	return []string{ingestSecret, oldIngestSecret}, nil
}

// clock is the first reading of the test API's clock (it advances a
// millisecond per reading).
var clock = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeProducer is a queue.Producer that keeps what it was sent, or fails
// with err.
type fakeProducer struct {
	mu   sync.Mutex
	err  error
	msgs []queue.Message
}

func (p *fakeProducer) Send(_ context.Context, msgs []queue.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.msgs = append(p.msgs, msgs...)
	return nil
}

func (p *fakeProducer) sent() []queue.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.msgs)
}

// fakePlanner answers plan (or err) and keeps the events it was asked
// about.
type fakePlanner struct {
	mu     sync.Mutex
	plan   *dispatch.Plan
	err    error
	events []notify.Event
}

func (p *fakePlanner) Plan(_ context.Context, ev *notify.Event) (*dispatch.Plan, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, *ev)
	if p.err != nil {
		return nil, p.err
	}
	if p.plan == nil {
		return &dispatch.Plan{}, nil
	}
	return p.plan, nil
}

// fakeDeadLetters keeps dead letters in order; the cursor is the index
// of the next one.
type fakeDeadLetters struct {
	mu       sync.Mutex
	dead     []queue.DeadLetter
	redriven []string
	err      error
}

func newFakeDeadLetters() *fakeDeadLetters { return &fakeDeadLetters{} }

func (d *fakeDeadLetters) ListDead(_ context.Context, limit int, cursor string) ([]queue.DeadLetter, string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return nil, "", d.err
	}
	start := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 || n > len(d.dead) {
			return nil, "", notify.Invalid("cursor", "is not a cursor of this list")
		}
		start = n
	}
	end := min(start+limit, len(d.dead))
	next := ""
	if end < len(d.dead) {
		next = strconv.Itoa(end)
	}
	return slices.Clone(d.dead[start:end]), next, nil
}

func (d *fakeDeadLetters) Redrive(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	i := slices.IndexFunc(d.dead, func(m queue.DeadLetter) bool { return m.ID == id })
	if i < 0 {
		return notify.Errorf(notify.ENotFound, "no dead letter %q", id)
	}
	d.dead = slices.Delete(d.dead, i, i+1)
	d.redriven = append(d.redriven, id)
	return nil
}

var errBroken = errors.New("connection to /var/run/queue.sock refused")
