package slack

import (
	"context"
	"fmt"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/channel"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// NotConnected is the skip reason when no workspace is connected.
const NotConnected = "Slack is not connected"

// Workspace reads the connected workspace (store.Integrations is one).
type Workspace interface {
	GetSlack(ctx context.Context) (*notify.Slack, error)
}

// Secrets reads a secret by reference (store.Secrets is one).
type Secrets interface {
	GetSecret(ctx context.Context, ref string) (string, error)
}

// ChannelConfig says where the Slack channel finds its workspace.
type ChannelConfig struct {
	Workspace Workspace
	Secrets   Secrets
	// APIURL is the Slack Web API base ("" = https://slack.com/api/).
	APIURL  string
	Options []Option
	// ReadTTL, if positive, is how long the workspace read is reused; 0
	// reads it for every delivery.
	ReadTTL time.Duration
	// Now is the clock for ReadTTL (time.Now if nil).
	Now func() time.Time
}

// Spec returns the Slack channel for the registry: rules name channel ids
// under recipients.slackChannels.
func Spec(cfg ChannelConfig) channel.Channel {
	r := &router{cfg: cfg}
	r.ws.TTL, r.ws.Now = cfg.ReadTTL, cfg.Now
	return channel.Channel{
		Name:      notify.ChannelSlack,
		Field:     "slackChannels",
		Via:       "slackChannel",
		Addresses: func(rc notify.Recipients) []string { return rc.SlackChannels },
		Router:    r,
	}
}

// router picks the sender of the connected workspace, kept until the
// workspace's version changes.
type router struct {
	cfg   ChannelConfig
	ws    channel.Reader[*notify.Slack]
	built channel.Senders
}

func (r *router) Sender(ctx context.Context) (send.Sender, error) {
	ws, err := r.ws.Read(func() (*notify.Slack, error) { return r.cfg.Workspace.GetSlack(ctx) })
	if notify.IsCode(err, notify.ENotFound) {
		return nil, &send.Skip{Reason: NotConnected}
	}
	if err != nil {
		return nil, fmt.Errorf("route slack: read the workspace: %w", err)
	}
	key := fmt.Sprintf("%s@%d", ws.TeamID, ws.Version)
	if sender := r.built.Get(key); sender != nil {
		return sender, nil
	}
	token, err := r.cfg.Secrets.GetSecret(ctx, ws.TokenRef)
	if err != nil {
		return nil, fmt.Errorf("route slack: read the bot token of workspace %q: %w", ws.Team, err)
	}
	sender := New(token, r.cfg.APIURL, r.cfg.Options...)
	r.built.Put(key, sender)
	return sender, nil
}
