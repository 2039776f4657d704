// Package email is the email channel: a rule's users, groups and emails
// are reached by one mail per address, through the connected SMTP server
// (send/smtp), else SES (send/ses, AWS mode), else the console (local
// mode). Rendering is send.RenderEmail, shared by the three providers.
//
// It imports the domain, the core send contract, the channel registry and
// send/smtp; the SES and console senders come in through Config.
package email

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/channel"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp"
)

// NoProvider is the skip reason when no SMTP server is connected and
// neither SES nor the console is configured.
const NoProvider = "no email provider configured"

// SMTPServers lists the connected SMTP servers (store.Integrations is one).
type SMTPServers interface {
	ListSMTP(ctx context.Context) ([]*notify.SMTP, error)
}

// Secrets reads a secret by reference (store.Secrets is one).
type Secrets interface {
	GetSecret(ctx context.Context, ref string) (string, error)
}

// Config says where the email channel finds its providers.
type Config struct {
	Servers SMTPServers
	Secrets Secrets
	// SES, if set, sends email when no SMTP server is connected, and when
	// the SMTP server fails permanently before any recipient is offered
	// (dial, TLS, AUTH or sender refused).
	SES send.Sender
	// Console, if set, receives email when neither SMTP nor SES is
	// available (local mode). Without it such email is skipped.
	Console     send.Sender
	SMTPOptions []smtp.Option
	// ReadTTL, if positive, is how long the SMTP list is reused before it
	// is read again; 0 reads it for every delivery.
	ReadTTL time.Duration
	// Now is the clock for ReadTTL (time.Now if nil).
	Now func() time.Time
}

// Spec returns the email channel for the registry.
func Spec(cfg Config) channel.Channel {
	return channel.Channel{
		Name:      notify.ChannelEmail,
		Field:     "emails",
		Via:       "email",
		Addresses: func(r notify.Recipients) []string { return r.Emails },
		Router:    NewRouter(cfg),
	}
}

// Router picks the email sender. It keeps the sender it built (and so the
// password it read) until the server's version changes. It is safe for
// concurrent use.
type Router struct {
	cfg     Config
	servers channel.Reader[[]*notify.SMTP]
	built   channel.Senders

	mu      sync.Mutex
	current *smtp.Sender // the last SMTP sender built, closed when another replaces it
}

// NewRouter returns the email channel's router.
func NewRouter(cfg Config) *Router {
	r := &Router{cfg: cfg}
	r.servers.TTL, r.servers.Now = cfg.ReadTTL, cfg.Now
	return r
}

// Sender returns the sender for email: the first connected SMTP server (by
// creation), falling back to SES when set; else SES; else the console;
// else a *send.Skip.
func (r *Router) Sender(ctx context.Context) (send.Sender, error) {
	servers, err := r.servers.Read(func() ([]*notify.SMTP, error) { return r.cfg.Servers.ListSMTP(ctx) })
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
			return nil, &send.Skip{Reason: NoProvider}
		}
	}
	s := slices.MinFunc(servers, func(a, b *notify.SMTP) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	key := fmt.Sprintf("%s@%d", s.ID, s.Version)
	if sender := r.built.Get(key); sender != nil {
		return sender, nil
	}
	password := ""
	if s.UseAuth && s.PasswordRef != "" {
		if password, err = r.cfg.Secrets.GetSecret(ctx, s.PasswordRef); err != nil {
			return nil, fmt.Errorf("route email: read the password of SMTP server %q: %w", s.Nickname, err)
		}
	}
	primary := smtp.New(*s, password, r.cfg.SMTPOptions...)
	r.mu.Lock()
	old := r.current
	r.current = primary
	r.mu.Unlock()
	if old != nil {
		// The server changed (or another became the first): its
		// sessions are no longer needed.
		_ = old.Close()
	}
	var sender send.Sender = primary
	if r.cfg.SES != nil {
		sender = &Fallback{Primary: sender, Secondary: r.cfg.SES, When: smtp.ConnectionFailed, Name: "SES", From: "SMTP"}
	}
	r.built.Put(key, sender)
	return sender, nil
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
