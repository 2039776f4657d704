package slack_test

import (
	"encoding/json"
	"flag"
	"regexp"
	"strings"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/sendtest"
	"github.com/argoproj-labs/argo-notify/pkg/send/slack"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func renderCases() map[string]*send.Notification { return sendtest.RenderCases() }

func golden(t *testing.T, name, got string) {
	t.Helper()
	sendtest.Golden(t, *update, name, got)
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
