// Package sqs carries queued events on Amazon SQS: a queue.Producer for the
// ingest side (SendMessageBatch), a Consumer that runs a queue.Handler over
// the Lambda SQS event with partial batch responses, and queue.DeadLetters on
// the dead-letter queue.
//
// It imports the domain (pkg/notify, pkg/queue) and the AWS SDK; it must not
// import other adapters (stores, senders).
package sqs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

// attrFirstSentAt keeps Message.FirstSentAt across a redrive. It is
// stripped from the attributes a handler sees. The Producer also sets
// queue.AttrEventID, queue.AttrEventType and queue.AttrSeverity on every message (when
// it knows the value); the Consumer reads them back into
// queue.Message.Attributes.
const attrFirstSentAt = "argoFirstSentAt"

// Limits of one SendMessageBatch call.
const (
	// MaxBatch is the most entries SQS takes in one SendMessageBatch.
	MaxBatch = 10
	// MaxBatchBytes bounds the summed size of a batch (bodies, attribute
	// names, types and values). SQS allowed 256 KiB until 2025 and 1 MiB
	// since; the lower bound works on both. A single larger message is
	// refused with ETooLarge before anything is sent.
	MaxBatchBytes = 256 << 10
	// maxAttributes is how many message attributes SQS allows per message.
	maxAttributes = 10
)

// BatchSender is the part of the SQS client a Producer uses.
type BatchSender interface {
	SendMessageBatch(ctx context.Context, in *awssqs.SendMessageBatchInput, opts ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error)
}

// Producer sends messages to one SQS queue. It implements queue.Producer.
type Producer struct {
	client   BatchSender
	queueURL string

	// MaxAttempts bounds how many times the entries of a batch that SQS
	// failed without a sender fault are sent (default 4). The SDK retries
	// whole-call failures itself.
	MaxAttempts int
	// Backoff is the wait before attempt n (n ≥ 2) of the failed entries;
	// the default doubles from 50 ms with jitter, capped at 1 s.
	Backoff func(attempt int) time.Duration
}

var _ queue.Producer = (*Producer)(nil)

// NewProducer returns a Producer for the queue at queueURL.
func NewProducer(client BatchSender, queueURL string) *Producer {
	return &Producer{client: client, queueURL: queueURL, MaxAttempts: 4, Backoff: defaultBackoff}
}

func defaultBackoff(attempt int) time.Duration {
	d := 50 * time.Millisecond << (attempt - 2)
	if d > time.Second || d <= 0 {
		d = time.Second
	}
	// Jitter: between d/2 and d.
	return d/2 + time.Duration(time.Now().UnixNano()%int64(d/2+1))
}

// Send implements queue.Producer: it sends msgs in batches of at most
// MaxBatch entries and MaxBatchBytes, retrying the entries SQS failed
// without a sender fault. It returns nil only when every message is on the
// queue. Errors carry notify code EUnavailable (the queue did not take a
// message), ETooLarge (a message is over the limit) or EInvalid (SQS
// refused an entry as malformed).
func (p *Producer) Send(ctx context.Context, msgs []queue.Message) error {
	entries := make([]types.SendMessageBatchRequestEntry, 0, len(msgs))
	sizes := make([]int, 0, len(msgs))
	for i := range msgs {
		e, size := entry(&msgs[i])
		if size > MaxBatchBytes {
			return notify.Errorf(notify.ETooLarge, "message %d is %d bytes, over the queue's limit of %d", i, size, MaxBatchBytes)
		}
		e.Id = strPtr(strconv.Itoa(i))
		entries = append(entries, e)
		sizes = append(sizes, size)
	}
	for start := 0; start < len(entries); {
		end, total := start, 0
		for end < len(entries) && end-start < MaxBatch && total+sizes[end] <= MaxBatchBytes {
			total += sizes[end]
			end++
		}
		if err := p.sendBatch(ctx, entries[start:end]); err != nil {
			return fmt.Errorf("send messages %d-%d of %d: %w", start, end-1, len(entries), err)
		}
		start = end
	}
	return nil
}

// sendBatch sends one batch and then, with backoff, the entries SQS failed
// without a sender fault.
func (p *Producer) sendBatch(ctx context.Context, batch []types.SendMessageBatchRequestEntry) error {
	attempts := max(p.MaxAttempts, 1)
	pending := batch
	var lastFail string
	for attempt := 1; attempt <= attempts; attempt++ {
		if attempt > 1 {
			if err := sleep(ctx, p.backoff(attempt)); err != nil {
				return unavailable(err)
			}
		}
		out, err := p.client.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: &p.queueURL, Entries: pending})
		if err != nil {
			return unavailable(err)
		}
		if len(out.Failed) == 0 {
			return nil
		}
		byID := make(map[string]types.SendMessageBatchRequestEntry, len(pending))
		for _, e := range pending {
			byID[*e.Id] = e
		}
		var retry []types.SendMessageBatchRequestEntry
		for _, f := range out.Failed {
			id, code, msg := deref(f.Id), deref(f.Code), deref(f.Message)
			if f.SenderFault {
				return notify.Errorf(notify.EInvalid, "queue refused message %s: %s: %s", id, code, msg)
			}
			e, ok := byID[id]
			if !ok {
				return notify.Errorf(notify.EInternal, "queue reported a failure for unknown entry %q", id)
			}
			retry = append(retry, e)
			lastFail = code + ": " + msg
		}
		pending = retry
	}
	return notify.Errorf(notify.EUnavailable, "queue did not take %d message(s) after %d attempts (last: %s)", len(pending), attempts, lastFail)
}

func (p *Producer) backoff(attempt int) time.Duration {
	if p.Backoff == nil {
		return defaultBackoff(attempt)
	}
	return p.Backoff(attempt)
}

// unavailable marks err as the queue being unreachable while keeping it in
// the chain for errors.Is/As.
func unavailable(err error) error {
	return fmt.Errorf("%w: %w", notify.Errorf(notify.EUnavailable, "queue unavailable"), err)
}

// entry builds the batch entry for m (without its Id) and its size as SQS
// counts it.
func entry(m *queue.Message) (types.SendMessageBatchRequestEntry, int) {
	attrs := attributes(m)
	size := len(m.Body)
	mas := make(map[string]types.MessageAttributeValue, len(attrs))
	for k, v := range attrs {
		mas[k] = types.MessageAttributeValue{DataType: strPtr("String"), StringValue: strPtr(v)}
		size += len(k) + len("String") + len(v)
	}
	e := types.SendMessageBatchRequestEntry{MessageBody: strPtr(string(m.Body))}
	if !m.NotBefore.IsZero() {
		e.DelaySeconds = delaySeconds(time.Until(m.NotBefore))
	}
	if len(mas) > 0 {
		e.MessageAttributes = mas
	}
	return e, size
}

// attributes returns the message attributes to send: m.Attributes plus
// eventId, eventType and severity taken from m.ID and the body when not
// given, and the first-sent time. Empty values are dropped (SQS refuses
// them); at most maxAttributes are kept, the well-known ones first.
func attributes(m *queue.Message) map[string]string {
	out := make(map[string]string, len(m.Attributes)+4)
	set := func(k, v string) {
		if v == "" || len(out) >= maxAttributes {
			return
		}
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	set(queue.AttrEventID, m.Attributes[queue.AttrEventID])
	set(queue.AttrEventType, m.Attributes[queue.AttrEventType])
	set(queue.AttrSeverity, m.Attributes[queue.AttrSeverity])
	if out[queue.AttrEventID] == "" || out[queue.AttrEventType] == "" || out[queue.AttrSeverity] == "" {
		// Best effort: a body that is not an event is still queued; the
		// handler decides what to do with it.
		if ev, err := queue.DecodeEvent(*m); err == nil {
			set(queue.AttrEventType, string(ev.Type))
			set(queue.AttrSeverity, string(ev.Severity))
			set(queue.AttrEventID, ev.ID)
		}
		set(queue.AttrEventID, m.ID)
	}
	if !m.FirstSentAt.IsZero() {
		set(attrFirstSentAt, m.FirstSentAt.UTC().Format(time.RFC3339Nano))
	}
	for _, k := range slices.Sorted(maps.Keys(m.Attributes)) {
		if k != attrFirstSentAt {
			set(k, m.Attributes[k])
		}
	}
	return out
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("wait before retrying: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}

func strPtr(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// errNoQueue is returned when a component was built without a queue URL.
var errNoQueue = errors.New("no queue URL configured")

// maxDelay is the longest DelaySeconds SQS accepts.
const maxDelay = 15 * time.Minute

// delaySeconds is d rounded up to whole seconds, within SQS's 0–900.
func delaySeconds(d time.Duration) int32 {
	d = min(max(d, 0), maxDelay)
	return int32((d + time.Second - 1) / time.Second)
}
