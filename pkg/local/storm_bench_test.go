package local_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/dispatch"
	"github.com/argoproj-labs/argo-notify/pkg/local"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
	qlocal "github.com/argoproj-labs/argo-notify/pkg/queue/local"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/pace"
	"github.com/argoproj-labs/argo-notify/pkg/send/route"
	"github.com/argoproj-labs/argo-notify/pkg/send/slack"
	"github.com/argoproj-labs/argo-notify/pkg/store"
	"github.com/argoproj-labs/argo-notify/pkg/store/bolt"
)

var (
	stormRate   = flag.Float64("storm.rate", 100, "BenchmarkSlackStorm: Slack's per-channel limit, posts/s (Slack's own is about 1; times are reported scaled to 1/s)")
	stormEvents = flag.Int("storm.events", 1000, "BenchmarkSlackStorm: events in the burst")
)

// slackChannelRate is Slack's chat.postMessage limit per channel that the
// dispatchers pace to, posts/s.
const slackChannelRate = slack.ChannelRate

// lambdaTimeout is the AWS dispatcher's timeout (infra: 30 s): the
// deadline its handler's sends, and so its pacing waits, run under.
const lambdaTimeout = 30 * time.Second

// BenchmarkSlackStorm pushes a burst of events (1,000) for one rule that
// reaches one Slack channel through the local durable queue
// (queue/local, local.Workers consumers), the dispatcher, the bolt store
// and the real Slack channel (send/route, slack-go) against the
// in-process Slack Web API on 127.0.0.1, and measures how the burst
// drains. The Slack server enforces Slack's per-channel limit (a token
// bucket of 3 posts refilled at -storm.rate a second, answering 429 with
// Retry-After: 1 past it), with time compressed: the rate is
// -storm.rate posts/s instead of 1, and the drain is also reported
// scaled to 1/s (drain-s-at-1/s). The pacing clock cannot be compressed
// (pace.Limiter sleeps on the real clock), so the rate is.
//
// Variants:
//
//   - unpaced: nothing paces Slack (the reference: local mode before
//     pacing): the channel's limit is met by 429s, each spending a
//     receive, and deliveries fail after queue.MaxReceives.
//   - local: as local mode wires it (pace.Router per channel, waits up
//     to pace.MaxWait, compressed like the rate; handlers without a
//     deadline): a send further from its slot puts the event back on the
//     queue for when a slot is free, spending no receive.
//   - aws-deadline: the same with each handler under the AWS
//     dispatcher's 30 s timeout, scaled like the rate.
//
// It reports: drain-s (wall clock from the burst's Send until the queue
// is empty), drain-s-at-1/s (the same scaled to Slack's 1 post/s),
// ideal-s-at-1/s (events ÷ 1 post/s), posts (accepted by the server),
// rate-limited (429 answers), requeued (handler errors: receives that
// did not finish the message), pace-deferred (those of them that pacing
// deferred), put-back (events put back on the queue by pacing, no
// receive spent), max-receives (the highest ReceiveCount any
// message was handled with; queue.MaxReceives is the last chance),
// failed (deliveries recorded failed), dead (dead letters). It asserts
// nothing about times; it fails only if the burst does not drain.
//
//	go test ./pkg/local -run '^$' -bench SlackStorm -benchtime 1x
func BenchmarkSlackStorm(b *testing.B) {
	for _, v := range []struct {
		name     string
		paced    bool
		deadline bool
	}{{"unpaced", false, false}, {"local", true, false}, {"aws-deadline", true, true}} {
		b.Run(v.name, func(b *testing.B) {
			for range b.N {
				storm(b, *stormRate, max(*stormEvents, 1), v.paced, v.deadline)
			}
		})
	}
}

// putBacks counts the events the dispatcher puts back on the queue.
type putBacks struct {
	queue.Producer
	mu sync.Mutex
	n  int
}

func (p *putBacks) Send(ctx context.Context, msgs []queue.Message) error {
	p.mu.Lock()
	p.n += len(msgs)
	p.mu.Unlock()
	return p.Producer.Send(ctx, msgs)
}

const stormChannel = "C0OPS00001"

func storm(b *testing.B, rate float64, n int, paced, deadline bool) {
	b.StopTimer()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	scale := rate / slackChannelRate // compressed seconds → Slack seconds

	// The Slack server, limited like Slack: a bucket of 3 posts refilled
	// at rate a second.
	peer := startSlack(b)
	var (
		mu      sync.Mutex
		tokens  = 3.0
		refill  = time.Now()
		limited int
	)
	peer.setScript(func(_ int, _ string) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		tokens = min(3, tokens+now.Sub(refill).Seconds()*rate)
		refill = now
		if tokens < 1 {
			limited++
			return http.StatusTooManyRequests, "1"
		}
		tokens--
		return 0, ""
	})

	dir := b.TempDir()
	st, err := bolt.Open(filepath.Join(dir, local.StoreFile))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	q, err := qlocal.Open(filepath.Join(dir, local.QueueFile), qlocal.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	ref, err := st.PutSecret(ctx, "slack-bot-token", peer.Token)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	if err := st.PutSlack(ctx, &notify.Slack{TeamID: "T0E2E", Team: "E2E", BotUserID: "U0BOT", BotName: "argo-notify",
		TokenRef: ref, Version: 1, CreatedAt: now, UpdatedAt: now}); err != nil {
		b.Fatal(err)
	}
	rule := &notify.Rule{ID: "storm", Name: "Storm", Enabled: true, Source: notify.SourceUser,
		EventTypes: []notify.EventType{notify.TypeConfiguration}, Severities: notify.Severities,
		Recipients: notify.Recipients{SlackChannels: []string{stormChannel}}, Version: 1, CreatedAt: now, UpdatedAt: now}
	rule.Recipients.Normalize()
	if err := st.CreateRule(ctx, rule); err != nil {
		b.Fatal(err)
	}

	reg := route.New(route.Config{Integrations: st, Webhooks: st, Secrets: st, SlackAPIURL: peer.URL})
	var router send.Router = reg
	if paced {
		// As local mode and the AWS dispatcher wire it: paced per
		// channel, waits up to pace.MaxWait (compressed like the rate).
		per := pace.NewKeyed(rate, nil)
		per.SetMaxWait(time.Duration(float64(pace.MaxWait) / scale))
		router = pace.Router{Router: reg, Channel: notify.ChannelSlack, Per: per}
	}
	sched := &putBacks{Producer: q}
	d := dispatch.New(dispatch.Config{
		Rules: st, Directory: st, Deliveries: st, Router: router, Channels: reg,
		RuleCacheTTL: local.RuleCacheTTL, Scheduler: sched, ResumeBefore: now, Logger: quiet,
	})

	var maxReceives, retries, deferred int
	var rmu sync.Mutex
	handle := func(ctx context.Context, m queue.Message) error {
		if deadline {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(float64(lambdaTimeout)/scale))
			defer cancel()
		}
		err := d.Handle(ctx, m)
		var paceErr *pace.Deferred
		rmu.Lock()
		maxReceives = max(maxReceives, m.ReceiveCount)
		if err != nil {
			retries++
			if errors.As(err, &paceErr) {
				deferred++
			}
		}
		rmu.Unlock()
		return err
	}

	msgs := make([]queue.Message, n)
	for i := range msgs {
		ev := &notify.Event{ID: fmt.Sprintf("storm-%04d", i), Type: notify.TypeConfiguration, Severity: notify.SeverityWarning,
			Title: fmt.Sprintf("config drift storm-%04d", i), Message: "a burst to one channel", Source: "storm",
			OccurredAt: now, ReceivedAt: now}
		if msgs[i], err = queue.EncodeEvent(ev); err != nil {
			b.Fatal(err)
		}
	}

	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- q.Run(runCtx, handle, local.Workers) }()
	defer func() {
		stop()
		if err := <-ran; err != nil {
			b.Errorf("queue consumer: %v", err)
		}
	}()

	b.StartTimer()
	start := time.Now()
	if err := q.Send(ctx, msgs); err != nil {
		b.Fatal(err)
	}
	limit := time.Duration(float64(n)/rate*float64(time.Second))*3 + time.Minute
	var stats qlocal.Stats
	for {
		if stats, err = q.Stats(ctx); err != nil {
			b.Fatal(err)
		}
		if stats.Visible == 0 && stats.InFlight == 0 {
			break
		}
		if time.Since(start) > limit {
			b.Fatalf("not drained after %s: %+v, %d posts", limit, stats, len(peer.Posts()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	drain := time.Since(start)
	b.StopTimer()

	posts := 0
	for _, p := range peer.Posts() {
		if p.Channel == stormChannel {
			posts++
		}
	}
	failed := 0
	f := store.DeliveryFilter{Status: notify.DeliveryFailed, Page: store.Page{Limit: store.MaxLimit}}
	for {
		ds, next, err := st.ListDeliveries(ctx, f)
		if err != nil {
			b.Fatal(err)
		}
		failed += len(ds)
		if next == "" {
			break
		}
		f.Cursor = next
	}
	mu.Lock()
	rl := limited
	mu.Unlock()
	rmu.Lock()
	mr, rt, df := maxReceives, retries, deferred
	rmu.Unlock()
	sched.mu.Lock()
	pb := sched.n
	sched.mu.Unlock()

	b.ReportMetric(drain.Seconds(), "drain-s")
	b.ReportMetric(drain.Seconds()*scale, "drain-s-at-1/s")
	b.ReportMetric(float64(n)/slackChannelRate, "ideal-s-at-1/s")
	b.ReportMetric(float64(posts), "posts")
	b.ReportMetric(float64(rl), "rate-limited")
	b.ReportMetric(float64(mr), "max-receives")
	b.ReportMetric(float64(rt), "requeued")
	b.ReportMetric(float64(df), "pace-deferred")
	b.ReportMetric(float64(pb), "put-back")
	b.ReportMetric(float64(failed), "failed")
	b.ReportMetric(float64(stats.Dead), "dead")
	b.Logf("%d events at %.0f posts/s: drained in %s (%.0f s at 1 post/s); %d posts, %d answered 429, max receive %d of %d, %d receives requeued (%d deferred by pacing), %d put back by pacing, %d deliveries failed, %d dead letters",
		n, rate, drain.Round(time.Millisecond), drain.Seconds()*scale, posts, rl, mr, queue.MaxReceives, rt, df, pb, failed, stats.Dead)
}
