package sqs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

// MaxVisibility is the longest visibility timeout SQS accepts (12 hours).
const MaxVisibility = 12 * time.Hour

// VisibilityChanger is the part of the SQS client a Consumer uses.
type VisibilityChanger interface {
	ChangeMessageVisibility(ctx context.Context, in *awssqs.ChangeMessageVisibilityInput, opts ...func(*awssqs.Options)) (*awssqs.ChangeMessageVisibilityOutput, error)
}

// Consumer runs a queue.Handler over the records of a Lambda SQS event. The
// event source mapping must enable ReportBatchItemFailures.
type Consumer struct {
	client   VisibilityChanger
	queueURL string
	log      *slog.Logger
	redrive  bool
}

// ConsumerOption configures a Consumer.
type ConsumerOption func(*Consumer)

// LeaveLastReceiveToRedrive makes the queue's redrive policy, not the
// handler, decide when a message has had its last chance: the handler
// never sees a ReceiveCount past queue.MaxReceives-1, so a handler that
// gives up on the last receive (the dispatcher records transient failures
// as failed there) keeps reporting them as failures instead, and SQS moves
// the message to the dead-letter queue after maxReceiveCount receives,
// where it alarms and can be redriven. The queue's redrive policy must
// have maxReceiveCount = queue.MaxReceives (the stack sets both from
// pkg/deploy).
func LeaveLastReceiveToRedrive() ConsumerOption {
	return func(c *Consumer) { c.redrive = true }
}

// NewConsumer returns a Consumer for the queue at queueURL (the queue the
// Lambda function is triggered by; needed to delay retries). log may be nil.
func NewConsumer(client VisibilityChanger, queueURL string, log *slog.Logger, opts ...ConsumerOption) *Consumer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Consumer{client: client, queueURL: queueURL, log: log}
	for _, o := range opts {
		o(c)
	}
	return c
}

// HandleBatch runs h once per record, in order, and returns the records
// that failed as BatchItemFailures, so SQS deletes the others and only the
// failed ones come back. A handler error fails only its record; a
// *queue.RetryError also sets the record's visibility timeout to its delay
// (ChangeMessageVisibility), so the retry comes no sooner. A handler panic
// is recovered and fails only its record. Records left when ctx is done,
// and on a FIFO queue the records after a failed one, are reported as
// failed without being handled.
func (c *Consumer) HandleBatch(ctx context.Context, ev events.SQSEvent, h queue.Handler) events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	fifoFailed := false
	for i := range ev.Records {
		rec := &ev.Records[i]
		if err := ctx.Err(); err != nil || fifoFailed {
			c.log.WarnContext(ctx, "sqs: record not handled", "messageId", rec.MessageId, "outOfTime", err != nil, "afterFIFOFailure", fifoFailed)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			continue
		}
		m := FromRecord(rec)
		if c.redrive && m.ReceiveCount >= queue.MaxReceives {
			m.ReceiveCount = queue.MaxReceives - 1
		}
		err := handle(ctx, h, m)
		if err == nil {
			continue
		}
		// On a FIFO queue the records after a failure must come back too,
		// or they would overtake it.
		fifoFailed = strings.HasSuffix(rec.EventSourceARN, ".fifo")
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		log := c.log.With("messageId", rec.MessageId, "eventId", m.Attributes[queue.AttrEventID], "receiveCount", m.ReceiveCount)
		if pe, ok := errors.AsType[*panicError](err); ok {
			log.ErrorContext(ctx, "sqs: handler panicked", "panic", fmt.Sprint(pe.value), "stack", string(pe.stack))
			continue
		}
		after, ok := queue.RetryAfter(err)
		if !ok {
			log.WarnContext(ctx, "sqs: record failed, will be retried", "err", err)
			continue
		}
		log.WarnContext(ctx, "sqs: record failed, retry delayed", "err", err, "retryAfter", after)
		if verr := c.delay(ctx, rec.ReceiptHandle, after); verr != nil {
			// The record still comes back, after the queue's own timeout.
			log.ErrorContext(ctx, "sqs: could not delay retry", "err", verr)
		}
	}
	return resp
}

// handle runs h, turning a panic into an error.
func handle(ctx context.Context, h queue.Handler, m queue.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	return h(ctx, m)
}

// panicError is a recovered handler panic.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("handler panicked: %v", e.value) }

// delay makes the message visible again only after d.
func (c *Consumer) delay(ctx context.Context, receipt string, d time.Duration) error {
	if c.queueURL == "" {
		return errNoQueue
	}
	_, err := c.client.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{
		QueueUrl:          &c.queueURL,
		ReceiptHandle:     &receipt,
		VisibilityTimeout: visibilitySeconds(d),
	})
	if err != nil {
		return fmt.Errorf("change message visibility: %w", err)
	}
	return nil
}

// visibilitySeconds rounds d up to whole seconds within what SQS accepts.
func visibilitySeconds(d time.Duration) int32 {
	if d <= 0 {
		return 0
	}
	if d > MaxVisibility {
		d = MaxVisibility
	}
	return int32(math.Ceil(d.Seconds()))
}

// FromRecord converts a Lambda SQS record to a queue.Message: ID is the
// eventId message attribute (the SQS message id if there is none),
// Attributes the string message attributes, ReceiveCount the
// ApproximateReceiveCount and FirstSentAt the time of the first send
// (surviving redrives) or else SentTimestamp.
func FromRecord(rec *events.SQSMessage) queue.Message {
	attrs := make(map[string]string, len(rec.MessageAttributes))
	for k, v := range rec.MessageAttributes {
		if v.StringValue != nil {
			attrs[k] = *v.StringValue
		}
	}
	return message(rec.MessageId, rec.Body, rec.Attributes, attrs)
}

// message builds a queue.Message from what SQS returned.
func message(sqsID, body string, system, attrs map[string]string) queue.Message {
	m := queue.Message{ID: sqsID, Body: []byte(body)}
	if id := attrs[queue.AttrEventID]; id != "" {
		m.ID = id
	}
	if n, err := strconv.Atoi(system["ApproximateReceiveCount"]); err == nil {
		m.ReceiveCount = n
	}
	if ms, err := strconv.ParseInt(system["SentTimestamp"], 10, 64); err == nil {
		m.FirstSentAt = time.UnixMilli(ms).UTC()
	}
	if t, err := time.Parse(time.RFC3339Nano, attrs[attrFirstSentAt]); err == nil {
		m.FirstSentAt = t.UTC()
	}
	delete(attrs, attrFirstSentAt)
	if len(attrs) > 0 {
		m.Attributes = attrs
	}
	return m
}
