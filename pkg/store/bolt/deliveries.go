package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

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

// encodedDelivery is a delivery encoded before its write transaction, so
// that the encoding is not done in the commit that concurrent writers
// share, and its index entries.
type encodedDelivery struct {
	d             *notify.Delivery
	value         []byte
	buckets, keys [][]byte
}

func encodeDelivery(d *notify.Delivery) (*encodedDelivery, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode delivery %q: %w", d.ID, err)
	}
	e := &encodedDelivery{d: d, value: b}
	e.buckets, e.keys = deliveryIndexes(d)
	return e, nil
}

// put writes e and its index entries.
func (e *encodedDelivery) put(tx *bbolt.Tx) error {
	if err := tx.Bucket(bDeliveries).Put([]byte(e.d.ID), e.value); err != nil {
		return fmt.Errorf("write delivery %q: %w", e.d.ID, err)
	}
	for i, b := range e.buckets {
		if err := tx.Bucket(b).Put(e.keys[i], nil); err != nil {
			return fmt.Errorf("index delivery %q: %w", e.d.ID, err)
		}
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
	e, err := encodeDelivery(d)
	if err != nil {
		return nil, false, err
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
		out, won = d, true
		return e.put(tx)
	})
	if err != nil {
		return nil, false, err
	}
	return out, won, nil
}

// ClaimDeliveries stores all of ds in one write transaction if none of
// their ids exists, and reports true; otherwise it stores none and reports
// false.
func (s *Store) ClaimDeliveries(ctx context.Context, ds []*notify.Delivery) (bool, error) {
	if len(ds) == 0 {
		return true, nil
	}
	if len(ds) > store.MaxClaimBatch {
		return false, nil
	}
	es := make([]*encodedDelivery, len(ds))
	for i, d := range ds {
		var err error
		if es[i], err = encodeDelivery(d); err != nil {
			return false, err
		}
	}
	var won bool
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		won = false // the group may run this again
		b := tx.Bucket(bDeliveries)
		for _, d := range ds {
			if b.Get([]byte(d.ID)) != nil {
				return nil
			}
		}
		for _, e := range es {
			if err := e.put(tx); err != nil {
				return err
			}
		}
		won = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return won, nil
}

// deliveryHead is what UpdateDelivery reads of the stored delivery: its
// version and the fields its index entries are made of.
type deliveryHead struct {
	ID        string                `json:"id"`
	EventID   string                `json:"eventId"`
	RuleIDs   []string              `json:"ruleIds"`
	Status    notify.DeliveryStatus `json:"status"`
	Version   int64                 `json:"version"`
	CreatedAt time.Time             `json:"createdAt"`
}

// UpdateDelivery replaces the delivery whose stored version is d.Version-1.
func (s *Store) UpdateDelivery(ctx context.Context, d *notify.Delivery) error {
	e, err := encodeDelivery(d)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bDeliveries).Get([]byte(d.ID))
		if raw == nil {
			return notFound("delivery", d.ID)
		}
		var old deliveryHead
		if err := json.Unmarshal(raw, &old); err != nil {
			return fmt.Errorf("read delivery %q: %w", d.ID, err)
		}
		if old.Version != d.Version-1 {
			return stale("delivery", d.ID, old.Version, d.Version-1)
		}
		if err := indexDelivery(tx, &notify.Delivery{ID: old.ID, EventID: old.EventID, RuleIDs: old.RuleIDs, Status: old.Status, CreatedAt: old.CreatedAt}, false); err != nil {
			return err
		}
		return e.put(tx)
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
