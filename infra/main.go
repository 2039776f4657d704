// Command infra is the argo-notify CDK app: it reads the deployment
// configuration from CDK context, defines the NotifyStack and applies the
// cdk-nag AwsSolutions checks. Run it through the CDK CLI from the
// repository root (`make synth`, `make deploy`, or `cdk synth`), which
// reads ../cdk.json.
//
// This module is separate from the service's: nothing under pkg/ or
// functions/ imports it, and it imports only pkg/deploy of theirs (the
// environment variable names, the receive limit and the job-event patterns
// the functions share with the stack; standard library only, through a
// replace directive to ../), so the CDK never meets the service's
// dependencies.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

func main() {
	err := run()
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "argo-notify infra:", err)
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)
	cfg, err := LoadConfig(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err != nil {
		return err
	}
	if cfg.AssetDir, err = filepath.Abs(cfg.AssetDir); err != nil {
		return fmt.Errorf("asset dir: %w", err)
	}
	if _, err := NewNotifyStack(app, cfg.StackName, &NotifyStackProps{
		StackProps: awscdk.StackProps{
			Env:         stackEnv(cfg),
			Description: jsii.String("argo-notify: rule-based notifications for Argo and AWS job events"),
		},
		Config: cfg,
	}); err != nil {
		return err
	}
	// Tag everything for cost allocation and inventory.
	awscdk.Tags_Of(app).Add(jsii.String("app"), jsii.String("argo-notify"), nil)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	app.Synth(nil)
	return nil
}

// stackEnv pins the stack to the account and region from context, else to
// the CLI's defaults (CDK_DEFAULT_ACCOUNT/REGION, set when credentials are
// present); with neither the stack stays environment-agnostic.
func stackEnv(cfg Config) *awscdk.Environment {
	account, region := cfg.Account, cfg.Region
	if account == "" {
		account = os.Getenv("CDK_DEFAULT_ACCOUNT")
	}
	if region == "" {
		region = os.Getenv("CDK_DEFAULT_REGION")
	}
	if account == "" && region == "" {
		return nil
	}
	env := &awscdk.Environment{}
	if account != "" {
		env.Account = jsii.String(account)
	}
	if region != "" {
		env.Region = jsii.String(region)
	}
	return env
}
