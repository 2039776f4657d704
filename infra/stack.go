package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
)

// metricNamespace is the namespace of the dispatcher's embedded metrics in
// this stack.
func (b *builder) metricNamespace() string {
	return deploy.DefaultMetricNamespace + "/" + b.stackName()
}

// Function names: each is a folder under Config.AssetDir holding the
// `bootstrap` binary that `make build` writes.
const (
	FnAPI        = "api"
	FnIngest     = "ingest"
	FnDispatcher = "dispatcher"
)

// Sizing of the functions and of the queue that feeds the dispatcher.
const (
	dispatcherTimeoutSeconds = 30
	// queueVisibilitySeconds is 6× the dispatcher's timeout, as AWS
	// recommends for SQS event sources.
	queueVisibilitySeconds = 6 * dispatcherTimeoutSeconds
	dispatcherBatchSize    = 10
	eventTargetRetries     = 8
)

// NotifyStackProps configures NewNotifyStack.
type NotifyStackProps struct {
	awscdk.StackProps
	Config Config
}

// NotifyStack is the synthesized argo-notify stack and the constructs that
// tests and callers may want to inspect.
type NotifyStack struct {
	awscdk.Stack
	Table      awsdynamodb.Table
	Queue      awssqs.Queue
	DeadLetter awssqs.Queue
	EventsDLQ  awssqs.Queue
	Functions  map[string]awslambda.Function
	API        awsapigatewayv2.HttpApi
	Bus        awsevents.EventBus
	// IngestSecret is the generated HMAC key for POST /v1/events.
	IngestSecret awssecretsmanager.Secret
	// IngestRoute is the one route without JWT authorization.
	IngestRoute awsapigatewayv2.HttpRoute
	// UserPool is the admins' Cognito user pool; nil with a JWT issuer.
	UserPool awscognito.UserPool
	// Dashboard shows every alarm of the stack.
	Dashboard awscloudwatch.Dashboard
}

// CheckAssets reports an error unless every function's bootstrap binary is
// in assetDir.
func CheckAssets(assetDir string) error {
	var missing []string
	for _, fn := range []string{FnAPI, FnIngest, FnDispatcher} {
		p := filepath.Join(assetDir, fn, "bootstrap")
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing Lambda binaries (%s): run `make build` first, or point -c %s=<dir> at the folder holding {api,ingest,dispatcher}/bootstrap",
			strings.Join(missing, ", "), CtxAssetDir)
	}
	return nil
}

// NewNotifyStack defines the argo-notify stack: DynamoDB table, SQS queue
// and dead-letter queue, the api, ingest and dispatcher functions, the HTTP
// API, EventBridge bus and rules, secrets, SES grants and alarms. It fails
// when the Lambda binaries are missing.
//
// Each part is one builder, in its own file; the order of the calls is the
// order of the constructs (and of the statements in each role's policy) in
// the template.
func NewNotifyStack(scope constructs.Construct, id string, props *NotifyStackProps) (*NotifyStack, error) {
	cfg := props.Config
	if err := CheckAssets(cfg.AssetDir); err != nil {
		return nil, err
	}
	retention, err := retentionEnum(cfg.LogRetentionDays)
	if err != nil {
		return nil, err
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	ns := &NotifyStack{Stack: stack, Functions: map[string]awslambda.Function{}}
	b := &builder{stack: stack, cfg: cfg, removal: awscdk.RemovalPolicy_DESTROY, retention: retention, ns: ns}
	if cfg.Retain {
		b.removal = awscdk.RemovalPolicy_RETAIN
	}

	b.table()
	b.queues()
	b.ingestSecret()
	b.ses()
	b.functions()
	b.grants()
	b.httpAPI()
	b.eventBridge()
	b.alarms()
	b.outputs()

	addSuppressions(ns, cfg)
	return ns, nil
}

// builder carries what the parts of the stack share while NewNotifyStack
// builds them: each builder method adds one part and records, in ns or in
// the builder, what later parts need.
type builder struct {
	stack     awscdk.Stack
	cfg       Config
	removal   awscdk.RemovalPolicy
	retention awslogs.RetentionDays
	ns        *NotifyStack

	sesResources  []*string            // ses: what the dispatcher may send from
	identity      awsses.EmailIdentity // ses: the identity created, if any
	configSetName *string              // ses: the configuration set sent with
	stage         awsapigatewayv2.HttpStage
	domain        awsapigatewayv2.DomainName
	poolClient    awscognito.UserPoolClient
}

// stackName is the CloudFormation stack name (a token when the stack name
// is not known at synthesis).
func (b *builder) stackName() string { return *b.stack.StackName() }

// secretPrefix scopes the secrets the api writes (SMTP password, Slack
// token); the ingest secret lives outside it so that neither the api nor
// the dispatcher can read or delete it.
func (b *builder) secretPrefix() string {
	return fmt.Sprintf("argo-notify/%s/integrations/", b.stackName())
}

// secretPrefixARN is the ARN pattern of the secrets under secretPrefix.
func (b *builder) secretPrefixARN() *string {
	return b.stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("secretsmanager"),
		Resource:     jsii.String("secret"),
		ResourceName: jsii.String(b.secretPrefix() + "*"),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})
}

// retentionEnum maps a number of days to the CDK's RetentionDays.
func retentionEnum(days int) (awslogs.RetentionDays, error) {
	m := map[int]awslogs.RetentionDays{
		1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
		7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
		60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
		150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
		400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
		1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
		2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
		3653: awslogs.RetentionDays_TEN_YEARS,
	}
	r, ok := m[days]
	if !ok {
		return "", errors.New("log retention: unsupported number of days")
	}
	return r, nil
}

// title upper-cases the first letter: "api" → "Api".
func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
