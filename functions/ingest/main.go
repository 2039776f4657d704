// Command ingest is the ingest Lambda function: signed events from API
// Gateway and job state changes from EventBridge, onto SQS.
//
// Wiring only: ingestfn.Main reads the configuration (the ARGO_NOTIFY_*
// environment variables; AWS endpoints and credentials from the SDK's own),
// builds the handler once, outside the invocations, and serves them.
package main

import "github.com/argoproj-labs/argo-notify/pkg/awslambda/ingestfn"

func main() { ingestfn.Main() }
