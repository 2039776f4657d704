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
	if res.Provider != "console" || !strings.HasPrefix(res.MessageID, "console-") {
		t.Errorf("result = %+v", res)
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
