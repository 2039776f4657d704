// Package local is a durable message queue in a bbolt file, for local mode.
// It gives the guarantees the dispatcher relies on from SQS: a message whose
// Send returned is on disk (fsync'd) and is delivered, again and again, until
// a handler acknowledges it or it is parked as dead after queue.MaxReceives
// failed receives; a message taken by a consumer that crashes or hangs
// becomes visible again after the visibility timeout.
//
// It imports the queue contract and the domain (for notify.Error); it must
// not import stores, senders or the dispatcher.
//
// Files: local.go (Open, Send, Stats), record.go (how messages are kept in
// the bbolt file), receive.go (receive, ack, nack, backoff), consumer.go
// (the Run loop), deadletters.go (parking, listing, redrive).
package local

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/argoproj-labs/argo-notify/pkg/internal/boltgroup"

	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

// Defaults for Options.
const (
	DefaultVisibility  = 30 * time.Second
	DefaultBackoffBase = time.Second
	DefaultBackoffMax  = 5 * time.Minute
)

// maxErrorText bounds the last error kept with a message.
const maxErrorText = 4 << 10

// Options tune a Queue. Zero values take the defaults.
type Options struct {
	// Visibility is how long a received message stays invisible to other
	// receives; one not acknowledged by then is delivered again (this is
	// how a crash or a hung handler is recovered from). It is not
	// extended while a handler runs: make it longer than the slowest
	// handling, or expect a second, concurrent receive (the dispatcher
	// tolerates one; the first handler's outcome is then ignored).
	Visibility time.Duration
	// BackoffBase and BackoffMax bound the exponential backoff (with
	// jitter) after a handler error that does not carry a RetryAfter:
	// about BackoffBase·2^(receives-1), at most BackoffMax.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Logger receives handler failures and dead-lettering (slog.Default
	// if nil). Message bodies are never logged.
	Logger *slog.Logger
	// FailWrites, if set, is asked before every Send commits; an error it
	// returns fails the Send as a disk-full or fsync error would, and
	// nothing of it is written (fault tests).
	FailWrites func() error
}

// Queue is a durable queue in one bbolt file. It implements queue.Producer
// and queue.DeadLetters, and consumes with Run. It is safe for concurrent
// use; more than one Run may consume from it at once.
type Queue struct {
	db    *bolt.DB
	group *boltgroup.Committer // the writes of concurrent callers, committed together
	opts  Options
	log   *slog.Logger

	mu   sync.Mutex
	wake chan struct{} // closed (and replaced) when a message may have become visible
}

var (
	_ queue.Producer    = (*Queue)(nil)
	_ queue.DeadLetters = (*Queue)(nil)
)

// Open opens (creating if needed) the queue in the file at path. Only one
// process may have it open at a time (bbolt holds an exclusive flock on the
// file while it is open); Open waits up to 5 seconds for another to close
// it, then fails. Since no other handler can hold a message then, Open
// makes every message an earlier process had received and not finished
// visible at once, instead of after the visibility timeout: what a killed
// process was handling is resumed at start-up.
func Open(path string, opts Options) (*Queue, error) {
	if opts.Visibility <= 0 {
		opts.Visibility = DefaultVisibility
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = DefaultBackoffBase
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = DefaultBackoffMax
	}
	if opts.BackoffMax < opts.BackoffBase {
		opts.BackoffMax = opts.BackoffBase
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.Default()
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMessages, bucketVisible, bucketDead, bucketSeen, bucketSeenByTime} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return resumeInFlight(tx, opts.Now())
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open queue %s: create buckets: %w", path, err)
	}
	// Acks, retries and Sends from concurrent goroutines share commits
	// (and their fsyncs): group commit.
	return &Queue{db: db, group: boltgroup.New(db), opts: opts, log: lg, wake: make(chan struct{})}, nil
}

// resumeInFlight makes every message received by an earlier process and
// not finished by it visible at now.
func resumeInFlight(tx *bolt.Tx, now time.Time) error {
	type entry struct {
		seq []byte
		rec *record
	}
	var found []entry
	err := tx.Bucket(bucketMessages).ForEach(func(k, v []byte) error {
		var rec record
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode message %x: %w", k, err)
		}
		if rec.InFlight {
			found = append(found, entry{append([]byte(nil), k...), &rec})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range found {
		if err := tx.Bucket(bucketVisible).Delete(visKey(e.rec.VisibleAt, e.seq)); err != nil {
			return err
		}
		e.rec.InFlight = false
		e.rec.VisibleAt = min(e.rec.VisibleAt, now.UnixNano())
		if err := putRecord(tx, e.seq, e.rec); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the file. Call it after every Run has returned.
func (q *Queue) Close() error {
	q.group.Close()
	if err := q.db.Close(); err != nil {
		return fmt.Errorf("close queue: %w", err)
	}
	return nil
}

// Send enqueues msgs, visible at once, in one transaction: it returns only
// after the transaction is committed and synced to disk, and then either
// all or none are held. Concurrent Sends share a commit. Send fills in an empty ID (a ULID) in msgs, sets
// FirstSentAt if zero and resets ReceiveCount.
func (q *Queue) Send(ctx context.Context, msgs []queue.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("send %d messages: %w", len(msgs), err)
	}
	now := q.opts.Now()
	prepare(msgs, now)
	err := q.group.Update(func(tx *bolt.Tx) error {
		if err := q.failing(); err != nil {
			return err
		}
		for _, m := range msgs {
			if err := putNew(tx, m, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("send %d messages: %w", len(msgs), err)
	}
	q.signal()
	return nil
}

// prepare fills in what Send sets on msgs.
func prepare(msgs []queue.Message, now time.Time) {
	for i := range msgs {
		if msgs[i].ID == "" {
			msgs[i].ID = ulid.Make().String()
		}
		if msgs[i].FirstSentAt.IsZero() {
			msgs[i].FirstSentAt = now
		}
		msgs[i].ReceiveCount = 0
	}
}

// failing returns the error Options.FailWrites injects, if any.
func (q *Queue) failing() error {
	if q.opts.FailWrites == nil {
		return nil
	}
	return q.opts.FailWrites()
}

// signal wakes every consumer waiting for a message.
func (q *Queue) signal() {
	q.mu.Lock()
	close(q.wake)
	q.wake = make(chan struct{})
	q.mu.Unlock()
}

// waiter returns the channel the next signal closes.
func (q *Queue) waiter() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.wake
}

// Stats counts the queue's messages.
type Stats struct {
	Visible  int // ready to be received
	InFlight int // received, not yet acknowledged or returned; includes messages waiting for a retry
	Dead     int
}

// Stats counts the messages in the queue.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	now := q.opts.Now().UnixNano()
	err := q.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketVisible).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if int64(binary.BigEndian.Uint64(k[:8])) <= now {
				s.Visible++
			} else {
				s.InFlight++
			}
		}
		s.Dead = tx.Bucket(bucketDead).Stats().KeyN
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("queue stats: %w", err)
	}
	return s, nil
}
