package notify

import (
	"strings"
	"testing"
)

func TestTemplateValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tmpl  Template
		field string
		msg   string
	}{
		{"unknown field", Template{Subject: "ok {{.Nope}}"}, "template.subject", "line 1, column 6:"},
		{"unclosed action, line 2", Template{Text: "fine\n{{.Title"}, "template.text", "line 2"},
		{"unknown function", Template{Slack: "{{exec .Title}}"}, "template.slack", `line 1: function "exec" not defined`},
		{"too long", Template{Text: strings.Repeat("x", MaxTemplate+1)}, "template.text", "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v validator
			tc.tmpl.validate(&v)
			err := v.err()
			e, ok := err.(*Error)
			if !ok || len(e.Fields) != 1 || e.Fields[0].Field != tc.field || !strings.Contains(e.Fields[0].Message, tc.msg) {
				t.Errorf("validate = %v (%+v), want %s: …%s…", err, e, tc.field, tc.msg)
			}
		})
	}
	var v validator
	(&Template{Subject: "{{.Severity}}: {{.Title}}", Text: "{{.Message}} {{label \"env\" .Labels}}"}).validate(&v)
	if err := v.err(); err != nil {
		t.Errorf("a good template: %v", err)
	}
}

func TestTemplateRender(t *testing.T) {
	ev := SampleEvent
	out, err := (&Template{Subject: "{{.Title}}\nBcc: x@evil", Text: "{{.Message}}"}).Render(&ev)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out.Subject, "\r\n") {
		t.Errorf("subject %q keeps a newline", out.Subject)
	}
	got := out.Apply(&ev, ChannelSlack)
	if got.Message != "exit code 137" || ev.Title != SampleEvent.Title {
		t.Errorf("Apply: %+v; the event must not change", got)
	}
}
