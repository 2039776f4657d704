package awslambda

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/argoproj-labs/argo-notify/pkg/api"
	"github.com/argoproj-labs/argo-notify/pkg/console"
	"github.com/argoproj-labs/argo-notify/pkg/deploy"
	"github.com/argoproj-labs/argo-notify/pkg/dispatch"
	sqsqueue "github.com/argoproj-labs/argo-notify/pkg/queue/sqs"
	"github.com/argoproj-labs/argo-notify/pkg/scim"
	"github.com/argoproj-labs/argo-notify/pkg/send/route"
	"github.com/argoproj-labs/argo-notify/pkg/store/awssecrets"
	"github.com/argoproj-labs/argo-notify/pkg/store/dynamo"
)

// API is the handler of the api function: the admin REST API (pkg/api)
// behind API Gateway HTTP API (payload format 2.0), whose JWT authorizer
// has already checked the caller, and beside it the admin console
// (pkg/console: its public assets and /console-config.json, on routes
// without the authorizer).
type API struct {
	h       http.Handler // the API beside SCIM and the console: ServeHTTP
	api     http.Handler // the API alone: requests that came by an authorized route
	console http.Handler // the console alone: requests that came by its public routes
	scim    http.Handler // SCIM alone: requests that came by its route (its own token, no authorizer)
}

// NewAPI returns the api function's handler on the DynamoDB table and
// Secrets Manager. It needs ARGO_NOTIFY_TABLE. With ARGO_NOTIFY_QUEUE_URL
// and ARGO_NOTIFY_DLQ_URL it also serves the dead letters (listed from the
// DLQ, redriven to the queue). POST /v1/match plans with the same
// dispatcher code as the dispatcher function, sending nothing. POST
// /v1/events is not served here: API Gateway routes it to the ingest
// function. The console signs in with OpenID Connect when
// ARGO_NOTIFY_OIDC_ISSUER and ARGO_NOTIFY_OIDC_CLIENT_ID are set.
func NewAPI(cfg Config, c Clients, opts Options) (*API, error) {
	opts = opts.withDefaults()
	if err := require("api", [2]string{EnvTable, cfg.Table}); err != nil {
		return nil, err
	}
	if err := checkSlackURL("api", cfg.SlackAPIURL); err != nil {
		return nil, err
	}
	db := dynamo.New(c.DynamoDB, cfg.Table)
	st := awsStore{
		Store:   db,
		Secrets: awssecrets.New(c.SecretsManager, awssecrets.Config{Prefix: cfg.SecretPrefix}),
	}
	// OnRulesChanged stays nil: nothing here caches rules (the planner
	// reads them for every dry run; the dispatcher function has its own
	// cache, bounded by its TTL).
	ac := api.Config{
		Store:  st,
		Logger: opts.Logger,
		Now:    opts.Now,
		// AdminToken stays empty: API Gateway's JWT authorizer guards
		// every route this function is integrated with.
		Planner:     dispatch.New(dispatch.Config{Rules: db, Directory: db, Deliveries: db, Channels: route.New(route.Config{}), Now: opts.Now, Logger: opts.Logger}),
		SlackAPIURL: cfg.SlackAPIURL,
		SCIM:        &scim.Config{}, // /scim/v2: its route has no JWT authorizer; pkg/scim checks its own token
	}
	if cfg.QueueURL != "" && cfg.DLQURL != "" {
		ac.DeadLetters = sqsqueue.NewDeadLetters(c.SQS, cfg.DLQURL, sqsqueue.NewProducer(c.SQS, cfg.QueueURL))
	}
	a := api.New(ac)
	h, err := console.BesideWith(a, cfg.signIn())
	if err != nil {
		return nil, fmt.Errorf("api function: %w (%s, %s, %s, %s)", err, EnvOIDCIssuer, EnvOIDCClientID, EnvOIDCScopes, EnvOIDCLogoutURL)
	}
	ui, _ := console.HandlerWith(cfg.signIn()) // valid: BesideWith checked it
	return &API{h: scim.Beside(a, h), api: a, console: ui, scim: scimOnly(a)}, nil
}

// consoleRoutes are the route keys of the console's public routes.
var consoleRoutes = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range deploy.ConsoleRoutePaths {
		m["GET "+p] = true
	}
	return m
}()

// scimRoute is the route key of the SCIM service provider's route: no JWT
// authorizer, pkg/scim checks its own bearer token.
var scimRoute = "ANY " + deploy.SCIMRoutePath

// scimOnly serves, of the requests that came by the SCIM route, only those
// whose cleaned path is under /scim/v2; anything else (an encoded slash or
// dot segments aiming at /v1) is 404, so the unauthorized route never
// reaches the admin API.
func scimOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := path.Clean("/" + r.URL.Path)
		if p != scim.BasePath && !strings.HasPrefix(p, scim.BasePath+"/") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// signIn is the console's sign-in from the ARGO_NOTIFY_OIDC_* variables.
func (cfg Config) signIn() console.SignIn {
	return console.SignIn{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID,
		Scopes: strings.Fields(cfg.OIDCScopes), LogoutURL: cfg.OIDCLogoutURL}
}

// Handle serves one API Gateway v2 request. It chooses by the route the
// request came by, not by its path: one that came by the console's public
// routes (no authorizer) is served by the console alone, so that no path
// (an encoded slash, /healthz…) reaches the API without the authorizer;
// one that came by an authorized route is served by the API.
func (a *API) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx = withActor(ctx, req)
	switch {
	case consoleRoutes[req.RouteKey]:
		return proxy(ctx, a.console, req)
	case req.RouteKey == scimRoute:
		return proxy(ctx, a.scim, req)
	}
	return proxy(ctx, a.api, req)
}

// ServeHTTP lets the API be served directly, e.g. in tests.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.h.ServeHTTP(w, r) }

// proxy serves an API Gateway v2 request with h through
// aws-lambda-go-api-proxy. The proxy splits every header value that is not
// on its list of single-valued headers at commas, which would cut
// X-Argo-Signature ("t=…,v1=…") and If-Match lists apart: the values are
// put back as API Gateway sent them, as a net/http server would see them.
func proxy(ctx context.Context, h http.Handler, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var ra core.RequestAccessorV2
	req, err := ra.EventToRequestWithContext(ctx, ev)
	if err != nil {
		// Only a body marked base64 that is not: the client's fault.
		return problemResponse(http.StatusBadRequest, "malformed", "the request could not be read: "+err.Error()), nil
	}
	for k, v := range ev.Headers {
		req.Header.Set(k, v)
	}
	w := core.NewProxyResponseWriterV2()
	h.ServeHTTP(w, req)
	resp, err := w.GetProxyResponse()
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("build the API Gateway response: %w", err)
	}
	return resp, nil
}

// problemResponse is an application/problem+json response in pkg/api's
// shape, for the few answers given before a request reaches pkg/api.
func problemResponse(status int, code, detail string) events.APIGatewayV2HTTPResponse {
	body, _ := json.Marshal(map[string]any{
		"type":   "urn:argo-notify:problem:" + code,
		"title":  http.StatusText(status),
		"status": status,
		"code":   code,
		"detail": detail,
	})
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers: map[string]string{
			"Content-Type":           "application/problem+json",
			"X-Content-Type-Options": "nosniff",
		},
		Body: string(body),
	}
}
