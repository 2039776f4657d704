package email_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/email"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp/smtptest"
)

type servers struct {
	mu  sync.Mutex
	cfg notify.SMTP
}

func (s *servers) ListSMTP(context.Context) ([]*notify.SMTP, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cfg
	return []*notify.SMTP{&c}, nil
}

type secrets map[string]string

func (s secrets) GetSecret(_ context.Context, ref string) (string, error) { return s[ref], nil }

// TestRouterClosesReplacedSender: when the SMTP server's configuration
// changes, the sessions the old sender kept open are closed.
func TestRouterClosesReplacedSender(t *testing.T) {
	srv := smtptest.NewServer(t)
	list := &servers{cfg: notify.SMTP{
		ID: "smtp_1", Version: 1, Nickname: "test", Host: srv.Host, Port: srv.Port, AdminAddress: "argo@example.com",
		TimeoutSeconds: 10, TLS: notify.TLSStartTLS, UseAuth: true, Username: srv.Username, PasswordRef: "pw",
	}}
	r := email.NewRouter(email.Config{Servers: list, Secrets: secrets{"pw": srv.Password},
		SMTPOptions: []smtp.Option{smtp.WithTLSConfig(srv.ClientTLSConfig()), smtp.WithPool(2, time.Minute)}})
	n := &send.Notification{Event: &notify.Event{ID: "evt-1", Type: notify.TypeJob, Severity: notify.SeverityCritical,
		Title: "Backup failed"}, Channel: notify.ChannelEmail, To: []string{"ops@example.com"}}
	sendOne := func() {
		t.Helper()
		s, err := r.Sender(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Send(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	sendOne()
	if got := srv.OpenCount(); got != 1 {
		t.Fatalf("%d sessions open after a message, want 1", got)
	}
	list.mu.Lock()
	list.cfg.Version = 2
	list.mu.Unlock()
	if _, err := r.Sender(context.Background()); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(10 * time.Second); srv.OpenCount() != 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%d sessions of the replaced sender still open", srv.OpenCount())
		}
	}
	sendOne()
	if got := len(srv.Messages()); got != 2 {
		t.Errorf("%d messages, want 2", got)
	}
}
