// Package apifn is the api Lambda function: the admin REST API behind API
// Gateway HTTP API (payload format 2.0), and the admin console beside it.
// It imports the SDK service packages the function calls (DynamoDB, SQS,
// Secrets Manager) and no other.
package apifn

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/argoproj-labs/argo-notify/pkg/api"
	"github.com/argoproj-labs/argo-notify/pkg/awslambda/fn"
	"github.com/argoproj-labs/argo-notify/pkg/console"
	"github.com/argoproj-labs/argo-notify/pkg/deploy"
	"github.com/argoproj-labs/argo-notify/pkg/dispatch"
	sqsqueue "github.com/argoproj-labs/argo-notify/pkg/queue/sqs"
	"github.com/argoproj-labs/argo-notify/pkg/scim"
	"github.com/argoproj-labs/argo-notify/pkg/send/route"
	"github.com/argoproj-labs/argo-notify/pkg/store"
	"github.com/argoproj-labs/argo-notify/pkg/store/awssecrets"
	"github.com/argoproj-labs/argo-notify/pkg/store/dynamo"
)

// Main is the api function's main.
func Main() {
	fn.Main("api", func(awsCfg aws.Config, cfg fn.Config, o fn.Options) (any, error) {
		h, err := New(cfg, Clients{
			DynamoDB:       dynamodb.NewFromConfig(awsCfg),
			SQS:            sqs.NewFromConfig(awsCfg),
			SecretsManager: secretsmanager.NewFromConfig(awsCfg),
		}, o)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}

// SQS is the part of the SQS client the api function calls (the dead
// letters). *sqs.Client implements it.
type SQS interface {
	sqsqueue.BatchSender
	sqsqueue.DLQClient
}

// Clients are the SDK clients the api function calls. SQS may be nil when
// the function serves no dead letters.
type Clients struct {
	DynamoDB       dynamo.API        // *dynamodb.Client
	SQS            SQS               // *sqs.Client
	SecretsManager awssecrets.Client // *secretsmanager.Client
}

// awsStore is the store on AWS: everything in DynamoDB but the secrets,
// which live in Secrets Manager.
type awsStore struct {
	*dynamo.Store
	store.Secrets
}

var _ store.Store = awsStore{}

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

// New returns the api function's handler on the DynamoDB table and
// Secrets Manager. It needs ARGO_NOTIFY_TABLE. With ARGO_NOTIFY_QUEUE_URL
// and ARGO_NOTIFY_DLQ_URL it also serves the dead letters (listed from the
// DLQ, redriven to the queue). POST /v1/match plans with the same
// dispatcher code as the dispatcher function, sending nothing. POST
// /v1/events is not served here: API Gateway routes it to the ingest
// function. The console signs in with OpenID Connect when
// ARGO_NOTIFY_OIDC_ISSUER and ARGO_NOTIFY_OIDC_CLIENT_ID are set.
func New(cfg fn.Config, c Clients, opts fn.Options) (*API, error) {
	opts = opts.WithDefaults()
	if err := fn.Require("api", [2]string{fn.EnvTable, cfg.Table}); err != nil {
		return nil, err
	}
	if err := fn.CheckSlackURL("api", cfg.SlackAPIURL); err != nil {
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
	h, err := console.BesideWith(a, signIn(cfg))
	if err != nil {
		return nil, fmt.Errorf("api function: %w (%s, %s, %s, %s)", err, fn.EnvOIDCIssuer, fn.EnvOIDCClientID, fn.EnvOIDCScopes, fn.EnvOIDCLogoutURL)
	}
	ui, _ := console.HandlerWith(signIn(cfg)) // valid: BesideWith checked it
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
func signIn(cfg fn.Config) console.SignIn {
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
		return fn.Proxy(ctx, a.console, req)
	case req.RouteKey == scimRoute:
		return fn.Proxy(ctx, a.scim, req)
	}
	return fn.Proxy(ctx, a.api, req)
}

// ServeHTTP lets the API be served directly, e.g. in tests.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.h.ServeHTTP(w, r) }
