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
	// missing, if set, is the user or group whose reference count this op
	// raises: its condition fails when the user or group does not exist.
	missing *store.MissingRef
}

// transact writes ops in one TransactWriteItems. When a condition fails, it
// returns store.UnknownRecipients for every missing user and group if the
// failed conditions include such, else the onFail error of the first op
// whose condition failed. A transaction cancelled by a concurrent one is
// retried a few times.
func (s *Store) transact(ctx context.Context, what string, ops []op) error {
	if len(ops) == 0 {
		return nil
	}
	items := make([]types.TransactWriteItem, len(ops))
	for i, o := range ops {
		items[i] = o.item
	}
	for attempt := 0; ; attempt++ {
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
				continue
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		if missing := missingRefs(ops, tce.CancellationReasons); len(missing) > 0 {
			return store.UnknownRecipients(missing)
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

// missingRefs returns the users and groups whose reference count ops
// failed their condition: they do not exist.
func missingRefs(ops []op, reasons []types.CancellationReason) []store.MissingRef {
	var out []store.MissingRef
	for i, r := range reasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" && i < len(ops) && ops[i].missing != nil {
			out = append(out, *ops[i].missing)
		}
	}
	return out
}
