package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Synthesizing starts a Node.js jsii kernel and takes seconds, so every
// test in this package shares the stacks built once in TestMain.
var (
	// full is the default deployment: Cognito user pool, alarm email,
	// custom domain, SES domain identity and configuration set, tracing on.
	full *synthesized
	// lean is an OIDC deployment: JWT issuer, existing SES identity, one
	// job source, an existing alarm topic, tracing off, nothing retained.
	lean *synthesized
)

// synthesized is a stack with its template and cdk-nag findings.
type synthesized struct {
	ns       *NotifyStack
	tmpl     assertions.Template
	json     map[string]any
	nagError []string
	nagWarn  []string
}

// TestMain builds the shared stacks. (The jsii kernel starts when the
// process does: `make test-infra` sets JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION
// in the environment to quiet its Node 20 banner.)
func TestMain(m *testing.M) {
	code, err := setup(m)
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "infra test setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "argo-notify-infra-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	if err := writeFakeBootstraps(dir); err != nil {
		return 0, err
	}
	fullCtx := map[string]any{
		CtxAssetDir:            dir,
		CtxStackName:           "ArgoNotifyTest",
		CtxEmailFrom:           "notify@example.com",
		CtxSESIdentity:         "example.com",
		CtxSESConfigurationSet: "argo-notify",
		CtxAlarmEmail:          "oncall@example.com",
		CtxDomainName:          "notify.example.com",
		CtxCertificateARN:      "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000",
		CtxSlackAPIURL:         "https://slack.example.com/api/",
		CtxTracing:             "true",
	}
	leanCtx := map[string]any{
		CtxAssetDir:       dir,
		CtxStackName:      "ArgoNotifyLean",
		CtxEmailFrom:      "notify@example.org",
		CtxSESIdentityARN: "arn:aws:ses:eu-west-1:123456789012:identity/example.org",
		CtxJWTIssuer:      "https://login.example.org/",
		CtxJWTAudience:    "argo-notify,argo-console",
		CtxTracing:        "false",
		CtxRetain:         false,
		CtxJobSources:     "batch",
		CtxAlarmTopicARN:  "arn:aws:sns:eu-west-1:123456789012:oncall",
	}
	if full, err = synth(fullCtx); err != nil {
		return 0, fmt.Errorf("full stack: %w", err)
	}
	if lean, err = synth(leanCtx); err != nil {
		return 0, fmt.Errorf("lean stack: %w", err)
	}
	return m.Run(), nil
}

// writeFakeBootstraps lays out the folder `make build` would write.
func writeFakeBootstraps(dir string) error {
	for _, fn := range []string{FnAPI, FnIngest, FnDispatcher} {
		if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// synth builds one app with one stack from the given context, applies the
// AwsSolutions checks and synthesizes it once.
func synth(ctx map[string]any) (s *synthesized, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synth panicked: %v", r)
		}
	}()
	app := awscdk.NewApp(&awscdk.AppProps{
		Context: &ctx,
		// Skipping the built-in CloudFormation validation saves seconds a
		// run; `make synth` still runs it.
		BuiltinCloudFormationValidation: jsii.Bool(false),
	})
	cfg, err := LoadConfig(func(k string) any { return app.Node().TryGetContext(jsii.String(k)) })
	if err != nil {
		return nil, err
	}
	ns, err := NewNotifyStack(app, cfg.StackName, &NotifyStackProps{
		StackProps: awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}},
		Config:     cfg,
	})
	if err != nil {
		return nil, err
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	tmpl := assertions.Template_FromStack(ns.Stack, &assertions.TemplateParsingOptions{SkipCyclicalDependenciesCheck: jsii.Bool(true)})
	s = &synthesized{ns: ns, tmpl: tmpl}
	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &s.json); err != nil {
		return nil, err
	}
	ann := assertions.Annotations_FromStack(ns.Stack)
	s.nagError = messages(ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))))
	s.nagWarn = messages(ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))))
	return s, nil
}

// messages renders cdk-nag findings as "path: message" lines.
func messages(found *[]*cxapi.SynthesisMessage) []string {
	var out []string
	if found == nil {
		return out
	}
	for _, m := range *found {
		out = append(out, fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
	}
	sort.Strings(out)
	return out
}
