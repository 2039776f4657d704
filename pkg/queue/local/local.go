// Package local is a durable message queue in a bbolt file, for local mode.
// It gives the guarantees the dispatcher relies on from SQS: a message whose
// Send returned is on disk (fsync'd) and is delivered, again and again, until
// a handler acknowledges it or it is parked as dead after queue.MaxReceives
// failed receives; a message taken by a consumer that crashes or hangs
// becomes visible again after the visibility timeout.
//
// It imports the queue contract and the domain (for notify.Error); it must
// not import stores, senders or the dispatcher.
package local

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

// Defaults for Options.
const (
	DefaultVisibility  = 30 * time.Second
	DefaultBackoffBase = time.Second
	DefaultBackoffMax  = 5 * time.Minute
)

// Paging of ListDead.
const (
	defaultDeadLimit = 50
	maxDeadLimit     = 500
)

// maxErrorText bounds the last error kept with a message.
const maxErrorText = 4 << 10

var (
	bucketMessages = []byte("messages") // seq → record
	bucketVisible  = []byte("visible")  // visibleAt (8 bytes, unix ns) + seq (8 bytes) → nil
	bucketDead     = []byte("dead")     // seq → queue.DeadLetter
)

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
}

// Queue is a durable queue in one bbolt file. It implements queue.Producer
// and queue.DeadLetters, and consumes with Run. It is safe for concurrent
// use; more than one Run may consume from it at once.
type Queue struct {
	db   *bolt.DB
	opts Options
	log  *slog.Logger

	mu   sync.Mutex
	wake chan struct{} // closed (and replaced) when a message may have become visible
}

var (
	_ queue.Producer    = (*Queue)(nil)
	_ queue.DeadLetters = (*Queue)(nil)
)

// record is a message as stored.
type record struct {
	queue.Message
	VisibleAt int64  `json:"visibleAt"` // unix ns
	LastError string `json:"lastError,omitempty"`
}

// Open opens (creating if needed) the queue in the file at path. Only one
// process may have it open at a time; Open waits up to 5 seconds for
// another to close it.
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
	// Acks, retries and Sends from concurrent goroutines share one commit
	// (one fsync) through db.Batch; a short delay keeps a lone caller fast.
	db.MaxBatchDelay = time.Millisecond
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMessages, bucketVisible, bucketDead} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open queue %s: create buckets: %w", path, err)
	}
	return &Queue{db: db, opts: opts, log: lg, wake: make(chan struct{})}, nil
}

// Close closes the file. Call it after every Run has returned.
func (q *Queue) Close() error {
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
	for i := range msgs {
		if msgs[i].ID == "" {
			msgs[i].ID = ulid.Make().String()
		}
		if msgs[i].FirstSentAt.IsZero() {
			msgs[i].FirstSentAt = now
		}
		msgs[i].ReceiveCount = 0
	}
	err := q.db.Batch(func(tx *bolt.Tx) error {
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

// putNew stores m as a new message visible at at.
func putNew(tx *bolt.Tx, m queue.Message, at time.Time) error {
	msgs := tx.Bucket(bucketMessages)
	n, err := msgs.NextSequence()
	if err != nil {
		return err
	}
	rec := &record{Message: m, VisibleAt: at.UnixNano()}
	return putRecord(tx, seqKey(n), rec)
}

// putRecord writes rec under seq and indexes it by its VisibleAt.
func putRecord(tx *bolt.Tx, seq []byte, rec *record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketMessages).Put(seq, b); err != nil {
		return err
	}
	return tx.Bucket(bucketVisible).Put(visKey(rec.VisibleAt, seq), nil)
}

// getRecord reads the record under seq, or nil.
func getRecord(tx *bolt.Tx, seq []byte) (*record, error) {
	v := tx.Bucket(bucketMessages).Get(seq)
	if v == nil {
		return nil, nil
	}
	var rec record
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("decode message %x: %w", seq, err)
	}
	return &rec, nil
}

// deleteRecord removes the record under seq and its index entry.
func deleteRecord(tx *bolt.Tx, seq []byte, rec *record) error {
	if err := tx.Bucket(bucketVisible).Delete(visKey(rec.VisibleAt, seq)); err != nil {
		return err
	}
	return tx.Bucket(bucketMessages).Delete(seq)
}

// park moves the record under seq to the dead letters.
func park(tx *bolt.Tx, seq []byte, rec *record, lastError string, now time.Time) error {
	if err := deleteRecord(tx, seq, rec); err != nil {
		return err
	}
	dl := queue.DeadLetter{Message: rec.Message, LastError: lastError, DeadAt: now}
	b, err := json.Marshal(dl)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketDead).Put(seq, b)
}

func seqKey(n uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, n)
	return k
}

func visKey(at int64, seq []byte) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(at))
	copy(k[8:], seq)
	return k
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

// received is a message handed to a handler.
type received struct {
	seq     []byte
	receipt int // the ReceiveCount this receive set; acks for older receives are ignored
	msg     queue.Message
}

// receive takes up to max visible messages: each gets ReceiveCount+1 and
// becomes invisible for the visibility timeout, committed before it is
// returned. A message already received MaxReceives times (its last
// handler crashed or timed out) is parked as dead instead. next is when the
// earliest invisible message becomes visible (zero if none).
func (q *Queue) receive(max int) (out []received, next time.Time, err error) {
	now := q.opts.Now()
	var parked int
	err = q.db.Update(func(tx *bolt.Tx) error {
		out, next, parked = out[:0], time.Time{}, 0
		c := tx.Bucket(bucketVisible).Cursor()
		for k, _ := c.First(); k != nil && len(out) < max; k, _ = c.First() {
			at := int64(binary.BigEndian.Uint64(k[:8]))
			if at > now.UnixNano() {
				next = time.Unix(0, at)
				break
			}
			seq := append([]byte(nil), k[8:]...)
			if err := c.Delete(); err != nil {
				return err
			}
			rec, err := getRecord(tx, seq)
			if err != nil {
				return err
			}
			if rec == nil {
				continue // a stray index entry
			}
			if rec.ReceiveCount >= queue.MaxReceives {
				msg := rec.LastError
				if msg == "" {
					msg = fmt.Sprintf("received %d times without the handler finishing (crash or visibility timeout)", rec.ReceiveCount)
				}
				if err := tx.Bucket(bucketMessages).Delete(seq); err != nil {
					return err
				}
				dl := queue.DeadLetter{Message: rec.Message, LastError: msg, DeadAt: now}
				b, err := json.Marshal(dl)
				if err != nil {
					return err
				}
				if err := tx.Bucket(bucketDead).Put(seq, b); err != nil {
					return err
				}
				parked++
				continue
			}
			rec.ReceiveCount++
			rec.VisibleAt = now.Add(q.opts.Visibility).UnixNano()
			if err := putRecord(tx, seq, rec); err != nil {
				return err
			}
			out = append(out, received{seq: seq, receipt: rec.ReceiveCount, msg: rec.Message})
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("receive: %w", err)
	}
	if parked > 0 {
		q.log.Warn("queue: parked messages whose handler never finished", "count", parked)
	}
	if len(out) == max {
		next = now // there may be more
	}
	return out, next, nil
}

// ack deletes a handled message, unless it was received again since.
func (q *Queue) ack(r received) error {
	err := q.db.Batch(func(tx *bolt.Tx) error {
		rec, err := getRecord(tx, r.seq)
		if err != nil || rec == nil || rec.ReceiveCount != r.receipt {
			return err
		}
		return deleteRecord(tx, r.seq, rec)
	})
	if err != nil {
		return fmt.Errorf("ack message %s: %w", r.msg.ID, err)
	}
	return nil
}

// nack records a failed handling: the message becomes visible after delay,
// or is parked as dead if it has been received MaxReceives times. It does
// nothing if the message was received again since.
func (q *Queue) nack(r received, herr error, delay time.Duration) (dead bool, err error) {
	text := herr.Error()
	if len(text) > maxErrorText {
		text = text[:maxErrorText]
	}
	now := q.opts.Now()
	err = q.db.Batch(func(tx *bolt.Tx) error {
		dead = false
		rec, err := getRecord(tx, r.seq)
		if err != nil || rec == nil || rec.ReceiveCount != r.receipt {
			return err
		}
		if rec.ReceiveCount >= queue.MaxReceives {
			dead = true
			return park(tx, r.seq, rec, text, now)
		}
		if err := tx.Bucket(bucketVisible).Delete(visKey(rec.VisibleAt, r.seq)); err != nil {
			return err
		}
		rec.VisibleAt = now.Add(delay).UnixNano()
		rec.LastError = text
		return putRecord(tx, r.seq, rec)
	})
	if err != nil {
		return false, fmt.Errorf("return message %s to the queue: %w", r.msg.ID, err)
	}
	q.signal()
	return dead, nil
}

// release makes a message whose handling was interrupted by shutdown
// visible at once, undoing its receive, unless it was received again since.
func (q *Queue) release(r received) error {
	now := q.opts.Now()
	err := q.db.Batch(func(tx *bolt.Tx) error {
		rec, err := getRecord(tx, r.seq)
		if err != nil || rec == nil || rec.ReceiveCount != r.receipt {
			return err
		}
		if err := tx.Bucket(bucketVisible).Delete(visKey(rec.VisibleAt, r.seq)); err != nil {
			return err
		}
		rec.VisibleAt = now.UnixNano()
		rec.ReceiveCount--
		return putRecord(tx, r.seq, rec)
	})
	if err != nil {
		return fmt.Errorf("release message %s: %w", r.msg.ID, err)
	}
	return nil
}

// backoff is the delay before the next receive of a message that failed on
// its receives-th receive: exponential with equal jitter, within
// [d/2, d] where d = min(BackoffMax, BackoffBase·2^(receives-1)).
func (q *Queue) backoff(receives int) time.Duration {
	d := q.opts.BackoffBase
	for i := 1; i < receives && d < q.opts.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, q.opts.BackoffMax)
	half := d / 2
	return half + rand.N(d-half+1)
}

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

// ListDead returns up to limit dead letters (0: 50, at most 500), oldest
// message first, after cursor ("" for the first page), and the cursor of
// the next page ("" on the last).
func (q *Queue) ListDead(ctx context.Context, limit int, cursor string) ([]queue.DeadLetter, string, error) {
	if limit <= 0 {
		limit = defaultDeadLimit
	}
	limit = min(limit, maxDeadLimit)
	var after []byte
	if cursor != "" {
		b, err := hex.DecodeString(cursor)
		if err != nil || len(b) != 8 {
			return nil, "", notify.Invalid("cursor", "is not a cursor this list returned")
		}
		after = b
	}
	var out []queue.DeadLetter
	var next string
	var lastKey []byte
	err := q.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDead).Cursor()
		var k, v []byte
		if after == nil {
			k, v = c.First()
		} else {
			k, v = c.Seek(after)
			if k != nil && string(k) == string(after) {
				k, v = c.Next()
			}
		}
		for ; k != nil; k, v = c.Next() {
			if len(out) == limit {
				next = hex.EncodeToString(lastKey)
				break
			}
			var dl queue.DeadLetter
			if err := json.Unmarshal(v, &dl); err != nil {
				return fmt.Errorf("decode dead letter %x: %w", k, err)
			}
			out = append(out, dl)
			lastKey = append(lastKey[:0], k...)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list dead letters: %w", err)
	}
	return out, next, nil
}

// Redrive puts the dead message with the id back on the queue, visible at
// once, with a fresh receive count. ENotFound if there is none.
func (q *Queue) Redrive(ctx context.Context, id string) error {
	now := q.opts.Now()
	found := false
	err := q.db.Update(func(tx *bolt.Tx) error {
		dead := tx.Bucket(bucketDead)
		c := dead.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var dl queue.DeadLetter
			if err := json.Unmarshal(v, &dl); err != nil {
				return fmt.Errorf("decode dead letter %x: %w", k, err)
			}
			if dl.ID != id {
				continue
			}
			found = true
			if err := c.Delete(); err != nil {
				return err
			}
			m := dl.Message
			m.ReceiveCount = 0
			return putNew(tx, m, now)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redrive %s: %w", id, err)
	}
	if !found {
		return notify.Errorf(notify.ENotFound, "no dead letter with id %q", id)
	}
	q.signal()
	return nil
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
