package dynamo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Attribute names of a rule's recipients, as attributevalue encodes them.
const (
	attrRecipients = "Recipients"
	attrUsers      = "Users"
	attrGroups     = "Groups"
)

var rules = &kind[notify.Rule]{
	name: "rule", prefix: "RULE", guard: "RULENAME", uniqField: "name",
	id:           func(r *notify.Rule) string { return r.ID },
	uniq:         func(r *notify.Rule) string { return r.Name },
	createdAt:    func(r *notify.Rule) time.Time { return r.CreatedAt },
	version:      func(r *notify.Rule) int64 { return r.Version },
	setCreatedAt: func(r *notify.Rule, t time.Time) { r.CreatedAt = t },
}

// CreateRule stores a new rule; EConflict if its id or name is taken,
// EInvalid if it names a user or group that does not exist (or more than
// MaxRuleRefs of them). One TransactWriteItems: the rule, its name guard
// and the reference counter of each user and group it names.
func (s *Store) CreateRule(ctx context.Context, r *notify.Rule) error {
	ops, err := s.refOps(nil, r)
	if err != nil {
		return err
	}
	return rules.insert(ctx, s, r, ops...)
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

// UpdateRule replaces the rule whose stored version is r.Version-1;
// EInvalid if it starts naming a user or group that does not exist. When
// it names the same users and groups as stored, and the name keeps its
// case-folded form (the common case), that is one conditional PutItem;
// otherwise the rule is read and written in one TransactWriteItems with
// its name guards and the reference counters it changes.
func (s *Store) UpdateRule(ctx context.Context, r *notify.Rule) error {
	if done, err := s.putRuleSameRefs(ctx, r); done || err != nil {
		return err
	}
	old, err := rules.getAt(ctx, s, r.ID, r.Version-1)
	if err != nil {
		return err
	}
	ops, err := s.refOps(old, r)
	if err != nil {
		return err
	}
	return rules.replace(ctx, s, r, old, ops...)
}

// putRuleSameRefs writes r with one PutItem on the condition that the
// stored rule is at the version before r's, has the same folded name and
// creation time, and names the same users and groups (so no counter
// changes). done is false when a condition failed.
func (s *Store) putRuleSameRefs(ctx context.Context, r *notify.Rule) (done bool, err error) {
	item, err := rules.item(r)
	if err != nil {
		return false, err
	}
	rc, ok := item[attrRecipients].(*types.AttributeValueMemberM)
	if !ok {
		return false, nil
	}
	values := map[string]types.AttributeValue{
		":prev": num(r.Version - 1), ":u": item[attrUniq], ":gsk": item[AttrGSI1SK]}
	// A list compares with =; an absent one (NULL) by its type. No
	// placeholder is the prefix of another: kumo substitutes them with
	// strings.ReplaceAll in map order, so #u would corrupt #us.
	same := func(path, ref string, v types.AttributeValue) string {
		if _, null := v.(*types.AttributeValueMemberNULL); v == nil || null {
			values[":null"] = str("NULL")
			return "(attribute_not_exists(" + path + ") OR attribute_type(" + path + ", :null))"
		}
		values[ref] = v
		return path + " = " + ref
	}
	cond := "#v = :prev AND #u = :u AND #gsk = :gsk AND " +
		same("#rc.#rus", ":rus", rc.Value[attrUsers]) + " AND " + same("#rc.#rgs", ":rgs", rc.Value[attrGroups])
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: map[string]string{
			"#v": attrVer, "#u": attrUniq, "#gsk": AttrGSI1SK,
			"#rc": attrRecipients, "#rus": attrUsers, "#rgs": attrGroups},
		ExpressionAttributeValues: values,
	})
	if err == nil {
		return true, nil
	}
	if failed, _ := isConditionFailed(err); failed {
		return false, nil
	}
	return false, fmt.Errorf("update rule %q: %w", r.ID, err)
}

// DeleteRule removes a rule (any version if version is 0) and lowers the
// reference counters of the users and groups it names.
func (s *Store) DeleteRule(ctx context.Context, id string, version int64) error {
	return rules.remove(ctx, s, id, version, func(_ context.Context, old *notify.Rule) ([]op, error) {
		return s.refOps(old, nil)
	})
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
