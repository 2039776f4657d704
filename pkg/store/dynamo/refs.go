package dynamo

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Referential integrity: every user and group has a reference counter
// item, pk REFS#<USER|GROUP>#<id>, sk REFS, attribute refs = how many
// rules name it. The counter exists exactly while the user or group does:
// it is created and deleted in the transactions that create and delete
// the record (on a table written before the counters, it is created when
// first needed: backfill.go). A rule write raises the counter of each user
// and group it starts naming, on the condition that the counter exists,
// and lowers those it stops naming, in the same TransactWriteItems as the rule; a
// delete of a user or group deletes its counter on the condition that it
// is 0. DynamoDB serializes transactions on the items they share (the
// counter), so of a delete and a rule write racing over the same user or
// group exactly one succeeds; the other fails its condition.
//
// The counter lives on an item of its own, not on the user or group
// record, because records are written whole (PutItem) by updates and by
// ReplaceDirectory: a count kept on them would have to be read and written
// back, losing concurrent increments.
const (
	refsPrefix = "REFS"
	attrRefs   = "refs"
)

// Every counter change is one item of the transaction that writes the
// rule, and DynamoDB holds at most 100 items in one: so a rule names at
// most MaxRuleRefs users and groups together (its create and delete write
// the rule, its name guard and one counter per reference), and an update
// changes at most maxRefChanges references at once (the rule, two name
// guard writes on a rename, and one counter per reference added or
// removed).
const (
	MaxRuleRefs   = maxTransactItems - 4
	maxRefChanges = maxTransactItems - 3
)

// errRefsChanged is the onFail error of a counter delete: rules started
// naming the user or group after the caller read the rules.
var errRefsChanged = errors.New("the rules naming it changed meanwhile")

// refsKey is the key of the counter of kind k's record id.
func refsKey(k, id string) map[string]types.AttributeValue {
	return key(refsPrefix+"#"+k+"#"+id, refsPrefix)
}

// kindOf returns the record kind of a rule reference.
func kindOf(ref store.MissingRef) string {
	if ref.Kind == store.RefGroup {
		return groups.prefix
	}
	return users.prefix
}

// newRefs is the op that creates the counter of a new user or group.
func (s *Store) newRefs(k, id string) op {
	item := refsKey(k, id)
	item[attrRefs] = num(0)
	return op{
		item: types.TransactWriteItem{Put: s.put(item, "attribute_not_exists(#pk)", map[string]string{"#pk": AttrPK}, nil)},
		onFail: func() error {
			return fmt.Errorf("the reference counter of %s %q exists already", k, id)
		},
	}
}

// dropRefs is the op that deletes the counter of a user or group, on the
// condition that n rules name it (0 for a plain delete; the rules being
// pruned for a directory replace).
func (s *Store) dropRefs(k, id string, n int64) op {
	return op{
		item: types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: refsKey(k, id),
			ConditionExpression:       aws.String("#n = :n"),
			ExpressionAttributeNames:  map[string]string{"#n": attrRefs},
			ExpressionAttributeValues: map[string]types.AttributeValue{":n": num(n)},
		}},
		onFail:  func() error { return errRefsChanged },
		counter: &counted{ref: store.MissingRef{Kind: refKind(k), ID: id}},
	}
}

// countRef is the op that adds delta to the counter of ref, which must
// exist: raising the counter of a missing user or group fails as
// store.UnknownRecipients; a missing counter of an existing one is
// backfilled (backfill.go).
func (s *Store) countRef(ref store.MissingRef, delta int64) op {
	k := kindOf(ref)
	return op{
		item: types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(s.table), Key: refsKey(k, ref.ID),
			UpdateExpression:          aws.String("ADD #n :d"),
			ConditionExpression:       aws.String("attribute_exists(#pk)"),
			ExpressionAttributeNames:  map[string]string{"#n": attrRefs, "#pk": AttrPK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": num(delta)},
		}},
		onFail: func() error {
			return fmt.Errorf("the reference counter of %s %q is missing", k, ref.ID)
		},
		counter: &counted{ref: ref, delta: delta},
	}
}

// refSet returns the users and groups r names, each once, with its index.
func refSet(r *notify.Rule) []store.MissingRef {
	seen := map[store.MissingRef]bool{}
	var out []store.MissingRef
	for _, ref := range store.RuleRefs(r) {
		k := store.MissingRef{Kind: ref.Kind, ID: ref.ID}
		if !seen[k] {
			seen[k] = true
			out = append(out, ref)
		}
	}
	return out
}

// refOps returns the counter ops of a rule changing from old to r (either
// may be nil): +1 for each user or group r starts naming, -1 for each it
// stops naming. EInvalid if r names more than MaxRuleRefs, or the change
// touches more than maxRefChanges.
func (s *Store) refOps(old, r *notify.Rule) ([]op, error) {
	var before, after []store.MissingRef
	if old != nil {
		before = refSet(old)
	}
	if r != nil {
		after = refSet(r)
		if len(after) > MaxRuleRefs {
			return nil, notify.Invalid("recipients", "names %d users and groups; a rule may name at most %d together", len(after), MaxRuleRefs)
		}
	}
	has := func(l []store.MissingRef, ref store.MissingRef) bool {
		for _, x := range l {
			if x.Kind == ref.Kind && x.ID == ref.ID {
				return true
			}
		}
		return false
	}
	var ops []op
	for _, ref := range after {
		if !has(before, ref) {
			ops = append(ops, s.countRef(ref, 1))
		}
	}
	for _, ref := range before {
		if !has(after, ref) {
			ops = append(ops, s.countRef(ref, -1))
		}
	}
	if old != nil && r != nil && len(ops) > maxRefChanges {
		return nil, notify.Invalid("recipients", "changes %d user and group references at once; at most %d can change in one update: make the change in two steps", len(ops), maxRefChanges)
	}
	return ops, nil
}
