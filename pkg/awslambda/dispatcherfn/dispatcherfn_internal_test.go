package dispatcherfn

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/metric"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

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
