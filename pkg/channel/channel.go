// Package channel is the registry of the ways a notification travels
// (email, Slack, webhooks). Each channel is one package under pkg/send that
// returns a Channel: which addresses of a rule's recipients it serves, how
// the dry run names them, and the Router that picks its sender from what is
// connected. The registry is a value built once in the wiring
// (route.New), never a package-level variable.
//
// The dispatcher's planner, the router and the dry run read the registry
// instead of switching on channel names. The package imports only the
// domain (pkg/notify) and the core send contract (pkg/send); it must not
// import a channel package or a provider SDK.
package channel

import (
	"context"
	"fmt"
	"slices"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// Router picks the sender of one channel from what is connected now. It
// returns a *send.Skip when nothing can serve the channel (the delivery is
// then recorded as skipped); other errors are worth retrying.
type Router interface {
	Sender(ctx context.Context) (send.Sender, error)
}

// RouterFunc adapts a function to Router.
type RouterFunc func(ctx context.Context) (send.Sender, error)

// Sender implements Router.
func (f RouterFunc) Sender(ctx context.Context) (send.Sender, error) { return f(ctx) }

// Channel is one way notifications travel, as its package declares it.
type Channel struct {
	// Name is the channel in delivery ids and records ("email", "webhook").
	Name notify.Channel
	// Field is the key of a rule's recipients that names this channel's
	// addresses ("emails", "slackChannels", "webhooks").
	Field string
	// Via is how a dry run says a rule named an address directly
	// ("email", "slackChannel", "webhook").
	Via string
	// Addresses returns the addresses a rule's recipients name for this
	// channel directly (users and groups are resolved to email by the
	// planner, from the directory).
	Addresses func(notify.Recipients) []string
	// Router picks the sender. Nil: every delivery is skipped.
	Router Router
}

// Registry is the set of channels the service serves, in the order they
// were registered. It implements send.Router. It is immutable and safe for
// concurrent use.
type Registry struct {
	list []Channel
}

var _ send.Router = (*Registry)(nil)

// New returns the registry of chs. It panics when a name or field is empty
// or repeated, or Addresses is nil: a wiring bug.
func New(chs ...Channel) *Registry {
	for i, c := range chs {
		if c.Name == "" || c.Field == "" || c.Via == "" || c.Addresses == nil {
			panic(fmt.Sprintf("channel.New: channel %d (%q) lacks a name, field, via or Addresses", i, c.Name))
		}
		for _, d := range chs[:i] {
			if d.Name == c.Name || d.Field == c.Field {
				panic(fmt.Sprintf("channel.New: channel %q registered twice", c.Name))
			}
		}
	}
	return &Registry{list: slices.Clone(chs)}
}

// Channels returns the registered channels, in registration order.
func (r *Registry) Channels() []Channel { return slices.Clone(r.list) }

// Lookup returns the channel called name.
func (r *Registry) Lookup(name notify.Channel) (Channel, bool) {
	for _, c := range r.list {
		if c.Name == name {
			return c, true
		}
	}
	return Channel{}, false
}

// Sender returns the sender of channel ch, or a *send.Skip when the channel
// is not registered or nothing serves it.
func (r *Registry) Sender(ctx context.Context, ch notify.Channel) (send.Sender, error) {
	c, ok := r.Lookup(ch)
	if !ok {
		return nil, &send.Skip{Reason: fmt.Sprintf("unsupported channel %q", ch)}
	}
	if c.Router == nil {
		return nil, &send.Skip{Reason: fmt.Sprintf("channel %q has no sender", ch)}
	}
	return c.Router.Sender(ctx)
}
