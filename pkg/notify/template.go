package notify

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// MaxTemplate is the longest template source, in bytes.
const MaxTemplate = 8 << 10

// maxRendered bounds what a template may produce, in bytes.
const maxRendered = 64 << 10

// Template is a rule's `template`: Go text/template sources over a
// TemplateData (parsed by text/template/parse, executed by execute, with
// missingkey=zero; call, js, slice, template, define and block are
// refused), each optional (absent: the default rendering). Subject
// replaces the event title in the mail subject and the Slack headline
// (the "[SEVERITY] TYPE:" prefix stays); Text replaces the message in the
// mail bodies and, without Slack, in Slack; Slack replaces it in Slack.
// The output is plain text: every channel escapes it as it escapes event
// text (HTML mail from the escaped text, Slack mrkdwn with mentions such
// as <!channel> neutralised). Execution is bounded in steps, work and
// memory (maxSteps, maxWork, maxValue, maxWidth, maxRendered): a template
// over its budget fails, on save as on every event.
type Template struct {
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text,omitempty"`
	Slack   string `json:"slack,omitempty"`
}

// TemplateData is what a template sees: the event's fields.
type TemplateData struct {
	ID, Type, Severity, Title, Message, Source string
	Policy, PolicyID, Job, Status, URL         string
	Time                                       string
	Labels                                     map[string]string
}

// SampleEvent is the event templates are checked against on save.
var SampleEvent = Event{
	ID: "evt_sample", Type: TypeJob, Severity: SeverityCritical, Title: "Job nightly-etl failed",
	Message: "exit code 137", Source: "argo/prod", PolicyID: "nightly-etl", PolicyName: "Nightly ETL",
	JobID: "job-42", Status: JobFailed, URL: "https://argo.example.com/jobs/job-42",
	OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Labels: map[string]string{"env": "prod"},
}

// dataOf is the template data of ev.
func dataOf(ev *Event) TemplateData {
	d := TemplateData{
		ID: ev.ID, Type: string(ev.Type), Severity: string(ev.Severity), Title: ev.Title, Message: ev.Message,
		Source: ev.Source, Policy: ev.PolicyName, PolicyID: ev.PolicyID, Job: ev.JobID, Status: string(ev.Status),
		URL: ev.URL, Labels: ev.Labels,
	}
	if d.Policy == "" {
		d.Policy = ev.PolicyID
	}
	if d.Labels == nil {
		d.Labels = map[string]string{}
	}
	if t := ev.OccurredAt; !t.IsZero() {
		d.Time = t.UTC().Format(time.RFC3339)
	} else if t := ev.ReceivedAt; !t.IsZero() {
		d.Time = t.UTC().Format(time.RFC3339)
	}
	return d
}

// limited is a writer that fails past maxRendered bytes.
type limited struct{ bytes.Buffer }

func (l *limited) Write(p []byte) (int, error) {
	if l.Len()+len(p) > maxRendered {
		return 0, fmt.Errorf("the output exceeds %d bytes", maxRendered)
	}
	return l.Buffer.Write(p)
}

// errPos reads "template: name:LINE[:COL]: msg" as text/template writes it.
var errPos = regexp.MustCompile(`^template: [a-z]+:(\d+)(?::(\d+))?: (.*)$`)

// TemplateError is a template that does not parse or execute, with where.
type TemplateError struct {
	Part         string // subject, text or slack
	Line, Column int    // 1-based (Column in bytes); Column 0 when text/template does not say (parse errors)
	Msg          string
}

func (e *TemplateError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

func templateError(part string, err error) *TemplateError {
	te := &TemplateError{Part: part, Line: 1, Msg: err.Error()}
	if m := errPos.FindStringSubmatch(err.Error()); m != nil {
		te.Line, _ = strconv.Atoi(m[1])
		if m[2] != "" {
			c, _ := strconv.Atoi(m[2]) // a 0-based byte offset in the line
			te.Column = c + 1
		}
		te.Msg = m[3]
	}
	return te
}

// render executes src (named part) over ev.
func render(part, src string, ev *Event) (string, error) {
	if src == "" {
		return "", nil
	}
	tree, err := parseTemplate(part, src)
	if err != nil {
		return "", err
	}
	out, err := execute(part, src, tree, dataOf(ev))
	if err != nil {
		return "", templateError(part, err)
	}
	return out, nil
}

// Rendered is a template's output for one event ("" where a part is
// absent: the default applies).
type Rendered struct {
	Subject string `json:"subject,omitempty"`
	Text    string `json:"text,omitempty"`
	Slack   string `json:"slack,omitempty"`
}

// Render executes each part of t over ev. Errors are *TemplateError.
func (t *Template) Render(ev *Event) (Rendered, error) {
	var r Rendered
	var err error
	if r.Subject, err = render("subject", t.Subject, ev); err != nil {
		return Rendered{}, err
	}
	r.Subject = OneLine(r.Subject)
	if r.Text, err = render("text", t.Text, ev); err != nil {
		return Rendered{}, err
	}
	if r.Slack, err = render("slack", t.Slack, ev); err != nil {
		return Rendered{}, err
	}
	return r, nil
}

// Apply returns a copy of ev with r's parts in place of the defaults for
// channel ch.
func (r Rendered) Apply(ev *Event, ch Channel) *Event {
	out := *ev
	if r.Subject != "" {
		out.Title = r.Subject
	}
	if r.Text != "" {
		out.Message = r.Text
	}
	if ch == ChannelSlack && r.Slack != "" {
		out.Message = r.Slack
	}
	return &out
}

// validate adds t's problems to v: a part too long, or one that does not
// parse or execute over SampleEvent.
func (t *Template) validate(v *validator) {
	for _, p := range []struct{ name, src string }{{"subject", t.Subject}, {"text", t.Text}, {"slack", t.Slack}} {
		if len(p.src) > MaxTemplate {
			v.add("template."+p.name, "must be at most %d bytes", MaxTemplate)
			continue
		}
		_, err := render(p.name, p.src, &SampleEvent)
		var te *TemplateError
		if errors.As(err, &te) {
			v.add("template."+p.name, "%s", te.Error())
		}
	}
}
