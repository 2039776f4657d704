package smtp

import (
	"context"
	"errors"
	"net/textproto"
	"sync"
	"time"
)

// Pool defaults: most servers allow a few parallel sessions and about a
// hundred messages per session, and close an idle session after a minute
// or more; we let one go well before that.
const (
	defaultPoolSize       = 8
	defaultIdleTimeout    = 20 * time.Second
	maxMessagesPerSession = 100
	probeIdleAfter        = 2 * time.Second // RSET before reusing a session idle this long
	codeClosing           = 421             // the server is closing the session
)

// WithPool bounds the sessions a Sender keeps open to its server: at most
// size at once (senders beyond wait for one), each closed after idle time
// unused. A size of 0 turns reuse off: one session per message, as a
// connection test does.
func WithPool(size int, idle time.Duration) Option {
	return func(o *options) { o.poolSize, o.idleTimeout, o.poolSet = size, idle, true }
}

// pool keeps the open sessions of one Sender. It is safe for concurrent use.
type pool struct {
	dial    func(ctx context.Context) (*session, error)
	idleFor time.Duration
	now     func() time.Time

	slots chan struct{} // one token per session open or being opened

	mu     sync.Mutex
	idle   []*pooled // most recently used last
	timer  *time.Timer
	closed bool
}

// pooled is a session with what the pool knows of it.
type pooled struct {
	*session
	used   int       // messages offered on this session
	idleAt time.Time // when it went back to the pool
	dirty  bool      // the last transaction failed: RSET before the next
	reused bool      // it carried a message before this one
}

func newPool(size int, idle time.Duration, dial func(ctx context.Context) (*session, error)) *pool {
	return &pool{dial: dial, idleFor: idle, now: time.Now, slots: make(chan struct{}, size)}
}

// get returns a session ready for MAIL FROM: an idle one (checked with
// RSET when it failed last or sat idle), else a new one. It waits for a
// free slot while size sessions are in use.
func (p *pool) get(ctx context.Context) (*pooled, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fail(ctx, StepDial, ctx.Err())
	}
	for {
		p.mu.Lock()
		var ps *pooled
		if n := len(p.idle); n > 0 {
			ps, p.idle = p.idle[n-1], p.idle[:n-1]
		}
		p.mu.Unlock()
		if ps == nil {
			break
		}
		if p.now().Sub(ps.idleAt) >= p.idleFor {
			ps.quit()
			continue
		}
		if ps.dirty || p.now().Sub(ps.idleAt) >= probeIdleAfter {
			if err := ps.reset(ctx); err != nil {
				ps.abort()
				continue
			}
			ps.dirty = false
		}
		ps.reused = true
		return ps, nil
	}
	s, err := p.dial(ctx)
	if err != nil {
		<-p.slots
		return nil, err
	}
	// The session outlives the ctx it was dialled under.
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
	return &pooled{session: s}, nil
}

// put gives back a session after a message; err is what sending it
// returned. A session that failed other than by a server reply, or that
// the server is closing (421), or that carried its share, is closed.
func (p *pool) put(ps *pooled, err error) {
	defer func() { <-p.slots }()
	ps.used++
	keep := true
	if err != nil {
		var tp *textproto.Error
		if errors.As(err, &tp) && tp.Code != codeClosing {
			ps.dirty = true
		} else {
			keep = false
		}
	}
	if !keep || ps.used >= maxMessagesPerSession || p.idleFor <= 0 {
		if keep {
			ps.quit()
		} else {
			ps.abort()
		}
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		ps.quit()
		return
	}
	ps.idleAt = p.now()
	p.idle = append(p.idle, ps)
	if p.timer == nil {
		p.timer = time.AfterFunc(p.idleFor, p.reap)
	}
	p.mu.Unlock()
}

// reap closes the sessions idle for idleFor or longer and runs again while
// any session is left idle.
func (p *pool) reap() {
	p.mu.Lock()
	now := p.now()
	var stale []*pooled
	keep := p.idle[:0]
	next := time.Duration(0)
	for _, ps := range p.idle {
		if age := now.Sub(ps.idleAt); age >= p.idleFor {
			stale = append(stale, ps)
		} else {
			keep = append(keep, ps)
			if left := p.idleFor - age; next == 0 || left < next {
				next = left
			}
		}
	}
	clear(p.idle[len(keep):])
	p.idle = keep
	p.timer = nil
	if len(keep) > 0 && !p.closed {
		p.timer = time.AfterFunc(next, p.reap)
	}
	p.mu.Unlock()
	for _, ps := range stale {
		ps.quit()
	}
}

// close closes the idle sessions now and the busy ones when they come back.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	p.mu.Unlock()
	for _, ps := range idle {
		ps.quit()
	}
}

// reset sends RSET, which also tells whether the server still listens.
func (s *session) reset(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { _ = s.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	_ = s.conn.SetDeadline(time.Now().Add(s.timeout()))
	return s.c.Reset()
}

// quit ends an idle session with QUIT, not waiting long for the reply.
func (s *session) quit() {
	_ = s.conn.SetDeadline(time.Now().Add(time.Second))
	s.close()
}

// abort drops a session whose connection is broken, without QUIT.
func (s *session) abort() {
	if s.c != nil {
		_ = s.c.Close()
	} else {
		_ = s.conn.Close()
	}
	if s.stop != nil {
		s.stop()
	}
}

// retryFresh reports whether a message that failed with err should go
// once more on a new session: it failed on a reused session (reused) that
// the server closed (421) or lost before the message's final dot, so the
// message was not accepted and the failure says nothing of it — servers
// end long-lived sessions that way. A fresh session that fails so is the
// server's state now: the error goes back to the caller (transient).
func retryFresh(err error, reused bool) bool {
	var e *Error
	if !reused || !errors.As(err, &e) || e.OutcomeUnknown() {
		return false
	}
	if e.Code == codeClosing {
		return true
	}
	var ce *configError
	return e.Code == 0 && !errors.As(err, &ce)
}
