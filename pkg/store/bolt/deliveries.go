package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	bbolt "go.etcd.io/bbolt"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// deliveryIndexes returns the index entries of d, as bucket and key. Every
// key ends with d's order key; those of the event, rule and status indexes
// start with "<value>\x00".
func deliveryIndexes(d *notify.Delivery) (buckets, keys [][]byte) {
	ok := orderKey(d.CreatedAt, d.ID)
	buckets, keys = append(buckets, bDelivByTime), append(keys, ok)
	add := func(b []byte, value string) {
		buckets = append(buckets, b)
		keys = append(keys, append([]byte(value+"\x00"), ok...))
	}
	add(bDelivByEvent, d.EventID)
	add(bDelivByStatus, string(d.Status))
	rs := slices.Clone(d.RuleIDs)
	slices.Sort(rs)
	for _, r := range slices.Compact(rs) {
		add(bDelivByRule, r)
	}
	return buckets, keys
}

func indexDelivery(tx *bbolt.Tx, d *notify.Delivery, add bool) error {
	buckets, keys := deliveryIndexes(d)
	for i, b := range buckets {
		var err error
		if add {
			err = tx.Bucket(b).Put(keys[i], nil)
		} else {
			err = tx.Bucket(b).Delete(keys[i])
		}
		if err != nil {
			return fmt.Errorf("index delivery %q: %w", d.ID, err)
		}
	}
	return nil
}

func getDelivery(tx *bbolt.Tx, id string) (*notify.Delivery, error) {
	b := tx.Bucket(bDeliveries).Get([]byte(id))
	if b == nil {
		return nil, notFound("delivery", id)
	}
	d := new(notify.Delivery)
	if err := json.Unmarshal(b, d); err != nil {
		return nil, fmt.Errorf("read delivery %q: %w", id, err)
	}
	return d, nil
}

func putDelivery(tx *bbolt.Tx, d *notify.Delivery) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode delivery %q: %w", d.ID, err)
	}
	if err := tx.Bucket(bDeliveries).Put([]byte(d.ID), b); err != nil {
		return fmt.Errorf("write delivery %q: %w", d.ID, err)
	}
	return nil
}

// ClaimDelivery stores d if no delivery with its id exists and returns it
// with true; otherwise it returns the stored one with false.
func (s *Store) ClaimDelivery(ctx context.Context, d *notify.Delivery) (*notify.Delivery, bool, error) {
	var (
		out *notify.Delivery
		won bool
	)
	// Most repeated claims find the delivery: answer them without a write
	// transaction (and its fsync). The write below checks again.
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		old, err := getDelivery(tx, d.ID)
		if err == nil {
			out = old
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if out != nil {
		return out, false, nil
	}
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := getDelivery(tx, d.ID)
		if err == nil {
			out, won = old, false
			return nil
		}
		if !notify.IsCode(err, notify.ENotFound) {
			return err
		}
		if err := putDelivery(tx, d); err != nil {
			return err
		}
		out, won = d, true
		return indexDelivery(tx, d, true)
	})
	if err != nil {
		return nil, false, err
	}
	return out, won, nil
}

// UpdateDelivery replaces the delivery whose stored version is d.Version-1.
func (s *Store) UpdateDelivery(ctx context.Context, d *notify.Delivery) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := getDelivery(tx, d.ID)
		if err != nil {
			return err
		}
		if old.Version != d.Version-1 {
			return stale("delivery", d.ID, old.Version, d.Version-1)
		}
		if err := indexDelivery(tx, old, false); err != nil {
			return err
		}
		if err := putDelivery(tx, d); err != nil {
			return err
		}
		return indexDelivery(tx, d, true)
	})
}

// GetDelivery returns the delivery with the id or ENotFound.
func (s *Store) GetDelivery(ctx context.Context, id string) (*notify.Delivery, error) {
	var d *notify.Delivery
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		d, err = getDelivery(tx, id)
		return err
	})
	return d, err
}

// ListDeliveries returns one page of the deliveries f selects, newest first.
// It walks the most selective index that applies (event, rule, status, time)
// and checks the other filters on each record.
func (s *Store) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*notify.Delivery, string, error) {
	limit := limitOf(f.Limit)
	var after []byte
	if f.Cursor != "" {
		var err error
		if after, err = decodeCursor(f.Cursor); err != nil {
			return nil, "", err
		}
	}
	bucket, prefix := bDelivByTime, []byte(nil)
	switch {
	case f.EventID != "":
		bucket, prefix = bDelivByEvent, []byte(f.EventID+"\x00")
	case f.RuleID != "":
		bucket, prefix = bDelivByRule, []byte(f.RuleID+"\x00")
	case f.Status != "":
		bucket, prefix = bDelivByStatus, []byte(string(f.Status)+"\x00")
	}
	keep := func(d *notify.Delivery) bool {
		return (f.EventID == "" || d.EventID == f.EventID) &&
			(f.RuleID == "" || slices.Contains(d.RuleIDs, f.RuleID)) &&
			(f.Status == "" || d.Status == f.Status)
	}
	var (
		out  []*notify.Delivery
		next string
	)
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		// Start at the greatest key below the bound: the cursor's key, or
		// the end of the prefix's range.
		var bound []byte
		switch {
		case after != nil:
			bound = append(slices.Clone(prefix), after...)
		case prefix != nil:
			bound = slices.Clone(prefix)
			bound[len(bound)-1] = 1 // just past every "<prefix>\x00..." key
		}
		var k []byte
		if bound == nil {
			k, _ = c.Last()
		} else if k, _ = c.Seek(bound); k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		var last []byte
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			ok := k[len(prefix):]
			if len(ok) < 8 {
				return fmt.Errorf("list deliveries: bad index key %q", k)
			}
			d, err := getDelivery(tx, string(ok[8:]))
			if err != nil {
				return fmt.Errorf("list deliveries: %w", err)
			}
			if !keep(d) {
				continue
			}
			if len(out) == limit {
				next = encodeCursor(last)
				return nil
			}
			out = append(out, d)
			last = ok
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}
