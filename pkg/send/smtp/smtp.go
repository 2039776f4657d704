// Package smtp sends notifications by email through an SMTP server, using
// github.com/wneessen/go-mail to build the message and speak the protocol.
// It reports each step of a connection (dial, TLS, auth, send) so that an
// administrator can test a server before saving it.
//
// It imports pkg/notify and pkg/send only; it knows nothing of the store,
// the queue or other senders.
package smtp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/oklog/ulid/v2"
	mail "github.com/wneessen/go-mail"
	gsmtp "github.com/wneessen/go-mail/smtp"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// Provider is the provider name in send.Result.
const Provider = "smtp"

// The steps of an SMTP exchange, as Test reports them and Error.Step names them.
const (
	StepDial = "dial" // TCP connect, greeting and EHLO
	StepTLS  = "tls"  // STARTTLS or implicit TLS handshake
	StepAuth = "auth" // SMTP AUTH (PLAIN or LOGIN)
	StepSend = "send" // MAIL FROM, RCPT TO, DATA
)

// defaultTimeout applies when the configuration has no timeout.
const defaultTimeout = 10 * time.Second

// Option configures a Sender or a Test.
type Option func(*options)

type options struct {
	tlsConfig *tls.Config
	helo      string
	now       func() time.Time

	poolSet     bool
	poolSize    int
	idleTimeout time.Duration
}

// WithTLSConfig sets the TLS configuration used for STARTTLS and implicit
// TLS (for example RootCAs that trust a test server's certificate).
// ServerName defaults to the configured host and MinVersion to TLS 1.2.
func WithTLSConfig(c *tls.Config) Option { return func(o *options) { o.tlsConfig = c } }

// WithHelo sets the name sent with EHLO (default: the host name of this
// machine, or "localhost").
func WithHelo(name string) Option { return func(o *options) { o.helo = name } }

// WithClock sets the clock used for the Date header (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

func newOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.now == nil {
		o.now = time.Now
	}
	if !o.poolSet {
		o.poolSize, o.idleTimeout = defaultPoolSize, defaultIdleTimeout
	}
	if o.helo == "" {
		o.helo = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
			o.helo = h
		}
	}
	return o
}

// Sender delivers notifications through one SMTP server. It keeps a few
// sessions open (see WithPool) and sends several messages on each, so the
// TLS and AUTH handshakes are paid once per session, not per message. It
// is safe for concurrent use; Close ends its sessions.
type Sender struct {
	cfg      notify.SMTP
	password string
	opts     options
	pool     *pool // nil: one session per message
}

// New returns a Sender for the server cfg, authenticating with password
// when cfg.UseAuth is set. Unset port, timeout and TLS mode take their
// defaults.
func New(cfg notify.SMTP, password string, opts ...Option) *Sender {
	cfg.Defaults()
	s := &Sender{cfg: cfg, password: password, opts: newOptions(opts)}
	if s.opts.poolSize > 0 && s.opts.idleTimeout > 0 {
		s.pool = newPool(s.opts.poolSize, s.opts.idleTimeout, func(ctx context.Context) (*session, error) {
			return dial(ctx, s.cfg, s.password, s.opts, nil)
		})
	}
	return s
}

// Close closes the Sender's idle sessions now and those in use when their
// message is done. A Send after Close opens a session for its message
// alone.
func (s *Sender) Close() error {
	if s.pool != nil {
		s.pool.close()
	}
	return nil
}

// Send mails n to the addresses in n.To (the dispatcher passes one) as one
// multipart text + HTML message from the admin address. The result's
// MessageID is the message's Message-ID (without angle brackets).
//
// Errors are *send.Error wrapping *Error: SMTP 4xx replies, timeouts and
// refused or dropped connections are transient; 5xx replies, TLS and
// certificate failures, unknown hosts, invalid addresses and servers that
// lack STARTTLS or AUTH are permanent.
func (s *Sender) Send(ctx context.Context, n *send.Notification) (send.Result, error) {
	msg, id, err := s.message(n)
	if err != nil {
		return send.Result{}, err
	}
	if s.pool == nil {
		sess, err := dial(ctx, s.cfg, s.password, s.opts, nil)
		if err != nil {
			return send.Result{}, err
		}
		defer sess.close()
		if _, err := sess.send(ctx, msg); err != nil {
			return send.Result{}, err
		}
		return send.Result{Provider: Provider, MessageID: id}, nil
	}
	for attempt := 0; ; attempt++ {
		sess, err := s.pool.get(ctx)
		if err != nil {
			return send.Result{}, err
		}
		_, err = sess.send(ctx, msg)
		s.pool.put(sess, err)
		if err == nil {
			return send.Result{Provider: Provider, MessageID: id}, nil
		}
		// A reused session the server dropped or closed (421) before
		// the message was complete: the message was not accepted, so it
		// goes once more on a new session.
		if attempt > 0 || !retryFresh(err, sess.reused) {
			return send.Result{}, err
		}
	}
}

// message builds the mail for n and returns it with its Message-ID.
func (s *Sender) message(n *send.Notification) (*mail.Msg, string, error) {
	if n == nil || n.Event == nil {
		return nil, "", send.Permanent(&Error{Step: StepSend, Err: errors.New("notification has no event")})
	}
	subject, text, html := send.RenderEmail(n)
	return buildMessage(s.cfg, s.opts, n.To, subject, text, html, send.MessageID(n, send.DomainOf(s.cfg.AdminAddress)))
}

// buildMessage makes a multipart/alternative mail from cfg.AdminAddress to
// to, with Message-ID id (a fresh one if empty). A bad address is a
// permanent error.
func buildMessage(cfg notify.SMTP, o options, to []string, subject, text, html, id string) (*mail.Msg, string, error) {
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.FromFormat("Argo Notify", cfg.AdminAddress); err != nil {
		return nil, "", send.Permanent(&Error{Step: StepSend, Connection: true,
			Err: fmt.Errorf("admin address %q: %w", cfg.AdminAddress, err)})
	}
	if len(to) == 0 {
		return nil, "", send.Permanent(&Error{Step: StepSend, Err: errors.New("no recipient")})
	}
	for _, addr := range to {
		if !notify.ValidEmail(addr) {
			return nil, "", send.Permanent(&Error{Step: StepSend, Err: fmt.Errorf("invalid recipient address %q", addr)})
		}
	}
	if err := msg.To(to...); err != nil {
		return nil, "", send.Permanent(&Error{Step: StepSend, Err: fmt.Errorf("recipient: %w", err)})
	}
	msg.Subject(subject)
	msg.SetDateWithValue(o.now())
	if id == "" {
		id = newMessageID(cfg.AdminAddress)
	}
	msg.SetMessageIDWithValue(id)
	msg.SetGenHeader(mail.HeaderXMailer, "argo-notify")
	msg.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(mail.TypeTextPlain, text)
	if html != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, html)
	}
	return msg, id, nil
}

// Error is a failed SMTP exchange: the step it failed at, the server's
// reply if there was one, and the cause.
type Error struct {
	Step string // StepDial, StepTLS, StepAuth or StepSend
	// Connection is true when the failure is not about the message or its
	// recipient: the server could not be reached, TLS or AUTH failed, or
	// the sender was refused (MAIL FROM).
	Connection bool
	Code       int    // the SMTP reply code, 0 if the server did not answer
	Reply      string // the server's reply ("550 5.1.1 no such user"), "" if none
	Err        error
}

// Error implements error.
func (e *Error) Error() string { return "smtp " + e.Step + ": " + e.Err.Error() }

// OutcomeUnknown reports whether the whole message was sent and the
// connection failed before the server's final reply: the server may have
// accepted it, and a retry may deliver it twice (with the same Message-ID).
func (e *Error) OutcomeUnknown() bool {
	var u *unknownOutcome
	return errors.As(e.Err, &u)
}

// unknownOutcome marks a failure after the message's final dot, before the
// server's reply.
type unknownOutcome struct{ err error }

func (u *unknownOutcome) Error() string {
	return "no reply after the message was sent (the server may have accepted it): " + u.err.Error()
}

func (u *unknownOutcome) Unwrap() error { return u.err }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ConnectionFailed reports whether err is an SMTP failure that has nothing
// to do with the recipient (dial, TLS, AUTH or sender refused), so another
// provider may succeed where this server failed.
func ConnectionFailed(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Connection
}

// replyError is a refusal by the server, shown as its reply.
type replyError struct {
	reply string
	err   *textproto.Error
}

func (e *replyError) Error() string { return "server replied " + e.reply }
func (e *replyError) Unwrap() error { return e.err }

// asReply turns a bare server reply error into a *replyError.
func asReply(err error) error {
	if tp, ok := err.(*textproto.Error); ok {
		return &replyError{reply: strconv.Itoa(tp.Code) + " " + strings.ReplaceAll(tp.Msg, "\n", " "), err: tp}
	}
	return err
}

// configError is a failure of the configuration or of what the server
// offers: retrying will not help.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

// session is an open, possibly authenticated SMTP connection.
type session struct {
	c      *gsmtp.Client
	conn   net.Conn
	stop   func() bool
	secure bool
	cfg    notify.SMTP
	o      options
}

// dial connects, secures and authenticates as cfg says, calling record
// after each step that succeeded. Errors are *send.Error wrapping *Error.
func dial(ctx context.Context, cfg notify.SMTP, password string, o options, record func(Step)) (*session, error) {
	if record == nil {
		record = func(Step) {}
	}
	timeout := time.Duration(cfg.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	tlsCfg := tlsConfig(cfg, o)

	if cfg.UseAuth && cfg.TLS == notify.TLSNone {
		// Refuse before connecting: credentials never cross an
		// unencrypted connection.
		return nil, fail(ctx, StepAuth, &configError{"refusing to send credentials without TLS (tls is \"none\"): choose starttls or tls"})
	}

	// The address actually dialled is checked, after name resolution: a
	// host name that resolves to a link-local or metadata address is
	// refused like the address itself.
	d := net.Dialer{Timeout: timeout, Control: refuseLinkLocal}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fail(ctx, StepDial, err)
	}
	s := &session{conn: conn, cfg: cfg, o: o}
	// Cancelling ctx unblocks any read or write in progress.
	s.stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	deadline := func() { _ = s.conn.SetDeadline(time.Now().Add(timeout)) }
	deadline()
	failed := func(step string, err error) (*session, error) {
		s.close()
		return nil, fail(ctx, step, err)
	}

	step := StepDial
	if cfg.TLS == notify.TLSImplicit {
		record(Step{Name: StepDial, OK: true, Detail: "connected to " + addr})
		step = StepTLS
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return failed(step, err)
		}
		s.conn, s.secure = tc, true
	}
	c, err := gsmtp.NewClient(s.conn, cfg.Host)
	if err != nil {
		// Whatever the peer sent instead of an SMTP greeting is not
		// echoed: it may be another service's banner.
		var tp *textproto.Error
		if errors.As(err, &tp) {
			// The code says whether to retry or fall back; its text stays out.
			return failed(step, &textproto.Error{Code: tp.Code, Msg: "the server refused the connection (its greeting is not shown)"})
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return failed(step, err)
		}
		var ne net.Error
		if errors.As(err, &ne) {
			return failed(step, err)
		}
		return failed(step, errors.New("the server did not answer with an SMTP greeting"))
	}
	s.c = c
	if err := c.Hello(o.helo); err != nil {
		return failed(step, err)
	}
	switch cfg.TLS {
	case notify.TLSImplicit:
		record(Step{Name: StepTLS, OK: true, Detail: "implicit TLS, " + tlsVersion(s.conn)})
	case notify.TLSNone:
		record(Step{Name: StepDial, OK: true, Detail: "connected to " + addr})
		record(Step{Name: StepTLS, OK: true, Detail: "not used (tls is \"none\")"})
	default:
		record(Step{Name: StepDial, OK: true, Detail: "connected to " + addr})
		deadline()
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return failed(StepTLS, &configError{"the server does not offer STARTTLS (choose tls for port 465, or none for a server on a trusted network)"})
		}
		if err := c.StartTLS(tlsCfg); err != nil {
			return failed(StepTLS, err)
		}
		s.secure = true
		st, _ := c.TLSConnectionState()
		record(Step{Name: StepTLS, OK: true, Detail: "STARTTLS, " + tls.VersionName(st.Version)})
	}

	if !cfg.UseAuth {
		record(Step{Name: StepAuth, OK: true, Detail: "not used"})
		return s, nil
	}
	deadline()
	ok, mechs := c.Extension("AUTH")
	if !ok {
		return failed(StepAuth, &configError{"the server does not offer AUTH: turn useAuth off, or check the port"})
	}
	var auth gsmtp.Auth
	mech := ""
	switch offered := strings.Fields(strings.ToUpper(mechs)); {
	case contains(offered, "PLAIN"):
		mech, auth = "PLAIN", gsmtp.PlainAuth("", cfg.Username, password, cfg.Host, false)
	case contains(offered, "LOGIN"):
		mech, auth = "LOGIN", gsmtp.LoginAuth(cfg.Username, password, cfg.Host, false)
	default:
		return failed(StepAuth, &configError{"the server offers neither PLAIN nor LOGIN AUTH (it offers " + mechs + ")"})
	}
	if err := c.Auth(auth); err != nil {
		return failed(StepAuth, err)
	}
	record(Step{Name: StepAuth, OK: true, Detail: mech + " as " + cfg.Username})
	return s, nil
}

// send offers msg to the server and returns the server's final reply.
func (s *session) send(ctx context.Context, msg *mail.Msg) (string, error) {
	// Cancelling ctx unblocks any read or write in progress.
	stop := context.AfterFunc(ctx, func() { _ = s.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	_ = s.conn.SetDeadline(time.Now().Add(s.timeout()))
	from, err := msg.GetSender(false)
	if err != nil {
		return "", fail(ctx, StepSend, err)
	}
	rcpts, err := msg.GetRecipients()
	if err != nil {
		return "", fail(ctx, StepSend, err)
	}
	if err := s.c.Mail(from); err != nil {
		return "", failConn(ctx, StepSend, err, true)
	}
	for _, r := range rcpts {
		if err := s.c.Rcpt(r); err != nil {
			return "", fail(ctx, StepSend, fmt.Errorf("recipient %s: %w", r, asReply(err)))
		}
	}
	w, err := s.c.Data()
	if err != nil {
		return "", fail(ctx, StepSend, err)
	}
	if _, err := msg.WriteTo(w); err != nil {
		_ = w.Close()
		return "", fail(ctx, StepSend, err)
	}
	if err := w.Close(); err != nil {
		var tp *textproto.Error
		if !errors.As(err, &tp) {
			// The whole message went out and no final reply came back
			// (the connection dropped or timed out): the server may have
			// accepted it.
			err = &unknownOutcome{err}
		}
		return "", fail(ctx, StepSend, err)
	}
	reply := ""
	if dc, ok := w.(*gsmtp.DataCloser); ok {
		reply = dc.ServerResponse()
	}
	return reply, nil
}

// timeout is the deadline of each exchange.
func (s *session) timeout() time.Duration {
	if t := time.Duration(s.cfg.TimeoutSeconds) * time.Second; t > 0 {
		return t
	}
	return defaultTimeout
}

// close ends the session politely (QUIT) and releases the connection.
func (s *session) close() {
	if s.c != nil {
		_ = s.c.Quit()
		_ = s.c.Close()
	} else {
		_ = s.conn.Close()
	}
	if s.stop != nil {
		s.stop()
	}
}

func tlsConfig(cfg notify.SMTP, o options) *tls.Config {
	var c *tls.Config
	if o.tlsConfig != nil {
		c = o.tlsConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		c.ServerName = cfg.Host
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

func tlsVersion(c net.Conn) string {
	if tc, ok := c.(*tls.Conn); ok {
		return tls.VersionName(tc.ConnectionState().Version)
	}
	return "no TLS"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fail classifies err, which happened at step, as a permanent or transient
// *send.Error wrapping *Error. Steps before the message are connection
// failures.
func fail(ctx context.Context, step string, err error) error {
	return failConn(ctx, step, err, step != StepSend)
}

func failConn(ctx context.Context, step string, err error, conn bool) error {
	e := &Error{Step: step, Connection: conn, Err: err}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		e.Code = tp.Code
		e.Reply = strconv.Itoa(tp.Code) + " " + strings.ReplaceAll(tp.Msg, "\n", " ")
		e.Err = asReply(err)
	}
	if ctx.Err() != nil {
		e.Err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		return send.Transient(e, 0)
	}
	if permanent(err) {
		return send.Permanent(e)
	}
	return send.Transient(e, 0)
}

// permanent reports whether retrying err later is pointless.
func permanent(err error) bool {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code >= 500
	}
	var ce *configError
	if errors.As(err, &ce) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsNotFound
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return false
	}
	var (
		certErr    *tls.CertificateVerificationError
		alertErr   tls.AlertError
		recordErr  tls.RecordHeaderError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
	)
	if errors.As(err, &certErr) || errors.As(err, &alertErr) || errors.As(err, &recordErr) ||
		errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalidErr) ||
		errors.Is(err, gsmtp.ErrUnencrypted) || errors.Is(err, gsmtp.ErrWrongHostname) {
		return true
	}
	return false
}

// errLinkLocal refuses an address no SMTP server of ours lives at, which
// an administrator's SMTP test could otherwise probe: link-local (which
// includes the cloud metadata service at 169.254.169.254) and
// multicast addresses.
var errLinkLocal = &configError{"refusing to connect to a link-local, cloud metadata or multicast address"}

// refuseLinkLocal is a net.Dialer Control that refuses errLinkLocal's
// addresses.
func refuseLinkLocal(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	ip = ip.Unmap()
	if ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() ||
		ip == netip.MustParseAddr("fd00:ec2::254") {
		return errLinkLocal
	}
	return nil
}

// newMessageID returns a unique Message-ID (without angle brackets) in the
// domain of the admin address.
func newMessageID(admin string) string {
	domain := "argo-notify.invalid"
	if i := strings.LastIndexByte(admin, '@'); i >= 0 && i+1 < len(admin) {
		domain = admin[i+1:]
	}
	return strings.ToLower(ulid.Make().String()) + "@" + domain
}
