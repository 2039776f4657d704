package route_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/slack-go/slack/slacktest"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/route"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp/smtptest"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// integrations is a fake store.Integrations.
type integrations struct {
	store.Integrations // methods the router must not call panic
	smtp               []*notify.SMTP
	slack              *notify.Slack
	err                error
	reads              int // ListSMTP and GetSlack calls
}

func (f *integrations) ListSMTP(context.Context) ([]*notify.SMTP, error) {
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	return f.smtp, nil
}

func (f *integrations) GetSlack(context.Context) (*notify.Slack, error) {
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	if f.slack == nil {
		return nil, notify.Errorf(notify.ENotFound, "no Slack workspace connected")
	}
	return f.slack, nil
}

// secrets is a fake store.Secrets that counts reads.
type secrets struct {
	store.Secrets
	mu     sync.Mutex
	values map[string]string
	reads  int
}

func (f *secrets) GetSecret(_ context.Context, ref string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	v, ok := f.values[ref]
	if !ok {
		return "", notify.Errorf(notify.ENotFound, "secret not found")
	}
	return v, nil
}

func (f *secrets) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

// recorder is a fake sender (SES or console) that records what it sent.
type recorder struct {
	provider string
	err      error
	mu       sync.Mutex
	sent     []*send.Notification
}

func (r *recorder) Send(_ context.Context, n *send.Notification) (send.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return send.Result{}, r.err
	}
	r.sent = append(r.sent, n)
	return send.Result{Provider: r.provider, MessageID: r.provider + "-1"}, nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

// smtpServer is a plain (no TLS, no AUTH) in-process SMTP server whose RCPT
// answer can be scripted; it counts accepted messages.
type smtpServer struct {
	*smtptest.Server
	port int
}

func startSMTP(t *testing.T, rcpt error) *smtpServer {
	t.Helper()
	srv := smtptest.NewServer(t, smtptest.WithoutTLS(), smtptest.WithoutAuth(),
		smtptest.WithRcptReply(func(int, string) error { return rcpt }))
	return &smtpServer{Server: srv, port: srv.Port}
}

func (s *smtpServer) count() int { return len(s.Messages()) }

// refusingSMTP answers every connection with a 554 greeting: a permanent
// failure before any recipient is offered.
func refusingSMTP(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("554 5.3.2 no service here\r\n"))
			_ = c.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func smtpConfig(id string, port int, created time.Time) *notify.SMTP {
	return &notify.SMTP{
		ID: id, Nickname: "server " + id, Host: "127.0.0.1", Port: port, AdminAddress: "argo@example.com",
		TimeoutSeconds: 5, TLS: notify.TLSNone, Version: 1, CreatedAt: created,
	}
}

func mail(to string) *send.Notification {
	return &send.Notification{
		Event:   &notify.Event{ID: "e1", Type: notify.TypeSystem, Severity: notify.SeverityInfo, Title: "hello"},
		Rules:   []send.RuleRef{{ID: "r1", Name: "all"}},
		Channel: notify.ChannelEmail,
		To:      []string{to},
	}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestEmailRouting(t *testing.T) {
	tests := []struct {
		name     string
		smtp     bool
		ses      bool
		console  bool
		provider string // "" = skipped
	}{
		{name: "smtp wins over ses and console", smtp: true, ses: true, console: true, provider: "smtp"},
		{name: "smtp without ses", smtp: true, provider: "smtp"},
		{name: "ses when no smtp", ses: true, console: true, provider: "ses"},
		{name: "console in local mode", console: true, provider: "console"},
		{name: "nothing in aws mode", provider: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ig := &integrations{}
			var srv *smtpServer
			if tt.smtp {
				srv = startSMTP(t, nil)
				ig.smtp = []*notify.SMTP{smtpConfig("s1", srv.port, t0)}
			}
			cfg := route.Config{Integrations: ig, Secrets: &secrets{}}
			ses, console := &recorder{provider: "ses"}, &recorder{provider: "console"}
			if tt.ses {
				cfg.SES = ses
			}
			if tt.console {
				cfg.Console = console
			}
			s, err := route.New(cfg).Sender(context.Background(), notify.ChannelEmail)
			if tt.provider == "" {
				var skip *send.Skip
				if !errors.As(err, &skip) || skip.Reason != route.NoEmailProvider {
					t.Fatalf("Sender = %v, %v; want skip %q", s, err, route.NoEmailProvider)
				}
				return
			}
			if err != nil {
				t.Fatalf("Sender: %v", err)
			}
			res, err := s.Send(context.Background(), mail("a@example.com"))
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if res.Provider != tt.provider || res.Note != "" {
				t.Errorf("result = %+v, want provider %s and no note", res, tt.provider)
			}
			if srv != nil && srv.count() != 1 {
				t.Errorf("SMTP server got %d messages, want 1", srv.count())
			}
			if tt.provider == "smtp" && ses.count()+console.count() != 0 {
				t.Errorf("SES/console used while SMTP worked")
			}
		})
	}
}

func TestEmailFirstSMTPByCreation(t *testing.T) {
	older, newer := startSMTP(t, nil), startSMTP(t, nil)
	ig := &integrations{smtp: []*notify.SMTP{
		smtpConfig("b-newer", newer.port, t0.Add(time.Hour)),
		smtpConfig("z-older", older.port, t0),
	}}
	s, err := route.New(route.Config{Integrations: ig, Secrets: &secrets{}}).Sender(context.Background(), notify.ChannelEmail)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), mail("a@example.com")); err != nil {
		t.Fatal(err)
	}
	if older.count() != 1 || newer.count() != 0 {
		t.Errorf("older got %d, newer got %d; want the oldest server used", older.count(), newer.count())
	}
}

func TestEmailFallbackToSES(t *testing.T) {
	tests := []struct {
		name      string
		port      func(t *testing.T) int
		fallback  bool
		permanent bool // of the error when there is no fallback
	}{
		{name: "smtp refuses service: fall back", port: refusingSMTP, fallback: true},
		{
			name: "recipient rejected: no fallback",
			port: func(t *testing.T) int {
				return startSMTP(t, &gosmtp.SMTPError{Code: 550, Message: "no such user"}).port
			},
			permanent: true,
		},
		{
			name:      "smtp busy: retry, no fallback",
			port:      func(t *testing.T) int { return startSMTP(t, &gosmtp.SMTPError{Code: 451, Message: "later"}).port },
			permanent: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ses := &recorder{provider: "ses"}
			ig := &integrations{smtp: []*notify.SMTP{smtpConfig("s1", tt.port(t), t0)}}
			s, err := route.New(route.Config{Integrations: ig, Secrets: &secrets{}, SES: ses}).Sender(context.Background(), notify.ChannelEmail)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Send(context.Background(), mail("a@example.com"))
			if !tt.fallback {
				if err == nil || send.IsPermanent(err) != tt.permanent {
					t.Fatalf("Send = %+v, %v; want an error, permanent=%v", res, err, tt.permanent)
				}
				if ses.count() != 0 {
					t.Errorf("SES was used")
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if res.Provider != "ses" || ses.count() != 1 {
				t.Errorf("result %+v, SES sent %d; want one SES send", res, ses.count())
			}
			if !strings.HasPrefix(res.Note, "sent through SES after SMTP failed: ") || !strings.Contains(res.Note, "554") {
				t.Errorf("note = %q", res.Note)
			}
		})
	}
}

func TestEmailFallbackSESFails(t *testing.T) {
	ses := &recorder{provider: "ses", err: send.Transient(errors.New("throttled"), 0)}
	ig := &integrations{smtp: []*notify.SMTP{smtpConfig("s1", refusingSMTP(t), t0)}}
	s, err := route.New(route.Config{Integrations: ig, Secrets: &secrets{}, SES: ses}).Sender(context.Background(), notify.ChannelEmail)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), mail("a@example.com"))
	if err == nil || send.IsPermanent(err) {
		t.Fatalf("Send = %v, want SES's transient error", err)
	}
}

func TestEmailSenderCachedByVersion(t *testing.T) {
	srv := startSMTP(t, nil)
	cfg := smtpConfig("s1", srv.port, t0)
	cfg.UseAuth, cfg.Username, cfg.PasswordRef = true, "u", "ref-1"
	ig := &integrations{smtp: []*notify.SMTP{cfg}}
	sec := &secrets{values: map[string]string{"ref-1": "pw"}}
	r := route.New(route.Config{Integrations: ig, Secrets: sec})
	for range 3 {
		if _, err := r.Sender(context.Background(), notify.ChannelEmail); err != nil {
			t.Fatal(err)
		}
	}
	if sec.count() != 1 {
		t.Errorf("password read %d times for one version, want 1", sec.count())
	}
	next := *cfg
	next.Version = 2
	ig.smtp = []*notify.SMTP{&next}
	if _, err := r.Sender(context.Background(), notify.ChannelEmail); err != nil {
		t.Fatal(err)
	}
	if sec.count() != 2 {
		t.Errorf("password read %d times after a new version, want 2", sec.count())
	}
}

func TestStoreErrorsAreRetried(t *testing.T) {
	tests := []struct {
		name string
		ig   *integrations
		sec  *secrets
		ch   notify.Channel
	}{
		{name: "list smtp fails", ig: &integrations{err: errors.New("store down")}, sec: &secrets{}, ch: notify.ChannelEmail},
		{name: "get slack fails", ig: &integrations{err: errors.New("store down")}, sec: &secrets{}, ch: notify.ChannelSlack},
		{
			name: "password missing",
			ig:   &integrations{smtp: []*notify.SMTP{{ID: "s1", UseAuth: true, PasswordRef: "gone", Version: 1}}},
			sec:  &secrets{}, ch: notify.ChannelEmail,
		},
		{
			name: "token missing", ig: &integrations{slack: &notify.Slack{TeamID: "T1", TokenRef: "gone", Version: 1}},
			sec: &secrets{}, ch: notify.ChannelSlack,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := route.New(route.Config{Integrations: tt.ig, Secrets: tt.sec, Console: &recorder{}}).Sender(context.Background(), tt.ch)
			var skip *send.Skip
			if err == nil || errors.As(err, &skip) || send.IsPermanent(err) {
				t.Errorf("Sender error = %v, want a plain (retryable) error", err)
			}
		})
	}
}

func TestSlackRouting(t *testing.T) {
	t.Run("not connected", func(t *testing.T) {
		_, err := route.New(route.Config{Integrations: &integrations{}, Secrets: &secrets{}}).Sender(context.Background(), notify.ChannelSlack)
		var skip *send.Skip
		if !errors.As(err, &skip) || skip.Reason != "Slack is not connected" {
			t.Errorf("Sender error = %v, want skip %q", err, route.SlackNotConnected)
		}
	})
	t.Run("connected", func(t *testing.T) {
		var mu sync.Mutex
		var tokens []string
		srv := slacktest.NewTestServer(func(c slacktest.Customize) {
			c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				mu.Lock()
				tokens = append(tokens, r.PostForm.Get("token"))
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"ok":true,"channel":"C1","ts":"1.2"}`))
			})
		})
		srv.Start()
		t.Cleanup(srv.Stop)
		ig := &integrations{slack: &notify.Slack{TeamID: "T1", Team: "Acme", TokenRef: "tok", Version: 1}}
		sec := &secrets{values: map[string]string{"tok": "xoxb-1", "tok2": "xoxb-2"}}
		r := route.New(route.Config{Integrations: ig, Secrets: sec, SlackAPIURL: srv.GetAPIURL()})
		n := &send.Notification{Event: mail("").Event, Channel: notify.ChannelSlack, To: []string{"C1"}}
		for range 2 {
			s, err := r.Sender(context.Background(), notify.ChannelSlack)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Send(context.Background(), n)
			if err != nil || res.Provider != "slack" || res.MessageID != "C1/1.2" {
				t.Fatalf("Send = %+v, %v", res, err)
			}
		}
		// Reconnected with a new token: the new version is used.
		ig.slack = &notify.Slack{TeamID: "T1", Team: "Acme", TokenRef: "tok2", Version: 2}
		s, err := r.Sender(context.Background(), notify.ChannelSlack)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Send(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if want := []string{"xoxb-1", "xoxb-1", "xoxb-2"}; strings.Join(tokens, ",") != strings.Join(want, ",") {
			t.Errorf("tokens used = %q, want %q", tokens, want)
		}
		if sec.count() != 2 {
			t.Errorf("token read %d times, want 2 (once per version)", sec.count())
		}
	})
}

func TestReadTTL(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	console := &recorder{}
	tests := []struct {
		name  string
		ttl   time.Duration
		steps []time.Duration // clock advance before each email + Slack lookup
		reads int             // integration reads expected after all steps
	}{
		{"no TTL reads every time", 0, []time.Duration{0, 0, 0}, 6},
		{"within the TTL reads once", 10 * time.Second, []time.Duration{0, time.Second, 8 * time.Second}, 2},
		{"after the TTL reads again", 10 * time.Second, []time.Duration{0, 10 * time.Second, time.Second}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			integ := &integrations{}
			r := route.New(route.Config{Integrations: integ, Secrets: &secrets{}, Console: console, ReadTTL: tt.ttl, Now: clock})
			for _, d := range tt.steps {
				now = now.Add(d)
				if s, err := r.Sender(ctx, notify.ChannelEmail); err != nil || s != send.Sender(console) {
					t.Fatalf("email sender = %v, %v; want the console", s, err)
				}
				var skip *send.Skip
				if _, err := r.Sender(ctx, notify.ChannelSlack); !errors.As(err, &skip) {
					t.Fatalf("slack sender error = %v, want a skip", err)
				}
			}
			if integ.reads != tt.reads {
				t.Errorf("integration reads = %d, want %d", integ.reads, tt.reads)
			}
		})
	}

	t.Run("errors are not reused", func(t *testing.T) {
		integ := &integrations{err: errors.New("table unavailable")}
		r := route.New(route.Config{Integrations: integ, Secrets: &secrets{}, Console: console, ReadTTL: time.Minute, Now: clock})
		for range 2 {
			if _, err := r.Sender(ctx, notify.ChannelEmail); err == nil {
				t.Fatal("no error from a failing store")
			}
		}
		integ.err = nil
		if s, err := r.Sender(ctx, notify.ChannelEmail); err != nil || s != send.Sender(console) {
			t.Fatalf("after the store recovered: %v, %v", s, err)
		}
		if integ.reads != 3 {
			t.Errorf("integration reads = %d, want 3", integ.reads)
		}
	})
}

// TestRegistersEveryChannel: the registry route builds names each channel
// once, with the recipients field a rule names its addresses under.
func TestRegistersEveryChannel(t *testing.T) {
	reg := route.New(route.Config{Integrations: &integrations{}, Secrets: &secrets{}})
	var got []string
	for _, c := range reg.Channels() {
		got = append(got, string(c.Name)+":"+c.Field+":"+c.Via)
	}
	want := []string{"email:emails:email", "slack:slackChannels:slackChannel", "webhook:webhooks:webhook"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("channels = %v, want %v", got, want)
	}
	// Without a webhook store, webhook deliveries are skipped, not panics.
	_, err := reg.Sender(context.Background(), notify.ChannelWebhook)
	var skip *send.Skip
	if !errors.As(err, &skip) {
		t.Errorf("webhook Sender without a store = %v, want a skip", err)
	}
}
