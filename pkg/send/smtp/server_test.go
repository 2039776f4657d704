package smtp_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// testCert is a self-signed certificate for 127.0.0.1 and the pool that
// trusts it.
type testCert struct {
	cert tls.Certificate
	pool *x509.CertPool
}

func newTestCert(t *testing.T) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "argo-notify test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return testCert{cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool: pool}
}

// received is a message the test server accepted.
type received struct {
	From string
	To   []string
	Data []byte
}

// server is an in-process SMTP server (emersion/go-smtp) that requires
// STARTTLS and AUTH PLAIN unless told otherwise, and whose replies to
// RCPT and DATA can be scripted.
type server struct {
	Addr string
	Port int

	mu       sync.Mutex
	user     string
	pass     string
	noTLS    bool // offer no STARTTLS
	noAuth   bool // require no AUTH
	rcpt     func(call int, to string) error
	data     func(call int) error
	rcpts    int
	datas    int
	sessions int
	msgs     []received
}

func startServer(t *testing.T, tc testCert, implicit bool, opts ...func(*server)) *server {
	t.Helper()
	s := &server{user: "alice", pass: "s3cret-pw"}
	for _, o := range opts {
		o(s)
	}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		s.mu.Lock()
		s.sessions++
		s.mu.Unlock()
		return &session{s: s, c: c}, nil
	}))
	srv.Domain = "test.local"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	if !s.noTLS {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{tc.cert}}
	}
	if s.noTLS && s.noAuth {
		srv.AllowInsecureAuth = true
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicit {
		l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{tc.cert}})
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	s.Addr = l.Addr().String()
	s.Port = l.Addr().(*net.TCPAddr).Port
	return s
}

func (s *server) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *server) sessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// config is an SMTP configuration for s.
func (s *server) config(mode string) notify.SMTP {
	return notify.SMTP{
		ID: "smtp_1", Nickname: "test", Host: "127.0.0.1", Port: s.Port, AdminAddress: "argo@example.com",
		TimeoutSeconds: 10, TLS: mode, UseAuth: !s.noAuth, Username: s.user,
	}
}

type session struct {
	s      *server
	c      *gosmtp.Conn
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.s.user || pass != ss.s.pass {
			return &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 8}, Message: "Authentication failed"}
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *gosmtp.MailOptions) error {
	if _, isTLS := ss.c.TLSConnectionState(); !isTLS && !ss.s.noTLS {
		return &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
	}
	if !ss.authed && !ss.s.noAuth {
		return &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	ss.s.mu.Lock()
	ss.s.rcpts++
	call, hook := ss.s.rcpts, ss.s.rcpt
	ss.s.mu.Unlock()
	if hook != nil {
		if err := hook(call, to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.datas++
	call, hook := ss.s.datas, ss.s.data
	ss.s.mu.Unlock()
	if hook != nil {
		if err := hook(call); err != nil {
			return err
		}
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, received{From: ss.from, To: ss.to, Data: bytes.Clone(b)})
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

func smtpErr(code int, msg string) error {
	return &gosmtp.SMTPError{Code: code, EnhancedCode: gosmtp.EnhancedCode{code / 100, 0, 0}, Message: msg}
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
