package send

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"maps"
	"slices"
	"text/template"
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
	var tb, hb bytes.Buffer
	if err := textTmpl.Execute(&tb, v); err != nil {
		// The templates are fixed and the view holds only strings: an
		// error here is a bug in this file, caught by the tests.
		panic(fmt.Sprintf("send: render text email: %v", err))
	}
	if err := htmlTmpl.Execute(&hb, v); err != nil {
		panic(fmt.Sprintf("send: render html email: %v", err))
	}
	return Subject(n), tb.String(), hb.String()
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

var textTmpl = template.Must(template.New("text").Parse(`{{.Subject}}
{{if .Message}}
{{.Message}}
{{end}}
Severity: {{.Severity}}
Type:     {{.Type}}
{{- if .Source}}
Source:   {{.Source}}{{end}}
{{- if .Time}}
Time:     {{.Time}}{{end}}
{{- if .Policy}}
Policy:   {{.Policy}}{{end}}
{{- if .Job}}
Job:      {{.Job}}{{end}}
{{- if .Status}}
Status:   {{.Status}}{{end}}
{{- if .URL}}
Link:     {{.URL}}{{end}}
{{- if .Labels}}

Labels:
{{- range .Labels}}
  {{.Key}}: {{.Value}}{{end}}{{end}}

You receive this because {{if eq (len .Rules) 1}}this rule matches{{else}}these rules match{{end}}:
{{- range .Rules}}
  - {{.Name}} ({{.ID}}){{end}}

--
argo-notify{{if .EventID}} · event {{.EventID}}{{end}}
`))

var htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Parse(`<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; color: #1d1c1d;">
<table role="presentation" cellpadding="0" cellspacing="0" style="border-left: 6px solid {{.Color}}; padding: 8px 16px; max-width: 640px;">
<tr><td>
<p style="margin: 0; font-size: 12px; font-weight: bold; color: {{.Color}};">{{.Severity}} · {{.Type}}</p>
<h2 style="margin: 4px 0 12px 0;">{{.Title}}</h2>
{{- if .Message}}
<p style="white-space: pre-wrap;">{{.Message}}</p>
{{- end}}
<table role="presentation" cellpadding="4" cellspacing="0" style="font-size: 14px;">
{{- if .Source}}
<tr><th align="left">Source</th><td>{{.Source}}</td></tr>{{end}}
{{- if .Time}}
<tr><th align="left">Time</th><td>{{.Time}}</td></tr>{{end}}
{{- if .Policy}}
<tr><th align="left">Policy</th><td>{{.Policy}}</td></tr>{{end}}
{{- if .Job}}
<tr><th align="left">Job</th><td>{{.Job}}</td></tr>{{end}}
{{- if .Status}}
<tr><th align="left">Status</th><td>{{.Status}}</td></tr>{{end}}
{{- if .URL}}
<tr><th align="left">Link</th><td><a href="{{.URL}}">{{.URL}}</a></td></tr>{{end}}
</table>
{{- if .Labels}}
<p style="margin-bottom: 4px;"><b>Labels</b></p>
<table role="presentation" cellpadding="2" cellspacing="0" style="font-size: 13px;">
{{- range .Labels}}
<tr><td><code>{{.Key}}</code></td><td>{{.Value}}</td></tr>{{end}}
</table>
{{- end}}
<p style="font-size: 12px; color: #616061;">You receive this because {{if eq (len .Rules) 1}}this rule matches{{else}}these rules match{{end}}:</p>
<ul style="font-size: 12px; color: #616061;">
{{- range .Rules}}
<li>{{.Name}} ({{.ID}})</li>{{end}}
</ul>
<p style="font-size: 11px; color: #868686;">argo-notify{{if .EventID}} · event {{.EventID}}{{end}}</p>
</td></tr>
</table>
</body>
</html>
`))
