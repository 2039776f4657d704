package local

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

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
	// Through the group commit, so that a receive shares its commit (and
	// fsyncs) with the Sends and acks of the moment; the function starts
	// over from nothing if the group runs it again.
	err = q.group.Update(func(tx *bolt.Tx) error {
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
				if err := park(tx, seq, rec, msg, now); err != nil {
					return err
				}
				parked++
				continue
			}
			rec.ReceiveCount++
			rec.InFlight = true
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
	err := q.group.Update(func(tx *bolt.Tx) error {
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
	err = q.group.Update(func(tx *bolt.Tx) error {
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
		rec.InFlight = false
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
	err := q.group.Update(func(tx *bolt.Tx) error {
		rec, err := getRecord(tx, r.seq)
		if err != nil || rec == nil || rec.ReceiveCount != r.receipt {
			return err
		}
		if err := tx.Bucket(bucketVisible).Delete(visKey(rec.VisibleAt, r.seq)); err != nil {
			return err
		}
		rec.VisibleAt = now.UnixNano()
		rec.ReceiveCount--
		rec.InFlight = false
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
