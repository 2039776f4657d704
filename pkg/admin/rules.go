package admin

import (
	"context"
	"log/slog"
	"sort"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// RulesConfig holds what the rule service needs. Rules, Directory and IDs
// are required.
type RulesConfig struct {
	// Rules keeps the rules; it refuses, atomically, a rule naming a user
	// or group that does not exist.
	Rules store.Rules
	// Directory is read to report every unknown user and group of a rule
	// that also fails validation, in one answer.
	Directory store.Directory
	// Webhooks, if set, is read to refuse a rule naming a webhook that is
	// not connected. The check is not atomic with a webhook's disconnect
	// (see Webhooks.Disconnect). Without it a rule may not name webhooks.
	Webhooks store.Webhooks
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// IDs returns a new unique, sortable id (a ULID).
	IDs func() string
	// OnRulesChanged, if set, is called after every successful rule or
	// policy-rule change.
	OnRulesChanged func()
	// Audit, if set, records every change, with the rule before and after.
	Audit store.Audit
	// Logger receives audit failures. Default: slog.Default().
	Logger *slog.Logger
}

// Rules is the rule service: user rules (managed through /v1/rules) and
// policy rules (the notification a policy carries).
type Rules struct {
	rules    store.Rules
	dir      store.Directory
	webhooks store.Webhooks
	clock    clock
	changed  func()
	audit    auditor
}

// NewRules returns the rule service. It panics if a required field of cfg
// is nil, a programming error in the caller's wiring.
func NewRules(cfg RulesConfig) *Rules {
	if cfg.Rules == nil || cfg.Directory == nil {
		panic("admin.NewRules: Config.Rules or Config.Directory is nil")
	}
	c := newClock(cfg.Now, cfg.IDs)
	return &Rules{rules: cfg.Rules, dir: cfg.Directory, webhooks: cfg.Webhooks, clock: c, changed: cfg.OnRulesChanged,
		audit: newAuditor(cfg.Audit, c, cfg.Logger)}
}

// RuleInput is what a client sets on a user rule. Enabled nil means true
// on create and unchanged on update.
type RuleInput struct {
	Name       string
	Enabled    *bool
	EventTypes []notify.EventType
	Severities []notify.Severity
	Recipients notify.Recipients
	// Digest, if set with a window, folds storms into digests.
	Digest *notify.DigestPolicy
	// QuietHours, if set, holds events in its window.
	QuietHours *notify.QuietHours
	// Template, if set, renders the rule's messages.
	Template *notify.Template
}

// List returns one page of the rules f selects, oldest first.
func (s *Rules) List(ctx context.Context, f store.RuleFilter) ([]*notify.Rule, string, error) {
	return s.rules.ListRules(ctx, f)
}

// Get returns the rule with the id, or ENotFound.
func (s *Rules) Get(ctx context.Context, id string) (*notify.Rule, error) {
	return s.rules.GetRule(ctx, id)
}

// Create validates and stores a new user rule (id rul_<ulid>, version 1).
// EInvalid if it is not valid or names a user or group that does not
// exist; EConflict if its name is taken.
func (s *Rules) Create(ctx context.Context, in RuleInput) (*notify.Rule, error) {
	now := s.clock.stamp()
	r := &notify.Rule{
		ID:         "rul_" + s.clock.ids(),
		Name:       in.Name,
		Enabled:    in.Enabled == nil || *in.Enabled,
		EventTypes: in.EventTypes,
		Severities: in.Severities,
		Recipients: in.Recipients,
		Digest:     in.Digest,
		QuietHours: in.QuietHours,
		Template:   in.Template,
		Source:     notify.SourceUser,
		Version:    1,
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	if err := s.check(ctx, r); err != nil {
		return nil, err
	}
	if err := s.rules.CreateRule(ctx, r); err != nil {
		return nil, err
	}
	announce(s.changed)
	s.audit.record(ctx, "rule.create", "rule", r.ID, r.Name, nil, r)
	return r, nil
}

// Update replaces the user rule id with in, if pre accepts its stored
// version. EReadOnly for a policy rule; otherwise as Create, and EStale
// if the rule changed meanwhile.
func (s *Rules) Update(ctx context.Context, id string, in RuleInput, pre Precondition) (*notify.Rule, error) {
	cur, err := s.rules.GetRule(ctx, id)
	if err != nil {
		return nil, err
	}
	if cur.Source == notify.SourcePolicy {
		return nil, readOnly(cur)
	}
	if _, err := pre.check("rule "+cur.ID, cur.Version); err != nil {
		return nil, err
	}
	r := &notify.Rule{
		ID:         cur.ID,
		Name:       in.Name,
		Enabled:    cur.Enabled,
		EventTypes: in.EventTypes,
		Severities: in.Severities,
		Recipients: in.Recipients,
		Digest:     in.Digest,
		QuietHours: in.QuietHours,
		Template:   in.Template,
		Source:     cur.Source,
		Version:    cur.Version + 1,
		CreatedAt:  cur.CreatedAt,
		UpdatedAt:  s.clock.stamp(),
	}
	if in.Enabled != nil {
		r.Enabled = *in.Enabled
	}
	if err := s.check(ctx, r); err != nil {
		return nil, err
	}
	if err := s.rules.UpdateRule(ctx, r); err != nil {
		return nil, err
	}
	announce(s.changed)
	s.audit.record(ctx, "rule.update", "rule", r.ID, r.Name, cur, r)
	return r, nil
}

// Delete removes the user rule id, if pre accepts its stored version.
// EReadOnly for a policy rule.
func (s *Rules) Delete(ctx context.Context, id string, pre Precondition) error {
	cur, err := s.rules.GetRule(ctx, id)
	if err != nil {
		return err
	}
	if cur.Source == notify.SourcePolicy {
		return readOnly(cur)
	}
	pin, err := pre.check("rule "+cur.ID, cur.Version)
	if err != nil {
		return err
	}
	if err := s.rules.DeleteRule(ctx, cur.ID, pin); err != nil {
		return err
	}
	announce(s.changed)
	s.audit.record(ctx, "rule.delete", "rule", cur.ID, cur.Name, cur, nil)
	return nil
}

// check validates r. If it is not valid, every user and group it names that
// does not exist is reported with the validation errors, sorted by field.
// A valid rule's references are checked by the store as it writes the
// rule, in the same atomic step.
func (s *Rules) check(ctx context.Context, r *notify.Rule) error {
	var fields []notify.FieldError
	verr := r.Validate()
	if verr != nil {
		f, ok := fieldsOf(verr)
		if !ok {
			return verr
		}
		fields = f
	}
	hooks, err := s.unknownWebhooks(ctx, r)
	if err != nil {
		return err
	}
	fields = append(fields, hooks...)
	if len(fields) == 0 {
		return nil
	}
	if verr != nil {
		// The store refuses unknown users and groups atomically; report
		// them here too, so one answer lists every field at fault.
		var missing []store.MissingRef
		for _, ref := range store.RuleRefs(r) {
			if !notify.ValidID(ref.ID) {
				continue // reported by Validate
			}
			var err error
			if ref.Kind == store.RefUser {
				_, err = s.dir.GetUser(ctx, ref.ID)
			} else {
				_, err = s.dir.GetGroup(ctx, ref.ID)
			}
			switch {
			case notify.IsCode(err, notify.ENotFound):
				missing = append(missing, ref)
			case err != nil:
				return err
			}
		}
		if unknown, ok := fieldsOf(store.UnknownRecipients(missing)); ok {
			fields = append(fields, unknown...)
		}
	}
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].Field < fields[j].Field })
	return invalid(fields)
}

// unknownWebhooks returns a field error for each webhook r names that is
// not connected.
func (s *Rules) unknownWebhooks(ctx context.Context, r *notify.Rule) ([]notify.FieldError, error) {
	var fields []notify.FieldError
	for i, id := range r.Recipients.Webhooks {
		if !notify.ValidID(id) {
			continue // reported by Validate
		}
		var err error = notify.Errorf(notify.ENotFound, "no webhooks are kept")
		if s.webhooks != nil {
			_, err = s.webhooks.GetWebhook(ctx, id)
		}
		switch {
		case notify.IsCode(err, notify.ENotFound):
			fields = append(fields, notify.FieldError{Field: indexed("recipients.webhooks", i), Message: quote(id) + " is not a connected webhook id"})
		case err != nil:
			return nil, err
		}
	}
	return fields, nil
}

// readOnly is the EReadOnly error for a change of policy rule r through the
// user-rule use cases.
func readOnly(r *notify.Rule) error {
	pid := ""
	if r.Policy != nil {
		pid = r.Policy.ID
	}
	return notify.Errorf(notify.EReadOnly, "rule %s belongs to policy %s; change or remove it with PUT or DELETE /v1/policies/%s/notification",
		r.ID, quote(pid), pid)
}
