package admin

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// ENotConnected is the code of the error for a use case that needs an
// integration that is not connected (HTTP 409).
const ENotConnected = "not_connected"

// SlackIdentity is what Slack's auth.test says of a bot token.
type SlackIdentity struct {
	Team, TeamID, TeamURL string
	BotName, BotUserID    string
}

// SlackChannel is a channel a bot could post to.
type SlackChannel struct {
	ID        string
	Name      string
	IsPrivate bool
	IsMember  bool // the bot has joined it
}

// SlackClient calls the Slack Web API for the integration's use cases.
// A token Slack rejects is EInvalid on field "token"; an unreachable Slack
// is EUnavailable; the token never appears in errors. pkg/send/slack's
// AuthTest and Channels, with the process's API URL and options, are the
// ones in use.
type SlackClient interface {
	AuthTest(ctx context.Context, token string) (SlackIdentity, error)
	Channels(ctx context.Context, token, cursor string, limit int) ([]SlackChannel, string, error)
}

// SlackConfig holds what the Slack integration service needs. Every field
// but Now and Logger is required.
type SlackConfig struct {
	Integrations store.Integrations
	// Secrets keeps the bot token; the integration holds only a reference.
	Secrets store.Secrets
	Client  SlackClient
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Logger receives failures to delete secrets no longer used. Default:
	// slog.Default().
	Logger *slog.Logger
	// Audit, if set, records every connect, update and disconnect (names
	// only: URLs and settings can hold credentials).
	Audit store.Audit
}

// Slack is the Slack integration service: the one connected workspace,
// its bot token (in the secret store, one secret per connection) and the
// channels the bot can see.
type Slack struct {
	store   store.Integrations
	secrets store.Secrets
	client  SlackClient
	now     func() time.Time
	log     *slog.Logger
	audit   auditor
}

// NewSlack returns the Slack integration service. It panics if a required
// field of cfg is nil, a programming error in the caller's wiring.
func NewSlack(cfg SlackConfig) *Slack {
	if cfg.Integrations == nil || cfg.Secrets == nil || cfg.Client == nil {
		panic("admin.NewSlack: Config.Integrations, Secrets or Client is nil")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Slack{store: cfg.Integrations, secrets: cfg.Secrets, client: cfg.Client, now: now, log: orDefault(cfg.Logger),
		audit: newAuditor(cfg.Audit, clock{now: now}, cfg.Logger)}
}

func slackSecretName(v int64) string { return "slack/bot-token/v" + strconv.FormatInt(v, 10) }

// Get returns the connected workspace, or ENotFound.
func (s *Slack) Get(ctx context.Context) (*notify.Slack, error) { return s.store.GetSlack(ctx) }

// Connect checks token with auth.test and, if Slack accepts it, keeps it
// as the connected workspace's token. replaced says a connected workspace
// was replaced; its token is deleted once no longer named.
func (s *Slack) Connect(ctx context.Context, token string) (sl *notify.Slack, replaced bool, err error) {
	id, err := s.client.AuthTest(ctx, token)
	if err != nil {
		return nil, false, err
	}
	cur, err := s.store.GetSlack(ctx)
	if err != nil && !notify.IsCode(err, notify.ENotFound) {
		return nil, false, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	sl = &notify.Slack{
		TeamID: id.TeamID, Team: id.Team, TeamURL: id.TeamURL, BotUserID: id.BotUserID, BotName: id.BotName,
		Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	if cur != nil {
		sl.Version = cur.Version + 1
		if cur.TeamID == sl.TeamID {
			sl.CreatedAt = cur.CreatedAt
		}
	}
	if sl.TokenRef, err = s.secrets.PutSecret(ctx, slackSecretName(sl.Version), token); err != nil {
		return nil, false, err
	}
	if err := s.store.PutSlack(ctx, sl); err != nil {
		dropSecret(ctx, s.secrets, s.log, sl.TokenRef)
		return nil, false, err
	}
	if cur != nil && cur.TokenRef != sl.TokenRef {
		dropSecret(ctx, s.secrets, s.log, cur.TokenRef)
	}
	s.audit.record(ctx, "slack.connect", "slack", sl.TeamID, sl.Team, nil, nil)
	return sl, cur != nil, nil
}

// Disconnect forgets the workspace, then its token. ENotFound if none is
// connected.
func (s *Slack) Disconnect(ctx context.Context) error {
	cur, err := s.store.GetSlack(ctx)
	if err != nil {
		return err
	}
	if err := s.store.DeleteSlack(ctx); err != nil {
		return err
	}
	s.audit.record(ctx, "slack.disconnect", "slack", cur.TeamID, cur.Team, nil, nil)
	dropSecret(ctx, s.secrets, s.log, cur.TokenRef)
	return nil
}

// token returns the stored bot token: ENotConnected if no workspace is
// connected, EConflict if its token is missing from the secret store.
func (s *Slack) token(ctx context.Context) (string, error) {
	sl, err := s.store.GetSlack(ctx)
	switch {
	case notify.IsCode(err, notify.ENotFound):
		return "", notify.Errorf(ENotConnected, "no Slack workspace is connected: connect one with POST /v1/integrations/slack")
	case err != nil:
		return "", err
	}
	tok, err := s.secrets.GetSecret(ctx, sl.TokenRef)
	switch {
	case notify.IsCode(err, notify.ENotFound):
		return "", notify.Errorf(notify.EConflict, "the Slack token is missing from the secret store; connect the workspace again")
	case err != nil:
		return "", err
	}
	return tok, nil
}

// SlackTest is the outcome of a token test: the identity Slack gave, or
// why the test failed (Failure not empty).
type SlackTest struct {
	SlackIdentity
	Failure string
}

// Test calls auth.test with token or, if it is "", the stored token. A
// token Slack rejects or an unreachable Slack is a failed test, not an
// error; errors are for a missing stored token and internal failures.
func (s *Slack) Test(ctx context.Context, token string) (SlackTest, error) {
	if token == "" {
		var err error
		if token, err = s.token(ctx); err != nil {
			return SlackTest{}, err
		}
	}
	id, err := s.client.AuthTest(ctx, token)
	if err != nil {
		var e *notify.Error
		if !errors.As(err, &e) || e.Code == notify.EInternal {
			return SlackTest{}, err
		}
		msg := e.Message
		if len(e.Fields) == 1 {
			msg = e.Fields[0].Message
		}
		return SlackTest{Failure: msg}, nil
	}
	return SlackTest{SlackIdentity: id}, nil
}

// Channels returns one page of the channels the connected bot can see and
// the cursor of the next page ("" on the last).
func (s *Slack) Channels(ctx context.Context, cursor string, limit int) ([]SlackChannel, string, error) {
	tok, err := s.token(ctx)
	if err != nil {
		return nil, "", err
	}
	return s.client.Channels(ctx, tok, cursor, limit)
}
