package dispatcherfn

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/metric"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/pace"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

type okSender struct{ n int }

func (s *okSender) Send(context.Context, *send.Notification) (send.Result, error) {
	s.n++
	return send.Result{Provider: "fake"}, nil
}

type oneSender struct{ s send.Sender }

func (r oneSender) Sender(context.Context, notify.Channel) (send.Sender, error) { return r.s, nil }

func TestPacedRouterSlackPerChannel(t *testing.T) {
	now := time.Unix(1000, 0)
	inner := &okSender{}
	r := pacedRouter{Router: oneSender{inner}, slack: pace.NewKeyed(SlackChannelRate/2, func() time.Time { return now })}
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(time.Second))
	defer cancel()
	slack, err := r.Sender(ctx, notify.ChannelSlack)
	if err != nil {
		t.Fatal(err)
	}
	post := func(ch string) error {
		_, err := slack.Send(ctx, &send.Notification{Channel: notify.ChannelSlack, To: []string{ch}})
		return err
	}
	if err := post("C1"); err != nil {
		t.Fatal(err)
	}
	if err := post("C2"); err != nil {
		t.Errorf("another channel was held back: %v", err)
	}
	// Two instances share Slack's 1/s: C1's next slot is 2 s away, past
	// the deadline: deferred to the queue with that delay, not sent.
	err = post("C1")
	if send.IsPermanent(err) || send.RetryAfter(err) != 2*time.Second {
		t.Errorf("second post to C1: %v (after %v), want a deferral of 2s", err, send.RetryAfter(err))
	}
	if inner.n != 2 {
		t.Errorf("%d posts reached Slack, want 2", inner.n)
	}
	email, _ := r.Sender(ctx, notify.ChannelEmail)
	if _, ok := email.(pace.Sender); ok {
		t.Error("email is paced per recipient (SES paces itself)")
	}
}

type fakeDeliveries struct {
	store.Deliveries
	err error
}

func (f fakeDeliveries) UpdateDelivery(context.Context, *notify.Delivery) error { return f.err }

func TestFailedCounter(t *testing.T) {
	var buf bytes.Buffer
	m := metric.NewEMF(&buf, "ArgoNotify/Test", nil)
	fc := failedCounter{Deliveries: fakeDeliveries{}, metrics: m, log: nil}
	ctx := context.Background()
	for _, st := range []notify.DeliveryStatus{notify.DeliverySending, notify.DeliverySent, notify.DeliveryFailed} {
		if err := fc.UpdateDelivery(ctx, &notify.Delivery{Channel: notify.ChannelSlack, Status: st}); err != nil {
			t.Fatal(err)
		}
	}
	// A refused update (stale) records nothing.
	fc.Deliveries = fakeDeliveries{err: errors.New("stale")}
	if err := fc.UpdateDelivery(ctx, &notify.Delivery{Channel: notify.ChannelEmail, Status: notify.DeliveryFailed}); err == nil {
		t.Fatal("the store's error was lost")
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"DeliveriesFailed":1`) || !strings.Contains(lines[0], `"Channel":"slack"`) {
		t.Errorf("metric lines = %q, want one DeliveriesFailed for slack", lines)
	}
}
