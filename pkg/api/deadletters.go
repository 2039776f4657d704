package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

// DeadLetter is a queued event that failed queue.MaxReceives times and was
// parked.
type DeadLetter struct {
	ID           string            `json:"id" doc:"The message id (the event id)."`
	Body         json.RawMessage   `json:"body" doc:"The message: the event's JSON, or a string when it is not JSON."`
	Attributes   map[string]string `json:"attributes,omitempty" doc:"The message attributes (eventId, eventType, severity)."`
	ReceiveCount int               `json:"receiveCount" doc:"How many times it was received."`
	FirstSentAt  time.Time         `json:"firstSentAt,omitzero" doc:"When it was first queued."`
	LastError    string            `json:"lastError,omitempty" doc:"Why its last attempt failed, when known."`
	DeadAt       time.Time         `json:"deadAt,omitzero" doc:"When it was parked."`
}

func deadLetterFrom(d queue.DeadLetter) DeadLetter {
	body := json.RawMessage(d.Body)
	if !json.Valid(body) {
		body, _ = json.Marshal(string(d.Body))
	}
	return DeadLetter{
		ID: d.ID, Body: body, Attributes: d.Attributes, ReceiveCount: d.ReceiveCount,
		FirstSentAt: d.FirstSentAt, LastError: d.LastError, DeadAt: d.DeadAt,
	}
}

// DeadLetterList is one page of dead letters.
type DeadLetterList struct {
	Items []DeadLetter `json:"items" doc:"The dead letters of this page."`
	Next  string       `json:"next,omitempty" doc:"The cursor of the next page; absent on the last page."`
}

type deadLetterIDInput struct {
	ID string `path:"id" maxLength:"256" doc:"The dead letter's id."`
}

func (s *server) registerDeadLetters(api huma.API) {
	tags := []string{"dead letters"}
	huma.Register(api, huma.Operation{
		OperationID: "listDeadLetters", Method: http.MethodGet, Path: "/v1/dead-letters", Tags: tags,
		Summary:     "List dead letters",
		Description: "Events the dispatcher failed to handle on every one of their receives, parked for an operator.",
		Errors:      []int{400, 401, 422, 503},
	}, s.listDeadLetters)
	huma.Register(api, huma.Operation{
		OperationID: "redriveDeadLetter", Method: http.MethodPost, Path: "/v1/dead-letters/{id}/redrive", Tags: tags,
		Summary:       "Redrive a dead letter",
		Description:   "Puts the event back on the queue with a fresh receive count; the dispatcher will handle it again (deliveries already made are not repeated).",
		DefaultStatus: http.StatusAccepted, Errors: []int{401, 404, 503},
	}, s.redriveDeadLetter)
}

func (s *server) listDeadLetters(ctx context.Context, in *pageParams) (*struct{ Body DeadLetterList }, error) {
	ds, next, err := s.deadLetters.ListDead(ctx, in.Limit, in.Cursor)
	if err != nil {
		return nil, s.fail(ctx, "list dead letters", err)
	}
	out := &struct{ Body DeadLetterList }{Body: DeadLetterList{Items: make([]DeadLetter, 0, len(ds)), Next: next}}
	for _, d := range ds {
		out.Body.Items = append(out.Body.Items, deadLetterFrom(d))
	}
	return out, nil
}

func (s *server) redriveDeadLetter(ctx context.Context, in *deadLetterIDInput) (*struct{}, error) {
	if err := s.deadLetters.Redrive(ctx, in.ID); err != nil {
		return nil, s.fail(ctx, "redrive dead letter", err)
	}
	return nil, nil
}
