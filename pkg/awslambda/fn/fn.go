// Package fn is what argo-notify's three Lambda functions share: the
// configuration the stack passes in environment variables, the options,
// the checks of a function's constructor, the API Gateway proxy, and Main.
// Each function is a package of its own (apifn, ingestfn, dispatcherfn)
// that imports only the SDK service packages it calls, so that a
// function's binary does not pay, at every cold start, for the init of
// the others' (a service package's init is 0.3-0.8 ms). pkg/awslambda
// gathers the three for the tests.
//
// It builds no SDK service client: endpoints (for emulators too) come from
// AWS_ENDPOINT_URL, which LambdaAWSConfig reads in Main.
package fn

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
)

// Environment variables of AWS mode, set on every function by the CDK stack.
// pkg/deploy owns the names (infra/ imports them from there); these are
// the same constants under the names the functions' code uses.
const (
	EnvTable               = deploy.EnvTable
	EnvQueueURL            = deploy.EnvQueueURL
	EnvDLQURL              = deploy.EnvDLQURL
	EnvEmailFrom           = deploy.EnvEmailFrom
	EnvSESConfigurationSet = deploy.EnvSESConfigurationSet
	EnvSecretPrefix        = deploy.EnvSecretPrefix
	EnvIngestSecretARN     = deploy.EnvIngestSecretARN
	EnvSlackAPIURL         = deploy.EnvSlackAPIURL
	EnvOIDCIssuer          = deploy.EnvOIDCIssuer
	EnvOIDCClientID        = deploy.EnvOIDCClientID
	EnvOIDCScopes          = deploy.EnvOIDCScopes
	EnvOIDCLogoutURL       = deploy.EnvOIDCLogoutURL
	EnvMetricNamespace     = deploy.EnvMetricNamespace
	EnvDispatcherConc      = deploy.EnvDispatcherConcurrency
)

// Config is the configuration of AWS mode. Which fields a function needs
// is checked by its constructor (apifn.New, ingestfn.New,
// dispatcherfn.New), whose error names the missing variable.
type Config struct {
	// Table is the DynamoDB table (ARGO_NOTIFY_TABLE): api, dispatcher.
	Table string
	// QueueURL is the event queue (ARGO_NOTIFY_QUEUE_URL): ingest sends to
	// it, the dispatcher delays retries on it, the api redrives to it.
	QueueURL string
	// DLQURL is the dead-letter queue the api lists and redrives from
	// (ARGO_NOTIFY_DLQ_URL); optional.
	DLQURL string
	// EmailFrom is the SES sender address (ARGO_NOTIFY_EMAIL_FROM);
	// optional: without it email goes only to a connected SMTP server.
	EmailFrom string
	// SESConfigurationSet is sent with every SES message
	// (ARGO_NOTIFY_SES_CONFIGURATION_SET); optional.
	SESConfigurationSet string
	// SecretPrefix is put before the names of the secrets the api writes
	// (ARGO_NOTIFY_SECRET_PREFIX), so IAM can scope them; optional.
	SecretPrefix string
	// IngestSecretARN is the secret holding the HMAC key of POST
	// /v1/events (ARGO_NOTIFY_INGEST_SECRET_ARN): ingest.
	IngestSecretARN string
	// SlackAPIURL is the Slack Web API base (ARGO_NOTIFY_SLACK_API_URL);
	// optional, default https://slack.com/api/.
	SlackAPIURL string
	// OIDCIssuer, OIDCClientID, OIDCScopes (space-separated) and
	// OIDCLogoutURL say how the console the api serves signs in
	// (ARGO_NOTIFY_OIDC_*); all optional: without an issuer the console
	// asks for a bearer token.
	OIDCIssuer    string
	OIDCClientID  string
	OIDCScopes    string
	OIDCLogoutURL string
	// MetricNamespace is the CloudWatch namespace of the dispatcher's
	// embedded metrics (ARGO_NOTIFY_METRIC_NAMESPACE); default
	// deploy.DefaultMetricNamespace.
	MetricNamespace string
	// DispatcherConcurrency is the event source's MaximumConcurrency
	// (ARGO_NOTIFY_DISPATCHER_CONCURRENCY): the dispatcher paces SES and
	// Slack to the provider's rate divided by it. Default
	// deploy.DefaultDispatcherConcurrency.
	DispatcherConcurrency int
}

// ConfigFromEnv reads the configuration through getenv (os.Getenv in main).
func ConfigFromEnv(getenv func(string) string) Config {
	v := func(name string) string { return strings.TrimSpace(getenv(name)) }
	return Config{
		Table:               v(EnvTable),
		QueueURL:            v(EnvQueueURL),
		DLQURL:              v(EnvDLQURL),
		EmailFrom:           v(EnvEmailFrom),
		SESConfigurationSet: v(EnvSESConfigurationSet),
		SecretPrefix:        v(EnvSecretPrefix),
		IngestSecretARN:     v(EnvIngestSecretARN),
		SlackAPIURL:         v(EnvSlackAPIURL),
		OIDCIssuer:          v(EnvOIDCIssuer),
		OIDCClientID:        v(EnvOIDCClientID),
		OIDCScopes:          v(EnvOIDCScopes),
		OIDCLogoutURL:       v(EnvOIDCLogoutURL),
		MetricNamespace:     v(EnvMetricNamespace),
		// An unset or bad value is the default (a positive number).
		DispatcherConcurrency: positiveInt(v(EnvDispatcherConc)),
	}
}

// positiveInt parses s, or returns 0 when it is not a positive integer.
func positiveInt(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// Require returns an error naming the variables that are unset, for the
// function fn.
func Require(fn string, vars ...[2]string) error {
	var missing []string
	for _, v := range vars {
		if v[1] == "" {
			missing = append(missing, v[0])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s function: environment variable %s is required but not set", fn, strings.Join(missing, ", "))
	}
	return nil
}

// CheckSlackURL validates ARGO_NOTIFY_SLACK_API_URL when it is set.
func CheckSlackURL(fn, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return fmt.Errorf("%s function: %s: want an http(s) URL like https://slack.com/api/", fn, EnvSlackAPIURL)
	}
	return nil
}

// Options are the parts of a function that are not configuration. All are
// optional.
type Options struct {
	// Logger receives the logs. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Metrics receives the dispatcher's embedded-format metric lines.
	// Default: os.Stdout, which CloudWatch Logs reads them from.
	Metrics io.Writer
}

// WithDefaults fills the options left unset with their defaults.
func (o Options) WithDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Metrics == nil {
		o.Metrics = os.Stdout
	}
	return o
}

// Proxy serves an API Gateway v2 request with h through
// aws-lambda-go-api-proxy. The proxy splits every header value that is not
// on its list of single-valued headers at commas, which would cut
// X-Argo-Signature ("t=…,v1=…") and If-Match lists apart: the values are
// put back as API Gateway sent them, as a net/http server would see them.
func Proxy(ctx context.Context, h http.Handler, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var ra core.RequestAccessorV2
	req, err := ra.EventToRequestWithContext(ctx, ev)
	if err != nil {
		// Only a body marked base64 that is not: the client's fault.
		return ProblemResponse(http.StatusBadRequest, "malformed", "the request could not be read: "+err.Error()), nil
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

// ProblemResponse is an application/problem+json response in pkg/api's
// shape, for the few answers given before a request reaches pkg/api.
func ProblemResponse(status int, code, detail string) events.APIGatewayV2HTTPResponse {
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
