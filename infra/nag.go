package main

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Reasons for the cdk-nag AwsSolutions findings the design accepts. Each is
// attached to the one resource (and, for IAM5, the one wildcard) it covers.
const (
	reasonXRay = "X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords " +
		"do not support resource-level permissions, so IAM requires Resource \"*\" (added by the CDK when tracing is on)."
	reasonAPISecrets = "The api creates, updates, reads and deletes the SMTP password and Slack token secrets when an " +
		"admin connects or disconnects an integration; their names are not known at deploy time, so the grant is " +
		"scoped by the stack's name prefix argo-notify/<stack>/integrations/* (the ingest secret lies outside it)."
	reasonDispatcherSecrets = "The dispatcher reads (GetSecretValue only) the SMTP password and Slack token secrets the api " +
		"created; scoped by the stack's name prefix argo-notify/<stack>/integrations/*, which excludes the ingest secret."
	reasonEventsDLQ = "This queue is itself a dead-letter queue: EventBridge rule targets send job events here when " +
		"they cannot reach the ingest function. A DLQ of a DLQ adds nothing; its depth raises an alarm instead."
	reasonIngestRoute = "POST /v1/events is the machine-to-machine ingest endpoint: every request is authenticated " +
		"by the ingest function with an HMAC-SHA256 signature (X-Argo-Signature, timestamped, ±5 minutes) " +
		"over the body, keyed by the generated secret. Senders (Argo) hold no JWT; all admin routes use the JWT authorizer."
	reasonIngestSecretRotation = "The ingest HMAC key is shared with the event senders (Argo) that sign requests; " +
		"an automatic rotation would break them until reconfigured. Rotate by hand (put a new value, update the " +
		"senders), as the README describes."
	reasonSESQuota = "ses:GetAccount (the account's send rate, which the dispatcher paces to) has no resource-level " +
		"permissions, so IAM requires Resource \"*\"; it reads quotas only."
	reasonSESSandbox = "sesSandbox=true: in the SES sandbox, SES authorizes SendEmail against the recipients' identities " +
		"too (each a verified address of this account and region), so the grant covers identity/* of the account; " +
		"turn it off once production access is granted."
	reasonPlusTier = "Cognito threat protection needs the Plus feature plan (priced per monthly active user). This " +
		"pool holds only a few administrators, self sign-up is off and TOTP MFA is required; organizations " +
		"that need more use their own OIDC provider (-c jwtIssuer=...), and then no pool is created."
)

// addSuppressions records each accepted cdk-nag AwsSolutions finding, with
// its reason, on the resource it concerns.
func addSuppressions(ns *NotifyStack, cfg Config) {
	secretPrefix := &cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:<AWS::Partition>:secretsmanager:.*:secret:argo-notify\/.*\/integrations\/\*$/g`)}
	roleFindings := map[string][]*cdknag.NagPackSuppression{
		FnAPI: {
			{Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String(reasonAPISecrets), AppliesTo: &[]any{secretPrefix}},
		},
		FnDispatcher: {
			{Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String(reasonDispatcherSecrets), AppliesTo: &[]any{secretPrefix}},
			{Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String(reasonSESQuota), AppliesTo: &[]any{"Resource::*"}},
		},
		FnIngest: {},
	}
	if cfg.SESSandbox {
		roleFindings[FnDispatcher] = append(roleFindings[FnDispatcher], &cdknag.NagPackSuppression{
			Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String(reasonSESSandbox),
			AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:<AWS::Partition>:ses:.*:identity\/\*$/g`)}},
		})
	}
	for name, sup := range roleFindings {
		if cfg.Tracing {
			sup = append(sup, &cdknag.NagPackSuppression{
				Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String(reasonXRay), AppliesTo: &[]any{"Resource::*"},
			})
		}
		if len(sup) == 0 {
			continue
		}
		// The wildcards sit in the role's default policy, which the grants
		// above created.
		suppress(ns.Functions[name].Role().Node().FindChild(jsii.String("DefaultPolicy")), sup...)
	}
	suppress(ns.EventsDLQ, &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-SQS3"), Reason: jsii.String(reasonEventsDLQ)})
	suppress(ns.IngestRoute, &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-APIG4"), Reason: jsii.String(reasonIngestRoute)})
	suppress(ns.IngestSecret, &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-SMG4"), Reason: jsii.String(reasonIngestSecretRotation)})
	if ns.UserPool != nil {
		suppress(ns.UserPool, &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-COG8"), Reason: jsii.String(reasonPlusTier)})
	}
}

// suppress adds suppressions to one construct's CloudFormation resource
// (not to its children, so that each stays where it belongs).
func suppress(construct any, s ...*cdknag.NagPackSuppression) {
	cdknag.NagSuppressions_AddResourceSuppressions(construct, &s, jsii.Bool(false))
}
