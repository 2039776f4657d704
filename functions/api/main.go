// Command api is the api Lambda function: the admin REST API behind API
// Gateway HTTP API (payload format 2.0).
//
// Wiring only: apifn.Main reads the configuration (the ARGO_NOTIFY_*
// environment variables; AWS endpoints and credentials from the SDK's own),
// builds the handler once, outside the invocations, and serves them.
package main

import "github.com/argoproj-labs/argo-notify/pkg/awslambda/apifn"

func main() { apifn.Main() }
