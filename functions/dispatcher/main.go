// Command dispatcher is the dispatcher Lambda function: SQS batches of
// events, matched and delivered by email and Slack, with partial batch
// failures.
//
// Wiring only: dispatcherfn.Main reads the configuration (the ARGO_NOTIFY_*
// environment variables; AWS endpoints and credentials from the SDK's own),
// builds the handler once, outside the invocations, and serves them.
package main

import "github.com/argoproj-labs/argo-notify/pkg/awslambda/dispatcherfn"

func main() { dispatcherfn.Main() }
