package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Delivery is the JSON representation of one (event, channel, recipient)
// notification and where it stands.
type Delivery struct {
	ID                string     `json:"id" doc:"<eventId>|<channel>|<recipient>: one delivery per recipient and event, however often the event is received." example:"evt_01JDZ5Q8X9K7W3M2N4P6R8T0VB|email|alice@example.com"`
	EventID           string     `json:"eventId" doc:"The event delivered."`
	Channel           string     `json:"channel" enum:"email,slack,webhook" doc:"How the notification travels."`
	Recipient         string     `json:"recipient" doc:"An email address or a Slack channel id." example:"alice@example.com"`
	RuleIDs           []string   `json:"ruleIds" doc:"Every rule that reached this recipient for this event." example:"[\"rul_01JDZ5Q8X9K7W3M2N4P6R8T0VB\"]"`
	Status            string     `json:"status" enum:"queued,held,sending,sent,failed,skipped" doc:"queued: not yet attempted, or waiting for a retry; held: kept back until dueAt (folded into a digest, or a digest waiting for its window to close); sending: an attempt is in flight; sent, failed, skipped: final."`
	Attempts          int        `json:"attempts" doc:"Attempts made so far."`
	LastError         string     `json:"lastError,omitempty" doc:"Why the last attempt failed."`
	Provider          string     `json:"provider,omitempty" enum:"smtp,ses,console,slack,webhook" doc:"Who took the message."`
	ProviderMessageID string     `json:"providerMessageId,omitempty" doc:"The provider's id of the message (SMTP Message-ID, SES MessageId, Slack <channel>/<ts>)."`
	Note              string     `json:"note,omitempty" doc:"Why the delivery was skipped, or how it was routed."`
	Version           int64      `json:"version" doc:"Incremented on every change of the record."`
	CreatedAt         time.Time  `json:"createdAt" doc:"When the delivery was claimed."`
	UpdatedAt         time.Time  `json:"updatedAt" doc:"When the record last changed."`
	SentAt            *time.Time `json:"sentAt,omitempty" doc:"When the provider accepted the message."`
	DueAt             *time.Time `json:"dueAt,omitempty" doc:"When a held delivery is released (the close of its digest window)."`
	DigestID          string     `json:"digestId,omitempty" doc:"The digest delivery this event's delivery is folded into, or the one it opened." example:"digest:rul_01JDZ5Q8X9K7W3M2N4P6R8T0VB:1767225600|email|alice@example.com"`
}

func deliveryFrom(d *notify.Delivery) Delivery {
	ruleIDs := d.RuleIDs
	if ruleIDs == nil {
		ruleIDs = []string{}
	}
	return Delivery{
		ID:                d.ID,
		EventID:           d.EventID,
		Channel:           string(d.Channel),
		Recipient:         d.Recipient,
		RuleIDs:           ruleIDs,
		Status:            string(d.Status),
		Attempts:          d.Attempts,
		LastError:         d.LastError,
		Provider:          d.Provider,
		ProviderMessageID: d.ProviderMessageID,
		Note:              d.Note,
		Version:           d.Version,
		CreatedAt:         d.CreatedAt,
		UpdatedAt:         d.UpdatedAt,
		SentAt:            d.SentAt,
		DueAt:             d.DueAt,
		DigestID:          d.DigestID,
	}
}

// DeliveryList is one page of deliveries.
type DeliveryList struct {
	Items []Delivery `json:"items" doc:"The deliveries of this page, newest first."`
	Next  string     `json:"next,omitempty" doc:"The cursor of the next page; absent on the last page."`
}

type listDeliveriesInput struct {
	EventID string `query:"eventId" maxLength:"128" doc:"Only deliveries of this event."`
	RuleID  string `query:"ruleId" maxLength:"200" doc:"Only deliveries this rule reached."`
	Status  string `query:"status" enum:"queued,held,sending,sent,failed,skipped" doc:"Only deliveries in this status."`
	Limit   int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Items per page."`
	Cursor  string `query:"cursor" maxLength:"1024" doc:"The next value of the previous page."`
}

type listDeliveriesOutput struct{ Body DeliveryList }

func (s *server) registerDeliveries(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "listDeliveries", Method: http.MethodGet, Path: "/v1/deliveries", Tags: []string{"deliveries"},
		Summary:     "List deliveries",
		Description: "The delivery history: one record per (event, channel, recipient), newest first, one page at a time. Filters combine.",
		Errors:      []int{400, 401, 422},
	}, s.listDeliveries)
}

func (s *server) listDeliveries(ctx context.Context, in *listDeliveriesInput) (*listDeliveriesOutput, error) {
	ds, next, err := s.store.ListDeliveries(ctx, store.DeliveryFilter{
		EventID: in.EventID,
		RuleID:  in.RuleID,
		Status:  notify.DeliveryStatus(in.Status),
		Page:    store.Page{Limit: in.Limit, Cursor: in.Cursor},
	})
	if err != nil {
		return nil, s.fail(ctx, "list deliveries", err)
	}
	out := &listDeliveriesOutput{Body: DeliveryList{Items: make([]Delivery, 0, len(ds)), Next: next}}
	for _, d := range ds {
		out.Body.Items = append(out.Body.Items, deliveryFrom(d))
	}
	return out, nil
}
