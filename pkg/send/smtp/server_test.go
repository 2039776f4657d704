package smtp_test

import (
	"net"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp/smtptest"
)

// startServer starts an smtptest server that requires STARTTLS (or, with
// implicit, implicit TLS) and AUTH PLAIN unless opts say otherwise.
func startServer(t *testing.T, implicit bool, opts ...smtptest.Option) *smtptest.Server {
	t.Helper()
	if implicit {
		opts = append(opts, smtptest.WithImplicitTLS())
	}
	return smtptest.NewServer(t, opts...)
}

// trusting is the smtp.Option that trusts srv's certificate.
func trusting(srv *smtptest.Server) smtp.Option {
	return smtp.WithTLSConfig(srv.ClientTLSConfig())
}

// config is an SMTP configuration for srv.
func config(srv *smtptest.Server, mode string) notify.SMTP {
	return notify.SMTP{
		ID: "smtp_1", Nickname: "test", Host: srv.Host, Port: srv.Port, AdminAddress: "argo@example.com",
		TimeoutSeconds: 10, TLS: mode, UseAuth: srv.RequireAuth, Username: srv.Username,
	}
}

// closedPort returns a 127.0.0.1 port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}
