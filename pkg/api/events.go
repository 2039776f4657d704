package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/oklog/ulid/v2"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

// signatureScheme names the HMAC signature in the OpenAPI document.
const signatureScheme = "argoSignature"

// EventsAccepted is the answer to an accepted ingest request.
type EventsAccepted struct {
	IDs []string `json:"ids" doc:"The ids of the events, in the order sent. Where the request gave none, derived from the signed request (its timestamp and body, and the event's index), so the same request sent again carries the same ids and notifies nobody twice." example:"[\"evt_01JDZ5Q8X9K7W3M2N4P6R8T0VB\"]"`
	// Duplicates and Conflicts are known where the queue remembers
	// fingerprints (local mode); elsewhere they are left out.
	Duplicates []string `json:"duplicates,omitempty" doc:"Ids already accepted with the same content: the dispatcher notifies nobody twice for them."`
	Conflicts  []string `json:"conflicts,omitempty" doc:"Ids already accepted with different content: the id was reused for another event. Recipients the first event reached are not notified again; choose a new id for a new event."`
}

type eventsInput struct {
	Signature string `header:"X-Argo-Signature" doc:"t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>; several v1= values are allowed while the secret is rotated. Rejected more than 5 minutes from the service's clock." example:"t=1767323045,v1=5f2b…"`
	RawBody   []byte `contentType:"application/json"`
}

type eventsOutput struct{ Body EventsAccepted }

func (s *server) registerEvents(api huma.API) {
	ingestHandler := NewIngest(IngestConfig{
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
	if p := requireJSON(r); p != nil {
		writeProblem(w, p)
		return
	}
	body, p := readEventBody(r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	next(ctx)
}

// requireJSON answers 415 to a body declared as anything but JSON
// (application/json or a +json type), as huma does on every other write
// route; a request without a Content-Type is read as JSON.
func requireJSON(r *http.Request) *Problem {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return newProblem(CodeUnsupportedMediaType, "the body must be JSON: send Content-Type: application/json")
}

// readEventBody reads r's body, refusing one larger than
// notify.MaxEventBody (413) or one that does not arrive (408, 400).
func readEventBody(r *http.Request) ([]byte, *Problem) {
	if r.ContentLength > notify.MaxEventBody {
		return nil, eventBodyTooLarge()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, notify.MaxEventBody+1))
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, newProblem(CodeTimeout, "the body did not arrive in time")
		}
		return nil, newProblem(CodeMalformed, "the body could not be read")
	}
	if len(body) > notify.MaxEventBody {
		return nil, eventBodyTooLarge()
	}
	return body, nil
}

func eventBodyTooLarge() *Problem {
	return newProblem(notify.ETooLarge, fmt.Sprintf("the body is larger than %d bytes; send fewer events per request", notify.MaxEventBody))
}

// IngestConfig configures NewIngest. Producer and Secrets are required.
type IngestConfig struct {
	// Producer takes each accepted event, encoded by queue.EncodeEvent,
	// before the 202.
	Producer queue.Producer
	// Secrets returns the secrets a request may be signed with (several
	// while the secret is being rotated). It is called for every request;
	// an error answers 503.
	Secrets func(ctx context.Context) ([]string, error)
	// Logger receives refused requests and the detail of failures.
	// Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// IDs returns a new unique, sortable id, for an event sent without an
	// id in a request whose signature has no timestamp (which verification
	// refuses, so in practice never): such events get an id derived from
	// the signed request. Default: ulid.Make().String.
	IDs func() string
}

// ingestHandler serves POST /v1/events without the admin API: the ingest
// Lambda serves it alone, and the admin API mounts it (registerEvents).
type ingestHandler struct {
	producer queue.Producer
	secrets  func(ctx context.Context) ([]string, error)
	log      *slog.Logger
	now      func() time.Time
	ids      func() string
	// conflicts counts the event ids reused for a different event since
	// start; each WARN line carries the running total (conflicts_total),
	// which a log metric filter turns into a counter.
	conflicts atomic.Int64
}

// NewIngest returns the handler of POST /v1/events: HMAC-signed events,
// checked and decoded by pkg/ingest, queued before the 202 {"ids": [...]};
// errors as problem+json. It answers 405 to any other method and leaves
// routing by path to the caller. It panics if Producer or Secrets is nil,
// a programming error in the caller's wiring.
func NewIngest(cfg IngestConfig) http.Handler {
	if cfg.Producer == nil || cfg.Secrets == nil {
		panic("api.NewIngest: IngestConfig.Producer and IngestConfig.Secrets are required")
	}
	h := &ingestHandler{producer: cfg.Producer, secrets: cfg.Secrets, log: cfg.Logger, now: cfg.Now, ids: cfg.IDs}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.ids == nil {
		h.ids = func() string { return ulid.Make().String() }
	}
	return h
}

// ServeHTTP checks, in this order, the method, the body's size, its
// presence, the signature and the events, then queues them.
func (h *ingestHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		p := newProblem(CodeMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s; allowed: POST", r.Method, r.URL.Path))
		p.header = http.Header{"Allow": {http.MethodPost}}
		writeProblem(w, p)
		return
	}
	body, p := readEventBody(r)
	if p == nil {
		p = requireJSON(r)
	}
	if p == nil && len(body) == 0 {
		p = newProblem(CodeMalformed, "request body is required")
	}
	if p != nil {
		writeProblem(w, p)
		return
	}
	accepted, err := h.ingest(r.Context(), r.Header.Get(ingest.SignatureHeader), body)
	if err != nil {
		writeProblem(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(accepted)
}

// ingest verifies, decodes and queues the events of one request.
func (h *ingestHandler) ingest(ctx context.Context, signature string, body []byte) (*EventsAccepted, *Problem) {
	secrets, err := h.secrets(ctx)
	if err != nil {
		h.log.ErrorContext(ctx, "read the ingest secrets", "err", err.Error())
		return nil, unavailable("the ingest secret could not be read; nothing was accepted, try again")
	}
	now := h.now()
	if err := ingest.VerifySignature(signature, body, secrets, now); err != nil {
		p, ok := problemFrom(err)
		if !ok {
			h.log.ErrorContext(ctx, "verify signature", "err", err.Error())
		} else {
			h.log.WarnContext(ctx, "ingest request refused", "reason", p.Detail)
		}
		return nil, p
	}
	newID := func(int) string { return "evt_" + h.ids() }
	if at, ok := ingest.SignedAt(signature); ok {
		newID = func(i int) string { return ingest.DerivedID(at, body, i) }
	}
	evs, err := ingest.DecodeIndexed(body, now, newID)
	if err != nil {
		p, _ := problemFrom(decodeProblem(err))
		return nil, p
	}
	msgs := make([]queue.Message, len(evs))
	fps := make([]string, len(evs))
	out := &EventsAccepted{IDs: make([]string, len(evs))}
	for i := range evs {
		m, err := queue.EncodeEvent(&evs[i])
		if err != nil {
			h.log.ErrorContext(ctx, "internal error", "op", "encode event", "err", err.Error())
			return nil, newProblem(notify.EInternal, "an internal error occurred; it has been logged")
		}
		msgs[i], out.IDs[i], fps[i] = m, m.ID, ingest.Fingerprint(&evs[i])
	}
	var seen []queue.Seen
	if l, ok := h.producer.(queue.Ledger); ok {
		seen, err = l.SendSeen(ctx, msgs, fps)
	} else {
		err = h.producer.Send(ctx, msgs)
	}
	if err != nil {
		h.log.ErrorContext(ctx, "queue events", "events", len(msgs), "err", err.Error())
		return nil, unavailable("the events could not be queued; nothing was accepted, send the same body again")
	}
	for i, s := range seen {
		switch s {
		case queue.SeenDuplicate:
			out.Duplicates = append(out.Duplicates, out.IDs[i])
		case queue.SeenConflict:
			out.Conflicts = append(out.Conflicts, out.IDs[i])
			h.log.WarnContext(ctx, "ingest: an event id was reused for a different event; its first recipients are not notified again",
				"event_id", out.IDs[i], "conflicts_total", h.conflicts.Add(1))
		}
	}
	return out, nil
}

// unavailable is a 503 problem asking the client to retry shortly.
func unavailable(detail string) *Problem {
	p := newProblem(notify.EUnavailable, detail)
	p.header = http.Header{"Retry-After": {"1"}}
	return p
}
