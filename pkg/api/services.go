package api

import (
	"context"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/slack"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp"
	"github.com/argoproj-labs/argo-notify/pkg/send/webhook"
)

// buildServices builds the admin services the handlers call, on cfg.Store,
// with the SMTP and Slack packages as their connection testers.
func (s *server) buildServices(cfg Config) {
	s.rules = admin.NewRules(admin.RulesConfig{
		Rules: cfg.Store, Directory: cfg.Store, Webhooks: cfg.Store, Now: s.now, IDs: s.ids, OnRulesChanged: cfg.OnRulesChanged,
		Audit: cfg.Store, Logger: s.log,
	})
	s.dir = admin.NewDirectory(admin.DirectoryConfig{
		Directory: cfg.Store, Now: s.now, IDs: s.ids, OnRulesChanged: cfg.OnRulesChanged,
		Rules: cfg.Store, Audit: cfg.Store, Credentials: cfg.Store, Logger: s.log,
		WritableWhileSynced: cfg.DirectoryWritableWhileSynced || cfg.SCIM == nil,
	})
	s.smtp = admin.NewSMTP(admin.SMTPConfig{
		Integrations: cfg.Store, Secrets: cfg.Store, Tester: smtpTester(cfg.SMTPOptions),
		Now: s.now, IDs: s.ids, Logger: s.log, Audit: cfg.Store,
	})
	s.slack = admin.NewSlack(admin.SlackConfig{
		Integrations: cfg.Store, Secrets: cfg.Store,
		Client: slackClient{url: cfg.SlackAPIURL, opts: cfg.SlackOptions},
		Now:    s.now, Logger: s.log, Audit: cfg.Store,
	})
	s.webhooks = admin.NewWebhooks(admin.WebhooksConfig{
		Webhooks: cfg.Store, Rules: cfg.Store, Secrets: cfg.Store, Client: webhookClient{webhook.NewClient(cfg.Webhooks)},
		Now: s.now, IDs: s.ids, Logger: s.log, Audit: cfg.Store,
	})
}

// webhookClient is admin.WebhookClient on pkg/send/webhook.
type webhookClient struct{ c *webhook.Client }

// CheckURL runs the webhook channel's address check.
func (w webhookClient) CheckURL(ctx context.Context, rawURL string) error {
	return w.c.CheckURL(ctx, rawURL)
}

// PostTest posts a test payload as a delivery would.
func (w webhookClient) PostTest(ctx context.Context, hook *notify.Webhook, sec notify.WebhookSecret, deliveryID string, ev *notify.Event) (bool, error) {
	p := &webhook.Payload{DeliveryID: deliveryID, Event: ev, Rules: []send.RuleRef{}}
	if _, err := w.c.Post(ctx, webhook.Target{URL: hook.URL, Secret: sec.Signing, Headers: sec.Headers}, p); err != nil {
		return !send.IsPermanent(err), err
	}
	return false, nil
}

// smtpTester is admin.SMTPTester on pkg/send/smtp.
type smtpTester []smtp.Option

// TestSMTP runs smtp.Test with the configured options.
func (o smtpTester) TestSMTP(ctx context.Context, srv notify.SMTP, password, to string) []admin.SMTPStep {
	steps := smtp.Test(ctx, srv, password, to, o...)
	out := make([]admin.SMTPStep, len(steps))
	for i, st := range steps {
		out[i] = admin.SMTPStep{Name: st.Name, OK: st.OK, Detail: st.Detail, Error: st.Error, Reply: st.Reply}
	}
	return out
}

// slackClient is admin.SlackClient on pkg/send/slack.
type slackClient struct {
	url  string
	opts []slack.Option
}

// AuthTest calls slack.AuthTest on the configured Web API.
func (c slackClient) AuthTest(ctx context.Context, token string) (admin.SlackIdentity, error) {
	id, err := slack.AuthTest(ctx, token, c.url, c.opts...)
	if err != nil {
		return admin.SlackIdentity{}, err
	}
	return admin.SlackIdentity{Team: id.Team, TeamID: id.TeamID, TeamURL: id.TeamURL, BotName: id.BotName, BotUserID: id.BotUserID}, nil
}

// Channels calls slack.Channels on the configured Web API.
func (c slackClient) Channels(ctx context.Context, token, cursor string, limit int) ([]admin.SlackChannel, string, error) {
	chs, next, err := slack.Channels(ctx, token, c.url, cursor, limit, c.opts...)
	if err != nil {
		return nil, "", err
	}
	out := make([]admin.SlackChannel, len(chs))
	for i, ch := range chs {
		out[i] = admin.SlackChannel(ch)
	}
	return out, next, nil
}
