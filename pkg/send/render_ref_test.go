package send_test

import (
	"bytes"
	htmltemplate "html/template"
	"testing"
	"text/template"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// The email bodies were text/template and html/template; they are plain
// Go now (issue 12). These are the templates they replaced, the reference
// the new rendering must match byte for byte.

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

// reference renders n with the replaced templates.
func reference(t testing.TB, n *send.Notification) (text, html string) {
	t.Helper()
	v := send.NewView(n)
	var tb, hb bytes.Buffer
	if err := textTmpl.Execute(&tb, v); err != nil {
		t.Fatal(err)
	}
	if err := htmlTmpl.Execute(&hb, v); err != nil {
		t.Fatal(err)
	}
	return tb.String(), hb.String()
}

func checkReference(t testing.TB, n *send.Notification) {
	t.Helper()
	wantText, wantHTML := reference(t, n)
	_, text, html := send.RenderEmail(n)
	if text != wantText {
		t.Errorf("text body differs from the template's:\n got %q\nwant %q", text, wantText)
	}
	if html != wantHTML {
		t.Errorf("html body differs from the template's:\n got %q\nwant %q", html, wantHTML)
	}
}

// refCases are the render cases and variations reaching every branch:
// each optional field absent and present, no/one/many labels and rules,
// every severity, hostile text and links.
func refCases() map[string]*send.Notification {
	cases := renderCases()
	at := time.Date(2026, 11, 26, 3, 4, 5, 0, time.UTC)
	full := func() *notify.Event {
		return &notify.Event{
			ID: "e", Type: notify.TypeJob, Severity: notify.SeverityInfo, Title: "t", Message: "m",
			Source: "s", OccurredAt: at, PolicyID: "p", PolicyName: "P", JobID: "j", Status: notify.JobFailed,
			URL: "https://x.example/a b?c=d&e='f'#g%20h%zz\x00é", Labels: map[string]string{"b": "2", "a": "1+1"},
		}
	}
	cases["full"] = &send.Notification{Event: full(), Rules: []send.RuleRef{{ID: "r1", Name: "one"}}}
	cases["empty"] = &send.Notification{Event: &notify.Event{}}
	for i, u := range []string{"javascript:alert(1)", "JavaScript:x", "mailto:a@b", "HTTP://X", "/rel:x", "data:text/html,<b>", "x y\"z'<>"} {
		e := full()
		e.URL = u
		e.Severity = []notify.Severity{notify.SeverityCritical, notify.SeverityWarning, notify.SeverityInfo}[i%3]
		cases["url-"+u] = &send.Notification{Event: e, Rules: []send.RuleRef{{ID: "a", Name: "b"}, {ID: "c", Name: "d"}, {ID: "e\x00", Name: "f+&"}}}
	}
	for _, drop := range []func(*notify.Event){
		func(e *notify.Event) { e.Message = "" }, func(e *notify.Event) { e.Source = "" },
		func(e *notify.Event) { e.OccurredAt = time.Time{} }, func(e *notify.Event) { e.PolicyID, e.PolicyName = "", "" },
		func(e *notify.Event) { e.PolicyName = "" }, func(e *notify.Event) { e.PolicyID = "" },
		func(e *notify.Event) { e.JobID = "" }, func(e *notify.Event) { e.Status = "" },
		func(e *notify.Event) { e.URL = "" }, func(e *notify.Event) { e.Labels = nil }, func(e *notify.Event) { e.ID = "" },
	} {
		e := full()
		drop(e)
		cases["drop-"+string(rune('a'+len(cases)))] = &send.Notification{Event: e}
	}
	return cases
}

// TestRenderEmailMatchesTemplates checks the plain-Go bodies against the
// replaced templates over every case.
func TestRenderEmailMatchesTemplates(t *testing.T) {
	for name, n := range refCases() {
		t.Run(name, func(t *testing.T) { checkReference(t, n) })
	}
}

// FuzzRenderEmailReference compares the bodies with the replaced templates
// on arbitrary field text.
func FuzzRenderEmailReference(f *testing.F) {
	f.Add("t", "m", "s", "https://a.example/?q=<x>&y=%41", "k", "v", "rule", uint8(1))
	f.Add("<script>", "", "'\"+&\x00", "javascript:x", "", "", "", uint8(0))
	f.Fuzz(func(t *testing.T, title, msg, src, url, k, v, rule string, flags uint8) {
		e := &notify.Event{ID: title, Type: notify.TypeJob, Severity: notify.SeverityWarning, Title: title, Message: msg,
			Source: src, URL: url, PolicyID: k, PolicyName: v, JobID: rule, Status: notify.JobStatus(msg)}
		if flags&1 != 0 {
			e.Labels = map[string]string{k: v, v: rule}
		}
		rules := []send.RuleRef{{ID: rule, Name: title}}
		if flags&2 != 0 {
			rules = append(rules, send.RuleRef{ID: k, Name: v})
		}
		checkReference(t, &send.Notification{Event: e, Rules: rules})
	})
}
