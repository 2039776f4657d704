// Command ingest is the ingest Lambda function: signed events from API
// Gateway and job state changes from EventBridge, onto SQS.
//
// Wiring only, in the shape of every functions/*/main.go: main builds the
// logger and reports what run returns; run reads the configuration (the
// ARGO_NOTIFY_* environment variables, see pkg/awslambda; AWS endpoints and
// credentials from the SDK's own), builds the handler once, outside the
// invocations, and serves them.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/argoproj-labs/argo-notify/pkg/awslambda"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	if err := run(context.Background(), logger); err != nil {
		logger.Error("ingest: start", "err", err.Error())
		os.Exit(1)
	}
}

func run(ctx context.Context, logger *slog.Logger) error {
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	h, err := awslambda.NewIngest(awslambda.ConfigFromEnv(os.Getenv), awslambda.NewClients(awsCfg), awslambda.Options{Logger: logger})
	if err != nil {
		return err
	}
	lambda.Start(h.Handle)
	return nil
}
