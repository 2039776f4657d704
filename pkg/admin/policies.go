package admin

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// PolicyInput is what a client sets on the notification a policy carries.
// Name "" gives the default name ("Policy <policy name or id>"); Enabled
// nil means true on create and unchanged on replace.
type PolicyInput struct {
	PolicyName string
	Name       string
	Enabled    *bool
	OnSuccess  bool
	OnFailure  bool
	Recipients notify.Recipients
}

// GetPolicy returns the rule policy policyID carries, or ENotFound.
func (s *Rules) GetPolicy(ctx context.Context, policyID string) (*notify.Rule, error) {
	return s.rules.GetRule(ctx, notify.PolicyRuleID(policyID))
}

// PutPolicy creates (created true) or replaces the rule policy policyID
// carries: it fires on JOB events of the policy whose status is SUCCEEDED
// (OnSuccess) or FAILED (OnFailure), whatever their severity. pre is
// given the stored version, 0 if there is none. Errors as Rules.Create;
// validation fields are those of the rule (policy.name, policy.id, …).
func (s *Rules) PutPolicy(ctx context.Context, policyID string, in PolicyInput, pre Precondition) (r *notify.Rule, created bool, err error) {
	if !notify.ValidID(policyID) {
		return nil, false, notify.Invalid("policyId", "must be 1-128 characters of letters, digits and ._:@/+=-, starting with a letter or digit")
	}
	id := notify.PolicyRuleID(policyID)
	cur, err := s.rules.GetRule(ctx, id)
	switch {
	case notify.IsCode(err, notify.ENotFound):
		cur = nil
	case err != nil:
		return nil, false, err
	}
	var curVersion int64
	if cur != nil {
		curVersion = cur.Version
	}
	if _, err := pre.check("the notification of policy "+policyID, curVersion); err != nil {
		return nil, false, err
	}
	now := s.clock.stamp()
	r = &notify.Rule{
		ID:         id,
		Name:       in.Name,
		Enabled:    in.Enabled == nil || *in.Enabled,
		EventTypes: []notify.EventType{notify.TypeJob},
		Severities: append([]notify.Severity(nil), notify.Severities...),
		Recipients: in.Recipients,
		Source:     notify.SourcePolicy,
		Policy:     &notify.Policy{ID: policyID, Name: in.PolicyName, OnSuccess: in.OnSuccess, OnFailure: in.OnFailure},
		Version:    1,
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	if r.Name == "" {
		r.Name = defaultPolicyRuleName(in.PolicyName, policyID)
	}
	if cur != nil {
		r.Version = cur.Version + 1
		r.CreatedAt = cur.CreatedAt
		if in.Enabled == nil {
			r.Enabled = cur.Enabled
		}
	}
	if err := s.check(ctx, r); err != nil {
		return nil, false, err
	}
	if cur == nil {
		err = s.rules.CreateRule(ctx, r)
	} else {
		err = s.rules.UpdateRule(ctx, r)
	}
	if err != nil {
		return nil, false, err
	}
	announce(s.changed)
	if cur == nil {
		s.audit.record(ctx, "rule.create", "rule", r.ID, r.Name, nil, r)
	} else {
		s.audit.record(ctx, "rule.update", "rule", r.ID, r.Name, cur, r)
	}
	return r, cur == nil, nil
}

// DeletePolicy removes the rule policy policyID carries, if pre accepts
// its stored version.
func (s *Rules) DeletePolicy(ctx context.Context, policyID string, pre Precondition) error {
	id := notify.PolicyRuleID(policyID)
	cur, err := s.rules.GetRule(ctx, id)
	if err != nil {
		return err
	}
	pin, err := pre.check("the notification of policy "+policyID, cur.Version)
	if err != nil {
		return err
	}
	if err := s.rules.DeleteRule(ctx, id, pin); err != nil {
		return err
	}
	announce(s.changed)
	s.audit.record(ctx, "rule.delete", "rule", id, cur.Name, cur, nil)
	return nil
}

// defaultPolicyRuleName names a policy rule whose request named none.
func defaultPolicyRuleName(policyName, policyID string) string {
	n := strings.TrimSpace(policyName)
	if n == "" {
		n = policyID
	}
	name := "Policy " + n
	if utf8.RuneCountInString(name) > notify.MaxRuleName {
		name = strings.TrimSpace(string([]rune(name)[:notify.MaxRuleName]))
	}
	return name
}
