package send_test

import (
	"strings"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// ruleTemplate is the template of the golden files: every field, the
// function set, and hostile text from the event.
var ruleTemplate = &notify.Template{
	Subject: `{{upper .Severity}} {{.Title | trunc 20}} [{{label "env" .Labels}}]`,
	Text: "{{.Message}}\n" +
		"Policy: {{default \"none\" .Policy}} ({{.PolicyID}}), job {{.Job}}: {{lower .Status}}\n" +
		"{{range $k, $v := .Labels}}{{$k}}={{$v}} {{end}}\n" +
		"<b>not bold</b> & {{.URL}}",
}

// TestRenderTemplateGolden renders a templated event as email: the
// subject keeps its [SEVERITY] TYPE: prefix, and the HTML body is the
// template's text escaped.
func TestRenderTemplateGolden(t *testing.T) {
	ev := notify.SampleEvent
	out, err := ruleTemplate.Render(&ev)
	if err != nil {
		t.Fatal(err)
	}
	n := &send.Notification{Event: out.Apply(&ev, notify.ChannelEmail), Rules: []send.RuleRef{{ID: "rul_1", Name: "Templated"}}, Channel: notify.ChannelEmail, To: []string{"a@example.com"}}
	subject, text, html := send.RenderEmail(n)
	golden(t, "template.email.txt", "Subject: "+subject+"\n\n"+text)
	golden(t, "template.email.html", html)
	if strings.Contains(html, "<b>not bold</b>") {
		t.Error("template output reached the HTML unescaped")
	}
	if want := "[CRITICAL] JOB: CRITICAL Job nightly-etl fail… [prod]"; subject != want {
		t.Errorf("subject %q, want %q", subject, want)
	}
}
