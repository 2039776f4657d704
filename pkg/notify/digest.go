package notify

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxDigestWindow is the longest digest window a rule may ask for.
const MaxDigestWindow = 24 * 60 * 60

// DigestRecent is how many of the newest folded events a digest carries in
// full; the others are counted.
const DigestRecent = 5

// MaxDigestEvents bounds the event ids a digest remembers (to fold each
// event once however often the queue delivers it). Past it, events are
// still counted; a redelivered one may then be counted twice.
// 2,000 ids of at most 128 bytes keep a digest well under DynamoDB's
// 400 KB item limit.
const MaxDigestEvents = 2000

// DigestPolicy is a rule's `digest`: the first event that reaches a
// recipient through the rule in a window goes out at once, the others are
// folded into one message sent when the window closes.
//
// Windows are aligned: window n covers [n·W, (n+1)·W) seconds of Unix
// time, so every dispatcher computes the same window for the same instant
// with no shared state, and the digest's id names it.
type DigestPolicy struct {
	WindowSeconds int `json:"windowSeconds"`
}

// Window returns the window of the policy that holds t.
func (p *DigestPolicy) Window(t time.Time) (start, end time.Time) {
	w := int64(p.WindowSeconds)
	n := t.Unix() / w
	return time.Unix(n*w, 0).UTC(), time.Unix((n+1)*w, 0).UTC()
}

// Enabled reports whether the policy folds anything.
func (p *DigestPolicy) Enabled() bool { return p != nil && p.WindowSeconds > 0 }

// DigestID is the id of the digest delivery of rule ruleID to recipient
// over ch for the window that starts at start: one per (rule, recipient,
// window), so a conditional claim on it makes it exactly one.
func DigestID(ruleID string, start time.Time, ch Channel, recipient string) string {
	return DeliveryID(DigestEventID(ruleID, start), ch, recipient)
}

// DigestEventID is the event id of the digests of rule ruleID for the
// window that starts at start: a digest delivery is the delivery of this
// pseudo-event, so stores key and list it like any other.
func DigestEventID(ruleID string, start time.Time) string {
	return "digest:" + ruleID + ":" + strconv.FormatInt(start.Unix(), 10)
}

// DigestCount is how many folded events had one type and severity.
type DigestCount struct {
	Type     EventType `json:"type"`
	Severity Severity  `json:"severity"`
	Count    int       `json:"count"`
}

// Digest is what a digest delivery holds: the events folded into it.
type Digest struct {
	RuleID      string    `json:"ruleId"`
	RuleName    string    `json:"ruleName"`
	WindowStart time.Time `json:"windowStart"`
	WindowEnd   time.Time `json:"windowEnd"`
	// Opener is the event whose claim created the digest (it schedules
	// the release). First is the event sent at once that opened the
	// window: the opener of a digest, "" for quiet hours.
	Opener string        `json:"opener"`
	First  string        `json:"first"`
	Counts []DigestCount `json:"counts"`
	// Recent are the newest DigestRecent folded events, newest first.
	Recent   []Event  `json:"recent"`
	EventIDs []string `json:"eventIds"`
}

// Total is how many events were folded.
func (g *Digest) Total() int {
	n := 0
	for _, c := range g.Counts {
		n += c.Count
	}
	return n
}

// Has reports whether ev was folded.
func (g *Digest) Has(id string) bool { return slices.Contains(g.EventIDs, id) }

// Fold adds ev; false if it was already folded.
func (g *Digest) Fold(ev *Event) bool {
	if g.Has(ev.ID) {
		return false
	}
	if len(g.EventIDs) < MaxDigestEvents {
		g.EventIDs = append(g.EventIDs, ev.ID)
	}
	i := slices.IndexFunc(g.Counts, func(c DigestCount) bool { return c.Type == ev.Type && c.Severity == ev.Severity })
	if i < 0 {
		g.Counts = append(g.Counts, DigestCount{Type: ev.Type, Severity: ev.Severity})
		i = len(g.Counts) - 1
	}
	g.Counts[i].Count++
	slices.SortStableFunc(g.Counts, func(a, b DigestCount) int {
		return cmp.Or(cmp.Compare(slices.Index(Severities, a.Severity), slices.Index(Severities, b.Severity)),
			cmp.Compare(slices.Index(EventTypes, a.Type), slices.Index(EventTypes, b.Type)))
	})
	e := *ev
	g.Recent = append([]Event{e}, g.Recent...)
	slices.SortStableFunc(g.Recent, func(a, b Event) int { return b.ReceivedAt.Compare(a.ReceivedAt) })
	if len(g.Recent) > DigestRecent {
		g.Recent = g.Recent[:DigestRecent]
	}
	return true
}

// Event is the digest as one event, so every channel renders and sends it
// like any other: the most severe folded severity and its type, a title
// with the count, and a message listing the counts (most severe first)
// and the newest events in full.
func (g *Digest) Event(id string) *Event {
	ev := &Event{ID: id, Type: TypeSystem, Severity: SeverityInfo, Source: "argo-notify digest"}
	if len(g.Counts) > 0 {
		ev.Type, ev.Severity = g.Counts[0].Type, g.Counts[0].Severity
	}
	n := g.Total()
	ev.Title = fmt.Sprintf("Digest: %d more event%s for rule %q", n, plural(n), g.RuleName)
	if g.First == "" {
		ev.Title = fmt.Sprintf("Digest: %d event%s for rule %q held during quiet hours", n, plural(n), g.RuleName)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d event%s reached you through rule %q between %s and %s:\n", n, plural(n), g.RuleName,
		g.WindowStart.Format(time.RFC3339), g.WindowEnd.Format(time.RFC3339))
	for _, c := range g.Counts {
		fmt.Fprintf(&b, "- %d × %s %s\n", c.Count, c.Severity, c.Type)
	}
	if len(g.Recent) > 0 {
		fmt.Fprintf(&b, "\nThe newest %d:\n", len(g.Recent))
	}
	for _, e := range g.Recent {
		fmt.Fprintf(&b, "\n[%s %s] %s\n", e.Severity, e.Type, e.Title)
		if e.Message != "" {
			fmt.Fprintf(&b, "%s\n", e.Message)
		}
		if e.URL != "" {
			fmt.Fprintf(&b, "%s\n", e.URL)
		}
	}
	if rest := n - len(g.Recent); rest > 0 {
		fmt.Fprintf(&b, "\n…and %d more: see the delivery history of rule %q.\n", rest, g.RuleName)
	}
	ev.Message = strings.TrimRight(b.String(), "\n")
	ev.ReceivedAt = g.WindowEnd
	ev.OccurredAt = g.WindowEnd
	return ev
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
