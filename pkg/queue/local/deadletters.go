package local

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

// Paging of ListDead.
const (
	defaultDeadLimit = 50
	maxDeadLimit     = 500
)

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
