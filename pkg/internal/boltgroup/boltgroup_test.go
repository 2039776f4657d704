package boltgroup

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	bbolt "go.etcd.io/bbolt"
)

func open(t *testing.T) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestGroupCommit: concurrent writers all land, each failing write gets
// its own error and leaves nothing, and fewer transactions are committed
// than writes submitted.
func TestGroupCommit(t *testing.T) {
	db := open(t)
	c := New(db)
	defer c.Close()
	const n = 200
	errBad := errors.New("bad write")
	errs := make([]error, n)
	var mu sync.Mutex
	txs := map[int]bool{} // the transactions successful writes ran in
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = c.Update(func(tx *bbolt.Tx) error {
				b := tx.Bucket([]byte("b"))
				if err := b.Put(fmt.Appendf(nil, "k%03d", i), []byte("v")); err != nil {
					return err
				}
				if i%50 == 7 {
					return errBad // after writing: the write must not stay
				}
				mu.Lock()
				txs[tx.ID()] = true
				mu.Unlock()
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if want := i%50 == 7; want != errors.Is(err, errBad) || (!want && err != nil) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("b"))
		for i := range n {
			got := b.Get(fmt.Appendf(nil, "k%03d", i)) != nil
			if want := i%50 != 7; got != want {
				t.Errorf("key %d stored %v, want %v", i, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d concurrent writes in %d transactions", n, len(txs))
	if len(txs) >= n-n/50 {
		t.Errorf("%d transactions for %d concurrent writes: nothing was grouped", len(txs), n)
	}
}

// TestLoneAndClosed: a lone write commits; after Close writes are refused.
func TestLoneAndClosed(t *testing.T) {
	db := open(t)
	c := New(db)
	if err := c.Update(func(tx *bbolt.Tx) error { return tx.Bucket([]byte("b")).Put([]byte("k"), []byte("v")) }); err != nil {
		t.Fatalf("lone write: %v", err)
	}
	c.Close()
	c.Close()
	if err := c.Update(func(tx *bbolt.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}
