// Package boltgroup commits the write transactions of concurrent callers
// of one bbolt database together: group commit. Each commit of bbolt ends
// with two fsyncs, which cost milliseconds on most disks; a Committer lets
// every caller that arrives while a commit is running share the next one,
// so the commits per second stay bounded by the disk while the writes per
// second grow with the callers. A lone caller commits at once: there is
// no delay to wait for company, as bbolt's own Batch has.
package boltgroup

import (
	"errors"
	"sync"

	bbolt "go.etcd.io/bbolt"
)

// ErrClosed is returned for a write submitted after Close.
var ErrClosed = errors.New("boltgroup: committer closed")

// call is one caller's write, and where its result goes.
type call struct {
	fn   func(*bbolt.Tx) error
	done chan error
}

// Committer runs writes on one database in shared transactions. It is
// safe for concurrent use.
type Committer struct {
	db *bbolt.DB

	mu      sync.Mutex
	pending []call
	closed  bool
	wake    chan struct{}
	stopped chan struct{}
}

// New starts a Committer for db. Close stops it; db stays open.
func New(db *bbolt.DB) *Committer {
	c := &Committer{db: db, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go c.loop()
	return c
}

// Update runs fn in a write transaction, shared with the writes of other
// callers, and returns fn's error or the commit's. As with bbolt's Batch,
// fn may run more than once (when another write of its group fails, the
// group is run again without it), so it must only assign its results, and
// a failing fn does not commit anything of its own. Update returns once
// the transaction that holds fn is durable.
func (c *Committer) Update(fn func(*bbolt.Tx) error) error {
	cl := call{fn: fn, done: make(chan error, 1)}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.pending = append(c.pending, cl)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default: // the loop is awake and will find it
	}
	return <-cl.done
}

// Close stops the Committer once the writes already submitted are done.
func (c *Committer) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.stopped
		return
	}
	c.closed = true
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	<-c.stopped
}

// loop commits what is pending, all of it in one transaction, until the
// Committer is closed and nothing is pending.
func (c *Committer) loop() {
	defer close(c.stopped)
	for range c.wake {
		for {
			c.mu.Lock()
			group, closed := c.pending, c.closed
			c.pending = nil
			c.mu.Unlock()
			if len(group) == 0 {
				if closed {
					return
				}
				break
			}
			c.commit(group)
		}
	}
}

// commit runs group in one transaction. When a write fails, the
// transaction is rolled back, that write is run alone (its own error, or
// its success if it failed only for what the others did), and the rest is
// run again as a group.
func (c *Committer) commit(group []call) {
	for len(group) > 0 {
		failed := -1
		err := c.db.Update(func(tx *bbolt.Tx) error {
			for i, cl := range group {
				if err := cl.fn(tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, cl := range group {
				cl.done <- err // nil, or the commit's own failure
			}
			return
		}
		alone := group[failed]
		alone.done <- c.db.Update(alone.fn)
		group = append(group[:failed:failed], group[failed+1:]...)
	}
}
