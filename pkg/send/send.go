// Package send declares what a notification, a sender and a send failure
// are, and renders email (shared by the email providers). Each channel is
// a subpackage that owns its rendering and sending (send/email with
// send/smtp, send/ses and send/console; send/slack; send/webhook), and
// package channel is their registry, built by send/route.
//
// It imports only the domain and the standard library: no provider SDK.
package send

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// RuleRef names a rule that matched, for the message to say why it was sent.
type RuleRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Notification is one message to send: an event, the rules that matched it
// for these recipients, and where it goes. For email, To holds one or more
// addresses (the dispatcher sends one mail per address); for Slack, To holds
// one channel id; for a webhook, its id.
type Notification struct {
	Event   *notify.Event
	Rules   []RuleRef
	Channel notify.Channel
	To      []string
}

// Result is what a provider said of an accepted message.
type Result struct {
	Provider  string // smtp, ses, console, slack
	MessageID string // the provider's id (SMTP Message-ID, SES MessageId, Slack ts)
	Note      string // e.g. "SMTP failed permanently, sent through SES"
}

// Sender delivers a notification.
type Sender interface {
	Send(ctx context.Context, n *Notification) (Result, error)
}

// Error is a failed send. Permanent failures are recorded and not retried;
// others are retried through the queue, no sooner than RetryAfter if set.
type Error struct {
	Permanent  bool
	RetryAfter time.Duration
	Err        error
}

// Error implements error.
func (e *Error) Error() string {
	kind := "transient"
	if e.Permanent {
		kind = "permanent"
	}
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%s (retry after %s): %v", kind, e.RetryAfter, e.Err)
	}
	return fmt.Sprintf("%s: %v", kind, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Permanent wraps err as a permanent failure.
func Permanent(err error) error { return &Error{Permanent: true, Err: err} }

// Transient wraps err as a transient failure to retry after after (0: the
// queue's backoff).
func Transient(err error, after time.Duration) error {
	return &Error{RetryAfter: after, Err: err}
}

// IsPermanent reports whether err is a permanent send failure. Errors that
// are not *Error are treated as transient.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// RetryAfter is the delay a transient error asks for, or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// NotTried reports whether err says the send was not tried at all (our
// pacing of the provider's rate had no slot in time): nothing reached the
// provider, so it is no attempt, and the event can be put back on the
// queue for RetryAfter(err) without counting a receive.
func NotTried(err error) bool {
	var n interface{ NotTried() bool }
	return errors.As(err, &n) && n.NotTried()
}

// Skip is returned by a Router when a channel has no connected integration:
// the delivery is recorded as skipped with Reason.
type Skip struct{ Reason string }

// Error implements error.
func (s *Skip) Error() string { return "skipped: " + s.Reason }

// Router picks the sender for a channel from the connected integrations. It
// returns a *Skip error when the channel cannot be served (Slack not
// connected), so the dispatcher records a skipped delivery.
type Router interface {
	Sender(ctx context.Context, ch notify.Channel) (Sender, error)
}
