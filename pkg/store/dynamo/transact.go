package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// op is one write of a transaction and the error to report when its
// condition fails.
type op struct {
	item   types.TransactWriteItem
	onFail func() error
	// counter, if set, says that this op changes or deletes the reference
	// counter of a user or group: when its condition fails, transact finds
	// out whether the user or group is unknown or only its counter missing
	// (backfill.go).
	counter *counted
	// withNext keeps the op in the same transaction as the next one when
	// a long list of ops is split (ReplaceDirectory).
	withNext bool
}

// counted is the user or group whose counter an op touches, and how: delta
// +1 or -1 (a rule starts or stops naming it), or 0 (the counter is
// deleted with the record).
type counted struct {
	ref   store.MissingRef
	delta int64
}

// transact writes ops in one TransactWriteItems. When a condition fails, it
// returns store.UnknownRecipients for every missing user and group if the
// failed conditions include such, else the onFail error of the first op
// whose condition failed. A transaction cancelled by a concurrent one is
// retried a few times. When a counter op failed because the counter of an
// existing user or group is missing (a table written before the counters),
// the counter is backfilled and the transaction tried again, at most
// counterRepairs times.
func (s *Store) transact(ctx context.Context, what string, ops []op) error {
	if len(ops) == 0 {
		return nil
	}
	items := make([]types.TransactWriteItem, len(ops))
	for i, o := range ops {
		items[i] = o.item
	}
	attempt, repairs := 0, 0
	for {
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			var tip *types.TransactionInProgressException
			if errors.As(err, &tip) && attempt < transactRetries {
				if err := backoff(ctx, attempt); err != nil {
					return err
				}
				attempt++
				continue
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		if failedCounters(ops, tce.CancellationReasons) {
			next, retry, err := s.repairCounters(ctx, ops, tce.CancellationReasons)
			if err != nil {
				return err
			}
			if retry && repairs < counterRepairs {
				repairs++
				ops = next
				items = items[:0]
				for _, o := range ops {
					items = append(items, o.item)
				}
				continue
			}
		}
		conflict := false
		for i, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				if i < len(ops) && ops[i].onFail != nil {
					return ops[i].onFail()
				}
				return fmt.Errorf("%s: condition of item %d failed: %w", what, i, err)
			case "TransactionConflict":
				conflict = true
			}
		}
		if conflict && attempt < transactRetries {
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
			attempt++
			continue
		}
		return fmt.Errorf("%s: %w", what, err)
	}
}

// backoff waits a little before another attempt: 10 ms doubling, jittered.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(10<<attempt) * time.Millisecond
	d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// failedCounters reports whether the condition of a counter op failed.
func failedCounters(ops []op, reasons []types.CancellationReason) bool {
	for i, r := range reasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" && i < len(ops) && ops[i].counter != nil {
			return true
		}
	}
	return false
}
