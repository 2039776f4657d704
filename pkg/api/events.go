package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/argoproj-labs/argo-notify/pkg/api/ingesthttp"
	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// signatureScheme names the HMAC signature in the OpenAPI document.
const signatureScheme = "argoSignature"

type eventsInput struct {
	Signature string `header:"X-Argo-Signature" doc:"t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>; several v1= values are allowed while the secret is rotated. Rejected more than 5 minutes from the service's clock." example:"t=1767323045,v1=5f2b…"`
	RawBody   []byte `contentType:"application/json"`
}

type eventsOutput struct{ Body EventsAccepted }

func (s *server) registerEvents(api huma.API) {
	ingestHandler := ingesthttp.New(ingesthttp.Config{
		Producer: s.producer, Secrets: s.ingestSecrets, Logger: s.log, Now: s.now, IDs: s.ids,
	})
	oapi := api.OpenAPI()
	oapi.Info.Description = strings.Replace(oapi.Info.Description, "Every route needs `Authorization: Bearer <token>`.",
		"Every route needs `Authorization: Bearer <token>` but POST /v1/events, which is signed with the ingest secret instead (X-Argo-Signature).", 1)
	oapi.Components.SecuritySchemes[signatureScheme] = &huma.SecurityScheme{
		Type: "apiKey", In: "header", Name: ingest.SignatureHeader,
		Description: "HMAC-SHA256 of \"<t>.<raw body>\" with the ingest secret: `t=<unix seconds>,v1=<hex>`.",
	}
	// huma documents the route; the ingest handler, which the ingest
	// Lambda serves on its own, answers it (the middleware never calls
	// next, so huma reads nothing).
	huma.Register(api, huma.Operation{
		OperationID: "ingestEvents", Method: http.MethodPost, Path: "/v1/events", Tags: []string{"events"},
		Summary: "Send events",
		Description: fmt.Sprintf("Takes one event, or an array of 1-%d, signed with the ingest secret (not the bearer token). "+
			"Answers 202 once every event is durably queued; the dispatcher then notifies each recipient once, even if the same event id is sent again. "+
			"The body is at most %d bytes. A 503 means nothing was accepted: send the same body again.", notify.MaxEventBatch, notify.MaxEventBody),
		DefaultStatus: http.StatusAccepted,
		Security:      []map[string][]string{{signatureScheme: {}}},
		Middlewares: huma.Middlewares{func(ctx huma.Context, _ func(huma.Context)) {
			r, w := humago.Unwrap(ctx)
			ingestHandler.ServeHTTP(w, r)
		}},
		MaxBodyBytes:     notify.MaxEventBody + 1,
		SkipValidateBody: true,
		Errors:           []int{400, 401, 408, 413, 422, 503},
	}, func(context.Context, *eventsInput) (*eventsOutput, error) {
		panic("api: POST /v1/events is served by the ingest handler")
	})

	schema := oapi.Components.Schemas.Schema(reflect.TypeFor[Event](), true, "Event")
	setRequestSchema(api, "/v1/events", http.MethodPost, &huma.Schema{OneOf: []*huma.Schema{
		schema,
		{Type: huma.TypeArray, Items: schema, MinItems: intPtr(1), MaxItems: intPtr(notify.MaxEventBatch)},
	}})
}

func intPtr(n int) *int { return &n }

// limitEventBody reads the request body up to notify.MaxEventBody before
// huma does, so that a larger body is refused with the ingest limit (413)
// before anything else is looked at (POST /v1/match).
func limitEventBody(ctx huma.Context, next func(huma.Context)) {
	r, w := humago.Unwrap(ctx)
	if p := ingesthttp.RequireJSON(r); p != nil {
		writeProblem(w, p)
		return
	}
	body, p := ingesthttp.ReadBody(r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	next(ctx)
}

// EventsAccepted is the answer to an accepted ingest request
// (ingesthttp.EventsAccepted).
type EventsAccepted = ingesthttp.EventsAccepted

// IngestConfig configures NewIngest (ingesthttp.Config).
type IngestConfig = ingesthttp.Config

// NewIngest returns the handler of POST /v1/events: see ingesthttp.New.
func NewIngest(cfg IngestConfig) http.Handler { return ingesthttp.New(cfg) }
