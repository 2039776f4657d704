// Package route picks the sender for each channel from the connected
// integrations: email goes to the connected SMTP server, else SES (AWS
// mode), else the console (local mode); Slack goes to the connected
// workspace. It implements send.Router.
//
// It imports the store interfaces and the sender packages (send/smtp,
// send/slack); pkg/send itself must not import it.
package route

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/slack"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Skip reasons.
const (
	NoEmailProvider    = "no email provider configured"
	SlackNotConnected  = "Slack is not connected"
	unsupportedChannel = "unsupported channel"
)

// Config says where integrations are kept and which fixed senders exist.
type Config struct {
	Integrations store.Integrations
	Secrets      store.Secrets
	// SES, if set, sends email when no SMTP server is connected, and when
	// the SMTP server fails permanently before any recipient is offered
	// (dial, TLS, AUTH or sender refused).
	SES send.Sender
	// Console, if set, receives email when neither SMTP nor SES is
	// available (local mode). Without it such email is skipped.
	Console send.Sender
	// SlackAPIURL is the Slack Web API base ("" = https://slack.com/api/).
	SlackAPIURL  string
	SMTPOptions  []smtp.Option
	SlackOptions []slack.Option
	// ReadTTL, if positive, is how long the router reuses what it read of
	// the integrations (the SMTP list, the Slack workspace) before reading
	// them again. 0 reads them on every call, so a change takes effect at
	// once (local mode); the AWS dispatcher sets a few seconds, saving a
	// Query and a GetItem per delivery.
	ReadTTL time.Duration
	// Now is the clock for ReadTTL. Default: time.Now.
	Now func() time.Time
}

// Router implements send.Router. It reads the integrations on every call
// (or once per Config.ReadTTL), so connecting, changing or disconnecting one
// takes effect at once (or within ReadTTL), and keeps the senders it built
// (and so the secrets it read) until the integration's version changes. It
// is safe for concurrent use.
type Router struct {
	cfg Config

	mu    sync.Mutex
	email cached
	slack cached

	smtpRead  read[[]*notify.SMTP]
	slackRead read[*notify.Slack]
}

// read is the last successful read of an integration and when it was made.
type read[T any] struct {
	at  time.Time
	val T
	err error // only notify.ENotFound is kept
	ok  bool
}

// reread returns what get returns, reusing the last answer for ReadTTL.
// Only answers that are not errors (or are ENotFound) are reused.
func reread[T any](r *Router, c *read[T], get func() (T, error)) (T, error) {
	if r.cfg.ReadTTL > 0 {
		r.mu.Lock()
		if c.ok && r.cfg.Now().Sub(c.at) < r.cfg.ReadTTL {
			v, err := c.val, c.err
			r.mu.Unlock()
			return v, err
		}
		r.mu.Unlock()
	}
	v, err := get()
	if r.cfg.ReadTTL > 0 && (err == nil || notify.IsCode(err, notify.ENotFound)) {
		r.mu.Lock()
		*c = read[T]{at: r.cfg.Now(), val: v, err: err, ok: true}
		r.mu.Unlock()
	}
	return v, err
}

// cached is a sender built for one version of one integration.
type cached struct {
	key    string
	sender send.Sender
}

var _ send.Router = (*Router)(nil)

// New returns a Router for cfg.
func New(cfg Config) *Router {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Router{cfg: cfg}
}

// Sender returns the sender for ch, or a *send.Skip when nothing can serve
// it. Other errors (the store or the secret could not be read) are worth
// retrying.
func (r *Router) Sender(ctx context.Context, ch notify.Channel) (send.Sender, error) {
	switch ch {
	case notify.ChannelEmail:
		return r.emailSender(ctx)
	case notify.ChannelSlack:
		return r.slackSender(ctx)
	default:
		return nil, &send.Skip{Reason: fmt.Sprintf("%s %q", unsupportedChannel, ch)}
	}
}

func (r *Router) emailSender(ctx context.Context) (send.Sender, error) {
	servers, err := reread(r, &r.smtpRead, func() ([]*notify.SMTP, error) { return r.cfg.Integrations.ListSMTP(ctx) })
	if err != nil {
		return nil, fmt.Errorf("route email: list SMTP servers: %w", err)
	}
	if len(servers) == 0 {
		switch {
		case r.cfg.SES != nil:
			return r.cfg.SES, nil
		case r.cfg.Console != nil:
			return r.cfg.Console, nil
		default:
			return nil, &send.Skip{Reason: NoEmailProvider}
		}
	}
	s := slices.MinFunc(servers, func(a, b *notify.SMTP) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	key := fmt.Sprintf("%s@%d", s.ID, s.Version)
	if sender := r.lookup(&r.email, key); sender != nil {
		return sender, nil
	}
	password := ""
	if s.UseAuth && s.PasswordRef != "" {
		if password, err = r.cfg.Secrets.GetSecret(ctx, s.PasswordRef); err != nil {
			return nil, fmt.Errorf("route email: read the password of SMTP server %q: %w", s.Nickname, err)
		}
	}
	var sender send.Sender = smtp.New(*s, password, r.cfg.SMTPOptions...)
	if r.cfg.SES != nil {
		sender = &Fallback{Primary: sender, Secondary: r.cfg.SES, When: smtp.ConnectionFailed, Name: "SES", From: "SMTP"}
	}
	r.store(&r.email, key, sender)
	return sender, nil
}

func (r *Router) slackSender(ctx context.Context) (send.Sender, error) {
	ws, err := reread(r, &r.slackRead, func() (*notify.Slack, error) { return r.cfg.Integrations.GetSlack(ctx) })
	if notify.IsCode(err, notify.ENotFound) {
		return nil, &send.Skip{Reason: SlackNotConnected}
	}
	if err != nil {
		return nil, fmt.Errorf("route slack: read the workspace: %w", err)
	}
	key := fmt.Sprintf("%s@%d", ws.TeamID, ws.Version)
	if sender := r.lookup(&r.slack, key); sender != nil {
		return sender, nil
	}
	token, err := r.cfg.Secrets.GetSecret(ctx, ws.TokenRef)
	if err != nil {
		return nil, fmt.Errorf("route slack: read the bot token of workspace %q: %w", ws.Team, err)
	}
	sender := slack.New(token, r.cfg.SlackAPIURL, r.cfg.SlackOptions...)
	r.store(&r.slack, key, sender)
	return sender, nil
}

func (r *Router) lookup(c *cached, key string) send.Sender {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.key == key {
		return c.sender
	}
	return nil
}

func (r *Router) store(c *cached, key string, s send.Sender) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*c = cached{key: key, sender: s}
}

// Fallback sends through Primary and, when Primary fails permanently with
// an error When accepts, through Secondary, noting it in Result.Note.
type Fallback struct {
	Primary, Secondary send.Sender
	When               func(error) bool
	Name, From         string // for the note: "sent through <Name> after <From> failed: …"
}

// Send implements send.Sender.
func (f *Fallback) Send(ctx context.Context, n *send.Notification) (send.Result, error) {
	res, err := f.Primary.Send(ctx, n)
	if err == nil || !send.IsPermanent(err) || !f.When(err) {
		return res, err
	}
	res, err2 := f.Secondary.Send(ctx, n)
	if err2 != nil {
		return res, fmt.Errorf("%s after %s failed (%v): %w", f.Name, f.From, err, err2)
	}
	res.Note = fmt.Sprintf("sent through %s after %s failed: %v", f.Name, f.From, err)
	return res, nil
}
