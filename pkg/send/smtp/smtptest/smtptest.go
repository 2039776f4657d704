// Package smtptest provides an in-process SMTP server for tests, in the
// spirit of net/http/httptest: a github.com/emersion/go-smtp server on
// 127.0.0.1 with a self-signed certificate, STARTTLS (or implicit TLS, or
// none), AUTH PLAIN, scripted RCPT and DATA replies, and a record of the
// messages it accepted.
//
// It is test support only: it imports the standard library, go-smtp and
// go-sasl, and none of argo-notify's packages, so that any package's tests
// can use it.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// Message is a message the server accepted.
type Message struct {
	From     string    // envelope sender (MAIL FROM)
	To       []string  // envelope recipients (RCPT TO), as the client sent them
	Data     []byte    // the raw message (DATA)
	Received time.Time // when the server accepted it
}

// Server is an in-process SMTP server on 127.0.0.1. Unless told otherwise
// by an Option it offers STARTTLS and requires it, and requires AUTH PLAIN
// with Username and Password, before it accepts MAIL. It stops when the
// test that started it ends.
type Server struct {
	Addr string // host:port the server listens on
	Host string // "127.0.0.1"
	Port int

	Username string // the user AUTH PLAIN accepts
	Password string // the password AUTH PLAIN accepts

	// RequireAuth says whether the server demands AUTH before MAIL
	// (false with WithoutAuth).
	RequireAuth bool

	// RootCAs trusts the server's self-signed certificate.
	RootCAs *x509.CertPool
	// CAFile is the path of a PEM file holding the server's certificate,
	// for code that is told what to trust by a file.
	CAFile string

	opts options
	mu   sync.Mutex
	// The following are guarded by mu.
	rcpt     func(n int, to string) error
	data     func(n int) error
	rcpts    int
	datas    int
	sessions int
	open     int
	live     map[*session]struct{}
	msgs     []Message
}

// options are what Option functions set.
type options struct {
	user, pass    string
	implicitTLS   bool
	noTLS         bool
	noAuth        bool
	maxRecipients int
	rcpt          func(n int, to string) error
	data          func(n int) error
}

// Option changes how NewServer sets a Server up.
type Option func(*options)

// WithImplicitTLS makes the server speak TLS from the first byte (port
// 465 style) instead of offering STARTTLS.
func WithImplicitTLS() Option { return func(o *options) { o.implicitTLS = true } }

// WithoutTLS makes the server offer no STARTTLS and accept MAIL on a
// plain connection.
func WithoutTLS() Option { return func(o *options) { o.noTLS = true } }

// WithoutAuth makes the server accept MAIL without AUTH (it still offers
// AUTH PLAIN).
func WithoutAuth() Option { return func(o *options) { o.noAuth = true } }

// WithAuth sets the user and password AUTH PLAIN accepts; by default they
// are "argo" and a random password.
func WithAuth(user, password string) Option {
	return func(o *options) { o.user, o.pass = user, password }
}

// WithMaxRecipients makes the server advertise LIMITS RCPTMAX=n and
// refuse recipients beyond n in one transaction (452). By default there is
// no limit.
func WithMaxRecipients(n int) Option { return func(o *options) { o.maxRecipients = n } }

// WithRcptReply scripts the replies to RCPT; see Server.SetRcptReply.
func WithRcptReply(f func(n int, to string) error) Option {
	return func(o *options) { o.rcpt = f }
}

// WithDataReply scripts the replies to DATA; see Server.SetDataReply.
func WithDataReply(f func(n int) error) Option {
	return func(o *options) { o.data = f }
}

// Reply is an SMTP reply with code and message, for scripts to return:
// Reply(421, "try later") defers, Reply(550, "no such user") rejects. Its
// enhanced code is code/100.0.0.
func Reply(code int, message string) *gosmtp.SMTPError {
	return &gosmtp.SMTPError{Code: code, EnhancedCode: gosmtp.EnhancedCode{code / 100, 0, 0}, Message: message}
}

// NewServer starts a Server and stops it when t ends. It fails t if it
// cannot.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	o := options{user: "argo", pass: "smtptest-" + randomHex(t, 8)}
	for _, opt := range opts {
		opt(&o)
	}
	cert, pool, caFile := newCert(t)
	s := &Server{
		Host: "127.0.0.1", Username: o.user, Password: o.pass, RequireAuth: !o.noAuth,
		RootCAs: pool, CAFile: caFile, opts: o, rcpt: o.rcpt, data: o.data,
	}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		s.mu.Lock()
		ss := &session{s: s, c: c}
		s.sessions++
		s.open++
		if s.live == nil {
			s.live = map[*session]struct{}{}
		}
		s.live[ss] = struct{}{}
		s.mu.Unlock()
		return ss, nil
	}))
	srv.Domain = "test.local"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxRecipients = o.maxRecipients
	if !o.noTLS {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	if o.noTLS && o.noAuth {
		srv.AllowInsecureAuth = true
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	if o.implicitTLS {
		l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}})
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	s.Addr = l.Addr().String()
	s.Port = l.Addr().(*net.TCPAddr).Port
	return s
}

// ClientTLSConfig is a client TLS configuration that trusts the server.
func (s *Server) ClientTLSConfig() *tls.Config { return &tls.Config{RootCAs: s.RootCAs} }

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// SessionCount is how many SMTP sessions the server has begun: one for
// each connection and another after each STARTTLS. Zero means no client
// has reached the server.
func (s *Server) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// OpenCount is how many SMTP sessions are open now: begun and not yet
// ended by QUIT, a dropped connection or STARTTLS (which begins another).
func (s *Server) OpenCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open
}

// DropConnections closes every open connection without a word, as a
// server that restarts or a network that drops idle connections does.
func (s *Server) DropConnections() {
	s.mu.Lock()
	var conns []net.Conn
	for ss := range s.live {
		conns = append(conns, ss.c.Conn())
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// DataCount is how many DATA commands the server has answered, accepted or
// not.
func (s *Server) DataCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.datas
}

// SetRcptReply scripts the replies to RCPT: f is called with n, counting
// RCPT commands over all sessions from 1, and the recipient; a non-nil
// error (such as a Reply) is the server's answer, nil accepts. A nil f
// accepts every recipient.
func (s *Server) SetRcptReply(f func(n int, to string) error) {
	s.mu.Lock()
	s.rcpt = f
	s.mu.Unlock()
}

// SetDataReply scripts the replies to DATA: f is called with n, counting
// DATA commands over all sessions from 1, after the message is read; a
// non-nil error (such as a Reply) is the server's answer and the message is
// not recorded, nil accepts. A nil f accepts every message.
func (s *Server) SetDataReply(f func(n int) error) {
	s.mu.Lock()
	s.data = f
	s.mu.Unlock()
}

// session is one SMTP connection.
type session struct {
	s      *Server
	c      *gosmtp.Conn
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.s.Username || pass != ss.s.Password {
			return &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 8}, Message: "Authentication failed"}
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *gosmtp.MailOptions) error {
	if _, isTLS := ss.c.TLSConnectionState(); !isTLS && !ss.s.opts.noTLS {
		return &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
	}
	if !ss.authed && !ss.s.opts.noAuth {
		return &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	ss.s.mu.Lock()
	ss.s.rcpts++
	n, script := ss.s.rcpts, ss.s.rcpt
	ss.s.mu.Unlock()
	if script != nil {
		if err := script(n, to); err != nil {
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
	n, script := ss.s.datas, ss.s.data
	ss.s.mu.Unlock()
	var serr error
	if script != nil {
		serr = script(n)
	}
	if serr != nil && !errors.Is(serr, ErrAcceptThenDrop) {
		if errors.Is(serr, ErrDropBeforeReply) {
			_ = ss.c.Conn().Close()
		}
		return serr
	}
	m := Message{From: ss.from, To: append([]string(nil), ss.to...), Data: bytes.Clone(b), Received: time.Now()}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, m)
	ss.s.mu.Unlock()
	if serr != nil {
		_ = ss.c.Conn().Close()
		return serr
	}
	return nil
}

// Errors a DATA script returns to make the server die mid-DATA.
var (
	// ErrDropBeforeReply: the server reads the message, keeps nothing and
	// closes the connection without a reply — it died before the final 250.
	ErrDropBeforeReply = errors.New("smtptest: connection dropped before the final reply")
	// ErrAcceptThenDrop: the server keeps the message, then closes the
	// connection without a reply — it accepted the mail but died before
	// its 250 reached the client.
	ErrAcceptThenDrop = errors.New("smtptest: message kept, connection dropped before the final reply")
)

func (ss *session) Reset() { ss.from, ss.to = "", nil }
func (ss *session) Logout() error {
	ss.s.mu.Lock()
	ss.s.open--
	delete(ss.s.live, ss)
	ss.s.mu.Unlock()
	return nil
}

// newCert makes a self-signed CA certificate for 127.0.0.1 and localhost
// and returns it, a pool that trusts it and the path of a PEM file holding
// it (in t.TempDir()).
func newCert(t testing.TB) (tls.Certificate, *x509.CertPool, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("smtptest: generate key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatalf("smtptest: serial number: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "argo-notify smtptest"},
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
		t.Fatalf("smtptest: create certificate: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("smtptest: parse certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	path := filepath.Join(t.TempDir(), "smtptest-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatalf("smtptest: write CA file: %v", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, path
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("smtptest: random: %v", err)
	}
	return hex.EncodeToString(b)
}
