package main

import (
	"path/filepath"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
)

// functionSpec sizes one function.
type functionSpec struct {
	name    string
	desc    string
	timeout float64
	memory  float64
}

// functionSpecs are the three functions, in the order they are created.
var functionSpecs = []functionSpec{
	{FnAPI, "argo-notify admin API (HTTP API, JWT)", 15, 256},
	{FnIngest, "argo-notify ingest: HMAC-signed events and EventBridge job events to SQS", 10, 128},
	{FnDispatcher, "argo-notify dispatcher: SQS batches to email and Slack", dispatcherTimeoutSeconds, 256},
}

// functions creates the api, ingest and dispatcher functions, each with its
// own log group and role, and the environment (pkg/deploy's names) they
// read their configuration from.
func (b *builder) functions() {
	ns, cfg := b.ns, b.cfg
	env := map[string]*string{
		deploy.EnvTable:           ns.Table.TableName(),
		deploy.EnvQueueURL:        ns.Queue.QueueUrl(),
		deploy.EnvDLQURL:          ns.DeadLetter.QueueUrl(),
		deploy.EnvEmailFrom:       jsii.String(cfg.EmailFrom),
		deploy.EnvSecretPrefix:    jsii.String(b.secretPrefix()),
		deploy.EnvIngestSecretARN: ns.IngestSecret.SecretArn(),
	}
	env[deploy.EnvSESConfigurationSet] = b.configSetName
	env[deploy.EnvMetricNamespace] = jsii.String(b.metricNamespace())
	env[deploy.EnvDispatcherConcurrency] = jsii.String(strconv.Itoa(cfg.DispatcherMaxConcurrency))
	if cfg.SlackAPIURL != "" {
		env[deploy.EnvSlackAPIURL] = jsii.String(cfg.SlackAPIURL)
	}
	tracing := awslambda.Tracing_DISABLED
	if cfg.Tracing {
		tracing = awslambda.Tracing_ACTIVE
	}
	for _, s := range functionSpecs {
		// Ingest's reserved concurrency keeps the dispatcher and the api
		// from starving it; the dispatcher is bounded by its event source.
		var reserved *float64
		if s.name == FnIngest && cfg.IngestReservedConcurrency > 0 {
			reserved = jsii.Number(cfg.IngestReservedConcurrency)
		}
		logs := awslogs.NewLogGroup(b.stack, jsii.String(title(s.name)+"Logs"), &awslogs.LogGroupProps{
			Retention:     b.retention,
			RemovalPolicy: b.removal,
		})
		// An explicit role instead of the default one: the default attaches
		// the AWSLambdaBasicExecutionRole managed policy (logs on *).
		role := awsiam.NewRole(b.stack, jsii.String(title(s.name)+"Role"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("argo-notify " + s.name + " function"),
		})
		logs.GrantWrite(role)
		ns.Functions[s.name] = awslambda.NewFunction(b.stack, jsii.String(title(s.name)), &awslambda.FunctionProps{
			Description:           jsii.String(s.desc),
			Runtime:               awslambda.Runtime_PROVIDED_AL2023(),
			Architecture:          awslambda.Architecture_ARM_64(),
			Handler:               jsii.String("bootstrap"),
			Code:                  awslambda.Code_FromAsset(jsii.String(filepath.Join(cfg.AssetDir, s.name)), nil),
			Timeout:               awscdk.Duration_Seconds(jsii.Number(s.timeout)),
			MemorySize:            jsii.Number(s.memory),
			Role:                  role,
			LogGroup:              logs,
			LoggingFormat:         awslambda.LoggingFormat_JSON,
			ApplicationLogLevelV2: awslambda.ApplicationLogLevel_INFO,
			// INFO keeps the REPORT lines (duration, memory, init).
			SystemLogLevelV2:             awslambda.SystemLogLevel_INFO,
			Tracing:                      tracing,
			Environment:                  &env,
			ReservedConcurrentExecutions: reserved,
		})
	}
}
