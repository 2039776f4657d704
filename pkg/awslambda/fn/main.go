package fn

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Build makes a function's handler once, outside the invocations, from
// the SDK's configuration (to build the clients the function calls), the
// configuration and the options, and returns what lambda.Start takes (e.g.
// the Handle method of an *apifn.API).
type Build func(aws.Config, Config, Options) (handler any, err error)

// Main is the whole main of a Lambda function named name: a JSON logger on
// stdout, the configuration from the ARGO_NOTIFY_* environment variables,
// the SDK's configuration (credentials, region, endpoint) as the Lambda
// runtime sets it (LambdaAWSConfig), the handler built once, then
// lambda.Start. A failure to start is logged and exits 1.
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
	awsCfg, err := LambdaAWSConfig(os.Getenv)
	if err != nil {
		return nil, err
	}
	return build(awsCfg, ConfigFromEnv(os.Getenv), Options{Logger: logger})
}

// LambdaAWSConfig is the SDK's configuration as the Lambda runtime gives
// it, read from the environment through getenv: the execution role's
// credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN), the region (AWS_REGION, else AWS_DEFAULT_REGION) and,
// for emulators, AWS_ENDPOINT_URL; retries and HTTP are the SDK's defaults.
//
// It stands in for config.LoadDefaultConfig, which resolves shared
// config files, SSO, web identity, container and instance credentials
// too, none of which a Lambda function uses, and links the STS, SSO,
// SSO-OIDC and sign-in clients to do it: 1.6 MB of every binary and
// 0.55 ms of every cold start's package init (measured). What it does
// not read: AWS_ENDPOINT_URL_<SERVICE>, AWS_MAX_ATTEMPTS,
// AWS_RETRY_MODE, AWS_CA_BUNDLE, AWS_PROFILE. A missing credential or
// region is an error that says so.
func LambdaAWSConfig(getenv func(string) string) (aws.Config, error) {
	key, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if key == "" || secret == "" {
		return aws.Config{}, errors.New("load AWS configuration: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set " +
			"(the Lambda runtime sets them from the execution role; this function reads no other credential source)")
	}
	region := cmp.Or(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
	if region == "" {
		return aws.Config{}, errors.New("load AWS configuration: AWS_REGION is not set (the Lambda runtime sets it)")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(key, secret, getenv("AWS_SESSION_TOKEN"))),
	}
	if u := getenv("AWS_ENDPOINT_URL"); u != "" {
		cfg.BaseEndpoint = aws.String(u)
	}
	return cfg, nil
}
