package smtp_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp"
)

// TestTestRefusesLinkLocal: an SMTP test (and a send) never connects to a
// link-local or cloud metadata address; the refusal is permanent.
func TestTestRefusesLinkLocal(t *testing.T) {
	for _, host := range []string{"169.254.169.254", "169.254.10.1", "0.0.0.0"} {
		t.Run(host, func(t *testing.T) {
			cfg := notify.SMTP{Nickname: "x", Host: host, Port: 25, AdminAddress: "argo@example.com", TimeoutSeconds: 5, TLS: notify.TLSNone}
			steps := smtp.Test(context.Background(), cfg, "", "")
			last := steps[len(steps)-1]
			if last.OK || last.Name != smtp.StepDial || !strings.Contains(last.Error, "link-local") {
				t.Errorf("steps %+v, want the dial refused as link-local", steps)
			}
			_, err := smtp.New(cfg, "").Send(context.Background(), &send.Notification{
				Event: &notify.Event{ID: "e", Type: notify.TypeJob, Severity: notify.SeverityInfo, Title: "t"}, Channel: notify.ChannelEmail, To: []string{"a@example.com"}})
			if err == nil || !send.IsPermanent(err) || !strings.Contains(err.Error(), "link-local") {
				t.Errorf("Send = %v, want a permanent link-local refusal", err)
			}
		})
	}
}

// peer is a TCP server on 127.0.0.1 that writes greeting to each
// connection (nothing if empty) and then holds it open.
func peer(t *testing.T, greeting string) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			if greeting != "" {
				_, _ = c.Write([]byte(greeting))
			}
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// TestTestPeerAnswers: what a peer that is not an SMTP server sends is not
// echoed back to the administrator, and a silent peer ends the test within
// its timeout with an answer.
func TestTestPeerAnswers(t *testing.T) {
	tests := []struct {
		name, greeting, want string
	}{
		{name: "an HTTP server's banner", greeting: "HTTP/1.1 400 Bad Request\r\nServer: secret-banner/1.2\r\n\r\n", want: "SMTP greeting"},
		{name: "a refusal with a banner", greeting: "554 secret-banner ESMTP go away\r\n", want: "554 the server refused the connection"},
		{name: "a silent peer", want: "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := notify.SMTP{Nickname: "x", Host: "127.0.0.1", Port: peer(t, tt.greeting), AdminAddress: "argo@example.com", TimeoutSeconds: 1, TLS: notify.TLSNone}
			steps := smtp.Test(context.Background(), cfg, "", "")
			last := steps[len(steps)-1]
			all := last.Detail + last.Error + last.Reply
			if last.OK || strings.Contains(all, "secret-banner") || !strings.Contains(all, tt.want) {
				t.Errorf("steps %+v: want a failure saying %q without the peer's banner", steps, tt.want)
			}
		})
	}
}
