package api

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/argoproj-labs/argo-notify/pkg/api/problem"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// Codes the HTTP layer adds to the notify.E* codes, for errors that arise
// before a request reaches the domain (pkg/api/problem owns them).
const (
	CodeMalformed            = problem.CodeMalformed
	CodeMethodNotAllowed     = problem.CodeMethodNotAllowed
	CodeNotAcceptable        = problem.CodeNotAcceptable
	CodePreconditionRequired = problem.CodePreconditionRequired
	CodeUnsupportedMediaType = problem.CodeUnsupportedMediaType
	CodeTimeout              = problem.CodeTimeout
	CodeNotConnected         = problem.CodeNotConnected
)

type (
	// Problem is an RFC 9457 problem detail, the body of every error
	// response (problem.Problem).
	Problem = problem.Problem
	// ProblemField names one field at fault (problem.ProblemField).
	ProblemField = problem.ProblemField
)

// newProblem returns a problem with the code's status and title.
func newProblem(code, detail string) *Problem { return problem.New(code, detail) }

// problemFrom turns an application error into a problem: see problem.From.
func problemFrom(err error) (*Problem, bool) { return problem.From(err) }

// writeProblem writes p outside huma (auth, routing, panics).
func writeProblem(w http.ResponseWriter, p *Problem) { problem.Write(w, p) }

// statusCode is the inverse of codeStatus for the statuses huma produces.
func statusCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return CodeMalformed
	case http.StatusUnauthorized:
		return notify.EUnauthorized
	case http.StatusNotFound:
		return notify.ENotFound
	case http.StatusMethodNotAllowed:
		return CodeMethodNotAllowed
	case http.StatusNotAcceptable:
		return CodeNotAcceptable
	case http.StatusRequestTimeout:
		return CodeTimeout
	case http.StatusConflict:
		return notify.EConflict
	case http.StatusPreconditionFailed:
		return notify.EStale
	case http.StatusRequestEntityTooLarge:
		return notify.ETooLarge
	case http.StatusUnsupportedMediaType:
		return CodeUnsupportedMediaType
	case http.StatusUnprocessableEntity:
		return notify.EInvalid
	case http.StatusPreconditionRequired:
		return CodePreconditionRequired
	case http.StatusServiceUnavailable:
		return notify.EUnavailable
	}
	if status >= 500 {
		return notify.EInternal
	}
	return CodeMalformed
}

// fieldf returns an EInvalid problem for one field.
func fieldf(field, format string, args ...any) *Problem {
	return invalidFields([]ProblemField{{Field: field, Message: fmt.Sprintf(format, args...)}})
}

// invalidFields returns an EInvalid problem listing fields.
func invalidFields(fields []ProblemField) *Problem {
	detail := "validation failed"
	if len(fields) == 1 {
		detail = fields[0].Field + ": " + fields[0].Message
	}
	p := newProblem(notify.EInvalid, detail)
	p.Errors = fields
	return p
}

// hookOnce installs newHumaError as huma.NewError. huma offers only this
// package-level hook to shape the errors it produces itself (bad JSON,
// schema validation, body limits); every API built by New wants the same.
var hookOnce sync.Once

func installErrorHook() {
	hookOnce.Do(func() {
		huma.NewError = newHumaError
		huma.NewErrorWithContext = func(_ huma.Context, status int, msg string, errs ...error) huma.StatusError {
			return newHumaError(status, msg, errs...)
		}
	})
}

// newHumaError shapes huma's own errors as problems. Values huma would echo
// (the offending input) are dropped: they may hold secrets.
func newHumaError(status int, msg string, errs ...error) huma.StatusError {
	if status == 0 { // huma asks for an example to build the schema
		return &Problem{}
	}
	code := statusCode(status)
	if code == notify.EInternal {
		return newProblem(code, "an internal error occurred")
	}
	var fields []ProblemField
	for _, err := range errs {
		if err == nil {
			continue
		}
		var d *huma.ErrorDetail
		if errors.As(err, &d) {
			fields = append(fields, humaField(d))
			continue
		}
		fields = append(fields, ProblemField{Message: err.Error()})
	}
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].Field < fields[j].Field })
	detail := msg
	switch {
	case code == CodeUnsupportedMediaType:
		detail = "send the body as Content-Type: application/json"
		fields = nil
	case code == CodeMalformed && len(fields) == 1 && fields[0].Field == "":
		detail = "the body is not valid JSON: " + fields[0].Message
		fields = nil
	case code == notify.EInvalid && len(fields) == 1:
		detail = strings.TrimPrefix(fields[0].Field+": ", ": ") + fields[0].Message
	case code == notify.ETooLarge:
		detail = fmt.Sprintf("the body is larger than %d bytes", maxBody)
	}
	p := newProblem(code, detail)
	p.Errors = fields
	return p
}

// humaField converts huma's location ("body.recipients.users[1]",
// "query.limit") to the field names the domain uses.
func humaField(d *huma.ErrorDetail) ProblemField {
	loc := d.Location
	for _, prefix := range []string{"body", "query", "path", "header", "cookie"} {
		if loc == prefix {
			loc = ""
			break
		}
		if rest, ok := strings.CutPrefix(loc, prefix+"."); ok {
			loc = rest
			break
		}
	}
	msg := d.Message
	var prop string
	if n, _ := fmt.Sscanf(msg, "expected required property %s to be present", &prop); n == 1 {
		loc = strings.TrimPrefix(loc+"."+prop, ".")
		msg = "is required"
	}
	if msg == "unexpected property" {
		msg = "is not a known field"
	}
	// An enum mismatch, in the one style of every validation message: the
	// bad value quoted (a short string is not a secret), then the choices.
	if list, ok := strings.CutPrefix(msg, "expected value to be one of "); ok {
		list = strings.Trim(list, `"`)
		msg = "is not one of " + list
		if v, ok := d.Value.(string); ok && len(v) <= 64 {
			msg = strconv.Quote(v) + " " + msg
		}
	}
	return ProblemField{Field: loc, Message: msg}
}
