package slack_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/slack"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// renderCases are the notifications rendered to golden files.
func renderCases() map[string]*send.Notification {
	at := time.Date(2026, 11, 26, 3, 4, 5, 0, time.UTC)
	return map[string]*send.Notification{
		"job-failed": {
			Event: &notify.Event{
				ID: "evt-1", Type: notify.TypeJob, Severity: notify.SeverityCritical,
				Title: "Nightly backup failed", Message: "Job backup-42 exited with code 3.\nSee the log for details.",
				Source: "argo/prod-eu", OccurredAt: at, PolicyID: "pol-7", PolicyName: "Nightly backup",
				JobID: "job-42", Status: notify.JobFailed, URL: "https://argo.example.com/jobs/42?tab=log&x=1",
				Labels: map[string]string{"env": "prod", "team": "storage"},
			},
			Rules:   []send.RuleRef{{ID: "rul_1", Name: "Critical jobs"}, {ID: "rul_2", Name: "Backup owners"}},
			Channel: notify.ChannelEmail,
			To:      []string{"ops@example.com"},
		},
		"minimal": {
			Event: &notify.Event{Type: notify.TypeSystem, Severity: notify.SeverityInfo, Title: "Maintenance done"},
			Rules: []send.RuleRef{{ID: "rul_3", Name: "Everything"}},
		},
		"hostile": {
			Event: &notify.Event{
				ID: "evt-x", Type: notify.TypeDeployment, Severity: notify.SeverityWarning,
				Title:      "<!channel> deploy <script>alert(1)</script>\r\nBcc: victim@example.com",
				Message:    "hey <!here> and <@U123> and @channel @HERE @everyone, click <http://evil.example|here> & win",
				Source:     "<https://evil.example|argo>",
				ReceivedAt: at,
				URL:        "https://argo.example.com/x?a=<b>|c",
				Labels:     map[string]string{"<!subteam^S1>": "<@U999>", "k": `"><img src=x onerror=alert(1)>`},
			},
			Rules: []send.RuleRef{{ID: "rul_4", Name: "<b>bold</b> rule @here"}},
		},
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got; go test -update to accept):\n%s", name, diff)
	}
}

func TestRenderGolden(t *testing.T) {
	for name, n := range renderCases() {
		t.Run(name, func(t *testing.T) {
			text, atts := slack.Render(n)
			b, err := json.MarshalIndent(map[string]any{"text": text, "attachments": atts}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".slack.json", string(b)+"\n")
		})
	}
}

func TestRenderEscapes(t *testing.T) {
	text, atts := slack.Render(renderCases()["hostile"])
	b, err := json.Marshal(map[string]any{"text": text, "attachments": atts})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	collectStrings(t, b, &all)
	joined := strings.Join(all, "\n")
	for _, bad := range []string{"<!channel>", "<!here>", "<@U123>", "<@U999>", "<!subteam", "<http://evil", "<https://evil", "<script>"} {
		if strings.Contains(joined, bad) {
			t.Errorf("slack message contains %q:\n%s", bad, joined)
		}
	}
	if m := regexp.MustCompile(`(?i)(^|[^A-Za-z0-9])@(channel|here|everyone)`).FindString(joined); m != "" {
		t.Errorf("slack message contains a bare %q", m)
	}
	// The one link is the event's URL, with | and <> made harmless.
	links := regexp.MustCompile(`<([^>|]*)\|`).FindAllStringSubmatch(joined, -1)
	if len(links) != 1 || links[0][1] != "https://argo.example.com/x?a=%3Cb%3E%7Cc" {
		t.Errorf("links = %q, want just the event URL", links)
	}
	if atts[0].Color != "#e8a317" {
		t.Errorf("colour = %q, want the warning colour", atts[0].Color)
	}
}

// collectStrings gathers every string value in a JSON document.
func collectStrings(t *testing.T, b []byte, out *[]string) {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			*out = append(*out, v)
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a & b", "a &amp; b"},
		{"<!channel>", "&lt;!channel&gt;"},
		{"<@U123>", "&lt;@U123&gt;"},
		{"<http://evil|click>", "&lt;http://evil|click&gt;"},
		{"hi @channel", "hi @\u200bchannel"},
		{"@Here and @EVERYONE", "@\u200bHere and @\u200bEVERYONE"},
		{"mail me@here.com", "mail me@here.com"},
		{"(@channel)", "(@\u200bchannel)"},
		{"@channel@here", "@\u200bchannel@here"},
		{"*@here*", "*@\u200bhere*"},
		{"&@here", "&amp;@\u200bhere"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := slack.Escape(tt.in); got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRenderLimits(t *testing.T) {
	long := strings.Repeat("<&>", 6000) // 18,000 bytes, 90,000 escaped
	n := &send.Notification{Event: &notify.Event{
		Type: notify.TypeSystem, Severity: notify.SeverityInfo, Title: long, Message: long + "@channel",
		Source: long, Labels: map[string]string{"k": long},
	}, Rules: []send.RuleRef{{ID: "r", Name: long}}}
	_, atts := slack.Render(n)
	b, err := json.Marshal(atts)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	collectStrings(t, b, &all)
	for _, s := range all {
		if len(s) > 3000 {
			t.Errorf("a text of %d bytes exceeds Slack's 3000", len(s))
		}
		if regexp.MustCompile(`&[a-z]*…`).MatchString(s) {
			t.Errorf("an escape sequence was cut: %q", s[len(s)-20:])
		}
		if strings.ContainsAny(strings.TrimPrefix(s, "<"), "<>") && !strings.HasPrefix(s, "#") {
			t.Errorf("unescaped angle bracket in %q…", s[:40])
		}
	}
}
