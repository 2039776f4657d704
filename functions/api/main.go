// Command api is the api Lambda function: the admin REST API behind API Gateway HTTP API (payload format 2.0). Configuration
// comes from the ARGO_NOTIFY_* environment variables (see pkg/awslambda);
// AWS endpoints and credentials from the SDK's own.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/argoproj-labs/argo-notify/pkg/awslambda"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		logger.Error("api: load AWS configuration", "err", err.Error())
		os.Exit(1)
	}
	h, err := awslambda.NewAPI(awslambda.ConfigFromEnv(os.Getenv), awslambda.NewClients(awsCfg), awslambda.Options{Logger: logger})
	if err != nil {
		logger.Error("api: start", "err", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
