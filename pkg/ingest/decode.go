// Package ingest owns how events enter argo-notify: decoding and validating
// the body of POST /v1/events, checking its HMAC signature, and mapping
// EventBridge events (the custom `argo` bus and AWS job state changes) to
// Argo events. It is pure: no I/O, no AWS SDK, no HTTP server; it imports
// only pkg/notify, pkg/deploy (the EventBridge patterns it shares with the
// stack) and the standard library. One file per event source, as
// aws-lambda-go's events/ does: eventbridge.go (the envelope), job.go (what
// every AWS job source maps to), batch.go, stepfunctions.go, codebuild.go,
// ecs.go. The HTTP route and the Lambda handler call these functions.
package ingest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// wireEvent is an event as a client sends it: notify.Event, whose JSON
// shape it shares, with the timestamps as strings so that a bad one is
// reported by field name (the outer fields hide the embedded ones).
type wireEvent struct {
	notify.Event
	OccurredAt *string `json:"occurredAt"`
	ReceivedAt *string `json:"receivedAt"` // accepted and ignored: set by the server
}

// Decode parses the body of an ingest request: one JSON event object, or an
// array of 1 to notify.MaxEventBatch of them. Each event is validated with
// Event.Validate. Decode fills ReceivedAt with now and, where the client gave
// none, ID with newID() (a random id when newID is nil); a client-supplied ID
// is kept as is, so a retried request carries the same id (the same id twice,
// even in one batch, is accepted: the dispatcher deduplicates).
//
// Errors are *notify.Error: ETooLarge for a body over notify.MaxEventBody;
// EInvalid otherwise, naming the fields at fault ("severity", or for arrays
// "[3].severity"), with field "body" for a syntax error or a body that is
// neither an object nor an array. Unknown fields are rejected. All events
// are checked; the error lists every field at fault.
func Decode(body []byte, now time.Time, newID func() string) ([]notify.Event, error) {
	if newID == nil {
		newID = randomID
	}
	return DecodeIndexed(body, now, func(int) string { return newID() })
}

// DecodeIndexed is Decode with newID given the index of the event in the
// request (0 for a single object), so that an id can be derived from the
// request (DerivedID) instead of drawn at random.
func DecodeIndexed(body []byte, now time.Time, newID func(index int) string) ([]notify.Event, error) {
	if len(body) > notify.MaxEventBody {
		return nil, notify.Errorf(notify.ETooLarge, "body is over %d bytes", notify.MaxEventBody)
	}
	if newID == nil {
		newID = func(int) string { return randomID() }
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, notify.Invalid("body", "is empty; send a JSON event object or an array of them")
	}
	if k, dup := DuplicateKey(body); dup {
		return nil, notify.Invalid("body", "is not valid JSON for argo-notify: the key %q appears twice in one object", clip(k, 64))
	}
	now = now.UTC().Truncate(time.Millisecond) // the one precision of every recorded time
	if trimmed[0] == '{' {
		ev, fields := decodeOne(body, "")
		if len(fields) > 0 {
			return nil, invalid(fields)
		}
		fill(&ev, now, newID, 0)
		return []notify.Event{ev}, nil
	}
	if trimmed[0] != '[' {
		return nil, notify.Invalid("body", "must be a JSON event object or an array of them")
	}
	var raws []json.RawMessage
	if err := strictUnmarshal(body, &raws); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, notify.Invalid("body", "must be an array of event objects")
		}
		return nil, notify.Invalid("body", "%s", syntaxMessage(err))
	}
	if len(raws) == 0 || len(raws) > notify.MaxEventBatch {
		return nil, notify.Invalid("body", "must hold 1-%d events, not %d", notify.MaxEventBatch, len(raws))
	}
	evs := make([]notify.Event, len(raws))
	var fields []notify.FieldError
	for i, raw := range raws {
		prefix := "[" + strconv.Itoa(i) + "]"
		if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
			fields = append(fields, notify.FieldError{Field: prefix, Message: "must be an event object"})
			continue
		}
		var fe []notify.FieldError
		evs[i], fe = decodeOne(raw, prefix)
		fields = append(fields, fe...)
	}
	if len(fields) > 0 {
		return nil, invalid(fields)
	}
	for i := range evs {
		fill(&evs[i], now, newID, i)
	}
	return evs, nil
}

func fill(ev *notify.Event, now time.Time, newID func(int) string, i int) {
	if ev.ID == "" {
		ev.ID = newID(i)
	}
	ev.ReceivedAt = now
}

// decodeOne decodes and validates one event object; prefix ("" or "[i]") is
// put before every field name it reports.
func decodeOne(raw []byte, prefix string) (notify.Event, []notify.FieldError) {
	var w wireEvent
	if err := strictUnmarshal(raw, &w); err != nil {
		return notify.Event{}, []notify.FieldError{jsonFieldError(err, prefix)}
	}
	ev := w.Event
	var fields []notify.FieldError
	if w.OccurredAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *w.OccurredAt)
		if err != nil {
			fields = append(fields, notify.FieldError{Field: join(prefix, "occurredAt"), Message: "must be an RFC 3339 timestamp like 2026-01-02T15:04:05Z"})
		}
		ev.OccurredAt = t.UTC().Truncate(time.Millisecond)
	}
	if err := ev.Validate(); err != nil {
		var ne *notify.Error
		if !errors.As(err, &ne) {
			return ev, append(fields, notify.FieldError{Field: join(prefix, ""), Message: err.Error()})
		}
		for _, f := range ne.Fields {
			fields = append(fields, notify.FieldError{Field: join(prefix, f.Field), Message: f.Message})
		}
	}
	return ev, fields
}

// join builds a field path: "[3]" + "severity" → "[3].severity".
func join(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	}
	return prefix + "." + field
}

// strictUnmarshal decodes exactly one JSON value, rejecting unknown fields
// and trailing data.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errTrailing
	}
	return nil
}

var errTrailing = errors.New("unexpected data after the JSON value")

// jsonFieldError turns a decoding error into a field error that names the
// JSON field, without echoing the client's bytes back.
func jsonFieldError(err error, prefix string) notify.FieldError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		// encoding/json names a promoted field by its path through the
		// embedded struct: "Event.type".
		field := strings.TrimPrefix(te.Field, "Event.")
		if field == "" {
			return notify.FieldError{Field: join(prefix, ""), Message: "must be an event object"}
		}
		if field == "labels" || strings.HasPrefix(field, "labels.") {
			return notify.FieldError{Field: join(prefix, "labels"), Message: "must be an object of string values"}
		}
		return notify.FieldError{Field: join(prefix, clip(field, 128)), Message: "must be " + jsonKind(te.Type.Kind().String())}
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		name, uerr := strconv.Unquote(strings.TrimPrefix(msg, "json: unknown field "))
		if uerr != nil || len(name) > 64 {
			return notify.FieldError{Field: join(prefix, ""), Message: "has an unknown field"}
		}
		return notify.FieldError{Field: join(prefix, name), Message: "is not a known field"}
	}
	if prefix == "" {
		prefix = "body"
	}
	return notify.FieldError{Field: prefix, Message: syntaxMessage(err)}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "ptr":
		return "a string"
	}
	return "of another type"
}

func syntaxMessage(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("is not valid JSON (at byte %d)", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "is not valid JSON (truncated)"
	case errors.Is(err, errTrailing):
		return "has data after the JSON value"
	}
	return "is not valid JSON"
}

func invalid(fields []notify.FieldError) *notify.Error {
	msg := "validation failed"
	if len(fields) == 1 {
		msg = fields[0].Field + ": " + fields[0].Message
	}
	return &notify.Error{Code: notify.EInvalid, Message: msg, Fields: fields}
}

// randomID returns 16 random bytes in hex; used when Decode is given no id
// function.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
