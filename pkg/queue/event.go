package queue

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// Message attributes EncodeEvent sets, so that a queue's tools (the SQS
// console, dead-letter listings, logs) show which event a message holds
// without decoding its body.
const (
	AttrEventID   = "eventId"
	AttrEventType = "eventType"
	AttrSeverity  = "severity"
)

// AttrPutBack marks a message the dispatcher put back on the queue itself
// (an event whose sends pacing put off): its first receive is not the
// event's first handling.
const AttrPutBack = "putBack"

// ErrNotEvent is wrapped by DecodeEvent's errors: the message does not hold
// an event, and no number of retries will change that.
var ErrNotEvent = errors.New("message does not hold an event")

// EncodeEvent is how every producer puts an event on a queue: ID is the
// event id, Body the event's JSON, Attributes its id, type and severity.
// FirstSentAt is left to the caller. ev must have an id.
func EncodeEvent(ev *notify.Event) (Message, error) {
	if ev == nil || ev.ID == "" {
		return Message{}, errors.New("encode event: the event has no id")
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return Message{}, fmt.Errorf("encode event %q: %w", ev.ID, err)
	}
	return Message{ID: ev.ID, Body: body, Attributes: map[string]string{
		AttrEventID:   ev.ID,
		AttrEventType: string(ev.Type),
		AttrSeverity:  string(ev.Severity),
	}}, nil
}

// DecodeEvent reads back the event EncodeEvent put in m. Its errors wrap
// ErrNotEvent: a body that is not an event object, or one without an id.
func DecodeEvent(m Message) (*notify.Event, error) {
	var ev notify.Event
	if err := json.Unmarshal(m.Body, &ev); err != nil {
		return nil, fmt.Errorf("%w: message %s: decode event: %v", ErrNotEvent, m.ID, err)
	}
	if ev.ID == "" {
		return nil, fmt.Errorf("%w: message %s: event has no id", ErrNotEvent, m.ID)
	}
	return &ev, nil
}
