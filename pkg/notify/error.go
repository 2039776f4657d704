package notify

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. They are stable: clients and the HTTP layer rely on them.
const (
	EInvalid      = "invalid"          // a field is missing or malformed (HTTP 422)
	ENotFound     = "not_found"        // the resource does not exist (404)
	EConflict     = "conflict"         // a unique name or id is taken (409)
	EReadOnly     = "read_only"        // the resource is managed elsewhere, e.g. a policy rule via /rules (409)
	EInUse        = "in_use"           // the resource is referenced, e.g. a user a rule names (409)
	EStale        = "version_mismatch" // If-Match or expected version does not match (412)
	EUnauthorized = "unauthorized"     // missing or wrong credentials (401)
	ETooLarge     = "too_large"        // body over the limit (413)
	EUnavailable  = "unavailable"      // a dependency (SMTP, Slack, queue) is not reachable (502/503)
	EInternal     = "internal"         // anything else; details are logged, never returned (500)
)

// FieldError names one field at fault and why.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the application error. Code is one of the E* constants; Message is
// safe to show to a client; Fields lists the fields at fault, if any.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	// Refs lists related resource ids, e.g. the rules that still name a user
	// whose removal was refused.
	Refs []string
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	return b.String()
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EInvalid error for one field.
func Invalid(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: EInvalid, Message: field + ": " + msg, Fields: []FieldError{{Field: field, Message: msg}}}
}

// ErrorCode returns the code of err if it is or wraps an *Error, EInternal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// IsCode reports whether err is an *Error (or wraps one) with the given code.
func IsCode(err error, code string) bool { return err != nil && ErrorCode(err) == code }

// validator collects field errors so validation reports every field at fault
// at once.
type validator struct{ fields []FieldError }

func (v *validator) add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	msg := "validation failed"
	if len(v.fields) == 1 {
		msg = v.fields[0].Field + ": " + v.fields[0].Message
	}
	return &Error{Code: EInvalid, Message: msg, Fields: v.fields}
}
