package smtp_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp"
)

// mailpit is the integration peer described in _tools/README.md: SMTP with
// STARTTLS and AUTH required, and an HTTP API to read mail back.
type mailpit struct {
	cfg  notify.SMTP
	pass string
	opts []smtp.Option
	api  string
}

// needMailpit skips unless ARGO_NOTIFY_INTEGRATION=1; when it is set, a
// missing variable or an unreadable certificate fails the test.
func needMailpit(t *testing.T) mailpit {
	t.Helper()
	if os.Getenv("ARGO_NOTIFY_INTEGRATION") != "1" {
		t.Skip("integration test: set ARGO_NOTIFY_INTEGRATION=1 (make test-integration)")
	}
	env := func(k string) string {
		v := os.Getenv(k)
		if v == "" {
			t.Fatalf("ARGO_NOTIFY_INTEGRATION=1 but %s is not set", k)
		}
		return v
	}
	addr, user, pass := env("ARGO_NOTIFY_TEST_SMTP_ADDR"), env("ARGO_NOTIFY_TEST_SMTP_USER"), env("ARGO_NOTIFY_TEST_SMTP_PASS")
	caFile, api := env("ARGO_NOTIFY_TEST_SMTP_CA"), env("ARGO_NOTIFY_TEST_MAILPIT_API")
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("ARGO_NOTIFY_TEST_SMTP_ADDR: %v", err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		t.Fatalf("ARGO_NOTIFY_TEST_SMTP_ADDR: %v", err)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatalf("read the SMTP CA: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", caFile)
	}
	return mailpit{
		cfg: notify.SMTP{ID: "smtp_mailpit", Nickname: "mailpit", Host: host, Port: port, AdminAddress: "argo-notify@example.com",
			TimeoutSeconds: 10, TLS: notify.TLSStartTLS, UseAuth: true, Username: user},
		pass: pass,
		opts: []smtp.Option{smtp.WithTLSConfig(&tls.Config{RootCAs: pool})},
		api:  strings.TrimSuffix(api, "/"),
	}
}

func uniqueAddress(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "t-" + hex.EncodeToString(b) + "@example.com"
}

type mailpitMessage struct {
	ID        string
	MessageID string
	Subject   string
	From      struct{ Address string }
	To        []struct{ Address string }
	Text      string
	HTML      string
}

func (m mailpit) get(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(m.api + path)
	if err != nil {
		t.Fatalf("mailpit API: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit API %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("mailpit API %s: %v", path, err)
	}
}

// messagesTo waits until mailpit holds want messages to addr (or 10 s
// pass) and returns them in full.
func (m mailpit) messagesTo(t *testing.T, addr string, want int) []mailpitMessage {
	t.Helper()
	var found []mailpitMessage
	for deadline := time.Now().Add(10 * time.Second); ; {
		var list struct{ Messages []mailpitMessage }
		m.get(t, "/api/v1/search?limit=200&query="+"to:"+addr, &list)
		found = list.Messages
		if len(found) >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	full := make([]mailpitMessage, 0, len(found))
	for _, s := range found {
		var msg mailpitMessage
		m.get(t, "/api/v1/message/"+s.ID, &msg)
		full = append(full, msg)
	}
	return full
}

func TestMailpitSend(t *testing.T) {
	mp := needMailpit(t)
	to := uniqueAddress(t)
	n := notification(to)
	res, err := smtp.New(mp.cfg, mp.pass, mp.opts...).Send(context.Background(), n)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := mp.messagesTo(t, to, 1)
	if len(msgs) != 1 {
		t.Fatalf("mailpit holds %d messages to %s, want exactly 1", len(msgs), to)
	}
	got := msgs[0]
	if got.MessageID != res.MessageID {
		t.Errorf("Message-ID = %q, Send said %q", got.MessageID, res.MessageID)
	}
	if got.Subject != "[CRITICAL] JOB: Backup failed" || got.From.Address != mp.cfg.AdminAddress {
		t.Errorf("subject %q from %q", got.Subject, got.From.Address)
	}
	if !strings.Contains(got.Text, "Critical jobs (rul_1)") || !strings.Contains(got.HTML, "Critical jobs (rul_1)") {
		t.Errorf("text or HTML part lacks the rule:\ntext: %s\nhtml: %s", got.Text, got.HTML)
	}
}

func TestMailpitTest(t *testing.T) {
	mp := needMailpit(t)
	tests := []struct {
		name     string
		cfg      func(*notify.SMTP)
		password string
		steps    string // name:ok[:reply prefix] of each step
	}{
		{name: "all steps", steps: "dial:true tls:true auth:true send:true"},
		{name: "wrong password", password: "wrong", steps: "dial:true tls:true auth:false:535"},
		{
			name: "no tls no auth", cfg: func(c *notify.SMTP) { c.TLS, c.UseAuth = notify.TLSNone, false },
			steps: "dial:true tls:true auth:true send:false:530",
		},
		{
			name: "starttls without auth", cfg: func(c *notify.SMTP) { c.UseAuth = false },
			steps: "dial:true tls:true auth:true send:false:530",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mp.cfg
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			pw := mp.pass
			if tt.password != "" {
				pw = tt.password
			}
			to := uniqueAddress(t)
			steps := smtp.Test(context.Background(), cfg, pw, to, mp.opts...)
			var got []string
			for _, s := range steps {
				g := fmt.Sprintf("%s:%v", s.Name, s.OK)
				if !s.OK && s.Reply != "" {
					g += ":" + s.Reply[:3]
				}
				got = append(got, g)
			}
			if strings.Join(got, " ") != tt.steps {
				t.Errorf("steps = %s, want %s\n%+v", strings.Join(got, " "), tt.steps, steps)
			}
			wantMails := 0
			if strings.HasSuffix(tt.steps, "send:true") {
				wantMails = 1
			}
			if n := len(mp.messagesTo(t, to, wantMails)); n != wantMails {
				t.Errorf("mailpit holds %d messages to %s, want %d", n, to, wantMails)
			}
		})
	}
}

// TestMailpitClassification checks the error classes against a real server.
func TestMailpitClassification(t *testing.T) {
	mp := needMailpit(t)
	cfg := mp.cfg
	_, err := smtp.New(cfg, "wrong", mp.opts...).Send(context.Background(), notification(uniqueAddress(t)))
	if !send.IsPermanent(err) || !smtp.ConnectionFailed(err) {
		t.Errorf("wrong password: %v, want a permanent connection failure", err)
	}
	_, err = smtp.New(cfg, mp.pass).Send(context.Background(), notification(uniqueAddress(t)))
	if !send.IsPermanent(err) || !smtp.ConnectionFailed(err) {
		t.Errorf("untrusted certificate: %v, want a permanent connection failure", err)
	}
}
