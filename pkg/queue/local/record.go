package local

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

var (
	bucketMessages = []byte("messages") // seq → record
	bucketVisible  = []byte("visible")  // visibleAt (8 bytes, unix ns) + seq (8 bytes) → nil
	bucketDead     = []byte("dead")     // seq → queue.DeadLetter
)

// record is a message as stored.
type record struct {
	queue.Message
	VisibleAt int64  `json:"visibleAt"` // unix ns
	LastError string `json:"lastError,omitempty"`
	// InFlight says a handler has it (received, neither acknowledged nor
	// returned): Open makes such messages visible at once, as the process
	// that received them no longer runs.
	InFlight bool `json:"inFlight,omitempty"`
}

// putNew stores m as a new message visible at at.
func putNew(tx *bolt.Tx, m queue.Message, at time.Time) error {
	msgs := tx.Bucket(bucketMessages)
	n, err := msgs.NextSequence()
	if err != nil {
		return err
	}
	rec := &record{Message: m, VisibleAt: at.UnixNano()}
	if m.NotBefore.After(at) {
		rec.VisibleAt = m.NotBefore.UnixNano()
	}
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
