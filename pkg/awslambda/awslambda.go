// Package awslambda assembles argo-notify's AWS mode: the configuration the
// stack passes in environment variables, the adapters (DynamoDB store,
// Secrets Manager, SQS, SES) on the SDK clients that main builds, and the
// handlers of the three Lambda functions — api, ingest and dispatcher. The
// binaries in functions/{api,ingest,dispatcher} only build the clients once
// and hand these handlers to lambda.Start.
//
// It may import every adapter AWS mode uses; no other package imports it.
// It reads no environment and builds no SDK client itself: endpoints (for
// emulators too) come from the SDK's own AWS_ENDPOINT_URL variables, which
// config.LoadDefaultConfig in main honours.
package awslambda

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
	sqsqueue "github.com/argoproj-labs/argo-notify/pkg/queue/sqs"
	"github.com/argoproj-labs/argo-notify/pkg/send/ses"
	"github.com/argoproj-labs/argo-notify/pkg/store"
	"github.com/argoproj-labs/argo-notify/pkg/store/awssecrets"
	"github.com/argoproj-labs/argo-notify/pkg/store/dynamo"
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
// is checked by its constructor (NewAPI, NewIngest, NewDispatcher), whose
// error names the missing variable.
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

// require returns an error naming the first of the variables that is unset,
// for the function fn.
func require(fn string, vars ...[2]string) error {
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

// checkSlackURL validates ARGO_NOTIFY_SLACK_API_URL when it is set.
func checkSlackURL(fn, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return fmt.Errorf("%s function: %s: want an http(s) URL like https://slack.com/api/", fn, EnvSlackAPIURL)
	}
	return nil
}

// SQS is the part of the SQS client the functions call. *sqs.Client
// implements it.
type SQS interface {
	sqsqueue.BatchSender
	sqsqueue.VisibilityChanger
	sqsqueue.DLQClient
}

// Clients are the AWS SDK clients, built once in main with
// config.LoadDefaultConfig. A function uses only the ones it needs; the
// others may be nil.
type Clients struct {
	DynamoDB       dynamo.API        // *dynamodb.Client: api, dispatcher
	SQS            SQS               // *sqs.Client: all three
	SES            ses.Client        // *sesv2.Client: dispatcher
	SecretsManager awssecrets.Client // *secretsmanager.Client: all three
}

// NewClients builds, from one AWS configuration (config.LoadDefaultConfig
// in main), every SDK client a function may use. Building a client makes
// no call; each function uses the ones it needs.
func NewClients(cfg aws.Config) Clients {
	return Clients{
		DynamoDB:       dynamodb.NewFromConfig(cfg),
		SQS:            sqs.NewFromConfig(cfg),
		SES:            sesv2.NewFromConfig(cfg),
		SecretsManager: secretsmanager.NewFromConfig(cfg),
	}
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

func (o Options) withDefaults() Options {
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

// awsStore is the store on AWS: everything in DynamoDB but the secrets,
// which live in Secrets Manager.
type awsStore struct {
	*dynamo.Store
	store.Secrets
}

var _ store.Store = awsStore{}
