package local

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

// Run consumes messages until ctx is done, calling h for each in up to
// workers goroutines (at least 1). A message is deleted when h returns nil;
// when h returns an error (or panics) it is received again after the
// error's queue.RetryAfter, or after the backoff, or parked as dead with
// the error if it has been received queue.MaxReceives times. A message
// whose h is still running when ctx is done is made visible again at once,
// its receive not counted. Run waits for running handlers before it
// returns; it returns nil when ctx is done and an error only if the file
// fails.
func (q *Queue) Run(ctx context.Context, h queue.Handler, workers int) error {
	workers = max(workers, 1)
	slots := make(chan struct{}, workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		n := 1
	more:
		for n < workers {
			select {
			case slots <- struct{}{}:
				n++
			default:
				break more
			}
		}
		woken := q.waiter() // before receiving, so a Send after it is not missed
		got, next, err := q.receive(n)
		for range n - len(got) {
			<-slots
		}
		if err != nil {
			return err
		}
		for _, r := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				q.handle(ctx, h, r)
			}()
		}
		if len(got) > 0 {
			continue
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(q.opts.Now()), time.Millisecond)
		}
		timer.Reset(wait)
		select {
		case <-woken:
		case <-timer.C:
		case <-ctx.Done():
			return nil
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// handle runs h on one message and records the outcome.
func (q *Queue) handle(ctx context.Context, h queue.Handler, r received) {
	msg := r.msg
	msg.Attributes = cloneMap(msg.Attributes)
	err := call(ctx, h, msg)
	var rerr error
	switch {
	case err == nil:
		rerr = q.ack(r)
	case ctx.Err() != nil:
		rerr = q.release(r)
	default:
		delay, ok := queue.RetryAfter(err)
		if !ok || delay <= 0 {
			delay = q.backoff(r.receipt)
		}
		dead, nerr := q.nack(r, err, delay)
		rerr = nerr
		if nerr == nil {
			if dead {
				q.log.Error("queue: message parked as dead", "id", msg.ID, "receives", r.receipt, "error", err)
			} else {
				q.log.Warn("queue: handler failed; message will be received again", "id", msg.ID, "receives", r.receipt, "retryIn", delay, "error", err)
			}
		}
	}
	if rerr != nil {
		// The message stays in flight and comes back after the
		// visibility timeout: nothing is lost, it may be handled twice.
		q.log.Error("queue: recording a handler outcome failed", "id", msg.ID, "error", rerr)
	}
}

// call runs h, turning a panic into an error.
func call(ctx context.Context, h queue.Handler, m queue.Message) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, m)
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
