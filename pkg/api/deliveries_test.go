package api_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/api"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

func storeAll() store.DeliveryFilter {
	return store.DeliveryFilter{Page: store.Page{Limit: store.MaxLimit}}
}

// record stores a delivery in the given status, claimed at minute min
// after the test clock.
func (e *env) record(eventID string, ch notify.Channel, to string, rules []string, status notify.DeliveryStatus, min int) *notify.Delivery {
	e.t.Helper()
	ctx := context.Background()
	at := clock.Add(time.Duration(min) * time.Minute)
	d := &notify.Delivery{
		ID: notify.DeliveryID(eventID, ch, to), EventID: eventID, Channel: ch, Recipient: to, RuleIDs: rules,
		Status: notify.DeliveryQueued, Version: 1, CreatedAt: at, UpdatedAt: at,
	}
	if _, won, err := e.store.ClaimDelivery(ctx, d); err != nil || !won {
		e.t.Fatalf("claim %s: %v %v", d.ID, won, err)
	}
	if status == notify.DeliveryQueued {
		return d
	}
	next := *d
	next.Status, next.Version, next.Attempts, next.UpdatedAt = status, 2, 1, at.Add(time.Second)
	switch status {
	case notify.DeliverySent:
		sent := at.Add(time.Second)
		next.SentAt, next.Provider, next.ProviderMessageID = &sent, "smtp", "msg-"+to
	case notify.DeliveryFailed:
		next.LastError = "smtp send: server replied 550 5.1.1 no such user"
	case notify.DeliverySkipped:
		next.Note = "Slack is not connected"
	}
	if err := e.store.UpdateDelivery(ctx, &next); err != nil {
		e.t.Fatalf("update %s: %v", d.ID, err)
	}
	return &next
}

func TestDeliveries(t *testing.T) {
	e := newEnv(t)
	sent := e.record("ev1", notify.ChannelEmail, "alice@example.com", []string{"rul_1"}, notify.DeliverySent, 1)
	e.record("ev1", notify.ChannelEmail, "bob@example.com", []string{"rul_1"}, notify.DeliveryFailed, 2)
	e.record("ev1", notify.ChannelSlack, "C001", []string{"rul_1", "rul_2"}, notify.DeliverySkipped, 3)
	e.record("ev2", notify.ChannelEmail, "alice@example.com", []string{"rul_2"}, notify.DeliveryQueued, 4)
	e.record("ev2", notify.ChannelEmail, "carol@example.com", []string{"policy:etl"}, notify.DeliverySent, 5)

	tests := []struct {
		query string
		want  []string // recipients, newest first
	}{
		{"", []string{"carol@example.com", "alice@example.com", "C001", "bob@example.com", "alice@example.com"}},
		{"?eventId=ev1", []string{"C001", "bob@example.com", "alice@example.com"}},
		{"?ruleId=rul_2", []string{"alice@example.com", "C001"}},
		{"?status=sent", []string{"carol@example.com", "alice@example.com"}},
		{"?eventId=ev1&status=sent", []string{"alice@example.com"}},
		{"?eventId=ev1&ruleId=rul_2", []string{"C001"}},
		{"?status=sending", nil},
		{"?eventId=nope", nil},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			var got api.DeliveryList
			decodeInto(t, e.do("GET", "/v1/deliveries"+tc.query, "").body, &got)
			var to []string
			for _, d := range got.Items {
				to = append(to, d.Recipient)
			}
			if !slices.Equal(to, tc.want) {
				t.Errorf("recipients %v, want %v", to, tc.want)
			}
		})
	}

	t.Run("fields", func(t *testing.T) {
		var got api.DeliveryList
		decodeInto(t, e.do("GET", "/v1/deliveries?eventId=ev1&status=sent", "").body, &got)
		want := api.Delivery{
			ID: "ev1|email|alice@example.com", EventID: "ev1", Channel: "email", Recipient: "alice@example.com",
			RuleIDs: []string{"rul_1"}, Status: "sent", Attempts: 1, Provider: "smtp", ProviderMessageID: "msg-alice@example.com",
			Version: 2, CreatedAt: sent.CreatedAt, UpdatedAt: sent.UpdatedAt, SentAt: sent.SentAt,
		}
		if len(got.Items) != 1 {
			t.Fatalf("items %v", got.Items)
		}
		if diff := cmp.Diff(want, got.Items[0]); diff != "" {
			t.Errorf("delivery (-want +got):\n%s", diff)
		}
	})

	t.Run("pages", func(t *testing.T) {
		var all []string
		path := "/v1/deliveries?limit=2"
		for page := 0; ; page++ {
			if page > 5 {
				t.Fatal("the walk does not end")
			}
			var got api.DeliveryList
			r := e.do("GET", path, "")
			if r.status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, r.status, r.body)
			}
			decodeInto(t, r.body, &got)
			for _, d := range got.Items {
				all = append(all, d.ID)
			}
			if got.Next == "" {
				break
			}
			path = "/v1/deliveries?limit=2&cursor=" + got.Next
		}
		if len(all) != 5 || len(slices.Compact(slices.Sorted(slices.Values(all)))) != 5 {
			t.Errorf("walked %v", all)
		}
	})
}
