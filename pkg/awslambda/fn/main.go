package fn

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Build makes a function's handler once, outside the invocations, from
// the SDK's configuration (to build the clients the function calls), the
// configuration and the options, and returns what lambda.Start takes (e.g.
// the Handle method of an *apifn.API).
type Build func(aws.Config, Config, Options) (handler any, err error)

// Main is the whole main of a Lambda function named name: a JSON logger on
// stdout, the configuration from the ARGO_NOTIFY_* environment variables,
// the SDK's configuration (endpoints and credentials) from its own, the
// handler built once, then lambda.Start. A failure to start is logged and
// exits 1.
func Main(name string, build Build) {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	h, err := start(context.Background(), logger, build)
	if err != nil {
		logger.Error(name+": start", "err", err.Error())
		os.Exit(1)
	}
	lambda.Start(h)
}

func start(ctx context.Context, logger *slog.Logger, build Build) (any, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return build(awsCfg, ConfigFromEnv(os.Getenv), Options{Logger: logger})
}
