package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Backfill of reference counters. A table written before the counters
// existed has users and groups without one. Such a table is upgraded
// lazily: when a counter op of a transaction fails its condition,
// repairCounters reads the user or group record and its counter. If the
// record exists and the counter does not, the counter is created with
// refs = the number of rules that name the entry (read with AllRules), in a
// transaction of two items: the Put of the counter on the condition that it
// does not exist, and a ConditionCheck that the record still exists. Then
// the failed transaction is tried again (at most counterRepairs times).
//
// Why the count is right although it is read before the counter is
// written, while rules change concurrently: every write of this package
// that makes a rule start or stop naming a user or group carries, in the
// same transaction, a counter op whose condition needs the counter to exist
// (ADD on attribute_exists, or the delete's refs = n). So while an entry
// has no counter, no rule can start or stop naming it: the set of rules
// naming it is frozen, and a count read at any moment of that time is the
// one the counter must hold. The backfill's Put succeeds only while the
// counter is still absent; once a counter exists (another backfill won, or
// a rule write went through on it), the Put fails, the counter is left as
// it is, and the original transaction is simply tried again. A rule write
// racing the backfill fails its counter condition until the counter
// exists, then backfills or retries in the same way, so its +1 or -1 lands
// on the counter after the count, never before it. The ConditionCheck on
// the record keeps a backfill from creating a counter for a user or group
// deleted meanwhile (a delete removes record and counter together).
//
// The count reads the rules from gsi1, which is eventually consistent: it
// sees rules written some time before, and the rules that name an entry
// without a counter are all that old, written by the code before the
// counters, which must no longer be running. One write breaks the rule
// above: a directory replace too large for one transaction may write its
// pruned rules in a transaction before the one that deletes the removed
// entries with their counters. A backfill of such an entry racing it can
// count a rule the prune is removing; the replace still completes (its
// counter delete expects the rules it read), but if it is abandoned
// part-way the entry keeps a count too high, and deleting it is refused
// with EStale until a replace removes it.
//
// If the counter op failed on a user or group whose record does not exist:
// a +1 is store.UnknownRecipients (the rule may not name it); a -1 is a
// rule written before the counters that names an entry deleted since, and
// the op is dropped, so that the rule can still be updated or deleted (an
// entry created again under that id meanwhile has a counter that never
// counted the rule).

// counterRepairs bounds how many times one transaction is tried again after
// backfilling counters.
const counterRepairs = 3

// refKind is the store.RefUser or store.RefGroup of a record prefix.
func refKind(prefix string) string {
	if prefix == groups.prefix {
		return store.RefGroup
	}
	return store.RefUser
}

// repairCounters looks at the counter ops of ops whose condition failed
// (reasons as the cancelled transaction gave them). It returns
// store.UnknownRecipients if some raise the counter of a user or group that
// does not exist. Otherwise it backfills the counters that are missing for
// existing records, drops the -1 ops of deleted entries, and returns the
// ops to try again with retry set when that may now succeed (retry is
// false when the failure stands, as a delete whose counter counts rules).
func (s *Store) repairCounters(ctx context.Context, ops []op, reasons []types.CancellationReason) (next []op, retry bool, err error) {
	var unknown []store.MissingRef
	var fill []*counted
	drop := map[int]bool{}
	for i, r := range reasons {
		if aws.ToString(r.Code) != "ConditionalCheckFailed" || i >= len(ops) || ops[i].counter == nil {
			continue
		}
		c := ops[i].counter
		k := kindOf(c.ref)
		rec, err := s.getItem(ctx, k, c.ref.ID) // the record (kind.key)
		if err != nil {
			return nil, false, fmt.Errorf("read %s %q: %w", c.ref.Kind, c.ref.ID, err)
		}
		if rec == nil {
			switch {
			case c.delta > 0:
				unknown = append(unknown, c.ref)
			case c.delta < 0:
				drop[i] = true
			}
			// delta 0: the delete of the record fails on its own.
			continue
		}
		cnt, err := s.getItem(ctx, refsPrefix+"#"+k+"#"+c.ref.ID, refsPrefix)
		if err != nil {
			return nil, false, fmt.Errorf("read the reference counter of %s %q: %w", c.ref.Kind, c.ref.ID, err)
		}
		switch {
		case cnt == nil:
			fill = append(fill, c)
		case c.delta != 0:
			// Backfilled since the transaction ran.
			retry = true
		}
	}
	if len(unknown) > 0 {
		return nil, false, store.UnknownRecipients(unknown)
	}
	if len(fill) > 0 {
		all, err := s.AllRules(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("count the rules naming %s %q: %w", fill[0].ref.Kind, fill[0].ref.ID, err)
		}
		for _, c := range fill {
			if err := s.backfill(ctx, c.ref, int64(len(refsTo(all, c.ref.Kind, c.ref.ID)))); err != nil {
				return nil, false, err
			}
		}
		retry = true
	}
	if len(drop) > 0 {
		for i, o := range ops {
			if !drop[i] {
				next = append(next, o)
			}
		}
		return next, true, nil
	}
	return ops, retry, nil
}

// errBackfillLost is the onFail of a backfill's ops: the counter exists
// (another backfill or the record's creation wrote it) or the record is
// gone. Either way the caller tries its own transaction again.
var errBackfillLost = errors.New("the counter exists or its record is gone")

// backfill creates the counter of ref with refs = n, on the conditions
// that it does not exist and that ref's record does.
func (s *Store) backfill(ctx context.Context, ref store.MissingRef, n int64) error {
	k := kindOf(ref)
	item := refsKey(k, ref.ID)
	item[attrRefs] = num(n)
	err := s.transact(ctx, fmt.Sprintf("backfill the reference counter of %s %q", ref.Kind, ref.ID), []op{
		{
			item:   types.TransactWriteItem{Put: s.put(item, "attribute_not_exists(#pk)", map[string]string{"#pk": AttrPK}, nil)},
			onFail: func() error { return errBackfillLost },
		},
		{
			item: types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
				TableName: aws.String(s.table), Key: key(k, ref.ID), // the record (kind.key)
				ConditionExpression:      aws.String("attribute_exists(#pk)"),
				ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
			}},
			onFail: func() error { return errBackfillLost },
		},
	})
	if errors.Is(err, errBackfillLost) {
		return nil
	}
	return err
}
