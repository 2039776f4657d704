package dispatch

import (
	"fmt"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// BenchmarkStorm1000 dispatches 1,000 events to one rule reaching one
// mailbox and one Slack channel, without and with a 60 s digest, then
// releases the digests, and reports the messages each recipient got and
// the time the dispatcher took to drain the burst (fake providers with no
// latency, the embedded store). Provider pacing is reported apart as
// derived figures: Slack takes about one post per second per channel.
//
//	go test ./pkg/dispatch -run '^$' -bench Storm1000 -benchtime 1x
func BenchmarkStorm1000(b *testing.B) {
	for _, window := range []int{0, 60} {
		b.Run(fmt.Sprintf("digest=%ds", window), func(b *testing.B) {
			for range b.N {
				sched := &fakeScheduler{}
				f := newFixture(b, func(c *Config) { c.Scheduler = sched })
				f.clk.t = time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
				now := f.clk.Now()
				r := &notify.Rule{ID: "storm", Name: "Storm", Enabled: true, Source: notify.SourceUser,
					EventTypes: []notify.EventType{notify.TypeConfiguration}, Severities: notify.Severities,
					Recipients: notify.Recipients{Emails: []string{stormTo}, SlackChannels: []string{slackID}},
					Digest:     &notify.DigestPolicy{WindowSeconds: window}, Version: 1, CreatedAt: now, UpdatedAt: now}
				r.Recipients.Normalize()
				if err := f.st.CreateRule(ctx, r); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				for i := range 1000 {
					if err := f.d.Dispatch(ctx, stormEvent(i)); err != nil {
						b.Fatal(err)
					}
					f.clk.Add(20 * time.Millisecond) // 1,000 events in 20 s
				}
				f.clk.Add(time.Minute)
				for _, m := range sched.taken() {
					if err := f.d.Handle(ctx, m); err != nil {
						b.Fatal(err)
					}
				}
				took := time.Since(start)
				_, mails := f.email.counts()
				_, posts := f.slack.counts()
				b.ReportMetric(float64(mails[stormTo]), "mails")
				b.ReportMetric(float64(posts[slackID]), "slack-posts")
				b.ReportMetric(took.Seconds(), "drain-s")
				// Slack: ~1 post/s per channel, so the channel drains in
				// about posts seconds (the digest waits for its window).
				b.ReportMetric(float64(posts[slackID]), "slack-paced-s")
			}
		})
	}
}
