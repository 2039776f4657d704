package smtp_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp/smtptest"
)

func notification(to ...string) *send.Notification {
	return &send.Notification{
		Event: &notify.Event{
			ID: "evt-1", Type: notify.TypeJob, Severity: notify.SeverityCritical, Title: "Backup failed",
			Message: "exit code 3", Source: "argo/prod", OccurredAt: time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC),
			URL: "https://argo.example.com/jobs/1",
		},
		Rules:   []send.RuleRef{{ID: "rul_1", Name: "Critical jobs"}},
		Channel: notify.ChannelEmail,
		To:      to,
	}
}

func TestSendDelivers(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		implicit bool
		opts     []smtptest.Option
	}{
		{name: "starttls and auth", mode: notify.TLSStartTLS},
		{name: "implicit tls and auth", mode: notify.TLSImplicit, implicit: true},
		{name: "no tls no auth", mode: notify.TLSNone, opts: []smtptest.Option{smtptest.WithoutTLS(), smtptest.WithoutAuth()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.implicit, tt.opts...)
			s := smtp.New(config(srv, tt.mode), srv.Password, trusting(srv))
			res, err := s.Send(context.Background(), notification("ops@example.com"))
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if res.Provider != "smtp" || res.MessageID == "" {
				t.Errorf("result = %+v, want provider smtp and a message id", res)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("server got %d messages, want 1", len(msgs))
			}
			m := msgs[0]
			if m.From != "argo@example.com" || len(m.To) != 1 || m.To[0] != "ops@example.com" {
				t.Errorf("envelope from %q to %q", m.From, m.To)
			}
			data := string(m.Data)
			for _, want := range []string{
				"Subject: [CRITICAL] JOB: Backup failed",
				"Message-ID: <" + res.MessageID + ">",
				"From: \"Argo Notify\" <argo@example.com>",
				"To: <ops@example.com>",
				"multipart/alternative",
				"Content-Type: text/plain",
				"Content-Type: text/html",
				"Auto-Submitted: auto-generated",
				"Critical jobs (rul_1)",
			} {
				if !strings.Contains(data, want) {
					t.Errorf("message lacks %q:\n%s", want, data)
				}
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	tests := []struct {
		name       string
		mode       string
		opts       []smtptest.Option
		cfg        func(*notify.SMTP)
		password   string
		untrusted  bool
		to         string
		permanent  bool
		connection bool
		step       string
		reply      string // prefix of the server's reply
		noSession  bool   // the server must not even be contacted
	}{
		{
			name: "recipient rejected 550", opts: []smtptest.Option{
				smtptest.WithRcptReply(func(int, string) error { return smtptest.Reply(550, "no such user") }),
			},
			permanent: true, step: "send", reply: "550",
		},
		{
			name: "recipient deferred 421", opts: []smtptest.Option{
				smtptest.WithRcptReply(func(int, string) error { return smtptest.Reply(421, "try later") }),
			},
			permanent: false, step: "send", reply: "421",
		},
		{
			name: "data deferred 451", opts: []smtptest.Option{
				smtptest.WithDataReply(func(int) error { return smtptest.Reply(451, "local error") }),
			},
			permanent: false, step: "send", reply: "451",
		},
		{
			name: "data rejected 554", opts: []smtptest.Option{
				smtptest.WithDataReply(func(int) error { return smtptest.Reply(554, "spam") }),
			},
			permanent: true, step: "send", reply: "554",
		},
		{name: "wrong password", password: "wrong", permanent: true, connection: true, step: "auth", reply: "535"},
		{name: "untrusted certificate", untrusted: true, permanent: true, connection: true, step: "tls"},
		{
			name: "server without starttls", opts: []smtptest.Option{smtptest.WithoutTLS()},
			permanent: true, connection: true, step: "tls",
		},
		{
			name: "auth demanded but not configured", cfg: func(c *notify.SMTP) { c.UseAuth = false },
			permanent: true, connection: true, step: "send", reply: "530",
		},
		{
			name: "credentials without tls refused", mode: notify.TLSNone,
			permanent: true, connection: true, step: "auth", noSession: true,
		},
		{
			name: "connection refused", cfg: func(c *notify.SMTP) { c.Port = closedPort(t) },
			permanent: false, connection: true, step: "dial", noSession: true,
		},
		{name: "invalid recipient", to: "not an address", permanent: true, step: "send", noSession: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, false, tt.opts...)
			mode := tt.mode
			if mode == "" {
				mode = notify.TLSStartTLS
			}
			cfg := config(srv, mode)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			pw := srv.Password
			if tt.password != "" {
				pw = tt.password
			}
			var opts []smtp.Option
			if !tt.untrusted {
				opts = append(opts, trusting(srv))
			}
			to := tt.to
			if to == "" {
				to = "ops@example.com"
			}
			_, err := smtp.New(cfg, pw, opts...).Send(context.Background(), notification(to))
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if got := send.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			if got := smtp.ConnectionFailed(err); got != tt.connection {
				t.Errorf("ConnectionFailed = %v, want %v (%v)", got, tt.connection, err)
			}
			var se *smtp.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not an *smtp.Error", err)
			}
			if se.Step != tt.step {
				t.Errorf("step = %q, want %q (%v)", se.Step, tt.step, err)
			}
			if !strings.HasPrefix(se.Reply, tt.reply) || (tt.reply != "" && se.Code == 0) {
				t.Errorf("reply = %q (code %d), want prefix %q", se.Reply, se.Code, tt.reply)
			}
			if strings.Contains(err.Error(), srv.Password) || (tt.password != "" && strings.Contains(err.Error(), tt.password)) {
				t.Errorf("error reveals the password: %v", err)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server accepted %d messages, want 0", n)
			}
			if tt.noSession && srv.SessionCount() != 0 {
				t.Errorf("server was contacted %d times, want 0", srv.SessionCount())
			}
		})
	}
}

// TestSendRetryAfter421 is the fault script of issue 3: the server defers
// the first attempt with 421 and accepts the second; exactly one mail
// arrives.
func TestSendRetryAfter421(t *testing.T) {
	srv := startServer(t, false, smtptest.WithRcptReply(func(call int, _ string) error {
		if call == 1 {
			return smtptest.Reply(421, "busy, try again")
		}
		return nil
	}))
	s := smtp.New(config(srv, notify.TLSStartTLS), srv.Password, trusting(srv))
	n := notification("ops@example.com")
	_, err := s.Send(context.Background(), n)
	if err == nil || send.IsPermanent(err) {
		t.Fatalf("first Send = %v, want a transient error", err)
	}
	res, err := s.Send(context.Background(), n)
	if err != nil {
		t.Fatalf("second Send: %v", err)
	}
	if got := len(srv.Messages()); got != 1 {
		t.Errorf("server got %d messages, want 1", got)
	}
	// A third attempt (a resend after an interrupted one) carries the same
	// Message-ID, derived from the delivery, so a mail client folds them.
	again, err := s.Send(context.Background(), n)
	if err != nil {
		t.Fatalf("third Send: %v", err)
	}
	want := send.MessageID(n, "example.com")
	if res.MessageID != want || again.MessageID != want {
		t.Errorf("Message-IDs %q and %q, want both %q", res.MessageID, again.MessageID, want)
	}
	for i, m := range srv.Messages() {
		if !strings.Contains(string(m.Data), "Message-ID: <"+want+">") {
			t.Errorf("message %d lacks Message-ID <%s>", i, want)
		}
	}
}

func TestSendCancelled(t *testing.T) {
	srv := startServer(t, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := smtp.New(config(srv, notify.TLSStartTLS), srv.Password, trusting(srv)).Send(ctx, notification("ops@example.com"))
	if err == nil || send.IsPermanent(err) {
		t.Fatalf("Send with a cancelled context = %v, want a transient error", err)
	}
}

func TestTestSteps(t *testing.T) {
	type want struct {
		name  string
		ok    bool
		reply string
	}
	tests := []struct {
		name      string
		mode      string
		implicit  bool
		password  string
		untrusted bool
		to        string
		want      []want
		delivered int
	}{
		{
			name: "connect only", mode: notify.TLSStartTLS,
			want: []want{{"dial", true, ""}, {"tls", true, ""}, {"auth", true, ""}},
		},
		{
			name: "with test message", mode: notify.TLSStartTLS, to: "admin@example.com", delivered: 1,
			want: []want{{"dial", true, ""}, {"tls", true, ""}, {"auth", true, ""}, {"send", true, ""}},
		},
		{
			name: "implicit tls", mode: notify.TLSImplicit, implicit: true, to: "admin@example.com", delivered: 1,
			want: []want{{"dial", true, ""}, {"tls", true, ""}, {"auth", true, ""}, {"send", true, ""}},
		},
		{
			name: "wrong password", mode: notify.TLSStartTLS, password: "hunter2-wrong", to: "admin@example.com",
			want: []want{{"dial", true, ""}, {"tls", true, ""}, {"auth", false, "535 5.7.8 Authentication failed"}},
		},
		{
			name: "untrusted certificate", mode: notify.TLSStartTLS, untrusted: true,
			want: []want{{"dial", true, ""}, {"tls", false, ""}},
		},
		{
			name: "implicit tls untrusted", mode: notify.TLSImplicit, implicit: true, untrusted: true,
			want: []want{{"dial", true, ""}, {"tls", false, ""}},
		},
		{
			name: "bad test address", mode: notify.TLSStartTLS, to: "nobody",
			want: []want{{"dial", true, ""}, {"tls", true, ""}, {"auth", true, ""}, {"send", false, ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.implicit)
			pw := srv.Password
			if tt.password != "" {
				pw = tt.password
			}
			var opts []smtp.Option
			if !tt.untrusted {
				opts = append(opts, trusting(srv))
			}
			steps := smtp.Test(context.Background(), config(srv, tt.mode), pw, tt.to, opts...)
			var got []want
			for _, s := range steps {
				got = append(got, want{s.Name, s.OK, s.Reply})
				if s.OK && s.Error != "" || !s.OK && s.Error == "" {
					t.Errorf("step %+v: ok and error disagree", s)
				}
				if strings.Contains(s.Detail+s.Error+s.Reply, pw) {
					t.Errorf("step %+v reveals the password", s)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("steps = %+v, want %+v", steps, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("step %d = %+v, want %+v (%+v)", i, got[i], tt.want[i], steps[i])
				}
			}
			if n := len(srv.Messages()); n != tt.delivered {
				t.Errorf("server got %d messages, want %d", n, tt.delivered)
			}
		})
	}
}

func TestTestTLSDetail(t *testing.T) {
	srv := startServer(t, false)
	steps := smtp.Test(context.Background(), config(srv, notify.TLSStartTLS), srv.Password, "", trusting(srv))
	if len(steps) < 2 || !regexp.MustCompile(`^STARTTLS, TLS 1\.[23]$`).MatchString(steps[1].Detail) {
		t.Errorf("tls step = %+v, want STARTTLS with the TLS version", steps)
	}
}
