package local

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

// SeenTTL is how long the queue remembers an event id's fingerprint: far
// longer than the signature window (5 minutes) in which a captured request
// can be replayed, and than any client's retries.
const SeenTTL = 7 * 24 * time.Hour

// prunePerSend bounds how many expired fingerprints one Send removes.
const prunePerSend = 64

var (
	bucketSeen       = []byte("seen")        // event id → at (8 bytes, unix ns) + fingerprint
	bucketSeenByTime = []byte("seen-bytime") // at (8 bytes) + event id → nil
)

var _ queue.Ledger = (*Queue)(nil)

// SendSeen is Send that also remembers each message's fingerprint under
// its ID (the event id) for SeenTTL, in the same transaction: it returns
// what was known of each id before.
func (q *Queue) SendSeen(ctx context.Context, msgs []queue.Message, fingerprints []string) ([]queue.Seen, error) {
	if len(fingerprints) != len(msgs) {
		return nil, fmt.Errorf("send %d messages: %d fingerprints", len(msgs), len(fingerprints))
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("send %d messages: %w", len(msgs), err)
	}
	now := q.opts.Now()
	prepare(msgs, now)
	var seen []queue.Seen
	err := q.group.Update(func(tx *bolt.Tx) error {
		seen = make([]queue.Seen, len(msgs)) // Batch may run this again
		if err := q.failing(); err != nil {
			return err
		}
		ids, byTime := tx.Bucket(bucketSeen), tx.Bucket(bucketSeenByTime)
		if err := pruneSeen(ids, byTime, now.Add(-SeenTTL)); err != nil {
			return err
		}
		for i, m := range msgs {
			if m.ID != "" {
				if v := ids.Get([]byte(m.ID)); len(v) >= 8 {
					seen[i] = queue.SeenConflict
					if string(v[8:]) == fingerprints[i] {
						seen[i] = queue.SeenDuplicate
					}
				} else {
					at := make([]byte, 8)
					binary.BigEndian.PutUint64(at, uint64(now.UnixNano()))
					if err := ids.Put([]byte(m.ID), append(at, fingerprints[i]...)); err != nil {
						return err
					}
					if err := byTime.Put(append(at, m.ID...), nil); err != nil {
						return err
					}
				}
			}
			if err := putNew(tx, m, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("send %d messages: %w", len(msgs), err)
	}
	q.signal()
	return seen, nil
}

// pruneSeen removes up to prunePerSend fingerprints remembered before
// cutoff.
func pruneSeen(ids, byTime *bolt.Bucket, cutoff time.Time) error {
	limit := make([]byte, 8)
	binary.BigEndian.PutUint64(limit, uint64(cutoff.UnixNano()))
	c := byTime.Cursor()
	for n := 0; n < prunePerSend; n++ {
		k, _ := c.First()
		if k == nil || bytes.Compare(k[:8], limit) >= 0 {
			return nil
		}
		if err := ids.Delete(k[8:]); err != nil {
			return err
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}
