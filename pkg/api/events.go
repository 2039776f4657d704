package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

// signatureScheme names the HMAC signature in the OpenAPI document.
const signatureScheme = "argoSignature"

// EventsAccepted is the answer to an accepted ingest request.
type EventsAccepted struct {
	IDs []string `json:"ids" doc:"The ids of the events, in the order sent; generated where the request gave none." example:"[\"evt_01JDZ5Q8X9K7W3M2N4P6R8T0VB\"]"`
}

type eventsInput struct {
	Signature string `header:"X-Argo-Signature" doc:"t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>; several v1= values are allowed while the secret is rotated. Rejected more than 5 minutes from the service's clock." example:"t=1767323045,v1=5f2b…"`
	RawBody   []byte `contentType:"application/json"`
}

type eventsOutput struct{ Body EventsAccepted }

func (s *server) registerEvents(api huma.API) {
	oapi := api.OpenAPI()
	oapi.Info.Description = strings.Replace(oapi.Info.Description, "Every route needs `Authorization: Bearer <token>`.",
		"Every route needs `Authorization: Bearer <token>` but POST /v1/events, which is signed with the ingest secret instead (X-Argo-Signature).", 1)
	oapi.Components.SecuritySchemes[signatureScheme] = &huma.SecurityScheme{
		Type: "apiKey", In: "header", Name: ingest.SignatureHeader,
		Description: "HMAC-SHA256 of \"<t>.<raw body>\" with the ingest secret: `t=<unix seconds>,v1=<hex>`.",
	}
	huma.Register(api, huma.Operation{
		OperationID: "ingestEvents", Method: http.MethodPost, Path: "/v1/events", Tags: []string{"events"},
		Summary: "Send events",
		Description: fmt.Sprintf("Takes one event, or an array of 1-%d, signed with the ingest secret (not the bearer token). "+
			"Answers 202 once every event is durably queued; the dispatcher then notifies each recipient once, even if the same event id is sent again. "+
			"The body is at most %d bytes. A 503 means nothing was accepted: send the same body again.", notify.MaxEventBatch, notify.MaxEventBody),
		DefaultStatus: http.StatusAccepted,
		Security:      []map[string][]string{{signatureScheme: {}}},
		Middlewares:   huma.Middlewares{limitEventBody},
		// limitEventBody has read and checked the body already.
		MaxBodyBytes: notify.MaxEventBody + 1,
		// The handler validates the body as ingest.Decode does.
		SkipValidateBody: true,
		Errors:           []int{400, 401, 408, 413, 422, 503},
	}, s.ingestEvents)

	schema := oapi.Components.Schemas.Schema(reflect.TypeFor[Event](), true, "Event")
	setRequestSchema(api, "/v1/events", http.MethodPost, &huma.Schema{OneOf: []*huma.Schema{
		schema,
		{Type: huma.TypeArray, Items: schema, MinItems: intPtr(1), MaxItems: intPtr(notify.MaxEventBatch)},
	}})
	s.public["POST /v1/events"] = true
}

func intPtr(n int) *int { return &n }

// limitEventBody reads the request body up to notify.MaxEventBody before
// huma does, so that a larger body is refused with the ingest limit (413)
// before anything else is looked at.
func limitEventBody(ctx huma.Context, next func(huma.Context)) {
	r, w := humago.Unwrap(ctx)
	if r.ContentLength > notify.MaxEventBody {
		writeProblem(w, eventBodyTooLarge())
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, notify.MaxEventBody+1))
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			writeProblem(w, newProblem(CodeTimeout, "the body did not arrive in time"))
			return
		}
		writeProblem(w, newProblem(CodeMalformed, "the body could not be read"))
		return
	}
	if len(body) > notify.MaxEventBody {
		writeProblem(w, eventBodyTooLarge())
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	next(ctx)
}

func eventBodyTooLarge() *Problem {
	return newProblem(notify.ETooLarge, fmt.Sprintf("the body is larger than %d bytes; send fewer events per request", notify.MaxEventBody))
}

func (s *server) ingestEvents(ctx context.Context, in *eventsInput) (*eventsOutput, error) {
	secrets, err := s.ingestSecrets(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "read the ingest secrets", "err", err.Error())
		return nil, unavailable("the ingest secret could not be read; nothing was accepted, try again")
	}
	now := s.now()
	if err := ingest.VerifySignature(in.Signature, in.RawBody, secrets, now); err != nil {
		p, ok := problemFrom(err)
		if !ok {
			s.log.ErrorContext(ctx, "verify signature", "err", err.Error())
		} else {
			s.log.WarnContext(ctx, "ingest request refused", "reason", p.Detail)
		}
		return nil, p
	}
	evs, err := ingest.Decode(in.RawBody, now, func() string { return "evt_" + s.ids() })
	if err != nil {
		return nil, decodeProblem(err)
	}
	msgs := make([]queue.Message, len(evs))
	ids := make([]string, len(evs))
	for i := range evs {
		ev := &evs[i]
		body, err := json.Marshal(ev)
		if err != nil {
			return nil, s.fail(ctx, "encode event", fmt.Errorf("encode event %q: %w", ev.ID, err))
		}
		msgs[i] = queue.Message{ID: ev.ID, Body: body, Attributes: map[string]string{
			"eventId": ev.ID, "eventType": string(ev.Type), "severity": string(ev.Severity),
		}}
		ids[i] = ev.ID
	}
	if err := s.producer.Send(ctx, msgs); err != nil {
		s.log.ErrorContext(ctx, "queue events", "events", len(msgs), "err", err.Error())
		return nil, unavailable("the events could not be queued; nothing was accepted, send the same body again")
	}
	return &eventsOutput{Body: EventsAccepted{IDs: ids}}, nil
}

// unavailable is a 503 problem asking the client to retry shortly.
func unavailable(detail string) *Problem {
	p := newProblem(notify.EUnavailable, detail)
	p.header = http.Header{"Retry-After": {"1"}}
	return p
}
