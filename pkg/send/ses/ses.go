// Package ses sends email notifications through Amazon SES v2 (SendEmail),
// with the same rendered message as send/smtp.
//
// It imports the domain (pkg/notify, pkg/send) and the AWS SDK; it must not
// import other senders or the stores.
package ses

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/pace"
)

// MaxRecipients is the most recipients SES takes in one message.
const MaxRecipients = 50

// Retry delays asked of the queue for SES throttling. The SDK has already
// retried with its own backoff before the error reaches us.
const (
	// ThrottleDelay follows "Maximum sending rate exceeded" and
	// TooManyRequestsException.
	ThrottleDelay = 10 * time.Second
	// QuotaDelay follows "Daily message quota exceeded".
	QuotaDelay = time.Hour
	// LimitDelay follows any other LimitExceededException.
	LimitDelay = time.Minute
	// AccountDelay follows an account or setup error (AccountError): a
	// person must act, so the message comes back rarely, and after the
	// queue's receives waits in the dead-letter queue to be redriven.
	AccountDelay = 10 * time.Minute
	// QuotaTTL is how long the account's send rate read by GetAccount is
	// used before it is read again.
	QuotaTTL = 5 * time.Minute
	// SandboxRate is the send rate assumed until GetAccount answers (the
	// sandbox's): sending slowly is safe, being throttled is not.
	SandboxRate = 1.0
)

// QuotaReader is the part of the SES v2 client that reads the account's
// send quota (*sesv2.Client).
type QuotaReader interface {
	GetAccount(ctx context.Context, in *sesv2.GetAccountInput, opts ...func(*sesv2.Options)) (*sesv2.GetAccountOutput, error)
}

// AccountError is an SES refusal caused by the account's or the
// deployment's setup, not by the message: the sandbox (unverified
// recipient, AccessDenied on a recipient identity), an unverified sender
// or MAIL FROM domain, paused or suspended sending, a missing
// configuration set. Send returns it transient (after AccountDelay) so the
// notification is kept; the caller should count it for an alarm.
type AccountError struct {
	Err error
}

func (e *AccountError) Error() string { return "account or setup error: " + e.Err.Error() }
func (e *AccountError) Unwrap() error { return e.Err }

// Client is the part of the SES v2 client a Sender uses.
type Client interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// Config is the deployment's SES setup.
type Config struct {
	// From is the sender address, a verified SES identity, optionally
	// with a display name ("Argo <notify@example.com>"). Required.
	From string
	// ConfigurationSet is the SES configuration set to send with, if any.
	ConfigurationSet string
	// Quota, if set, is read (GetAccount, every QuotaTTL) for the
	// account's maximum send rate, and sends are paced to it divided by
	// Instances; without it sends are not paced.
	Quota QuotaReader
	// Instances is how many senders share the account's rate (the
	// dispatcher's maximum concurrency; default 1).
	Instances int
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Logger gets a warning when the quota cannot be read (sends are then
	// paced to the rate in use: SandboxRate at first). Default: none.
	Logger *slog.Logger
}

// Sender delivers email notifications through SES. It implements
// send.Sender.
type Sender struct {
	client Client
	from   string
	cfgSet string

	quota     QuotaReader
	log       *slog.Logger
	instances int
	now       func() time.Time
	pace      *pace.Limiter
	mu        sync.Mutex
	readAt    time.Time // when the rate was last read (zero: never)
}

var _ send.Sender = (*Sender)(nil)

// New returns a Sender, or EInvalid if cfg.From is not an address.
func New(client Client, cfg Config) (*Sender, error) {
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, notify.Invalid("from", "%q is not an email address", cfg.From)
	}
	s := &Sender{client: client, from: from.Address, cfgSet: cfg.ConfigurationSet,
		quota: cfg.Quota, instances: max(cfg.Instances, 1), now: cfg.Now, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.quota != nil {
		s.pace = pace.New(SandboxRate/float64(s.instances), s.now)
		// A send further than pace.MaxWait from its slot is put off (the
		// dispatcher puts the event back on the queue) instead of
		// keeping the function busy while it waits.
		s.pace.SetMaxWait(pace.MaxWait)
	}
	if from.Name != "" {
		s.from = from.String() // quotes and, if needed, encodes the name
	}
	return s, nil
}

// Send renders n with send.RenderEmail and sends it to the addresses in
// n.To, at most MaxRecipients per SES message (each message lists its
// recipients in To, as the SMTP sender does). The Result's MessageID is the
// SES message id (ids joined by commas when n.To needed several messages).
//
// Errors are *send.Error: permanent for a notification that is not email,
// a bad address, a MessageRejected for the message itself and other 4xx
// answers; transient with an *AccountError (after AccountDelay) for the
// sandbox, AccessDenied, an unverified sender or MAIL FROM domain, a
// suspended or paused account and a missing configuration set; transient
// (with RetryAfter) for throttling, quotas and pacing (a send slot past
// ctx's deadline); transient for everything else (network, 5xx). If a later message of several fails,
// the earlier ones were sent and a retry sends them again.
func (s *Sender) Send(ctx context.Context, n *send.Notification) (send.Result, error) {
	res := send.Result{Provider: "ses"}
	if err := check(n); err != nil {
		return res, send.Permanent(fmt.Errorf("ses: %w", err))
	}
	subject, text, html := send.RenderEmail(n)
	content := &types.EmailContent{Simple: &types.Message{
		Subject: &types.Content{Data: &subject, Charset: strPtr("UTF-8")},
		Body: &types.Body{
			Text: &types.Content{Data: &text, Charset: strPtr("UTF-8")},
			Html: &types.Content{Data: &html, Charset: strPtr("UTF-8")},
		},
		// SES replaces Message-ID with its own: the id derived from the
		// delivery, the same on every attempt, travels in its own header.
		Headers: []types.MessageHeader{{Name: strPtr(send.MessageIDHeader), Value: strPtr("<" + send.MessageID(n, send.DomainOf(s.from)) + ">")}},
	}}
	var ids []string
	for start := 0; start < len(n.To); start += MaxRecipients {
		to := n.To[start:min(start+MaxRecipients, len(n.To))]
		in := &sesv2.SendEmailInput{
			FromEmailAddress: &s.from,
			Destination:      &types.Destination{ToAddresses: to},
			Content:          content,
		}
		if s.cfgSet != "" {
			in.ConfigurationSetName = &s.cfgSet
		}
		if err := s.waitSlot(ctx, len(to)); err != nil {
			if len(ids) > 0 {
				res.MessageID = strings.Join(ids, ",")
				res.Note = fmt.Sprintf("%d of %d recipients were sent before pacing deferred the rest", start, len(n.To))
			}
			return res, fmt.Errorf("ses: %w", err)
		}
		out, err := s.client.SendEmail(ctx, in)
		if err != nil {
			err = classify(fmt.Errorf("ses: send to %d recipient(s): %w", len(to), err))
			if len(ids) > 0 {
				res.MessageID = strings.Join(ids, ",")
				res.Note = fmt.Sprintf("%d of %d recipients were sent before the failure", start, len(n.To))
			}
			return res, err
		}
		if out.MessageId != nil {
			ids = append(ids, *out.MessageId)
		}
	}
	res.MessageID = strings.Join(ids, ",")
	if len(ids) > 1 {
		res.Note = fmt.Sprintf("sent as %d SES messages of at most %d recipients", len(ids), MaxRecipients)
	}
	return res, nil
}

// waitSlot paces a send to n recipients (SES counts recipients against
// the send rate) to the account's rate, read again every QuotaTTL.
func (s *Sender) waitSlot(ctx context.Context, n int) error {
	if s.pace == nil {
		return nil
	}
	s.mu.Lock()
	stale := s.readAt.IsZero() || s.now().Sub(s.readAt) >= QuotaTTL
	if stale {
		s.readAt = s.now() // one reader; the others use the rate they have
	}
	s.mu.Unlock()
	if stale {
		// A failed read keeps the rate in use (SandboxRate at first).
		out, err := s.quota.GetAccount(ctx, &sesv2.GetAccountInput{})
		switch {
		case err != nil:
			s.log.WarnContext(ctx, "ses: cannot read the send quota; pacing to the rate in use", "err", err, "perSecond", s.pace.Rate())
		case out.SendQuota != nil && out.SendQuota.MaxSendRate > 0:
			s.pace.SetRate(out.SendQuota.MaxSendRate / float64(s.instances))
		}
	}
	return s.pace.Wait(ctx, n)
}

// Rate is the send rate this Sender paces to, in recipients a second (0:
// not paced).
func (s *Sender) Rate() float64 {
	if s.pace == nil {
		return 0
	}
	return s.pace.Rate()
}

// check refuses what SES cannot send: no event, not email, no or bad
// recipients.
func check(n *send.Notification) error {
	switch {
	case n == nil || n.Event == nil:
		return errors.New("no event to send")
	case n.Channel != "" && n.Channel != notify.ChannelEmail:
		return fmt.Errorf("channel %q is not email", n.Channel)
	case len(n.To) == 0:
		return errors.New("no recipients")
	}
	for _, a := range n.To {
		p, err := mail.ParseAddress(a)
		if err != nil || p.Name != "" || p.Address != a {
			return fmt.Errorf("bad recipient address %q", a)
		}
	}
	return nil
}

// classify wraps err as a permanent or transient *send.Error. Errors of the
// account's or the deployment's setup are transient *AccountError: only a
// person fixes them, and the notification must survive until then.
func classify(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		// Network errors, timeouts, a cancelled context: try again later.
		return send.Transient(err, 0)
	}
	msg := strings.ToLower(ae.ErrorMessage())
	account := func() error { return send.Transient(&AccountError{Err: err}, AccountDelay) }
	switch ae.ErrorCode() {
	case "TooManyRequestsException", "Throttling", "ThrottlingException":
		if strings.Contains(msg, "daily message quota") {
			return send.Transient(err, QuotaDelay)
		}
		return send.Transient(err, ThrottleDelay)
	case "LimitExceededException":
		switch {
		case strings.Contains(msg, "daily message quota"):
			return send.Transient(err, QuotaDelay)
		case strings.Contains(msg, "maximum sending rate"):
			return send.Transient(err, ThrottleDelay)
		}
		return send.Transient(err, LimitDelay)
	case "MessageRejected":
		// In the sandbox: "Email address is not verified. The following
		// identities failed the check …" (a recipient or the sender).
		if strings.Contains(msg, "not verified") || strings.Contains(msg, "sandbox") || strings.Contains(msg, "paused") {
			return account()
		}
		return send.Permanent(err)
	case "AccessDeniedException", "AccessDenied", "NotAuthorizedException",
		"MailFromDomainNotVerifiedException", "MailFromDomainNotVerified",
		"AccountSuspendedException", "SendingPausedException", "NotFoundException",
		"ConfigurationSetDoesNotExistException", "ConfigurationSetSendingPausedException":
		// A missing configuration set (NotFound) is the stack's setup too.
		return account()
	case "BadRequestException", "InvalidParameterValue":
		return send.Permanent(err)
	case "InternalServiceErrorException", "InternalFailure", "ServiceUnavailable":
		return send.Transient(err, 0)
	}
	if strings.Contains(msg, "maximum sending rate exceeded") {
		return send.Transient(err, ThrottleDelay)
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		switch st := re.HTTPStatusCode(); {
		case st == http.StatusForbidden || st == http.StatusUnauthorized:
			return account()
		case st >= 400 && st < 500 && st != http.StatusTooManyRequests && st != http.StatusRequestTimeout:
			// Unknown client errors: the message will not get better.
			return send.Permanent(err)
		}
	}
	return send.Transient(err, 0)
}

func strPtr(s string) *string { return &s }
