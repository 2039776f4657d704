package console_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/console"
)

func notification(to string) *send.Notification {
	return &send.Notification{
		Event:   &notify.Event{ID: "evt-1", Type: notify.TypeSystem, Severity: notify.SeverityWarning, Title: "Disk almost full", Message: "92% used"},
		Rules:   []send.RuleRef{{ID: "rul_1", Name: "Ops"}},
		Channel: notify.ChannelEmail,
		To:      []string{to},
	}
}

func TestSendWrites(t *testing.T) {
	var buf bytes.Buffer
	res, err := console.New(&buf).Send(context.Background(), notification("ops@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Provider != "console" || res.MessageID != send.MessageID(notification("ops@example.com"), "console.invalid") {
		t.Errorf("result = %+v, want the Message-ID derived from the delivery", res)
	}
	again, err := console.New(&bytes.Buffer{}).Send(context.Background(), notification("ops@example.com"))
	if err != nil || again.MessageID != res.MessageID {
		t.Errorf("a second attempt's Message-ID = %q (%v), want the same %q", again.MessageID, err, res.MessageID)
	}
	out := buf.String()
	for _, want := range []string{
		"argo-notify console delivery (no SMTP server connected)",
		"To:         ops@example.com",
		"Subject:    [WARNING] SYSTEM: Disk almost full",
		"92% used",
		"Ops (rul_1)",
		res.MessageID,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestSendConcurrentWholeMessages(t *testing.T) {
	var buf bytes.Buffer
	s := console.New(&buf)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Send(context.Background(), notification(string(rune('a'+i))+"@example.com")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// Every message is whole: banners and ends alternate.
	lines := strings.Split(buf.String(), "\n")
	open := false
	count := 0
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "===== argo-notify"):
			if open {
				t.Fatal("a message started inside another")
			}
			open = true
			count++
		case strings.HasPrefix(l, "===== end"):
			if !open {
				t.Fatal("a message ended that had not started")
			}
			open = false
		}
	}
	if count != 20 || open {
		t.Errorf("%d messages written (open=%v), want 20", count, open)
	}
}

// TestSendEscapesControls: what an event carries cannot move the cursor,
// recolour the terminal or forge the end of a message.
func TestSendEscapesControls(t *testing.T) {
	n := notification("ops@example.com")
	n.Event.Title = "evil\x1b[2J\rtitle\u202e"
	n.Event.Message = "line one\n===== end of console delivery x =====\x07\x1b]0;pwned\x07\u0085"
	var buf bytes.Buffer
	if _, err := console.New(&buf).Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, r := range out {
		if r != '\n' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x202e) {
			t.Fatalf("output holds control character %U:\n%q", r, out)
		}
	}
	if !strings.Contains(out, `\u0007\u001b]0;pwned\u0007\u0085`) {
		t.Errorf("the message's controls are not escaped visibly:\n%s", out)
	}
	if n := strings.Count(out, "\n===== end"); n != 1 {
		t.Errorf("%d lines start like the end of a message, want 1:\n%s", n, out)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name      string
		w         func() *console.Sender
		ctx       func() context.Context
		n         *send.Notification
		permanent bool
	}{
		{name: "write fails", w: func() *console.Sender { return console.New(failWriter{}) }, n: notification("a@example.com")},
		{name: "no event", n: &send.Notification{}, permanent: true},
		{name: "cancelled", ctx: func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, n: notification("a@example.com")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := console.New(&bytes.Buffer{})
			if tt.w != nil {
				s = tt.w()
			}
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx()
			}
			_, err := s.Send(ctx, tt.n)
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if send.IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v (%v)", send.IsPermanent(err), tt.permanent, err)
			}
		})
	}
}
