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
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
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
)

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
}

// Sender delivers email notifications through SES. It implements
// send.Sender.
type Sender struct {
	client Client
	from   string
	cfgSet string
}

var _ send.Sender = (*Sender)(nil)

// New returns a Sender, or EInvalid if cfg.From is not an address.
func New(client Client, cfg Config) (*Sender, error) {
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, notify.Invalid("from", "%q is not an email address", cfg.From)
	}
	s := &Sender{client: client, from: from.Address, cfgSet: cfg.ConfigurationSet}
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
// a bad address, MessageRejected, an unverified MAIL FROM domain, a
// suspended or paused account, a missing configuration set and other 4xx
// answers; transient (with RetryAfter) for throttling and quotas; transient
// for everything else (network, 5xx). If a later message of several fails,
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

// classify wraps err as a permanent or transient *send.Error.
func classify(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		// Network errors, timeouts, a cancelled context: try again later.
		return send.Transient(err, 0)
	}
	msg := strings.ToLower(ae.ErrorMessage())
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
	case "MessageRejected", "MailFromDomainNotVerifiedException", "MailFromDomainNotVerified",
		"AccountSuspendedException", "SendingPausedException", "BadRequestException",
		"NotFoundException", "InvalidParameterValue":
		return send.Permanent(err)
	case "InternalServiceErrorException", "InternalFailure", "ServiceUnavailable":
		return send.Transient(err, 0)
	}
	if strings.Contains(msg, "maximum sending rate exceeded") {
		return send.Transient(err, ThrottleDelay)
	}
	// Unknown codes: a client error will not get better by retrying.
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		if st := re.HTTPStatusCode(); st >= 400 && st < 500 && st != http.StatusTooManyRequests && st != http.StatusRequestTimeout {
			return send.Permanent(err)
		}
	}
	return send.Transient(err, 0)
}

func strPtr(s string) *string { return &s }
