// Package admin holds the use cases of argo-notify's administration: rule
// and policy-rule changes with their reference checks, the directory of
// users and groups (with the whole-directory replace), and the SMTP and
// Slack integrations with their secret lifecycle. The REST API (pkg/api),
// the admin console and any CLI translate their requests into calls of
// these services and their results back; none of them reaches a store for
// these use cases itself.
//
// The directory service also holds the use cases of directory sync
// (provision.go, scim.go): what an identity provider does through SCIM
// (pkg/scim), the SCIM token, and the refusal of admin API directory writes
// while the directory is synced. Every change is recorded in the audit
// trail (audit.go), with the actor WithActor puts in the context.
//
// Services take their dependencies through a Config, take ctx first and
// return *notify.Error values for expected outcomes. Every successful change
// that can change which rules match, or whom they reach, calls the
// OnRulesChanged hook of the service's Config, so that a process caching
// the rule index refreshes it.
//
// The package imports the domain (pkg/notify) and the store interfaces
// (pkg/store) only. It must not import pkg/api, net/http, huma, a store or
// queue implementation, an AWS SDK or a sender package: the SMTP and Slack
// connection tests come in through the small interfaces declared here
// (SMTPTester, SlackClient).
package admin

import (
	"strconv"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// Precondition is what a caller expects of the stored version of what it
// changes or removes, e.g. an HTTP If-Match. It is called with a
// description of the resource ("rule rul_…") and its stored version (0 if
// it does not exist), and returns an error (EStale) to refuse the change,
// or the version a delete must still find (0: whatever is stored). A nil
// Precondition accepts any version.
type Precondition func(what string, current int64) (pin int64, err error)

// check applies pre (if not nil) to the stored version.
func (pre Precondition) check(what string, current int64) (int64, error) {
	if pre == nil {
		return 0, nil
	}
	return pre(what, current)
}

// clock is the time and id source of a service.
type clock struct {
	now func() time.Time
	ids func() string
}

// stamp returns the current time, in UTC, to the millisecond the stores
// keep.
func (c clock) stamp() time.Time { return c.now().UTC().Truncate(time.Millisecond) }

func newClock(now func() time.Time, ids func() string) clock {
	if now == nil {
		now = time.Now
	}
	if ids == nil {
		panic("admin: Config.IDs is nil")
	}
	return clock{now: now, ids: ids}
}

// announce calls hook, if set.
func announce(hook func()) {
	if hook != nil {
		hook()
	}
}

// invalid returns an EInvalid error listing fields (sorted by the caller
// where order matters).
func invalid(fields []notify.FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	msg := "validation failed"
	if len(fields) == 1 {
		msg = fields[0].Field + ": " + fields[0].Message
	}
	return &notify.Error{Code: notify.EInvalid, Message: msg, Fields: fields}
}

// fieldsOf returns the fields of an EInvalid error, and false for any
// other error (which the caller returns as it is).
func fieldsOf(err error) ([]notify.FieldError, bool) {
	e, ok := err.(*notify.Error)
	if !ok || e.Code != notify.EInvalid {
		return nil, false
	}
	return e.Fields, true
}

func indexed(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

func quote(s string) string { return strconv.Quote(s) }
