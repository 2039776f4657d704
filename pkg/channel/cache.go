package channel

import (
	"sync"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// Reader reuses the last answer of a read of the integrations for TTL, so
// a warm dispatcher does not read them for every delivery. Only answers
// that are not errors (or are ENotFound) are reused. The zero value reads
// every time. It is safe for concurrent use.
type Reader[T any] struct {
	// TTL is how long an answer is reused; 0 reads every time, so a change
	// takes effect at once.
	TTL time.Duration
	// Now is the clock (time.Now if nil).
	Now func() time.Time

	mu  sync.Mutex
	at  time.Time
	val T
	err error
	ok  bool
}

// Read returns what get returns, reusing the last answer for TTL.
func (c *Reader[T]) Read(get func() (T, error)) (T, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	if c.TTL > 0 {
		c.mu.Lock()
		if c.ok && now().Sub(c.at) < c.TTL {
			v, err := c.val, c.err
			c.mu.Unlock()
			return v, err
		}
		c.mu.Unlock()
	}
	v, err := get()
	if c.TTL > 0 && (err == nil || notify.IsCode(err, notify.ENotFound)) {
		c.mu.Lock()
		c.at, c.val, c.err, c.ok = now(), v, err, true
		c.mu.Unlock()
	}
	return v, err
}

// Senders keeps the senders a router built, by key (an integration's id and
// version), so the secrets behind them are read once per version. It is
// safe for concurrent use.
type Senders struct {
	mu sync.Mutex
	m  map[string]send.Sender
	// Max bounds how many are kept (default 1: the current version of a
	// single integration); past it the whole set is dropped.
	Max int
}

// Get returns the sender kept under key, or nil.
func (s *Senders) Get(key string) send.Sender {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key]
}

// Put keeps sender under key.
func (s *Senders) Put(key string, sender send.Sender) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil || len(s.m) >= max(s.Max, 1) {
		s.m = map[string]send.Sender{}
	}
	s.m[key] = sender
}
