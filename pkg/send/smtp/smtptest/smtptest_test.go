package smtptest_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/argoproj-labs/argo-notify/pkg/send/smtp/smtptest"
)

const body = "Subject: hello\r\n\r\nhi there\r\n"

// how a client reaches the server.
const (
	viaStartTLS = "starttls"
	viaImplicit = "implicit"
	viaPlain    = "plain"
)

// send dials srv as how says, authenticates with user and pass unless
// user is empty, and sends body from a@example.com to to.
func send(t *testing.T, srv *smtptest.Server, tlsConfig *tls.Config, how, user, pass string, to ...string) error {
	t.Helper()
	var c *gosmtp.Client
	var err error
	switch how {
	case viaStartTLS:
		c, err = gosmtp.DialStartTLS(srv.Addr, tlsConfig)
	case viaImplicit:
		c, err = gosmtp.DialTLS(srv.Addr, tlsConfig)
	default:
		c, err = gosmtp.Dial(srv.Addr)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	if user != "" {
		if err := c.Auth(sasl.NewPlainClient("", user, pass)); err != nil {
			return err
		}
	}
	return c.SendMail("a@example.com", to, strings.NewReader(body))
}

// code is the SMTP reply code of err, 0 for nil and -1 for an error
// without one.
func code(err error) int {
	if err == nil {
		return 0
	}
	var se *gosmtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return -1
}

func TestServer(t *testing.T) {
	tests := []struct {
		name      string
		opts      []smtptest.Option
		how       string
		noAuth    bool   // the client does not authenticate
		password  string // instead of the server's
		to        []string
		wantCode  int
		wantDatas int
	}{
		{name: "starttls and auth", how: viaStartTLS, wantDatas: 1},
		{name: "implicit tls and auth", opts: []smtptest.Option{smtptest.WithImplicitTLS()}, how: viaImplicit, wantDatas: 1},
		{name: "no tls no auth", opts: []smtptest.Option{smtptest.WithoutTLS(), smtptest.WithoutAuth()}, how: viaPlain, noAuth: true, wantDatas: 1},
		{name: "chosen credentials", opts: []smtptest.Option{smtptest.WithAuth("bob", "pw-1")}, how: viaStartTLS, wantDatas: 1},
		{name: "wrong password", how: viaStartTLS, password: "wrong", wantCode: 535},
		{name: "no auth", how: viaStartTLS, noAuth: true, wantCode: 530},
		{name: "no starttls", how: viaPlain, noAuth: true, wantCode: 530},
		{
			name: "rcpt rejected", how: viaStartTLS, wantCode: 550,
			opts: []smtptest.Option{smtptest.WithRcptReply(func(int, string) error { return smtptest.Reply(550, "no such user") })},
		},
		{
			name: "data deferred", how: viaStartTLS, wantCode: 421, wantDatas: 1,
			opts: []smtptest.Option{smtptest.WithDataReply(func(int) error { return smtptest.Reply(421, "try later") })},
		},
		{
			name: "too many recipients", how: viaStartTLS, to: []string{"b@example.com", "c@example.com"}, wantCode: 452,
			opts: []smtptest.Option{smtptest.WithMaxRecipients(1)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.opts...)
			user, pass := srv.Username, srv.Password
			if tt.noAuth {
				user = ""
			}
			if tt.password != "" {
				pass = tt.password
			}
			to := tt.to
			if to == nil {
				to = []string{"b@example.com"}
			}
			err := send(t, srv, srv.ClientTLSConfig(), tt.how, user, pass, to...)
			if got := code(err); got != tt.wantCode {
				t.Fatalf("send: %v (code %d), want code %d", err, got, tt.wantCode)
			}
			msgs := srv.Messages()
			if tt.wantCode != 0 {
				if len(msgs) != 0 {
					t.Errorf("server recorded %d messages, want 0", len(msgs))
				}
			} else if len(msgs) != 1 || msgs[0].From != "a@example.com" || !slices.Equal(msgs[0].To, to) ||
				!strings.Contains(string(msgs[0].Data), "hi there") || msgs[0].Received.IsZero() {
				t.Errorf("messages = %+v, want one from a@example.com to %v", msgs, to)
			}
			if got := srv.DataCount(); got != tt.wantDatas {
				t.Errorf("DataCount = %d, want %d", got, tt.wantDatas)
			}
			if srv.SessionCount() == 0 {
				t.Error("SessionCount = 0, want the client's session counted")
			}
		})
	}
}

// TestServerCAFile checks that the PEM file holds the certificate the
// server presents.
func TestServerCAFile(t *testing.T) {
	srv := smtptest.NewServer(t)
	pem, err := os.ReadFile(srv.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", srv.CAFile)
	}
	if err := send(t, srv, &tls.Config{RootCAs: pool}, viaStartTLS, srv.Username, srv.Password, "b@example.com"); err != nil {
		t.Fatalf("send trusting CAFile: %v", err)
	}
	if err := send(t, srv, &tls.Config{RootCAs: x509.NewCertPool()}, viaStartTLS, srv.Username, srv.Password, "b@example.com"); err == nil {
		t.Error("send trusting nothing succeeded, want a certificate error")
	}
}

// TestServerSetDataReply scripts DATA after start: the first is deferred,
// the second accepted.
func TestServerSetDataReply(t *testing.T) {
	srv := smtptest.NewServer(t)
	srv.SetDataReply(func(n int) error {
		if n == 1 {
			return smtptest.Reply(421, "busy")
		}
		return nil
	})
	for i, want := range []int{421, 0} {
		if got := code(send(t, srv, srv.ClientTLSConfig(), viaStartTLS, srv.Username, srv.Password, "b@example.com")); got != want {
			t.Errorf("send %d: code %d, want %d", i+1, got, want)
		}
	}
	if got := len(srv.Messages()); got != 1 {
		t.Errorf("%d messages, want 1", got)
	}
	if got := srv.DataCount(); got != 2 {
		t.Errorf("DataCount = %d, want 2", got)
	}
}
