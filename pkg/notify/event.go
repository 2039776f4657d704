package notify

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// EventType classifies what an event is about.
type EventType string

// The event types Argo emits.
const (
	TypeSystem        EventType = "SYSTEM"
	TypeConfiguration EventType = "CONFIGURATION"
	TypeJob           EventType = "JOB"
	TypeDeployment    EventType = "DEPLOYMENT"
	TypeSpending      EventType = "SPENDING"
)

// EventTypes lists every event type in a stable order.
var EventTypes = []EventType{TypeSystem, TypeConfiguration, TypeJob, TypeDeployment, TypeSpending}

// Valid reports whether t is a known event type.
func (t EventType) Valid() bool { return slices.Contains(EventTypes, t) }

// Severity says how urgent an event is.
type Severity string

// The severities, most urgent first.
const (
	SeverityCritical Severity = "CRITICAL"
	SeverityWarning  Severity = "WARNING"
	SeverityInfo     Severity = "INFO"
)

// Severities lists every severity, most urgent first.
var Severities = []Severity{SeverityCritical, SeverityWarning, SeverityInfo}

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return slices.Contains(Severities, s) }

// JobStatus is the terminal status of a job a policy ran.
type JobStatus string

// The terminal job statuses.
const (
	JobSucceeded JobStatus = "SUCCEEDED"
	JobFailed    JobStatus = "FAILED"
)

// JobStatuses lists the terminal job statuses.
var JobStatuses = []JobStatus{JobSucceeded, JobFailed}

// Valid reports whether s is a known job status.
func (s JobStatus) Valid() bool { return slices.Contains(JobStatuses, s) }

// notOneOf is the validation message for a value outside values, in the
// one style every message uses: the bad value quoted, then the choices
// ("is required" with the choices when it is empty).
func notOneOf[T ~string](got T, values []T) string {
	if got == "" {
		return "is required: one of " + oneOf(values)
	}
	return strconv.Quote(string(got)) + " is not one of " + oneOf(values)
}

// oneOf lists values for a validation message: "A, B, C".
func oneOf[T ~string](values []T) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// Limits on events, enforced by Event.Validate and the ingest endpoint.
const (
	MaxEventBody     = 256 << 10 // bytes of one ingest request body
	MaxEventBatch    = 100       // events in one ingest request
	MaxTitle         = 256       // characters
	MaxMessage       = 16 << 10  // bytes
	MaxLabels        = 32        // pairs
	MaxLabelKey      = 128       // bytes
	MaxLabelValue    = 1024      // bytes
	MaxEventIDLength = 128
)

// Event is one thing that happened in Argo that someone may need to hear of.
type Event struct {
	ID         string            `json:"id,omitempty"`
	Type       EventType         `json:"type"`
	Severity   Severity          `json:"severity"`
	Title      string            `json:"title"`
	Message    string            `json:"message,omitempty"`
	Source     string            `json:"source,omitempty"`
	OccurredAt time.Time         `json:"occurredAt,omitzero"`
	ReceivedAt time.Time         `json:"receivedAt,omitzero"`
	PolicyID   string            `json:"policyId,omitempty"`
	PolicyName string            `json:"policyName,omitempty"`
	JobID      string            `json:"jobId,omitempty"`
	Status     JobStatus         `json:"status,omitempty"`
	URL        string            `json:"url,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
}

// ValidID reports whether s may be used as a client-supplied id (event
// ids, user ids, policy ids): 1-128 characters of ASCII letters, digits and
// ._:@+=-, starting with a letter or digit, without "..". Ids become parts
// of storage keys and URL paths, so no "/" (a path separator) and no "..".
//
// It is what ^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$ matches (a test holds
// the two together), checked by hand: that regexp's compiled program (the
// repetition unrolled 127 times) cost every function's cold start ~0.4 ms.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 128 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && !strings.ContainsRune("._:@+=-", rune(c)) {
			return false
		}
	}
	return !strings.Contains(s, "..")
}

// isAlnum reports whether c is an ASCII letter or digit.
func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// Validate checks the event and reports every field at fault.
func (e *Event) Validate() error {
	var v validator
	if e.ID != "" && !ValidID(e.ID) {
		v.add("id", "must be 1-128 characters of letters, digits and ._:@+=- (no \"..\"), starting with a letter or digit")
	}
	if !e.Type.Valid() {
		v.add("type", "%s", notOneOf(e.Type, EventTypes))
	}
	if !e.Severity.Valid() {
		v.add("severity", "%s", notOneOf(e.Severity, Severities))
	}
	if n := utf8.RuneCountInString(e.Title); n == 0 || n > MaxTitle {
		v.add("title", "must be 1-%d characters", MaxTitle)
	}
	if len(e.Message) > MaxMessage {
		v.add("message", "must be at most %d bytes", MaxMessage)
	}
	for _, f := range []struct {
		field, text string
		multiline   bool
	}{
		{"title", e.Title, false}, {"message", e.Message, true}, {"source", e.Source, false},
		{"policyName", e.PolicyName, false}, {"jobId", e.JobID, false},
	} {
		if p := TextProblem(f.text, f.multiline); p != "" {
			v.add(f.field, "%s", p)
		}
	}
	if len(e.Source) > 256 {
		v.add("source", "must be at most 256 bytes")
	}
	if e.PolicyID != "" && !ValidID(e.PolicyID) {
		v.add("policyId", "is not a valid id")
	}
	if len(e.PolicyName) > 256 {
		v.add("policyName", "must be at most 256 bytes")
	}
	if len(e.JobID) > 2048 {
		v.add("jobId", "must be at most 2048 bytes")
	}
	if e.Status != "" && !e.Status.Valid() {
		v.add("status", "%s", notOneOf(e.Status, JobStatuses))
	}
	if e.URL != "" {
		if u, err := url.Parse(e.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(e.URL) > 2048 {
			v.add("url", "must be an absolute http(s) URL of at most 2048 bytes")
		}
	}
	if len(e.Labels) > MaxLabels {
		v.add("labels", "must have at most %d pairs", MaxLabels)
	}
	for k, val := range e.Labels {
		if k == "" || len(k) > MaxLabelKey {
			v.add("labels", "keys must be 1-%d bytes", MaxLabelKey)
			break
		}
		if TextProblem(k, false) != "" {
			v.add("labels", "keys %s", TextProblem(k, false))
			break
		}
		if len(val) > MaxLabelValue {
			v.add("labels."+k, "must be at most %d bytes", MaxLabelValue)
		}
		if p := TextProblem(val, true); p != "" {
			v.add("labels."+k, "%s", p)
		}
	}
	return v.err()
}
