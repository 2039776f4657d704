package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// Codes the HTTP layer adds to the notify.E* codes, for errors that arise
// before a request reaches the domain.
const (
	CodeMalformed            = "malformed"              // the body is not JSON (400)
	CodeMethodNotAllowed     = "method_not_allowed"     // the route exists, the method does not (405)
	CodeNotAcceptable        = "not_acceptable"         // no representation the client accepts (406)
	CodePreconditionRequired = "precondition_required"  // a PUT without If-Match (428)
	CodeUnsupportedMediaType = "unsupported_media_type" // a body that is not application/json (415)
	CodeTimeout              = "timeout"                // the body did not arrive in time (408)
	CodeNotConnected         = admin.ENotConnected      // the integration a route needs is not connected (409)
)

// ProblemField names one field at fault.
type ProblemField struct {
	Field   string `json:"field" doc:"The field at fault, as a path into the JSON body (recipients.users[1]) or the name of a parameter (limit, If-Match)." example:"recipients.users[1]"`
	Message string `json:"message" doc:"Why the field is at fault." example:"\"u-42\" is not a known user id"`
}

// Problem is an RFC 9457 problem detail, the body of every error response
// (Content-Type application/problem+json). Code is stable and meant for
// programs; Title and Detail are for people.
type Problem struct {
	Type   string         `json:"type" doc:"A URI naming the kind of problem: urn:argo-notify:problem:<code>." example:"urn:argo-notify:problem:invalid"`
	Title  string         `json:"title" doc:"A short summary of the kind of problem." example:"Invalid request"`
	Status int            `json:"status" doc:"The HTTP status code." example:"422"`
	Detail string         `json:"detail,omitempty" doc:"What went wrong in this request." example:"recipients.users[1]: \"u-42\" is not a known user id"`
	Code   string         `json:"code" doc:"A stable error code." enum:"invalid,malformed,not_found,conflict,read_only,in_use,version_mismatch,precondition_required,unauthorized,too_large,unsupported_media_type,not_acceptable,method_not_allowed,timeout,not_connected,directory_synced,unavailable,internal" example:"invalid"`
	Errors []ProblemField `json:"errors,omitempty" doc:"The fields at fault, for validation errors."`
	Refs   []string       `json:"refs,omitempty" doc:"Related resource ids, e.g. the rules that still name a user whose removal was refused."`

	header http.Header
}

// Error implements error.
func (p *Problem) Error() string { return p.Code + ": " + p.Detail }

// GetStatus returns the HTTP status (huma.StatusError).
func (p *Problem) GetStatus() int { return p.Status }

// GetHeaders returns headers to send with the problem (huma.HeadersError).
func (p *Problem) GetHeaders() http.Header { return p.header }

// ContentType makes huma send the problem as application/problem+json.
func (p *Problem) ContentType(string) string { return "application/problem+json" }

var codeStatus = map[string]int{
	notify.EInvalid:          http.StatusUnprocessableEntity,
	CodeMalformed:            http.StatusBadRequest,
	notify.ENotFound:         http.StatusNotFound,
	notify.EConflict:         http.StatusConflict,
	notify.EReadOnly:         http.StatusConflict,
	notify.EInUse:            http.StatusConflict,
	notify.EStale:            http.StatusPreconditionFailed,
	CodePreconditionRequired: http.StatusPreconditionRequired,
	notify.EUnauthorized:     http.StatusUnauthorized,
	notify.ETooLarge:         http.StatusRequestEntityTooLarge,
	CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	CodeNotAcceptable:        http.StatusNotAcceptable,
	CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	CodeTimeout:              http.StatusRequestTimeout,
	CodeNotConnected:         http.StatusConflict,
	notify.EDirectorySynced:  http.StatusConflict,
	notify.EUnavailable:      http.StatusServiceUnavailable,
	notify.EInternal:         http.StatusInternalServerError,
}

var codeTitle = map[string]string{
	notify.EInvalid:          "Invalid request",
	CodeMalformed:            "Malformed request",
	notify.ENotFound:         "Not found",
	notify.EConflict:         "Conflict",
	notify.EReadOnly:         "Read-only resource",
	notify.EInUse:            "Resource in use",
	notify.EStale:            "Version mismatch",
	CodePreconditionRequired: "If-Match required",
	notify.EUnauthorized:     "Unauthorized",
	notify.ETooLarge:         "Request too large",
	CodeUnsupportedMediaType: "Unsupported media type",
	CodeNotAcceptable:        "Not acceptable",
	CodeMethodNotAllowed:     "Method not allowed",
	CodeTimeout:              "Request timeout",
	CodeNotConnected:         "Not connected",
	notify.EDirectorySynced:  "Directory synced",
	notify.EUnavailable:      "Service unavailable",
	notify.EInternal:         "Internal error",
}

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

// newProblem returns a problem with the code's status and title.
func newProblem(code, detail string) *Problem {
	status, ok := codeStatus[code]
	if !ok {
		status, code = http.StatusInternalServerError, notify.EInternal
	}
	return &Problem{
		Type:   "urn:argo-notify:problem:" + code,
		Title:  codeTitle[code],
		Status: status,
		Detail: detail,
		Code:   code,
	}
}

// problemFrom turns an application error into a problem. It reports
// whether err was an expected (coded, non-internal) error; the caller logs
// the others, whose detail never reaches the client.
func problemFrom(err error) (*Problem, bool) {
	var p *Problem
	if errors.As(err, &p) {
		return p, true
	}
	var e *notify.Error
	if !errors.As(err, &e) || e.Code == notify.EInternal {
		return newProblem(notify.EInternal, "an internal error occurred; it has been logged"), false
	}
	if _, ok := codeStatus[e.Code]; !ok {
		return newProblem(notify.EInternal, "an internal error occurred; it has been logged"), false
	}
	p = newProblem(e.Code, e.Message)
	for _, f := range e.Fields {
		p.Errors = append(p.Errors, ProblemField(f))
	}
	p.Refs = e.Refs
	return p, true
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

// writeProblem writes p outside huma (auth, routing, panics).
func writeProblem(w http.ResponseWriter, p *Problem) {
	for k, vs := range p.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
