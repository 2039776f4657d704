// Package api is the admin REST API of argo-notify (/v1/...), an
// http.Handler shared by the api Lambda and local mode. It owns the HTTP
// shape of the service: routes, JSON representations, problem+json errors,
// ETags and If-Match, bearer authentication and the OpenAPI 3.1 document,
// which huma generates from the code.
//
// It only translates: the use cases (rules and policy rules, the
// directory, the SMTP and Slack integrations) are the services of
// pkg/admin, which api.New builds on Config.Store. The delivery history
// is a thin read of the store.
//
// It imports the domain (pkg/notify), pkg/admin, the store and queue
// interfaces, the ingest functions and the plan type of pkg/dispatch, and
// the SMTP and Slack packages, wired into the admin services as their
// connection testers, and pkg/scim, which it mounts at /scim/v2 outside the
// admin token; never a store or queue implementation or an AWS SDK.
package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/oklog/ulid/v2"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
	"github.com/argoproj-labs/argo-notify/pkg/scim"
	"github.com/argoproj-labs/argo-notify/pkg/send/slack"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp"
	"github.com/argoproj-labs/argo-notify/pkg/send/webhook"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Version is the version of the API the OpenAPI document describes.
const Version = "1.0.0"

// healthPath is the health check's path, served without a token.
const healthPath = "/healthz"

// maxBody is the largest request body the API reads, in bytes.
const maxBody = 1 << 20

// Config holds what the API needs. Store is required; the rest have
// defaults. Later dependencies (integration testers, the ingest queue, the
// matcher for dry runs, dead letters) join as optional fields: a nil field
// leaves its routes out.
type Config struct {
	// Store keeps rules and the directory.
	Store store.Store
	// AdminToken is the bearer token every route but /healthz requires.
	// Empty disables the check, for AWS, where API Gateway's JWT
	// authorizer has already checked the caller.
	AdminToken string
	// Logger receives request logs and the detail of internal errors.
	// Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// IDs returns a new unique, sortable id (a ULID) for rules, users,
	// groups, SMTP servers and events created without one. Default:
	// ulid.Make().String.
	IDs func() string

	// Producer, if set, enables POST /v1/events (ingest): each accepted
	// event is sent to it as one queue.Message (ID: the event id; Body:
	// the event's JSON; Attributes eventId, eventType, severity) before
	// the 202. The route is authenticated by its HMAC signature, not by
	// the bearer token. IngestSecrets is then required.
	Producer queue.Producer
	// IngestSecrets returns the secrets an ingest request may be signed
	// with (several while the secret is being rotated). It is called for
	// every ingest request; an error answers 503.
	IngestSecrets func(ctx context.Context) ([]string, error)
	// Planner, if set, enables POST /v1/match (dry run): it matches an
	// event and resolves its recipients without sending anything. A
	// *dispatch.Dispatcher is one.
	Planner Planner
	// DeadLetters, if set, enables GET /v1/dead-letters and POST
	// /v1/dead-letters/{id}/redrive.
	DeadLetters queue.DeadLetters
	// SlackAPIURL is the Slack Web API base the Slack integration routes
	// call ("" = https://slack.com/api/), as ARGO_NOTIFY_SLACK_API_URL
	// sets it.
	SlackAPIURL string
	// SMTPOptions are passed to smtp.Test by the SMTP test routes (e.g.
	// smtp.WithTLSConfig with RootCAs that trust a test server).
	SMTPOptions []smtp.Option
	// SlackOptions are passed to the Slack Web API calls of the Slack
	// integration routes (e.g. slack.WithHTTPClient).
	SlackOptions []slack.Option
	// OnRulesChanged, if set, is called after every successful change
	// that can change which rules match or whom they reach (see
	// admin.RulesConfig and admin.DirectoryConfig), e.g. to make a
	// dispatcher in the same process read the rules again.
	OnRulesChanged func()
	// Webhooks configures the webhook integration routes' URL checks and
	// test deliveries (local mode allows http:// to loopback).
	Webhooks webhook.Options
	// SCIM, if set, serves the SCIM 2.0 service provider at /scim/v2
	// (pkg/scim; its Directory is set here), authenticated by its own
	// token, which POST /v1/scim/token generates. Without it the
	// directory is never synced.
	SCIM *scim.Config
	// DirectoryWritableWhileSynced lets the admin API change users and
	// groups while an identity provider syncs the directory (default:
	// those writes answer 409 directory_synced).
	DirectoryWritableWhileSynced bool
}

// server holds the configured dependencies of the handlers.
type server struct {
	store  store.Store
	log    *slog.Logger
	now    func() time.Time
	ids    func() string
	token  [32]byte // SHA-256 of AdminToken, compared in constant time
	noAuth bool

	rules    *admin.Rules
	dir      *admin.Directory
	smtp     *admin.SMTP
	slack    *admin.Slack
	webhooks *admin.Webhooks

	producer      queue.Producer
	ingestSecrets func(ctx context.Context) ([]string, error)
	planner       Planner
	deadLetters   queue.DeadLetters

	mux    *http.ServeMux
	public map[string]bool // ServeMux patterns served without a token
	// routes registers huma's operations on mux (and their public
	// patterns), once, before the first request that may reach one.
	routes func()
	// openapi is the OpenAPI document, marshalled on its first request:
	// a function that never serves it does not pay for it at start.
	openapi func() ([]byte, error)
}

// New returns the API as an http.Handler. It panics if cfg.Store is nil,
// a programming error in the caller's wiring.
func New(cfg Config) http.Handler {
	if cfg.Store == nil {
		panic("api.New: Config.Store is nil")
	}
	if cfg.Producer != nil && cfg.IngestSecrets == nil {
		panic("api.New: Config.Producer is set but Config.IngestSecrets is nil")
	}
	s := &server{
		store:  cfg.Store,
		log:    cfg.Logger,
		now:    cfg.Now,
		ids:    cfg.IDs,
		token:  sha256.Sum256([]byte(cfg.AdminToken)),
		noAuth: cfg.AdminToken == "",
		mux:    http.NewServeMux(),
		public: map[string]bool{"GET " + healthPath: true},

		producer:      cfg.Producer,
		ingestSecrets: cfg.IngestSecrets,
		planner:       cfg.Planner,
		deadLetters:   cfg.DeadLetters,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ids == nil {
		s.ids = func() string { return ulid.Make().String() }
	}
	s.buildServices(cfg)
	installErrorHook()

	if s.producer != nil {
		// POST /v1/events is signed instead. Set here, not in
		// registerEvents: a /healthz request reads public without waiting
		// for the routes.
		s.public["POST /v1/events"] = true
	}

	// huma's operations (reflection over every request and response type:
	// ~6 ms, most of the api function's cold start) are registered on the
	// first request that may reach one, not here: /healthz, and a function
	// that serves only it or the console, never pays for them.
	var api huma.API
	s.routes = sync.OnceFunc(func() {
		api = humago.New(s.mux, humaConfig())
		s.registerRules(api)
		s.registerPolicies(api)
		s.registerUsers(api)
		s.registerGroups(api)
		s.registerDirectory(api)
		s.registerDeliveries(api)
		s.registerSMTP(api)
		s.registerSlack(api)
		s.registerWebhooks(api)
		s.registerAudit(api)
		if s.producer != nil {
			s.registerEvents(api)
		}
		if s.planner != nil {
			s.registerMatch(api)
		}
		if s.deadLetters != nil {
			s.registerDeadLetters(api)
		}
	})

	s.openapi = sync.OnceValues(func() ([]byte, error) {
		s.routes()
		doc, err := json.MarshalIndent(api.OpenAPI(), "", "  ")
		if err != nil {
			return nil, fmt.Errorf("marshal the OpenAPI document: %w", err)
		}
		return append(doc, '\n'), nil
	})
	s.mux.HandleFunc("GET /v1/openapi.json", s.serveOpenAPI)
	s.mux.HandleFunc("GET "+healthPath, serveHealth)
	s.mountSCIM(cfg)
	return s
}

// humaConfig is huma's configuration without the parts we do not want:
// no docs UI (it loads scripts from a CDN), no $schema links in bodies (a
// GET body must be valid as a PUT body), and the OpenAPI document served
// by our own route under /v1.
func humaConfig() huma.Config {
	cfg := huma.DefaultConfig("argo-notify admin API", Version)
	cfg.Info.Description = "Manage the notification rules, policy notifications and the directory of users and groups of argo-notify. " +
		"Every route needs `Authorization: Bearer <token>`. Errors are application/problem+json (RFC 9457) with a stable `code`."
	cfg.OpenAPIPath = ""
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.CreateHooks = nil
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "The admin token (local mode) or a JWT (AWS)."},
	}
	cfg.Security = []map[string][]string{{"bearer": {}}}
	return cfg
}

// ServeHTTP authenticates the request, then routes it. Unknown routes and
// wrong methods answer problems, but only to an authenticated caller: a
// 401 reveals nothing about which routes exist.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// Every answer is JSON of a declared type: no content sniffing, 2xx,
	// 4xx and 5xx alike.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	rw := &statusWriter{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic in handler", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
			if rw.status == 0 {
				writeProblem(rw, newProblem(notify.EInternal, "an internal error occurred; it has been logged"))
			}
		}
		s.log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path,
			"status", rw.status, "ms", time.Since(start).Milliseconds())
	}()

	if r.URL.Path != healthPath {
		s.routes() // no operation of huma's is on the health check's path
	}
	h, pattern := s.mux.Handler(r)
	if !s.public[pattern] && !s.authorized(r) {
		p := newProblem(notify.EUnauthorized, "a valid bearer token is required")
		p.Header = http.Header{"Www-Authenticate": {`Bearer realm="argo-notify"`}}
		writeProblem(rw, p)
		return
	}
	if pattern == "" {
		s.routingProblem(rw, r, h)
		return
	}
	if p := duplicateKeys(r, pattern); p != nil {
		writeProblem(rw, p)
		return
	}
	s.mux.ServeHTTP(rw, r)
}

// authorized reports whether r carries the admin token.
func (s *server) authorized(r *http.Request) bool {
	if s.noAuth {
		return true
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], s.token[:]) == 1
}

// routingProblem answers what ServeMux answers for an unmatched request
// (404, 405 with Allow, or a redirect to the cleaned path), with problems
// instead of text/plain.
func (s *server) routingProblem(w http.ResponseWriter, r *http.Request, h http.Handler) {
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusMethodNotAllowed:
		p := newProblem(CodeMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, rec.header.Get("Allow")))
		p.Header = http.Header{"Allow": {rec.header.Get("Allow")}}
		writeProblem(w, p)
	case http.StatusNotFound, 0:
		writeProblem(w, newProblem(notify.ENotFound, fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)))
	default: // redirects to a cleaned path
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
	}
}

func (s *server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc, err := s.openapi()
	if err != nil {
		s.log.ErrorContext(r.Context(), "serve the OpenAPI document", "err", err)
		writeProblem(w, newProblem(notify.EInternal, "the OpenAPI document is not available"))
		return
	}
	w.Header().Set("Content-Type", "application/openapi+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(doc)
}

func serveHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

// fail turns err into the problem a handler returns, logging internal
// errors with their detail (which the client never sees).
func (s *server) fail(ctx context.Context, op string, err error) error {
	p, expected := problemFrom(err)
	if !expected {
		s.log.ErrorContext(ctx, "internal error", "op", op, "err", err.Error())
	}
	return p
}

// stamp returns the current time, in UTC, to the millisecond the stores
// keep.
func (s *server) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// statusWriter remembers the status written, for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// headerRecorder captures the status and headers of ServeMux's own error
// handlers and discards their text/plain body.
type headerRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *headerRecorder) Header() http.Header { return h.header }
func (h *headerRecorder) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}
func (h *headerRecorder) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(b)
}
