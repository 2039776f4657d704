// Package ingesthttp is the handler of POST /v1/events: HMAC-signed
// events, checked and decoded by pkg/ingest, queued. The ingest Lambda
// serves it alone and the admin API (pkg/api) mounts it; it is apart from
// pkg/api so that the ingest function links neither huma nor the admin
// API and its channels (~0.5 ms of every cold start).
package ingesthttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/argoproj-labs/argo-notify/pkg/api/problem"
	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

// EventsAccepted is the answer to an accepted ingest request.
type EventsAccepted struct {
	IDs []string `json:"ids" doc:"The ids of the events, in the order sent. Where the request gave none, derived from the signed request (its timestamp and body, and the event's index), so the same request sent again carries the same ids and notifies nobody twice." example:"[\"evt_01JDZ5Q8X9K7W3M2N4P6R8T0VB\"]"`
	// Duplicates and Conflicts are known where the queue remembers
	// fingerprints (local mode); elsewhere they are left out.
	Duplicates []string `json:"duplicates,omitempty" doc:"Ids already accepted with the same content: the dispatcher notifies nobody twice for them."`
	Conflicts  []string `json:"conflicts,omitempty" doc:"Ids already accepted with different content: the id was reused for another event. Recipients the first event reached are not notified again; choose a new id for a new event."`
}

// RequireJSON answers 415 to a body declared as anything but JSON
// (application/json or a +json type), as huma does on every other write
// route; a request without a Content-Type is read as JSON.
func RequireJSON(r *http.Request) *problem.Problem {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return problem.New(problem.CodeUnsupportedMediaType, "the body must be JSON: send Content-Type: application/json")
}

// ReadBody reads r's body, refusing one larger than
// notify.MaxEventBody (413) or one that does not arrive (408, 400).
func ReadBody(r *http.Request) ([]byte, *problem.Problem) {
	if r.ContentLength > notify.MaxEventBody {
		return nil, eventBodyTooLarge()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, notify.MaxEventBody+1))
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, problem.New(problem.CodeTimeout, "the body did not arrive in time")
		}
		return nil, problem.New(problem.CodeMalformed, "the body could not be read")
	}
	if len(body) > notify.MaxEventBody {
		return nil, eventBodyTooLarge()
	}
	return body, nil
}

func eventBodyTooLarge() *problem.Problem {
	return problem.New(notify.ETooLarge, fmt.Sprintf("the body is larger than %d bytes; send fewer events per request", notify.MaxEventBody))
}

// Config configures New. Producer and Secrets are required.
type Config struct {
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
// Lambda serves it alone, and the admin API mounts it (pkg/api's
// registerEvents).
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

// New returns the handler of POST /v1/events: HMAC-signed events,
// checked and decoded by pkg/ingest, queued before the 202 {"ids": [...]};
// errors as problem+json. It answers 405 to any other method and leaves
// routing by path to the caller. It panics if Producer or Secrets is nil,
// a programming error in the caller's wiring.
func New(cfg Config) http.Handler {
	if cfg.Producer == nil || cfg.Secrets == nil {
		panic("ingesthttp.New: Config.Producer and Config.Secrets are required")
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
		p := problem.New(problem.CodeMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s; allowed: POST", r.Method, r.URL.Path))
		p.Header = http.Header{"Allow": {http.MethodPost}}
		problem.Write(w, p)
		return
	}
	body, p := ReadBody(r)
	if p == nil {
		p = RequireJSON(r)
	}
	if p == nil && len(body) == 0 {
		p = problem.New(problem.CodeMalformed, "request body is required")
	}
	if p != nil {
		problem.Write(w, p)
		return
	}
	accepted, err := h.ingest(r.Context(), r.Header.Get(ingest.SignatureHeader), body)
	if err != nil {
		problem.Write(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(accepted)
}

// ingest verifies, decodes and queues the events of one request.
func (h *ingestHandler) ingest(ctx context.Context, signature string, body []byte) (*EventsAccepted, *problem.Problem) {
	secrets, err := h.secrets(ctx)
	if err != nil {
		h.log.ErrorContext(ctx, "read the ingest secrets", "err", err.Error())
		return nil, unavailable("the ingest secret could not be read; nothing was accepted, try again")
	}
	now := h.now()
	if err := ingest.VerifySignature(signature, body, secrets, now); err != nil {
		p, ok := problem.From(err)
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
		p, _ := problem.From(problem.FromDecode(err))
		return nil, p
	}
	msgs := make([]queue.Message, len(evs))
	fps := make([]string, len(evs))
	out := &EventsAccepted{IDs: make([]string, len(evs))}
	for i := range evs {
		m, err := queue.EncodeEvent(&evs[i])
		if err != nil {
			h.log.ErrorContext(ctx, "internal error", "op", "encode event", "err", err.Error())
			return nil, problem.New(notify.EInternal, "an internal error occurred; it has been logged")
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
func unavailable(detail string) *problem.Problem {
	p := problem.New(notify.EUnavailable, detail)
	p.Header = http.Header{"Retry-After": {"1"}}
	return p
}
