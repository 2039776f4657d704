package api_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
	"github.com/slack-go/slack/slacktest"

	"github.com/argoproj-labs/argo-notify/pkg/api"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp"
)

// The credentials the test peers accept.
const (
	smtpUser     = "relay-user"
	smtpPassword = "smtp-pw-Zq81xVv"
	slackToken   = "xoxb-good-token-Hj27Lp"
)

// smtpServer is an in-process SMTP server (emersion/go-smtp) on 127.0.0.1
// that requires STARTTLS and AUTH PLAIN and keeps the messages it accepts.
type smtpServer struct {
	port  int
	roots *x509.CertPool

	mu   sync.Mutex
	msgs []smtpMessage
}

type smtpMessage struct {
	from string
	to   []string
	data []byte
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	cert, roots := testCert(t)
	s := &smtpServer{roots: roots}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		return &smtpSession{s: s, c: c}, nil
	}))
	srv.Domain = "test.local"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	s.port = l.Addr().(*net.TCPAddr).Port
	return s
}

// option is the smtp.Option that trusts the server's certificate.
func (s *smtpServer) option() func(*api.Config) {
	return func(c *api.Config) {
		c.SMTPOptions = append(c.SMTPOptions, smtp.WithTLSConfig(&tls.Config{RootCAs: s.roots}))
	}
}

func (s *smtpServer) messages() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage(nil), s.msgs...)
}

func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "argo-notify api test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
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
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

type smtpSession struct {
	s      *smtpServer
	c      *gosmtp.Conn
	authed bool
	from   string
	to     []string
}

func (ss *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != smtpUser || pass != smtpPassword {
			return &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 8}, Message: "Authentication failed"}
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *smtpSession) Mail(from string, _ *gosmtp.MailOptions) error {
	if _, isTLS := ss.c.TLSConnectionState(); !isTLS {
		return &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
	}
	if !ss.authed {
		return &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	ss.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, smtpMessage{from: ss.from, to: ss.to, data: bytes.Clone(b)})
	ss.s.mu.Unlock()
	return nil
}

func (ss *smtpSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *smtpSession) Logout() error { return nil }

// slackChannels are the channels of the fake workspace, archived ones
// included (conversations.list leaves them out).
var slackChannels = []map[string]any{
	{"id": "C001", "name": "alerts", "is_private": false, "is_member": true},
	{"id": "C002", "name": "deploys", "is_private": false, "is_member": false},
	{"id": "C003", "name": "old", "is_archived": true},
	{"id": "G004", "name": "sre-private", "is_private": true, "is_member": true},
}

// startSlack starts a slacktest workspace whose auth.test and
// conversations.list accept only slackToken, and returns an option that
// points the API at it.
func startSlack(t *testing.T) func(*api.Config) {
	t.Helper()
	srv := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/auth.test", func(w http.ResponseWriter, r *http.Request) {
			if bearer(r) != slackToken {
				writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
				return
			}
			writeJSON(w, map[string]any{"ok": true, "url": "https://acme.slack.com/", "team": "Acme", "user": "argo-bot",
				"team_id": "T0ACME", "user_id": "U0BOT", "bot_id": "B0BOT"})
		})
		c.Handle("/conversations.list", func(w http.ResponseWriter, r *http.Request) {
			if bearer(r) != slackToken {
				writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
				return
			}
			var live []map[string]any
			for _, ch := range slackChannels {
				if ch["is_archived"] != true {
					live = append(live, ch)
				}
			}
			start, _ := strconv.Atoi(r.PostFormValue("cursor"))
			limit, _ := strconv.Atoi(r.PostFormValue("limit"))
			start = min(start, len(live))
			end := min(start+limit, len(live))
			next := ""
			if end < len(live) {
				next = strconv.Itoa(end)
			}
			writeJSON(w, map[string]any{"ok": true, "channels": live[start:end], "response_metadata": map[string]any{"next_cursor": next}})
		})
	})
	srv.Start()
	t.Cleanup(srv.Stop)
	url := srv.GetAPIURL()
	return func(c *api.Config) { c.SlackAPIURL = url }
}

// bearer is the token of a Web API call, sent in the header or the form.
func bearer(r *http.Request) string {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return tok
	}
	return r.PostFormValue("token")
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
