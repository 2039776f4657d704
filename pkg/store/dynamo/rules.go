package dynamo

import (
	"context"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

var rules = &kind[notify.Rule]{
	name: "rule", prefix: "RULE", guard: "RULENAME", uniqField: "name",
	id:           func(r *notify.Rule) string { return r.ID },
	uniq:         func(r *notify.Rule) string { return r.Name },
	createdAt:    func(r *notify.Rule) time.Time { return r.CreatedAt },
	version:      func(r *notify.Rule) int64 { return r.Version },
	setCreatedAt: func(r *notify.Rule, t time.Time) { r.CreatedAt = t },
}

// CreateRule stores a new rule; EConflict if its id or name is taken. One
// TransactWriteItems: the rule and its name guard.
func (s *Store) CreateRule(ctx context.Context, r *notify.Rule) error {
	return rules.insert(ctx, s, r)
}

// GetRule returns the rule with the id or ENotFound.
func (s *Store) GetRule(ctx context.Context, id string) (*notify.Rule, error) {
	return rules.get(ctx, s, id)
}

// ListRules returns one page of the rules f selects, oldest first.
func (s *Store) ListRules(ctx context.Context, f store.RuleFilter) ([]*notify.Rule, string, error) {
	var flt *filter
	if f.Source != "" || f.Enabled != nil {
		flt = &filter{names: map[string]string{}, values: map[string]types.AttributeValue{}}
		if f.Source != "" {
			flt.expr = "#src = :src"
			flt.names["#src"] = "Source"
			flt.values[":src"] = str(string(f.Source))
		}
		if f.Enabled != nil {
			if flt.expr != "" {
				flt.expr += " AND "
			}
			flt.expr += "#en = :en"
			flt.names["#en"] = "Enabled"
			flt.values[":en"] = &types.AttributeValueMemberBOOL{Value: *f.Enabled}
		}
	}
	return rules.page(ctx, s, f.Page, flt)
}

// UpdateRule replaces the rule whose stored version is r.Version-1: one
// conditional PutItem when the name keeps its case-folded form.
func (s *Store) UpdateRule(ctx context.Context, r *notify.Rule) error {
	return rules.update(ctx, s, r, nil)
}

// DeleteRule removes a rule (any version if version is 0).
func (s *Store) DeleteRule(ctx context.Context, id string, version int64) error {
	return rules.remove(ctx, s, id, version, nil)
}

// AllRules returns every rule, oldest first.
func (s *Store) AllRules(ctx context.Context) ([]*notify.Rule, error) {
	return rules.all(ctx, s)
}

// refsTo returns the ids of the rules that name the user or group id
// ("user" or "group"), sorted.
func refsTo(all []*notify.Rule, what, id string) []string {
	var out []string
	for _, r := range all {
		if r.References(what, id) {
			out = append(out, r.ID)
		}
	}
	slices.Sort(out)
	return out
}
