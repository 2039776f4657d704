// Package problem is the error shape of the admin API and of the ingest
// handler: RFC 9457 problem details with a stable code. It is apart from
// pkg/api so that the ingest function, which serves only POST /v1/events,
// links neither huma nor the admin API.
package problem

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

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

	// Header holds headers to send with the problem (Allow, Retry-After,
	// WWW-Authenticate).
	Header http.Header `json:"-"`
}

// Error implements error.
func (p *Problem) Error() string { return p.Code + ": " + p.Detail }

// GetStatus returns the HTTP status (huma.StatusError).
func (p *Problem) GetStatus() int { return p.Status }

// GetHeaders returns headers to send with the problem (huma.HeadersError).
func (p *Problem) GetHeaders() http.Header { return p.Header }

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

// New returns a problem with the code's status and title.
func New(code, detail string) *Problem {
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

// From turns an application error into a problem. It reports whether
// err was an expected (coded, non-internal) error; the caller logs the
// others, whose detail never reaches the client.
func From(err error) (*Problem, bool) {
	var p *Problem
	if errors.As(err, &p) {
		return p, true
	}
	var e *notify.Error
	if !errors.As(err, &e) || e.Code == notify.EInternal {
		return New(notify.EInternal, "an internal error occurred; it has been logged"), false
	}
	if _, ok := codeStatus[e.Code]; !ok {
		return New(notify.EInternal, "an internal error occurred; it has been logged"), false
	}
	p = New(e.Code, e.Message)
	for _, f := range e.Fields {
		p.Errors = append(p.Errors, ProblemField(f))
	}
	p.Refs = e.Refs
	return p, true
}

// FromDecode is the problem of an error of ingest.Decode or
// ingest.DecodeIndexed: JSON that does not parse is malformed (400), not
// invalid (422).
func FromDecode(err error) error {
	p, ok := From(err)
	if !ok {
		return p
	}
	if p.Code == notify.EInvalid && len(p.Errors) == 1 && p.Errors[0].Field == "body" &&
		(strings.HasPrefix(p.Errors[0].Message, "is not valid JSON") || strings.HasPrefix(p.Errors[0].Message, "has data after")) {
		return New(CodeMalformed, "the body is not valid JSON: it "+p.Errors[0].Message)
	}
	if p.Code == notify.ETooLarge {
		return New(notify.ETooLarge, p.Detail)
	}
	return p
}

// Write writes p outside huma (auth, routing, panics, the ingest handler).
func Write(w http.ResponseWriter, p *Problem) {
	for k, vs := range p.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
