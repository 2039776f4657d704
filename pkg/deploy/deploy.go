// Package deploy holds the facts the CDK stack (infra/) and the Lambda
// functions must agree on: the environment variable names the stack sets
// and the functions read, the SQS receive limit, and the EventBridge
// patterns of the AWS job state changes routed to ingest (source,
// detail-type, the status field and its terminal values).
//
// It imports only the standard library (nothing at all today), so that
// infra/, a separate module, imports it without pulling in the service's
// dependencies: keep it that way (deploy_test.go checks).
package deploy

// Environment variables of AWS mode, set on the functions by the stack.
const (
	// EnvTable is the DynamoDB table: api, dispatcher.
	EnvTable = "ARGO_NOTIFY_TABLE"
	// EnvQueueURL is the event queue: ingest sends to it, the dispatcher
	// delays retries on it, the api redrives to it.
	EnvQueueURL = "ARGO_NOTIFY_QUEUE_URL"
	// EnvDLQURL is the dead-letter queue the api lists and redrives from.
	EnvDLQURL = "ARGO_NOTIFY_DLQ_URL"
	// EnvEmailFrom is the SES sender address.
	EnvEmailFrom = "ARGO_NOTIFY_EMAIL_FROM"
	// EnvSESConfigurationSet is sent with every SES message (optional).
	EnvSESConfigurationSet = "ARGO_NOTIFY_SES_CONFIGURATION_SET"
	// EnvSecretPrefix is put before the names of the secrets the api
	// writes, so IAM can scope them.
	EnvSecretPrefix = "ARGO_NOTIFY_SECRET_PREFIX"
	// EnvIngestSecretARN is the secret holding the HMAC key of POST
	// /v1/events: ingest.
	EnvIngestSecretARN = "ARGO_NOTIFY_INGEST_SECRET_ARN"
	// EnvSlackAPIURL is the Slack Web API base (optional).
	EnvSlackAPIURL = "ARGO_NOTIFY_SLACK_API_URL"

	// EnvOIDCIssuer is the OpenID Connect issuer the console signs in
	// with (authorization code and PKCE): api. Unset, the console asks for
	// a bearer token instead.
	EnvOIDCIssuer = "ARGO_NOTIFY_OIDC_ISSUER"
	// EnvOIDCClientID is the console's client id at that issuer: api.
	EnvOIDCClientID = "ARGO_NOTIFY_OIDC_CLIENT_ID"
	// EnvOIDCScopes are the scopes the console asks for, space-separated
	// (default "openid email profile"): api.
	EnvOIDCScopes = "ARGO_NOTIFY_OIDC_SCOPES"
	// EnvOIDCLogoutURL is the issuer's logout endpoint when its discovery
	// document names none (Cognito's <domain>/logout): api.
	EnvOIDCLogoutURL = "ARGO_NOTIFY_OIDC_LOGOUT_URL"
	// EnvMetricNamespace is the CloudWatch namespace of the dispatcher's
	// embedded-format metrics (default DefaultMetricNamespace); the stack
	// sets one per stack so that two stacks in an account alarm apart.
	EnvMetricNamespace = "ARGO_NOTIFY_METRIC_NAMESPACE"
	// EnvDispatcherConcurrency is the event source's MaximumConcurrency: the
	// dispatcher paces SES to the account's send rate divided by it.
	EnvDispatcherConcurrency = "ARGO_NOTIFY_DISPATCHER_CONCURRENCY"
)

// The dispatcher's metrics, written in CloudWatch embedded metric format
// and alarmed on by the stack.
const (
	// DefaultMetricNamespace is the namespace without EnvMetricNamespace.
	DefaultMetricNamespace = "ArgoNotify"
	// MetricDeliveriesFailed counts deliveries recorded failed, with the
	// dimension DimChannel.
	MetricDeliveriesFailed = "DeliveriesFailed"
	// MetricSESAccountErrors counts SES sends refused for the account's or
	// the stack's setup (sandbox, unverified sender, paused sending,
	// AccessDenied): retried, and alarmed because only a person fixes them.
	MetricSESAccountErrors = "SESAccountErrors"
	// DimChannel is the channel dimension (one of MetricChannels).
	DimChannel = "Channel"
)

// MetricChannels are the channels MetricDeliveriesFailed is counted for
// (notify's channels; pkg/awslambda's tests check they agree).
var MetricChannels = []string{"email", "slack", "webhook"}

// DefaultDispatcherConcurrency is the event source's MaximumConcurrency
// unless the stack's context says otherwise: the least SQS allows. One
// dispatcher sends up to 8 deliveries at once, about as fast as the SES
// default quota (14/s) or Slack's 1 message/s per channel allow; more
// instances only add throttles.
const DefaultDispatcherConcurrency = 2

// ConsoleRoutePaths are the HTTP API paths of the admin console's public
// routes (method GET, no authorizer), integrated with the api function:
// the stack creates them, and the api function serves requests that came
// by them with the console alone, never with the API, whatever their path.
var ConsoleRoutePaths = []string{"/", "/{proxy+}"}

// SCIMRoutePath is the HTTP API path of the SCIM 2.0 service provider's
// route (any method, no JWT authorizer: pkg/scim checks its own bearer
// token), integrated with the api function, which serves requests that came
// by it with SCIM alone.
const SCIMRoutePath = "/scim/v2/{proxy+}"

// MaxReceiveCount is how many times a queued event is received before it is
// parked as dead: the SQS redrive policy's maxReceiveCount, and the limit
// the local queue and the dispatcher apply (queue.MaxReceives).
const MaxReceiveCount = 5

// SourceArgo is the source of the events on the stack's custom bus, whose
// detail is an Argo event.
const SourceArgo = "argo"

// The EventBridge sources and detail-types of the AWS job state changes.
const (
	SourceBatch     = "aws.batch"
	DetailBatch     = "Batch Job State Change"
	SourceStates    = "aws.states"
	DetailStates    = "Step Functions Execution Status Change"
	SourceCodeBuild = "aws.codebuild"
	DetailCodeBuild = "CodeBuild Build State Change"
	SourceECS       = "aws.ecs"
	DetailECS       = "ECS Task State Change"
)

// JobSource is the EventBridge pattern of one AWS job service's state
// changes: ingest maps the events whose StatusField (in detail) holds one
// of Terminal to a JOB event and acknowledges the others; the stack's rules
// route only the Terminal ones, so that the others never invoke ingest.
type JobSource struct {
	Source      string
	DetailType  string
	StatusField string
	Terminal    []string
}

// The AWS job services, by the names the stack's jobSources context uses.
var (
	Batch     = JobSource{SourceBatch, DetailBatch, "status", []string{"SUCCEEDED", "FAILED"}}
	States    = JobSource{SourceStates, DetailStates, "status", []string{"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}}
	CodeBuild = JobSource{SourceCodeBuild, DetailCodeBuild, "build-status", []string{"SUCCEEDED", "FAILED", "FAULT", "STOPPED", "TIMED_OUT"}}
	ECS       = JobSource{SourceECS, DetailECS, "lastStatus", []string{"STOPPED"}}
)

// ECSTaskGroupPrefix starts the `group` of the ECS tasks the stack routes:
// tasks run on their own (RunTask: "family:<name>"), not the tasks of a
// service ("service:<name>"), which stop and start as the service scales.
const ECSTaskGroupPrefix = "family:"

// DeliveryIndexAttributes are the non-key attributes the table's index
// (gsi1) projects: the rule filter's (pkg/store/dynamo reads the listed
// deliveries whole with BatchGetItem). Only attributes that do not change
// after a delivery is claimed: a changed projected attribute writes the
// index again. The stack creates the index with them; the store creates
// test tables with them.
var DeliveryIndexAttributes = []string{"RuleIDs"}
