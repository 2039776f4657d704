package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/jsii-runtime-go"
)

// grants gives each function what it calls, and nothing more (least
// privilege), and connects the dispatcher to the queue and ingest's
// asynchronous failures to the events dead-letter queue.
func (b *builder) grants() {
	ns := b.ns
	api, ingest, dispatcher := ns.Functions[FnAPI], ns.Functions[FnIngest], ns.Functions[FnDispatcher]
	secretPrefixARN := b.secretPrefixARN()
	tableResources := []*string{
		ns.Table.TableArn(),
		awscdk.Fn_Join(jsii.String(""), &[]*string{ns.Table.TableArn(), jsii.String("/index/gsi1")}),
	}
	for _, fn := range []awslambda.Function{api, dispatcher} {
		grant(fn, "TableReadWrite", tableActions, tableResources...)
	}
	ns.Queue.GrantSendMessages(ingest)
	ns.Queue.GrantSendMessages(api) // redrive from the DLQ
	// Held deliveries (digests, quiet hours) are released by a delayed
	// "due" message the dispatcher sends to its own queue (SSE-SQS: no key
	// grant; it already reads the queue's attributes as its consumer).
	grant(dispatcher, "ReleaseHeld", []string{"sqs:SendMessage"}, ns.Queue.QueueArn())
	ns.DeadLetter.GrantConsumeMessages(api) // list and delete dead letters
	grant(ingest, "IngestSecretRead", []string{"secretsmanager:GetSecretValue"}, ns.IngestSecret.SecretArn())
	grant(api, "IntegrationSecretsWrite", []string{
		"secretsmanager:CreateSecret",
		"secretsmanager:PutSecretValue",
		"secretsmanager:GetSecretValue",
		"secretsmanager:DeleteSecret",
		"secretsmanager:RestoreSecret", // re-connecting within the deletion window
	}, secretPrefixARN)
	grant(dispatcher, "IntegrationSecretsRead", []string{"secretsmanager:GetSecretValue"}, secretPrefixARN)
	grant(dispatcher, "SendEmail", []string{"ses:SendEmail", "ses:SendRawEmail"}, b.sesResources...)
	// The send rate the dispatcher paces to; GetAccount has no resource.
	grant(dispatcher, "SESQuota", []string{"ses:GetAccount"}, jsii.String("*"))
	// EventBridge invokes ingest asynchronously: a failure after Lambda's
	// retries lands in the events DLQ instead of being dropped.
	ingest.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		OnFailure:     awslambdadestinations.NewSqsDestination(ns.EventsDLQ),
		RetryAttempts: jsii.Number(2),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(6)),
	})
	dispatcher.AddEventSource(awslambdaeventsources.NewSqsEventSource(ns.Queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(dispatcherBatchSize),
		ReportBatchItemFailures: jsii.Bool(true),
		// Bounded so that bursts wait in the queue instead of throttling
		// SES and Slack (or taking the account's concurrency).
		MaxConcurrency: jsii.Number(b.cfg.DispatcherMaxConcurrency),
	}))
}

// tableActions are the DynamoDB calls pkg/store/dynamo makes (its API
// interface); TransactWriteItems is authorized per item, as PutItem and
// DeleteItem.
var tableActions = []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchGetItem"}

// grant adds one statement, named sid, of actions on resources to fn's role.
func grant(fn awslambda.Function, sid string, actions []string, resources ...*string) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	}))
}
