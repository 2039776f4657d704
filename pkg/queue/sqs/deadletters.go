package sqs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

// DLQClient is the part of the SQS client DeadLetters uses on the
// dead-letter queue.
type DLQClient interface {
	ReceiveMessage(ctx context.Context, in *awssqs.ReceiveMessageInput, opts ...func(*awssqs.Options)) (*awssqs.ReceiveMessageOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *awssqs.ChangeMessageVisibilityBatchInput, opts ...func(*awssqs.Options)) (*awssqs.ChangeMessageVisibilityBatchOutput, error)
	DeleteMessage(ctx context.Context, in *awssqs.DeleteMessageInput, opts ...func(*awssqs.Options)) (*awssqs.DeleteMessageOutput, error)
}

// Listing bounds.
const (
	// DefaultDeadLimit is ListDead's page size when limit is 0.
	DefaultDeadLimit = 50
	// MaxDeadScan is the most messages ListDead returns and Redrive looks
	// through.
	MaxDeadScan = 500
)

// DeadLetters implements queue.DeadLetters on an SQS dead-letter queue.
//
// SQS cannot list a queue: the only way to see a message is to receive it,
// which hides it for a visibility timeout and counts as a receive. So:
//   - ListDead receives up to limit messages with a short visibility
//     timeout, never deletes them, and makes them visible again before it
//     returns. It is a best-effort sample: SQS may return fewer messages than
//     the queue holds (short polls sample a subset of its servers), messages
//     another reader holds are missed, and the order is SQS's, sorted here by
//     FirstSentAt. There is no paging: the cursor is ignored and next is
//     always "". At most MaxDeadScan messages are seen.
//   - A message's ReceiveCount is SQS's ApproximateReceiveCount of the DLQ
//     copy, which every listing increments. SQS keeps no record of why a
//     message failed or when it moved to the DLQ: LastError is "" and DeadAt
//     is zero.
//   - Messages expire from the DLQ by their original enqueue time: give the
//     DLQ the longest retention (14 days).
//   - Redrive looks for the message the same way (by event id or SQS
//     message id), sends it to the main queue as a new message (fresh
//     receive count, same body and attributes) and then deletes it from the
//     DLQ. If the delete fails the event is queued twice; the dispatcher
//     deduplicates.
type DeadLetters struct {
	dlq    DLQClient
	dlqURL string
	main   queue.Producer

	// Visibility is how long a listing hides the messages it has seen
	// while it runs (default 30 s); they are made visible again at the end.
	Visibility time.Duration
	// Wait is the long-poll wait of each receive (default 1 s), so SQS
	// asks all of its servers; an empty receive ends the scan.
	Wait time.Duration
}

var _ queue.DeadLetters = (*DeadLetters)(nil)

// NewDeadLetters returns DeadLetters for the DLQ at dlqURL, redriving to
// main (a Producer on the main queue).
func NewDeadLetters(dlq DLQClient, dlqURL string, main queue.Producer) *DeadLetters {
	return &DeadLetters{dlq: dlq, dlqURL: dlqURL, main: main, Visibility: 30 * time.Second, Wait: time.Second}
}

// held is a DLQ message received during a scan.
type held struct {
	sqsID   string
	receipt string
	msg     queue.Message
}

// ListDead implements queue.DeadLetters with the limits in the type's
// documentation: cursor is ignored and next is always "".
func (d *DeadLetters) ListDead(ctx context.Context, limit int, cursor string) ([]queue.DeadLetter, string, error) {
	if limit <= 0 {
		limit = DefaultDeadLimit
	}
	limit = min(limit, MaxDeadScan)
	seen, _, err := d.scan(ctx, limit, nil)
	// Release what was seen even if the scan failed half-way.
	rerr := d.release(ctx, seen)
	if err != nil {
		return nil, "", err
	}
	if rerr != nil {
		return nil, "", rerr
	}
	out := make([]queue.DeadLetter, 0, len(seen))
	for _, h := range seen {
		out = append(out, queue.DeadLetter{Message: h.msg})
	}
	slices.SortStableFunc(out, func(a, b queue.DeadLetter) int { return a.FirstSentAt.Compare(b.FirstSentAt) })
	return out, "", nil
}

// Redrive implements queue.DeadLetters: id is a DeadLetter's ID (its event
// id) or an SQS message id. ENotFound if no such message is seen in the DLQ.
func (d *DeadLetters) Redrive(ctx context.Context, id string) error {
	match := func(h held) bool { return h.msg.ID == id || h.sqsID == id }
	seen, i, err := d.scan(ctx, MaxDeadScan, match)
	var found *held
	if err == nil && i >= 0 {
		found = &seen[i]
		seen = slices.Delete(slices.Clone(seen), i, i+1)
	}
	rerr := d.release(ctx, seen)
	if err != nil {
		return err
	}
	if found == nil {
		if rerr != nil {
			return rerr
		}
		return notify.Errorf(notify.ENotFound, "no dead message %q", id)
	}
	msg := found.msg
	msg.ReceiveCount = 0
	if err := d.main.Send(ctx, []queue.Message{msg}); err != nil {
		// Leave it where it is, visible again.
		return errors.Join(fmt.Errorf("redrive %q to the main queue: %w", id, err), d.release(ctx, []held{*found}))
	}
	if _, err := d.dlq.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: &d.dlqURL, ReceiptHandle: &found.receipt}); err != nil {
		return fmt.Errorf("redrive %q: queued again but not deleted from the dead-letter queue: %w", id, err)
	}
	return rerr
}

// scan receives up to limit distinct messages from the DLQ. With match,
// it stops after the receive that returned the first matching message and
// also returns its index in seen (-1 if none matched).
func (d *DeadLetters) scan(ctx context.Context, limit int, match func(held) bool) (seen []held, found int, err error) {
	found = -1
	if d.dlqURL == "" {
		return nil, found, errNoQueue
	}
	ids := make(map[string]bool)
	for rounds := 0; len(seen) < limit && rounds < MaxDeadScan/MaxBatch+2; rounds++ {
		out, err := d.dlq.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
			QueueUrl:                    &d.dlqURL,
			MaxNumberOfMessages:         int32(min(MaxBatch, limit-len(seen))),
			VisibilityTimeout:           visibilitySeconds(d.Visibility),
			WaitTimeSeconds:             int32(d.Wait / time.Second),
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return seen, found, fmt.Errorf("receive from the dead-letter queue: %w", err)
		}
		fresh := 0
		for _, m := range out.Messages {
			h := held{sqsID: deref(m.MessageId), receipt: deref(m.ReceiptHandle)}
			if ids[h.sqsID] {
				continue
			}
			ids[h.sqsID] = true
			fresh++
			attrs := make(map[string]string, len(m.MessageAttributes))
			for k, v := range m.MessageAttributes {
				if v.StringValue != nil {
					attrs[k] = *v.StringValue
				}
			}
			h.msg = message(h.sqsID, deref(m.Body), m.Attributes, attrs)
			if found < 0 && match != nil && match(h) {
				found = len(seen)
			}
			seen = append(seen, h)
		}
		if fresh == 0 || found >= 0 {
			break
		}
	}
	return seen, found, nil
}

// release makes the messages visible again, in batches of MaxBatch.
func (d *DeadLetters) release(ctx context.Context, hs []held) error {
	var errs []error
	for start := 0; start < len(hs); start += MaxBatch {
		batch := hs[start:min(start+MaxBatch, len(hs))]
		entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, 0, len(batch))
		for i, h := range batch {
			entries = append(entries, types.ChangeMessageVisibilityBatchRequestEntry{
				Id:                strPtr(strconv.Itoa(i)),
				ReceiptHandle:     strPtr(h.receipt),
				VisibilityTimeout: 0,
			})
		}
		out, err := d.dlq.ChangeMessageVisibilityBatch(ctx, &awssqs.ChangeMessageVisibilityBatchInput{QueueUrl: &d.dlqURL, Entries: entries})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range out.Failed {
			errs = append(errs, fmt.Errorf("entry %s: %s: %s", deref(f.Id), deref(f.Code), deref(f.Message)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		// The messages become visible again by themselves after Visibility.
		return fmt.Errorf("make dead-letter messages visible again: %w", err)
	}
	return nil
}
