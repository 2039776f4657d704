// Package route builds the registry of channels (package channel) from the
// connected integrations: it is the one place that names every channel
// package, one registration line each. Email goes to the connected SMTP
// server, else SES (AWS mode), else the console (local mode); Slack goes to
// the connected workspace; webhooks to the connected webhook a rule names.
// The registry implements send.Router and tells the planner and the dry
// run which addresses each channel serves.
//
// It imports the store interfaces and the channel packages (send/email,
// send/slack, send/webhook); pkg/send and pkg/channel must not import it.
package route

import (
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/channel"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/email"
	"github.com/argoproj-labs/argo-notify/pkg/send/slack"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp"
	"github.com/argoproj-labs/argo-notify/pkg/send/webhook"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Skip reasons.
const (
	NoEmailProvider   = email.NoProvider
	SlackNotConnected = slack.NotConnected
)

// Config says where integrations are kept and which fixed senders exist.
type Config struct {
	Integrations store.Integrations
	// Webhooks keeps the connected webhooks (nil: the webhook channel
	// finds none, and every webhook delivery fails as not connected).
	Webhooks store.Webhooks
	Secrets  store.Secrets
	// SES, if set, sends email when no SMTP server is connected, and when
	// the SMTP server fails permanently before any recipient is offered
	// (dial, TLS, AUTH or sender refused).
	SES send.Sender
	// Console, if set, receives email when neither SMTP nor SES is
	// available (local mode). Without it such email is skipped.
	Console send.Sender
	// SlackAPIURL is the Slack Web API base ("" = https://slack.com/api/).
	SlackAPIURL    string
	SMTPOptions    []smtp.Option
	SlackOptions   []slack.Option
	WebhookOptions webhook.Options
	// ReadTTL, if positive, is how long the router reuses what it read of
	// the integrations (the SMTP list, the Slack workspace) before reading
	// them again. 0 reads them on every call, so a change takes effect at
	// once (local mode); the AWS dispatcher sets a few seconds, saving a
	// Query and a GetItem per delivery.
	ReadTTL time.Duration
	// Now is the clock for ReadTTL. Default: time.Now.
	Now func() time.Time
}

// New returns the registry of every channel, configured from cfg.
func New(cfg Config) *channel.Registry {
	return channel.New(
		email.Spec(email.Config{Servers: cfg.Integrations, Secrets: cfg.Secrets, SES: cfg.SES, Console: cfg.Console,
			SMTPOptions: cfg.SMTPOptions, ReadTTL: cfg.ReadTTL, Now: cfg.Now}),
		slack.Spec(slack.ChannelConfig{Workspace: cfg.Integrations, Secrets: cfg.Secrets, APIURL: cfg.SlackAPIURL,
			Options: cfg.SlackOptions, ReadTTL: cfg.ReadTTL, Now: cfg.Now}),
		webhook.Spec(webhook.Config{Webhooks: cfg.Webhooks, Secrets: cfg.Secrets, Options: cfg.WebhookOptions}),
	)
}
