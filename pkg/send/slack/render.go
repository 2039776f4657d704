package slack

import (
	"net/url"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// Slack Block Kit limits (characters) that the rendering keeps to.
const (
	slackMaxSectionText = 3000
	slackMaxField       = 2000
	slackMaxContext     = 3000
)

// Render renders n as a Slack message: text is the notification
// fallback (what push notifications and screen readers show), and the one
// attachment carries the severity colour and the Block Kit blocks (title,
// message, type, severity, source, time, policy, job, link, labels and the
// rules that matched).
//
// Every piece of event text is escaped for Slack mrkdwn (&, <, > become
// &amp;, &lt;, &gt;) and sent verbatim, and bare @channel, @here and
// @everyone are broken with a zero-width space, so an event can neither
// ping anyone nor inject a link.
func Render(n *send.Notification) (text string, attachments []slackapi.Attachment) {
	v := send.NewView(n)
	text = truncEscape(v.Subject, slackMaxSectionText)

	blocks := []slackapi.Block{
		section(mrkdwn("*" + truncEscape(notify.OneLine(v.Title), slackMaxSectionText-2) + "*")),
	}
	if v.Message != "" {
		blocks = append(blocks, section(mrkdwn(truncEscape(v.Message, slackMaxSectionText))))
	}

	var fields []*slackapi.TextBlockObject
	field := func(name, value string) {
		if value != "" {
			fields = append(fields, mrkdwn("*"+name+"*\n"+truncEscape(value, slackMaxField-len(name)-3)))
		}
	}
	field("Severity", v.Severity)
	field("Type", v.Type)
	field("Source", v.Source)
	field("Time", v.Time)
	field("Policy", v.Policy)
	field("Job", v.Job)
	field("Status", v.Status)
	blocks = append(blocks, slackapi.NewSectionBlock(nil, fields, nil))

	if v.URL != "" {
		blocks = append(blocks, section(mrkdwn(slackLink(v.URL, "Open in Argo"))))
	}
	if len(v.Labels) > 0 {
		parts := make([]string, 0, len(v.Labels))
		for _, l := range v.Labels {
			parts = append(parts, l.Key+": "+l.Value)
		}
		blocks = append(blocks, slackapi.NewContextBlock("",
			mrkdwn("Labels: "+truncEscape(strings.Join(parts, " · "), slackMaxContext-8))))
	}
	if len(v.Rules) > 0 {
		names := make([]string, 0, len(v.Rules))
		for _, r := range v.Rules {
			names = append(names, r.Name)
		}
		prefix := "Rule: "
		if len(names) > 1 {
			prefix = "Rules: "
		}
		blocks = append(blocks, slackapi.NewContextBlock("",
			mrkdwn(prefix+truncEscape(strings.Join(names, ", "), slackMaxContext-len(prefix)))))
	}

	return text, []slackapi.Attachment{{
		Color:    v.Color,
		Fallback: text,
		Blocks:   slackapi.Blocks{BlockSet: blocks},
	}}
}

func section(t *slackapi.TextBlockObject) *slackapi.SectionBlock {
	return slackapi.NewSectionBlock(t, nil, nil)
}

// mrkdwn is a verbatim mrkdwn text object: Slack does not turn bare names,
// channels or URLs in it into mentions or links.
func mrkdwn(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, s, false, true)
}

var (
	slackEscaper   = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	bareMention    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)(^|[^A-Za-z0-9])@(channel|here|everyone)\b`) }) // compiled on first use, not at start
	urlEscaper     = strings.NewReplacer("&", "&amp;", "<", "%3C", ">", "%3E", "|", "%7C", " ", "%20")
	zeroWidthSpace = "\u200b"
)

// Escape escapes s for Slack mrkdwn: &, < and > become &amp;, &lt;
// and &gt; (so "<!channel>", "<@U123>" and "<http://x|y>" are shown, not
// acted on), and a zero-width space is put after the @ of a standalone
// @channel, @here or @everyone.
func Escape(s string) string {
	return neutralize(slackEscaper.Replace(s))
}

// neutralize puts a zero-width space after the @ of a standalone @channel,
// @here or @everyone (not inside an address such as ops@here.example).
func neutralize(s string) string {
	return bareMention().ReplaceAllString(s, "${1}@"+zeroWidthSpace+"${2}")
}

// truncEscape escapes s with EscapeSlack and shortens the result to at most
// max bytes (ending with "…" when shortened) without cutting a rune or an
// escape sequence.
func truncEscape(s string, max int) string {
	e := Escape(s)
	if len(e) <= max {
		return e
	}
	const ellipsis = "…"
	var b strings.Builder
	for _, r := range s {
		piece := Escape(string(r))
		if b.Len()+len(piece)+len(ellipsis) > max {
			break
		}
		b.WriteString(piece)
	}
	// Escaping rune by rune misses mentions that span runes: escape the
	// kept prefix again as a whole.
	out := neutralize(b.String())
	for len(out)+len(ellipsis) > max && len(out) > 0 {
		_, size := utf8.DecodeLastRuneInString(out)
		out = out[:len(out)-size]
	}
	return cutEntity(out) + ellipsis
}

// cutEntity drops a trailing incomplete "&amp;"-style escape.
func cutEntity(s string) string {
	if i := strings.LastIndexByte(s, '&'); i >= 0 && !strings.Contains(s[i:], ";") {
		return s[:i]
	}
	return s
}

// slackLink is a mrkdwn link to u labelled label, or the escaped URL as
// text when it is not an absolute http(s) URL.
func slackLink(u, label string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return Escape(u)
	}
	return "<" + urlEscaper.Replace(u) + "|" + Escape(label) + ">"
}
