package slack_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/slack"
)

// TestTemplateOutputIsEscaped: mentions written by a template, or pulled
// by it from the event, are neutralised like any event text.
func TestTemplateOutputIsEscaped(t *testing.T) {
	ev := notify.SampleEvent
	ev.Message = "<!here> from the event"
	tmpl := &notify.Template{Subject: "<!channel> {{.Title}}", Slack: "<!everyone> <@U123> {{.Message}} <https://evil.example|click>"}
	out, err := tmpl.Render(&ev)
	if err != nil {
		t.Fatal(err)
	}
	n := &send.Notification{Event: out.Apply(&ev, notify.ChannelSlack), Rules: []send.RuleRef{{ID: "rul_1", Name: "T"}}, Channel: notify.ChannelSlack, To: []string{"C0123456789"}}
	text, atts := slack.Render(n)
	b, err := json.Marshal(map[string]any{"text": text, "attachments": atts})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	collectStrings(t, b, &all)
	joined := strings.Join(all, "\n")
	for _, bad := range []string{"<!channel>", "<!here>", "<!everyone>", "<@U123>", "<https://evil"} {
		if strings.Contains(joined, bad) {
			t.Errorf("slack message contains %q:\n%s", bad, joined)
		}
	}
	if !strings.Contains(joined, "&lt;!everyone&gt;") {
		t.Errorf("the slack template's text is missing:\n%s", joined)
	}
}
