// Package queue declares how accepted events travel from ingest to the
// dispatcher. Implementations: queue/local (a durable queue in the embedded
// store's directory, for local mode) and queue/sqs (Amazon SQS).
package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
)

// MaxReceives is how many times a message is received before it is parked
// as dead: the SQS redrive policy's maxReceiveCount, which pkg/deploy owns
// and the stack sets.
const MaxReceives = deploy.MaxReceiveCount

// Message is one queued event. Body is the JSON of a notify.Event.
type Message struct {
	ID           string            `json:"id"`
	Body         []byte            `json:"body"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	ReceiveCount int               `json:"receiveCount"`
	// FirstSentAt is when the message was first enqueued.
	FirstSentAt time.Time `json:"firstSentAt"`
	// NotBefore, if set on Send, keeps the message invisible until then:
	// the local queue holds it until NotBefore, SQS for at most its
	// 15-minute DelaySeconds (the handler asks for the rest with a
	// RetryError). It is how the dispatcher schedules held deliveries.
	NotBefore time.Time `json:"notBefore,omitzero"`
}

// Producer puts messages on a queue. Send returns only once every message is
// durably held; on error none or some may be held, and the caller must
// report failure (a client retry is safe: the dispatcher deduplicates).
type Producer interface {
	Send(ctx context.Context, msgs []Message) error
}

// Handler processes one message. nil deletes it; an error returns it to the
// queue for another receive (after RetryAfter's delay if the error is or
// wraps a *RetryError, after the queue's backoff otherwise). A message is
// parked as dead once it has been received MaxReceives times.
type Handler func(ctx context.Context, m Message) error

// RetryError asks for the message to come back no sooner than After.
type RetryError struct {
	After time.Duration
	Err   error
}

// Error implements error.
func (e *RetryError) Error() string {
	return fmt.Sprintf("retry after %s: %v", e.After, e.Err)
}

// Unwrap returns the cause.
func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter returns the delay err asks for, if it is or wraps a *RetryError.
func RetryAfter(err error) (time.Duration, bool) {
	var r *RetryError
	if errors.As(err, &r) {
		return r.After, true
	}
	return 0, false
}

// DeadLetter is a message parked after MaxReceives failed receives.
type DeadLetter struct {
	Message
	LastError string    `json:"lastError"`
	DeadAt    time.Time `json:"deadAt"`
}

// DeadLetters lists parked messages and sends them back to the queue.
type DeadLetters interface {
	ListDead(ctx context.Context, limit int, cursor string) ([]DeadLetter, string, error)
	// Redrive puts the dead message back on the queue with a fresh receive
	// count; ENotFound (notify.Error) if there is no such dead message.
	Redrive(ctx context.Context, id string) error
}
