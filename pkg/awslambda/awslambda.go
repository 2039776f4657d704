// Package awslambda gathers argo-notify's AWS mode for its tests and
// tools: the configuration the stack passes in environment variables, the
// SDK clients, and the handlers of the three Lambda functions — api,
// ingest and dispatcher. Each function is a package of its own
// (pkg/awslambda/apifn, ingestfn, dispatcherfn, on what they share in
// pkg/awslambda/fn), whose Main the binaries in
// functions/{api,ingest,dispatcher} call: a binary links, and initializes
// at every cold start, only the SDK service packages its function calls.
// This package imports all of them; no binary imports it.
//
// It reads no environment and builds no SDK client but in NewClients:
// endpoints (for emulators too) come from the AWS configuration it is
// given (in the functions, fn.LambdaAWSConfig, which reads
// AWS_ENDPOINT_URL; in tests, config.LoadDefaultConfig).
package awslambda

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/argoproj-labs/argo-notify/pkg/awslambda/apifn"
	"github.com/argoproj-labs/argo-notify/pkg/awslambda/dispatcherfn"
	"github.com/argoproj-labs/argo-notify/pkg/awslambda/fn"
	"github.com/argoproj-labs/argo-notify/pkg/awslambda/ingestfn"
	sqsqueue "github.com/argoproj-labs/argo-notify/pkg/queue/sqs"
	"github.com/argoproj-labs/argo-notify/pkg/send/ses"
	"github.com/argoproj-labs/argo-notify/pkg/store/awssecrets"
	"github.com/argoproj-labs/argo-notify/pkg/store/dynamo"
)

// Environment variables of AWS mode, set on every function by the CDK stack
// (pkg/deploy owns the names).
const (
	EnvTable               = fn.EnvTable
	EnvQueueURL            = fn.EnvQueueURL
	EnvDLQURL              = fn.EnvDLQURL
	EnvEmailFrom           = fn.EnvEmailFrom
	EnvSESConfigurationSet = fn.EnvSESConfigurationSet
	EnvSecretPrefix        = fn.EnvSecretPrefix
	EnvIngestSecretARN     = fn.EnvIngestSecretARN
	EnvSlackAPIURL         = fn.EnvSlackAPIURL
	EnvOIDCIssuer          = fn.EnvOIDCIssuer
	EnvOIDCClientID        = fn.EnvOIDCClientID
	EnvOIDCScopes          = fn.EnvOIDCScopes
	EnvOIDCLogoutURL       = fn.EnvOIDCLogoutURL
	EnvMetricNamespace     = fn.EnvMetricNamespace
	EnvDispatcherConc      = fn.EnvDispatcherConc
)

// The functions' constants.
const (
	// IngestPath is the one route the ingest function serves over HTTP.
	IngestPath = ingestfn.Path
	// RuleCacheTTL is how long a warm dispatcher reuses the rules it read.
	RuleCacheTTL = dispatcherfn.RuleCacheTTL
	// IntegrationReadTTL is how long a warm dispatcher reuses what it read
	// of the SMTP and Slack integrations.
	IntegrationReadTTL = dispatcherfn.IntegrationReadTTL
)

type (
	// Config is the configuration of AWS mode (fn.Config).
	Config = fn.Config
	// Options are the parts of a function that are not configuration
	// (fn.Options).
	Options = fn.Options
	// API is the handler of the api function.
	API = apifn.API
	// Ingest is the handler of the ingest function.
	Ingest = ingestfn.Ingest
	// Dispatcher is the handler of the dispatcher function.
	Dispatcher = dispatcherfn.Dispatcher
)

// ConfigFromEnv reads the configuration through getenv (os.Getenv in main).
func ConfigFromEnv(getenv func(string) string) Config { return fn.ConfigFromEnv(getenv) }

// SQS is the part of the SQS client the functions call. *sqs.Client
// implements it.
type SQS interface {
	sqsqueue.BatchSender
	sqsqueue.VisibilityChanger
	sqsqueue.DLQClient
}

// Clients are the AWS SDK clients of all three functions. A function uses
// only the ones it needs; the others may be nil.
type Clients struct {
	DynamoDB       dynamo.API        // *dynamodb.Client: api, dispatcher
	SQS            SQS               // *sqs.Client: all three
	SES            ses.Client        // *sesv2.Client: dispatcher
	SecretsManager awssecrets.Client // *secretsmanager.Client: all three
}

// NewClients builds, from one AWS configuration,
// every SDK client a function may use. Building a client makes no call.
func NewClients(cfg aws.Config) Clients {
	return Clients{
		DynamoDB:       dynamodb.NewFromConfig(cfg),
		SQS:            sqs.NewFromConfig(cfg),
		SES:            sesv2.NewFromConfig(cfg),
		SecretsManager: secretsmanager.NewFromConfig(cfg),
	}
}

// NewAPI returns the api function's handler: see apifn.New.
func NewAPI(cfg Config, c Clients, opts Options) (*API, error) {
	return apifn.New(cfg, apifn.Clients{DynamoDB: c.DynamoDB, SQS: c.SQS, SecretsManager: c.SecretsManager}, opts)
}

// NewIngest returns the ingest function's handler: see ingestfn.New.
func NewIngest(cfg Config, c Clients, opts Options) (*Ingest, error) {
	return ingestfn.New(cfg, ingestfn.Clients{SQS: c.SQS, SecretsManager: c.SecretsManager}, opts)
}

// NewDispatcher returns the dispatcher function's handler: see
// dispatcherfn.New.
func NewDispatcher(cfg Config, c Clients, opts Options) (*Dispatcher, error) {
	return dispatcherfn.New(cfg, dispatcherfn.Clients{DynamoDB: c.DynamoDB, SQS: c.SQS, SES: c.SES, SecretsManager: c.SecretsManager}, opts)
}
