// Package slack posts notifications to Slack channels with
// github.com/slack-go/slack, and checks bot tokens and lists channels for
// the integrations API. The Web API base URL is configurable (GovSlack, or
// a test server).
//
// It imports pkg/notify and pkg/send only.
package slack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// Provider is the provider name in send.Result.
const Provider = "slack"

// ChannelRate is Slack's posting limit per channel (chat.postMessage: about
// one message a second, short bursts tolerated), in posts a second: what
// the dispatchers pace each channel to.
const ChannelRate = 1.0

// defaultTimeout bounds one Web API call unless WithHTTPClient says otherwise.
const defaultTimeout = 15 * time.Second

// Option configures a Sender, AuthTest or Channels.
type Option func(*options)

type options struct{ httpClient *http.Client }

// WithHTTPClient sets the HTTP client for Web API calls (default: one with
// a 15 s timeout).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

func client(token, apiURL string, opts []Option) *slackapi.Client {
	o := options{httpClient: &http.Client{Timeout: defaultTimeout}}
	for _, opt := range opts {
		opt(&o)
	}
	if apiURL == "" {
		apiURL = slackapi.APIURL
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	return slackapi.New(token, slackapi.OptionAPIURL(apiURL), slackapi.OptionHTTPClient(o.httpClient))
}

// Sender posts notifications with one bot token. It is safe for
// concurrent use.
type Sender struct {
	api   *slackapi.Client
	users users
}

// New returns a Sender posting with the bot token to the Web API at apiURL
// ("" for https://slack.com/api/; a trailing slash is added if missing).
func New(token, apiURL string, opts ...Option) *Sender {
	return &Sender{api: client(token, apiURL, opts)}
}

// Send posts n to the channel n.To[0] (chat.postMessage) as a Block Kit
// message; when n.To[0] is an email, to that user as a direct message
// (users.lookupByEmail, cached; a *send.Skip when no user has it). The
// message is coloured by severity, with link unfurling off. The result's
// MessageID is "<channel>/<ts>".
//
// Errors are *send.Error: rate limiting (with Slack's Retry-After), HTTP 5xx,
// timeouts and network failures are transient; channel_not_found,
// not_in_channel, is_archived, invalid_auth, account_inactive,
// token_revoked, missing_scope and other Slack API errors are permanent,
// except the few Slack documents as temporary (ratelimited,
// service_unavailable, internal_error, fatal_error, request_timeout).
func (s *Sender) Send(ctx context.Context, n *send.Notification) (send.Result, error) {
	if n == nil || n.Event == nil {
		return send.Result{}, send.Permanent(errors.New("slack: notification has no event"))
	}
	if len(n.To) != 1 || n.To[0] == "" {
		return send.Result{}, send.Permanent(fmt.Errorf("slack: want exactly one channel, got %q", n.To))
	}
	to := n.To[0]
	if isEmail(to) { // a direct message to the user with this email
		id, err := s.userID(ctx, to)
		if err != nil {
			return send.Result{}, err
		}
		to = id
	}
	text, atts := Render(n)
	ch, ts, err := s.api.PostMessageContext(ctx, to,
		slackapi.MsgOptionText(text, false), // already escaped
		slackapi.MsgOptionAttachments(atts...),
		slackapi.MsgOptionDisableLinkUnfurl(),
		slackapi.MsgOptionDisableMediaUnfurl(),
	)
	if err != nil {
		return send.Result{}, classify(ctx, fmt.Errorf("slack: post to channel %s: %w", to, err))
	}
	if ch == "" {
		ch = to
	}
	return send.Result{Provider: Provider, MessageID: ch + "/" + ts}, nil
}

// temporary lists Slack API error codes worth retrying.
var temporary = map[string]bool{
	"ratelimited": true, "rate_limited": true, "service_unavailable": true, "internal_error": true,
	"fatal_error": true, "request_timeout": true, "team_added_to_org": true,
}

// classify wraps err as a permanent or transient *send.Error.
func classify(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return send.Transient(err, 0)
	}
	var rl *slackapi.RateLimitedError
	if errors.As(err, &rl) {
		return send.Transient(err, rl.RetryAfter)
	}
	var sc slackapi.StatusCodeError
	if errors.As(err, &sc) {
		if sc.Code >= 500 || sc.Code == http.StatusTooManyRequests || sc.Code == http.StatusRequestTimeout {
			return send.Transient(err, 0)
		}
		return send.Permanent(err)
	}
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) {
		if temporary[se.Err] {
			return send.Transient(err, 0)
		}
		return send.Permanent(err)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return send.Transient(err, 0)
	}
	return send.Transient(err, 0)
}

// Identity is what auth.test says of a bot token.
type Identity struct {
	Team      string // workspace name
	TeamID    string
	TeamURL   string
	BotName   string // the bot user's name
	BotUserID string // the bot user's id (U…)
	BotID     string // the bot's id (B…)
}

// AuthTest checks token with auth.test against the Web API at apiURL and
// returns the workspace and bot it belongs to. A token Slack rejects
// (invalid_auth, token_revoked, account_inactive, not_authed, …) is a
// *notify.Error with code EInvalid on field "token"; an unreachable or
// failing Slack is EUnavailable. The token never appears in errors.
func AuthTest(ctx context.Context, token, apiURL string, opts ...Option) (Identity, error) {
	r, err := client(token, apiURL, opts).AuthTestContext(ctx)
	if err != nil {
		return Identity{}, apiError("auth.test", classify(ctx, err))
	}
	return Identity{Team: r.Team, TeamID: r.TeamID, TeamURL: r.URL, BotName: r.User, BotUserID: r.UserID, BotID: r.BotID}, nil
}

// Channel is a channel a bot could post to.
type Channel struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	IsPrivate bool   `json:"isPrivate"`
	IsMember  bool   `json:"isMember"` // the bot has joined it
}

// Channels returns one page of the workspace's public and private channels
// the token can see, archived ones excluded (conversations.list), and the
// cursor of the next page ("" on the last). limit 0 means 200; it is
// capped at 1000. Errors are as AuthTest's.
func Channels(ctx context.Context, token, apiURL, cursor string, limit int, opts ...Option) ([]Channel, string, error) {
	switch {
	case limit <= 0:
		limit = 200
	case limit > 1000:
		limit = 1000
	}
	chs, next, err := client(token, apiURL, opts).GetConversationsContext(ctx, &slackapi.GetConversationsParameters{
		Cursor:          cursor,
		ExcludeArchived: true,
		Limit:           limit,
		Types:           []string{"public_channel", "private_channel"},
	})
	if err != nil {
		return nil, "", apiError("conversations.list", classify(ctx, err))
	}
	out := make([]Channel, 0, len(chs))
	for _, c := range chs {
		out = append(out, Channel{ID: c.ID, Name: c.Name, IsPrivate: c.IsPrivate, IsMember: c.IsMember})
	}
	return out, next, nil
}

// apiError turns a classified Web API failure into a *notify.Error for the
// integrations API: permanent failures are the token's fault (EInvalid on
// "token"), transient ones Slack's (EUnavailable).
func apiError(method string, err error) error {
	cause := err
	var e *send.Error
	if errors.As(err, &e) {
		cause = e.Err
	}
	if !send.IsPermanent(err) {
		return notify.Errorf(notify.EUnavailable, "Slack %s failed, try again later: %v", method, cause)
	}
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) {
		msg := fmt.Sprintf("Slack rejected the token (%s)", se.Err)
		if se.Err == "missing_scope" && se.Needed != "" {
			msg += "; the app needs the scope " + se.Needed
		}
		return &notify.Error{Code: notify.EInvalid, Message: "token: " + msg,
			Fields: []notify.FieldError{{Field: "token", Message: msg}}}
	}
	return notify.Errorf(notify.EUnavailable, "Slack %s failed: %v", method, cause)
}
