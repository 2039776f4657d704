package smtp_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp/smtptest"
)

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("still not %s after 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// delivered counts the messages srv accepted per envelope recipient.
func delivered(srv *smtptest.Server) map[string]int {
	got := map[string]int{}
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			got[to]++
		}
	}
	return got
}

// checkOnce fails t unless each of want arrived exactly once.
func checkOnce(t *testing.T, srv *smtptest.Server, want []string) {
	t.Helper()
	got := delivered(srv)
	for _, to := range want {
		if got[to] != 1 {
			t.Errorf("%s: %d messages, want 1", to, got[to])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d recipients reached, want %d", len(got), len(want))
	}
}

func recipients(n int) []string {
	var to []string
	for i := range n {
		to = append(to, fmt.Sprintf("user%d@example.com", i))
	}
	return to
}

// TestPoolReusesSessions: N messages from concurrent senders travel over
// at most the pool's size of sessions, each through STARTTLS and AUTH once.
func TestPoolReusesSessions(t *testing.T) {
	for _, mode := range []string{notify.TLSStartTLS, notify.TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			srv := startServer(t, mode == notify.TLSImplicit)
			const n, size = 60, 3
			s := smtp.New(config(srv, mode), srv.Password, trusting(srv), smtp.WithPool(size, time.Minute))
			t.Cleanup(func() { _ = s.Close() })
			to := recipients(n)
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range 6 {
				wg.Go(func() {
					for j := i; j < n; j += 6 {
						if _, err := s.Send(context.Background(), notification(to[j])); err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("Send: %v", err)
			}
			checkOnce(t, srv, to)
			// A STARTTLS connection is two server sessions (before and
			// after TLS), an implicit TLS one is one.
			perConn := 2
			if mode == notify.TLSImplicit {
				perConn = 1
			}
			if conns := srv.SessionCount() / perConn; conns > size {
				t.Errorf("%d messages over %d connections, want at most %d", n, conns, size)
			}
		})
	}
}

// TestPoolReconnectsAfter421: the server ends a session with 421 in the
// middle of a run of messages; the message it refused goes again on a new
// session and every message arrives exactly once.
func TestPoolReconnectsAfter421(t *testing.T) {
	for _, step := range []string{"rcpt", "data"} {
		t.Run(step, func(t *testing.T) {
			closing := func(n int) error {
				if n == 4 {
					return smtptest.Reply(421, "closing this session")
				}
				return nil
			}
			var opt smtptest.Option
			if step == "rcpt" {
				opt = smtptest.WithRcptReply(func(n int, _ string) error { return closing(n) })
			} else {
				opt = smtptest.WithDataReply(closing)
			}
			srv := startServer(t, false, opt)
			s := smtp.New(config(srv, notify.TLSStartTLS), srv.Password, trusting(srv), smtp.WithPool(2, time.Minute))
			t.Cleanup(func() { _ = s.Close() })
			to := recipients(10)
			for _, addr := range to {
				if _, err := s.Send(context.Background(), notification(addr)); err != nil {
					t.Fatalf("Send to %s: %v", addr, err)
				}
			}
			checkOnce(t, srv, to)
			if conns := srv.SessionCount() / 2; conns != 2 {
				t.Errorf("%d connections, want 2 (one before the 421, one after)", conns)
			}
		})
	}
}

// TestPoolClosesIdleSessions: a session unused for the idle time is closed
// (QUIT), and the next message opens a new one; Close ends them all.
func TestPoolClosesIdleSessions(t *testing.T) {
	srv := startServer(t, false)
	s := smtp.New(config(srv, notify.TLSStartTLS), srv.Password, trusting(srv), smtp.WithPool(2, 100*time.Millisecond))
	if _, err := s.Send(context.Background(), notification("a@example.com")); err != nil {
		t.Fatal(err)
	}
	if got := srv.OpenCount(); got != 1 {
		t.Errorf("%d sessions open after a message, want 1 kept for the next", got)
	}
	eventually(t, "closed when idle", func() bool { return srv.OpenCount() == 0 })
	if _, err := s.Send(context.Background(), notification("b@example.com")); err != nil {
		t.Fatal(err)
	}
	checkOnce(t, srv, []string{"a@example.com", "b@example.com"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "closed by Close", func() bool { return srv.OpenCount() == 0 })
}

// TestPoolOff: WithPool(0, …) opens one session per message and leaves
// none open.
func TestPoolOff(t *testing.T) {
	srv := startServer(t, false)
	s := smtp.New(config(srv, notify.TLSStartTLS), srv.Password, trusting(srv), smtp.WithPool(0, 0))
	to := recipients(3)
	for _, addr := range to {
		if _, err := s.Send(context.Background(), notification(addr)); err != nil {
			t.Fatal(err)
		}
	}
	checkOnce(t, srv, to)
	if conns := srv.SessionCount() / 2; conns != 3 {
		t.Errorf("%d connections, want 3", conns)
	}
	eventually(t, "all closed", func() bool { return srv.OpenCount() == 0 })
}

// TestPoolResetsAfterRefusal: a recipient refused (550) leaves the session
// usable; the next message goes on it after RSET.
func TestPoolResetsAfterRefusal(t *testing.T) {
	srv := startServer(t, false, smtptest.WithRcptReply(func(n int, _ string) error {
		if n == 1 {
			return smtptest.Reply(550, "no such user")
		}
		return nil
	}))
	s := smtp.New(config(srv, notify.TLSStartTLS), srv.Password, trusting(srv), smtp.WithPool(1, time.Minute))
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Send(context.Background(), notification("gone@example.com")); err == nil {
		t.Fatal("Send to a refused recipient succeeded")
	}
	if _, err := s.Send(context.Background(), notification("ok@example.com")); err != nil {
		t.Fatal(err)
	}
	checkOnce(t, srv, []string{"ok@example.com"})
	if conns := srv.SessionCount() / 2; conns != 1 {
		t.Errorf("%d connections, want 1", conns)
	}
}

// TestPoolReconnectsAfterDrop: the server drops an idle session without a
// word; the next message finds the connection broken before MAIL FROM and
// goes on a new session.
func TestPoolReconnectsAfterDrop(t *testing.T) {
	srv := startServer(t, false)
	s := smtp.New(config(srv, notify.TLSStartTLS), srv.Password, trusting(srv), smtp.WithPool(1, time.Minute))
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Send(context.Background(), notification("a@example.com")); err != nil {
		t.Fatal(err)
	}
	srv.DropConnections()
	eventually(t, "dropped", func() bool { return srv.OpenCount() == 0 })
	if _, err := s.Send(context.Background(), notification("b@example.com")); err != nil {
		t.Fatalf("Send after the server dropped the session: %v", err)
	}
	checkOnce(t, srv, []string{"a@example.com", "b@example.com"})
}
