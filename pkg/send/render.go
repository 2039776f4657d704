package send

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// Subject returns the subject line of n's email: "[SEVERITY] TYPE: title",
// with control characters (newlines included) replaced by spaces so the
// event cannot add mail headers.
func Subject(n *Notification) string {
	e := n.Event
	return notify.OneLine(fmt.Sprintf("[%s] %s: %s", e.Severity, e.Type, e.Title))
}

// RenderEmail renders n as an email: its subject, a plain-text body and an
// HTML body (every event field escaped). Both bodies name every rule that
// matched, the source, the time, the link and the labels.
func RenderEmail(n *Notification) (subject, text, html string) {
	v := NewView(n)
	return Subject(n), emailText(&v), emailHTML(&v)
}

// View is a notification's fields as every channel renders them: strings,
// already formatted (time in UTC, policy with its id, labels sorted), not
// yet escaped for any medium.
type View struct {
	Subject  string
	Severity string
	Color    string
	Type     string
	Title    string
	Message  string
	Source   string
	Time     string
	Policy   string
	Job      string
	Status   string
	URL      string
	Labels   []Label
	Rules    []RuleRef
	EventID  string
}

// Label is one label of an event.
type Label struct{ Key, Value string }

// NewView returns the view of n.
func NewView(n *Notification) View {
	e := n.Event
	v := View{
		Subject:  Subject(n),
		Severity: string(e.Severity),
		Color:    severityColor(e.Severity),
		Type:     string(e.Type),
		Title:    e.Title,
		Message:  e.Message,
		Source:   e.Source,
		Time:     eventTime(e),
		Job:      e.JobID,
		Status:   string(e.Status),
		URL:      e.URL,
		Labels:   sortedLabels(e.Labels),
		Rules:    n.Rules,
		EventID:  e.ID,
	}
	switch {
	case e.PolicyName != "" && e.PolicyID != "":
		v.Policy = e.PolicyName + " (" + e.PolicyID + ")"
	case e.PolicyID != "":
		v.Policy = e.PolicyID
	default:
		v.Policy = e.PolicyName
	}
	return v
}

// eventTime is when the event happened (or, if it does not say, when it
// was received), in UTC; "" if neither is known.
func eventTime(e *notify.Event) string {
	t := e.OccurredAt
	if t.IsZero() {
		t = e.ReceivedAt
	}
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateTime + " MST")
}

func sortedLabels(m map[string]string) []Label {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]Label, 0, len(keys))
	for _, k := range keys {
		out = append(out, Label{k, m[k]})
	}
	return out
}

// severityColor is the colour of a severity, as "#rrggbb".
func severityColor(s notify.Severity) string {
	switch s {
	case notify.SeverityCritical:
		return "#d4213d"
	case notify.SeverityWarning:
		return "#e8a317"
	default:
		return "#2b7bb9"
	}
}
