package api

import (
	"strconv"
	"strings"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// etag is the ETag of a resource at version v.
func etag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

// precondition is a parsed If-Match header.
type precondition struct {
	set     bool  // the header was sent
	any     bool  // If-Match: *
	version int64 // the version named, if !any
}

// parseIfMatch parses an If-Match header holding one strong ETag as
// returned by GET, or *. Anything else can match no version, so it fails
// the precondition (412), as RFC 9110 has it.
func parseIfMatch(h string) (precondition, error) {
	h = strings.TrimSpace(h)
	switch {
	case h == "":
		return precondition{}, nil
	case h == "*":
		return precondition{set: true, any: true}, nil
	}
	if len(h) >= 3 && h[0] == '"' && h[len(h)-1] == '"' {
		if v, err := strconv.ParseInt(h[1:len(h)-1], 10, 64); err == nil && v > 0 {
			return precondition{set: true, version: v}, nil
		}
	}
	p := newProblem(notify.EStale, `If-Match must be one ETag as GET returns it, like "3", or *`)
	p.Errors = []ProblemField{{Field: "If-Match", Message: "is not an ETag of this API"}}
	return precondition{}, p
}

// check fails with 412 unless the precondition holds for a resource at
// version current (0: the resource does not exist).
func (p precondition) check(what string, current int64) error {
	switch {
	case !p.set:
		return nil
	case current == 0:
		return newProblem(notify.EStale, what+" does not exist, so If-Match cannot match")
	case p.any || p.version == current:
		return nil
	}
	return newProblem(notify.EStale, what+" is at version "+strconv.FormatInt(current, 10)+
		", not "+strconv.FormatInt(p.version, 10)+": GET it again and reapply your change")
}

// requireIfMatch parses an If-Match header that must be present.
func requireIfMatch(h string) (precondition, error) {
	p, err := parseIfMatch(h)
	if err != nil {
		return p, err
	}
	if !p.set {
		return p, newProblem(CodePreconditionRequired, `If-Match is required: send the ETag from a GET of the resource, like If-Match: "3"`)
	}
	return p, nil
}

// admin is the precondition as the admin services take it: nil when no
// If-Match was sent; a delete must then find the version named (any with
// *).
func (p precondition) admin() admin.Precondition {
	if !p.set {
		return nil
	}
	return func(what string, current int64) (int64, error) {
		if err := p.check(what, current); err != nil {
			return 0, err
		}
		if p.any {
			return 0, nil
		}
		return p.version, nil
	}
}

// ifMatchLater is the If-Match header h as a precondition parsed when the
// service checks it, after it has read the resource: so a missing
// resource (404) or a read-only one (409) is reported before a malformed
// or missing header. required makes a missing header a 428.
func ifMatchLater(h string, required bool) admin.Precondition {
	return func(what string, current int64) (int64, error) {
		parse := parseIfMatch
		if required {
			parse = requireIfMatch
		}
		p, err := parse(h)
		if err != nil {
			return 0, err
		}
		if pre := p.admin(); pre != nil {
			return pre(what, current)
		}
		return 0, nil
	}
}
