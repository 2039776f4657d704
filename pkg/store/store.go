// Package store declares what argo-notify keeps: rules, the directory of users
// and groups, integrations, secrets and delivery records. Implementations live
// in subpackages (bolt for local mode, dynamo for AWS) and all pass the
// conformance suite in store/storetest.
//
// Every method returns *notify.Error values for expected outcomes:
// ENotFound when an id does not exist, EConflict when a unique name, email
// or id is taken, EStale when an expected version does not match, EInUse
// when a user or group still named by a rule is removed, EInvalid when a
// rule names a user or group that does not exist. Other errors are
// internal.
//
// Referential integrity holds under concurrency: that a rule's users and
// groups exist, and that a removed user or group is named by no rule, are
// checked atomically with the write, so of a delete of user or group X
// racing a create or update of a rule naming X exactly one succeeds.
//
// The package also holds the helpers every implementation uses to report
// those outcomes alike (refs.go). It imports only the domain.
package store

import (
	"context"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// DefaultLimit and MaxLimit bound a page of a list.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Page asks for one page of a list. Cursor is the Next of the previous
// page, opaque to callers; "" starts at the beginning. Limit 0 means
// DefaultLimit; larger than MaxLimit is capped.
type Page struct {
	Limit  int
	Cursor string
}

// RuleFilter selects rules in a list. Zero values select everything.
type RuleFilter struct {
	Source  notify.Source // "", user or policy
	Enabled *bool
	Page
}

// DeliveryFilter selects deliveries in a list, newest first.
type DeliveryFilter struct {
	EventID string
	RuleID  string
	Status  notify.DeliveryStatus
	Page
}

// Rules keeps notification rules. Rule names are unique across all rules,
// compared case-insensitively.
type Rules interface {
	// CreateRule stores a new rule. The caller sets ID, timestamps and
	// Version 1; EConflict if the id or the name is taken; EInvalid
	// (UnknownRecipients) if it names a user or group that does not exist.
	CreateRule(ctx context.Context, r *notify.Rule) error
	// GetRule returns the rule with the id or ENotFound.
	GetRule(ctx context.Context, id string) (*notify.Rule, error)
	// ListRules returns one page of rules in creation order (oldest first)
	// and the cursor of the next page ("" on the last).
	ListRules(ctx context.Context, f RuleFilter) (rules []*notify.Rule, next string, err error)
	// UpdateRule replaces a rule whose stored version is r.Version-1
	// (the caller increments Version): EStale otherwise, ENotFound if it
	// does not exist, EConflict if the new name is taken by another rule,
	// EInvalid as CreateRule.
	UpdateRule(ctx context.Context, r *notify.Rule) error
	// DeleteRule removes a rule. version 0 deletes whatever version is
	// stored; otherwise EStale if it does not match.
	DeleteRule(ctx context.Context, id string, version int64) error
	// AllRules returns every rule, for building the match index.
	AllRules(ctx context.Context) (rules []*notify.Rule, err error)
}

// Directory keeps users and groups. User ids and emails (case-insensitive)
// are unique; group ids and names (case-insensitive) are unique. Deleting a
// user or group a rule names fails with EInUse (Refs lists the rule ids);
// deleting a user removes it from the groups it is in.
type Directory interface {
	CreateUser(ctx context.Context, u *notify.User) error
	GetUser(ctx context.Context, id string) (*notify.User, error)
	ListUsers(ctx context.Context, p Page) (users []*notify.User, next string, err error)
	UpdateUser(ctx context.Context, u *notify.User) error // version semantics as UpdateRule
	DeleteUser(ctx context.Context, id string, version int64) error

	CreateGroup(ctx context.Context, g *notify.Group) error // EInvalid if a member does not exist
	GetGroup(ctx context.Context, id string) (*notify.Group, error)
	ListGroups(ctx context.Context, p Page) (groups []*notify.Group, next string, err error)
	UpdateGroup(ctx context.Context, g *notify.Group) error
	DeleteGroup(ctx context.Context, id string, version int64) error

	// ReplaceDirectory makes the directory exactly d, atomically. Users and
	// groups that d keeps keep their CreatedAt; changed ones get a new
	// version. If a removed user or group is named by a rule, it fails with
	// EInUse (Refs = the rule ids) unless prune is true, in which case the
	// references are removed from those rules (each gets a new version).
	// Rules left with no recipient by pruning are disabled.
	ReplaceDirectory(ctx context.Context, d notify.Directory, prune bool, now time.Time) error
}

// Integrations keeps the connected SMTP server and Slack workspace.
type Integrations interface {
	// PutSMTP stores an SMTP server (create if s.Version == 1, else update
	// with UpdateRule's version semantics). EConflict if the nickname is
	// taken by another.
	PutSMTP(ctx context.Context, s *notify.SMTP) error
	GetSMTP(ctx context.Context, id string) (*notify.SMTP, error)
	ListSMTP(ctx context.Context) ([]*notify.SMTP, error)
	DeleteSMTP(ctx context.Context, id string) error

	// PutSlack replaces the connected workspace (there is at most one).
	PutSlack(ctx context.Context, s *notify.Slack) error
	// GetSlack returns the connected workspace or ENotFound.
	GetSlack(ctx context.Context) (*notify.Slack, error)
	DeleteSlack(ctx context.Context) error
}

// Secrets keeps write-only secrets (SMTP passwords, Slack tokens). Put
// returns a reference to keep in place of the value.
type Secrets interface {
	PutSecret(ctx context.Context, name, value string) (ref string, err error)
	GetSecret(ctx context.Context, ref string) (string, error)
	DeleteSecret(ctx context.Context, ref string) error
}

// Deliveries keeps delivery records and the once-only claims on them.
type Deliveries interface {
	// ClaimDelivery stores d (status queued, Version 1) if no delivery with
	// d.ID exists, and returns (d, true). If one exists it is returned
	// unchanged with false. The check and the write are one atomic,
	// conditional step: of two concurrent claims, exactly one wins.
	ClaimDelivery(ctx context.Context, d *notify.Delivery) (*notify.Delivery, bool, error)
	// ClaimDeliveries stores all of ds (deliveries of one event, each as
	// its first version, Version 1) in one atomic, conditional step if
	// none of their ids exists, and reports true; if any exists it stores
	// none of them and reports false. This is how a dispatcher takes every
	// delivery of an event it sees for the first time with one write (the
	// deliveries go straight to sending), instead of a claim and a move to
	// sending per delivery. A store may report false without writing when
	// ds is longer than it can take at once (MaxClaimBatch): the caller
	// then claims them one by one.
	ClaimDeliveries(ctx context.Context, ds []*notify.Delivery) (bool, error)
	// UpdateDelivery replaces a delivery whose stored version is
	// d.Version-1: EStale otherwise. This is how an attempt takes a
	// delivery from queued to sending, and from sending to a final status.
	UpdateDelivery(ctx context.Context, d *notify.Delivery) error
	GetDelivery(ctx context.Context, id string) (*notify.Delivery, error)
	ListDeliveries(ctx context.Context, f DeliveryFilter) (ds []*notify.Delivery, next string, err error)
}

// MaxClaimBatch is the most deliveries ClaimDeliveries takes at once (a
// DynamoDB transaction holds at most 100 writes).
const MaxClaimBatch = 100

// Store is everything a backend provides.
type Store interface {
	Rules
	Directory
	Integrations
	Webhooks
	Secrets
	Deliveries
	Audit
	Credentials
}
