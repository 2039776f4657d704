// Command ingest is the ingest Lambda function: signed events from API
// Gateway and job state changes from EventBridge, onto SQS.
//
// Wiring only: awslambda.Main reads the configuration (the ARGO_NOTIFY_*
// environment variables; AWS endpoints and credentials from the SDK's own),
// builds the handler once, outside the invocations, and serves them.
package main

import "github.com/argoproj-labs/argo-notify/pkg/awslambda"

func main() {
	awslambda.Main("ingest", func(cfg awslambda.Config, c awslambda.Clients, o awslambda.Options) (any, error) {
		h, err := awslambda.NewIngest(cfg, c, o)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
