package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
)

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
func NewNotifyStack(scope constructs.Construct, id string, props *NotifyStackProps) (*NotifyStack, error) {
	cfg := props.Config
	if err := CheckAssets(cfg.AssetDir); err != nil {
		return nil, err
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	ns := &NotifyStack{Stack: stack, Functions: map[string]awslambda.Function{}}

	removal := awscdk.RemovalPolicy_DESTROY
	if cfg.Retain {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	retention, err := retentionEnum(cfg.LogRetentionDays)
	if err != nil {
		return nil, err
	}
	stackName := *stack.StackName()
	// secretPrefix scopes the secrets the api writes (SMTP password, Slack
	// token); the ingest secret lives outside it so that neither the api
	// nor the dispatcher can read or delete it.
	secretPrefix := fmt.Sprintf("argo-notify/%s/integrations/", stackName)
	secretPrefixARN := stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("secretsmanager"),
		Resource:     jsii.String("secret"),
		ResourceName: jsii.String(secretPrefix + "*"),
		ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
	})

	// --- data -------------------------------------------------------------
	ns.Table = awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String("sk"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		TimeToLiveAttribute: jsii.String("ttl"),
		DeletionProtection:  jsii.Bool(cfg.Retain),
		RemovalPolicy:       removal,
	})
	ns.Table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String("gsi1"),
		PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String("gsi1pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:        &awsdynamodb.Attribute{Name: jsii.String("gsi1sk"), Type: awsdynamodb.AttributeType_STRING},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})

	// --- queues -----------------------------------------------------------
	// Dead letters are failed events an admin may still redrive: they
	// follow the data's removal policy.
	ns.DeadLetter = awssqs.NewQueue(stack, jsii.String("DeadLetterQueue"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		RemovalPolicy:   removal,
	})
	ns.Queue = awssqs.NewQueue(stack, jsii.String("Queue"), &awssqs.QueueProps{
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(queueVisibilitySeconds)),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           ns.DeadLetter,
			MaxReceiveCount: jsii.Number(deploy.MaxReceiveCount),
		},
	})
	// EventsDLQ holds job events EventBridge could not deliver to ingest,
	// and those ingest failed on after Lambda's asynchronous retries.
	ns.EventsDLQ = awssqs.NewQueue(stack, jsii.String("EventsDeadLetterQueue"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		RemovalPolicy:   removal,
	})

	// --- secrets ----------------------------------------------------------
	ingestSecret := awssecretsmanager.NewSecret(stack, jsii.String("IngestSecret"), &awssecretsmanager.SecretProps{
		SecretName:  jsii.String(fmt.Sprintf("argo-notify/%s/ingest-hmac", stackName)),
		Description: jsii.String("HMAC-SHA256 key that signs POST /v1/events (X-Argo-Signature)"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(64),
			ExcludePunctuation: jsii.Bool(true),
		},
		RemovalPolicy: removal,
	})

	// --- SES ----------------------------------------------------------------
	sesResources := []*string{}
	var identity awsses.EmailIdentity
	if cfg.SESIdentityARN != "" {
		sesResources = append(sesResources, jsii.String(cfg.SESIdentityARN))
	} else {
		idn := awsses.Identity_Email(jsii.String(cfg.SESIdentity))
		if !strings.Contains(cfg.SESIdentity, "@") {
			idn = awsses.Identity_Domain(jsii.String(cfg.SESIdentity))
		}
		identity = awsses.NewEmailIdentity(stack, jsii.String("EmailIdentity"), &awsses.EmailIdentityProps{Identity: idn})
		sesResources = append(sesResources, stack.FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("ses"),
			Resource:     jsii.String("identity"),
			ResourceName: identity.EmailIdentityName(),
		}))
	}
	if cfg.SESConfigurationSet != "" {
		sesResources = append(sesResources, stack.FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("ses"),
			Resource:     jsii.String("configuration-set"),
			ResourceName: jsii.String(cfg.SESConfigurationSet),
		}))
	}

	// --- functions --------------------------------------------------------
	env := map[string]*string{
		deploy.EnvTable:           ns.Table.TableName(),
		deploy.EnvQueueURL:        ns.Queue.QueueUrl(),
		deploy.EnvDLQURL:          ns.DeadLetter.QueueUrl(),
		deploy.EnvEmailFrom:       jsii.String(cfg.EmailFrom),
		deploy.EnvSecretPrefix:    jsii.String(secretPrefix),
		deploy.EnvIngestSecretARN: ingestSecret.SecretArn(),
	}
	if cfg.SESConfigurationSet != "" {
		env[deploy.EnvSESConfigurationSet] = jsii.String(cfg.SESConfigurationSet)
	}
	if cfg.SlackAPIURL != "" {
		env[deploy.EnvSlackAPIURL] = jsii.String(cfg.SlackAPIURL)
	}
	fnSpec := []struct {
		name    string
		desc    string
		timeout float64
		memory  float64
	}{
		{FnAPI, "argo-notify admin API (HTTP API, JWT)", 15, 256},
		{FnIngest, "argo-notify ingest: HMAC-signed events and EventBridge job events to SQS", 10, 128},
		{FnDispatcher, "argo-notify dispatcher: SQS batches to email and Slack", dispatcherTimeoutSeconds, 256},
	}
	tracing := awslambda.Tracing_DISABLED
	if cfg.Tracing {
		tracing = awslambda.Tracing_ACTIVE
	}
	for _, s := range fnSpec {
		logs := awslogs.NewLogGroup(stack, jsii.String(title(s.name)+"Logs"), &awslogs.LogGroupProps{
			Retention:     retention,
			RemovalPolicy: removal,
		})
		// An explicit role instead of the default one: the default attaches
		// the AWSLambdaBasicExecutionRole managed policy (logs on *).
		role := awsiam.NewRole(stack, jsii.String(title(s.name)+"Role"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("argo-notify " + s.name + " function"),
		})
		logs.GrantWrite(role)
		fn := awslambda.NewFunction(stack, jsii.String(title(s.name)), &awslambda.FunctionProps{
			Description:           jsii.String(s.desc),
			Runtime:               awslambda.Runtime_PROVIDED_AL2023(),
			Architecture:          awslambda.Architecture_ARM_64(),
			Handler:               jsii.String("bootstrap"),
			Code:                  awslambda.Code_FromAsset(jsii.String(filepath.Join(cfg.AssetDir, s.name)), nil),
			Timeout:               awscdk.Duration_Seconds(jsii.Number(s.timeout)),
			MemorySize:            jsii.Number(s.memory),
			Role:                  role,
			LogGroup:              logs,
			LoggingFormat:         awslambda.LoggingFormat_JSON,
			ApplicationLogLevelV2: awslambda.ApplicationLogLevel_INFO,
			SystemLogLevelV2:      awslambda.SystemLogLevel_WARN,
			Tracing:               tracing,
			Environment:           &env,
		})
		ns.Functions[s.name] = fn
	}
	api, ingest, dispatcher := ns.Functions[FnAPI], ns.Functions[FnIngest], ns.Functions[FnDispatcher]

	// --- grants (least privilege) -------------------------------------------
	tableResources := []*string{
		ns.Table.TableArn(),
		awscdk.Fn_Join(jsii.String(""), &[]*string{ns.Table.TableArn(), jsii.String("/index/gsi1")}),
	}
	for _, fn := range []awslambda.Function{api, dispatcher} {
		grant(fn, "TableReadWrite", tableActions, tableResources...)
	}
	ns.Queue.GrantSendMessages(ingest)
	ns.Queue.GrantSendMessages(api)         // redrive from the DLQ
	ns.DeadLetter.GrantConsumeMessages(api) // list and delete dead letters
	grant(ingest, "IngestSecretRead", []string{"secretsmanager:GetSecretValue"}, ingestSecret.SecretArn())
	grant(api, "IntegrationSecretsWrite", []string{
		"secretsmanager:CreateSecret",
		"secretsmanager:PutSecretValue",
		"secretsmanager:GetSecretValue",
		"secretsmanager:DeleteSecret",
		"secretsmanager:RestoreSecret", // re-connecting within the deletion window
	}, secretPrefixARN)
	grant(dispatcher, "IntegrationSecretsRead", []string{"secretsmanager:GetSecretValue"}, secretPrefixARN)
	grant(dispatcher, "SendEmail", []string{"ses:SendEmail", "ses:SendRawEmail"}, sesResources...)
	// EventBridge invokes ingest asynchronously: a failure after Lambda's
	// retries lands in the events DLQ instead of being dropped.
	ingest.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		OnFailure:     awslambdadestinations.NewSqsDestination(ns.EventsDLQ),
		RetryAttempts: jsii.Number(2),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(6)),
	})
	dispatcher.AddEventSource(awslambdaeventsources.NewSqsEventSource(ns.Queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(dispatcherBatchSize),
		ReportBatchItemFailures: jsii.Bool(true),
	}))

	// --- HTTP API -----------------------------------------------------------
	ns.API = awsapigatewayv2.NewHttpApi(stack, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String(stackName),
		Description:        jsii.String("argo-notify: admin API (JWT) and event ingest (HMAC)"),
		CreateDefaultStage: jsii.Bool(false),
	})
	accessLogs := awslogs.NewLogGroup(stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: removal,
	})
	stageOpts := &awsapigatewayv2.HttpStageProps{
		HttpApi:    ns.API,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(cfg.APIRateLimit),
			BurstLimit: jsii.Number(cfg.APIBurstLimit),
		},
	}
	var domain awsapigatewayv2.DomainName
	if cfg.DomainName != "" {
		domain = awsapigatewayv2.NewDomainName(stack, jsii.String("DomainName"), &awsapigatewayv2.DomainNameProps{
			DomainName:  jsii.String(cfg.DomainName),
			Certificate: awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("Certificate"), jsii.String(cfg.CertificateARN)),
		})
		stageOpts.DomainMapping = &awsapigatewayv2.DomainMappingOptions{DomainName: domain}
	}
	stage := awsapigatewayv2.NewHttpStage(stack, jsii.String("DefaultStage"), stageOpts)
	cfnStage := stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
	cfnStage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(accessLogFormat),
	})

	var authorizer awsapigatewayv2.IHttpRouteAuthorizer
	var pool awscognito.UserPool
	var poolClient awscognito.UserPoolClient
	if cfg.JWTIssuer != "" {
		authorizer = awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("AdminJwt"), jsii.String(cfg.JWTIssuer),
			&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{JwtAudience: jsii.Strings(cfg.JWTAudience...)})
	} else {
		pool, poolClient = newAdminUserPool(stack, cfg, removal)
		authorizer = awsapigatewayv2authorizers.NewHttpUserPoolAuthorizer(jsii.String("AdminUserPool"), pool,
			&awsapigatewayv2authorizers.HttpUserPoolAuthorizerProps{UserPoolClients: &[]awscognito.IUserPoolClient{poolClient}})
	}
	apiIntegration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("ApiIntegration"), api, nil)
	ingestIntegration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("IngestIntegration"), ingest, nil)
	// Every admin route sits under /v1 behind the authorizer; the one
	// unauthenticated route is ingest, which checks its HMAC signature.
	for _, path := range []string{"/v1", "/v1/{proxy+}"} {
		ns.API.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_ANY},
			Integration: apiIntegration,
			Authorizer:  authorizer,
		})
	}
	ingestRoutes := ns.API.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path:        jsii.String("/v1/events"),
		Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_POST},
		Integration: ingestIntegration,
	})

	// --- EventBridge ----------------------------------------------------------
	ns.Bus = awsevents.NewEventBus(stack, jsii.String("EventBus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(cfg.EventBusName),
		Description:  jsii.String("Argo events for argo-notify (source \"argo\", detail = an Argo event)"),
	})
	target := func() awsevents.IRuleTarget {
		return awseventstargets.NewLambdaFunction(ingest, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: ns.EventsDLQ,
			RetryAttempts:   jsii.Number(eventTargetRetries),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(6)),
		})
	}
	awsevents.NewRule(stack, jsii.String("ArgoEventsRule"), &awsevents.RuleProps{
		Description:  jsii.String("Argo events on the custom bus to ingest"),
		EventBus:     ns.Bus,
		EventPattern: &awsevents.EventPattern{Source: jsii.Strings(deploy.SourceArgo)},
		Targets:      &[]awsevents.IRuleTarget{target()},
	})
	for _, src := range cfg.JobSources {
		js := jobSourcePatterns[src]
		p := js.pattern
		awsevents.NewRule(stack, jsii.String(js.id+"Rule"), &awsevents.RuleProps{
			Description: jsii.String(p.DetailType + " (terminal states only) to ingest"),
			EventPattern: &awsevents.EventPattern{
				Source:     jsii.Strings(p.Source),
				DetailType: jsii.Strings(p.DetailType),
				Detail:     &map[string]any{p.StatusField: p.Terminal},
			},
			Targets: &[]awsevents.IRuleTarget{target()},
		})
	}

	// --- alarms ---------------------------------------------------------------
	var alarmAction awscloudwatch.IAlarmAction
	switch {
	case cfg.AlarmTopicARN != "":
		alarmAction = awscloudwatchactions.NewSnsAction(awssns.Topic_FromTopicArn(stack, jsii.String("AlarmTopic"), jsii.String(cfg.AlarmTopicARN)))
	case cfg.AlarmEmail != "":
		key := awskms.NewKey(stack, jsii.String("AlarmTopicKey"), &awskms.KeyProps{
			Description:       jsii.String("argo-notify alarm topic encryption"),
			EnableKeyRotation: jsii.Bool(true),
			RemovalPolicy:     removal,
		})
		// CloudWatch publishes to the encrypted topic with this key.
		key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("CloudWatchAlarms"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
			Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
			Resources:  jsii.Strings("*"),
		}), nil)
		topic := awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
			DisplayName: jsii.String("argo-notify alarms"),
			MasterKey:   key,
			EnforceSSL:  jsii.Bool(true),
		})
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), nil))
		alarmAction = awscloudwatchactions.NewSnsAction(topic)
	}
	alarms := []awscloudwatch.Alarm{
		awscloudwatch.NewAlarm(stack, jsii.String("DeadLetterAlarm"), &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String("argo-notify: events failed 5 times and are parked in the dead-letter queue (GET /v1/dead-letters)"),
			Metric: ns.DeadLetter.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
				Period:    awscdk.Duration_Minutes(jsii.Number(1)),
				Statistic: jsii.String("Maximum"),
			}),
			Threshold:          jsii.Number(0),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		}),
		awscloudwatch.NewAlarm(stack, jsii.String("EventsDeadLetterAlarm"), &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String("argo-notify: EventBridge could not deliver job events to ingest"),
			Metric: ns.EventsDLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
				Period:    awscdk.Duration_Minutes(jsii.Number(1)),
				Statistic: jsii.String("Maximum"),
			}),
			Threshold:          jsii.Number(0),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		}),
		awscloudwatch.NewAlarm(stack, jsii.String("OldestMessageAlarm"), &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String("argo-notify: events wait too long in the queue (dispatcher failing or throttled)"),
			Metric: ns.Queue.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{
				Period:    awscdk.Duration_Minutes(jsii.Number(5)),
				Statistic: jsii.String("Maximum"),
			}),
			Threshold:          jsii.Number(cfg.OldestMessageAlarmSeconds),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		}),
	}
	if alarmAction != nil {
		for _, a := range alarms {
			a.AddAlarmAction(alarmAction)
		}
	}

	// --- outputs ----------------------------------------------------------------
	out := func(id, desc string, value *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(desc)})
	}
	out("ApiUrl", "Admin API base URL (append v1/...; JWT required)", stage.Url())
	out("IngestUrl", "POST signed Argo events here", awscdk.Fn_Join(jsii.String(""), &[]*string{stage.Url(), jsii.String("v1/events")}))
	out("EventBusArn", "Custom EventBridge bus for Argo events (source \"argo\")", ns.Bus.EventBusArn())
	out("EventBusName", "Custom EventBridge bus name", ns.Bus.EventBusName())
	out("IngestSecretArn", "HMAC key for X-Argo-Signature: aws secretsmanager get-secret-value --secret-id <arn> --query SecretString --output text", ingestSecret.SecretArn())
	out("TableName", "DynamoDB table", ns.Table.TableName())
	out("QueueUrl", "Event queue", ns.Queue.QueueUrl())
	out("DeadLetterQueueUrl", "Dead-letter queue (events that failed 5 times)", ns.DeadLetter.QueueUrl())
	if pool != nil {
		out("UserPoolId", "Cognito user pool for admins (create users with aws cognito-idp admin-create-user)", pool.UserPoolId())
		out("UserPoolClientId", "Cognito app client id (the JWT audience)", poolClient.UserPoolClientId())
	}
	if domain != nil {
		out("CustomDomainTarget", "Point a CNAME (or alias) for the custom domain at this name", domain.RegionalDomainName())
	}
	if identity != nil && !strings.Contains(cfg.SESIdentity, "@") {
		for i, rec := range []struct{ name, value *string }{
			{identity.DkimDnsTokenName1(), identity.DkimDnsTokenValue1()},
			{identity.DkimDnsTokenName2(), identity.DkimDnsTokenValue2()},
			{identity.DkimDnsTokenName3(), identity.DkimDnsTokenValue3()},
		} {
			out(fmt.Sprintf("DkimCname%d", i+1), "SES DKIM: CNAME <name> -> <value>", awscdk.Fn_Join(jsii.String(" -> "), &[]*string{rec.name, rec.value}))
		}
	}

	ns.IngestSecret, ns.IngestRoute, ns.UserPool = ingestSecret, (*ingestRoutes)[0], pool
	addSuppressions(ns, cfg)
	return ns, nil
}

// tableActions are the DynamoDB calls pkg/store/dynamo makes (its API
// interface); TransactWriteItems is authorized per item, as PutItem and
// DeleteItem.
var tableActions = []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"}

// grant adds one statement, named sid, of actions on resources to fn's role.
func grant(fn awslambda.Function, sid string, actions []string, resources ...*string) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	}))
}

// accessLogFormat is the HTTP API access log line (JSON, one per request).
const accessLogFormat = `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",` +
	`"requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","routeKey":"$context.routeKey",` +
	`"status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength",` +
	`"integrationLatency":"$context.integrationLatency","integrationError":"$context.integrationErrorMessage",` +
	`"authorizerError":"$context.authorizer.error","sub":"$context.authorizer.claims.sub"}`

// jobSource is one AWS job service the stack routes to ingest: the
// construct id of its rule and its pattern, which pkg/deploy shares with
// ingest.
type jobSource struct {
	id      string
	pattern deploy.JobSource
}

// jobSourcePatterns filter to terminal states so that non-terminal changes
// never invoke ingest.
var jobSourcePatterns = map[string]jobSource{
	JobSourceBatch:     {"BatchJob", deploy.Batch},
	JobSourceStates:    {"StepFunctionsExecution", deploy.States},
	JobSourceCodeBuild: {"CodeBuildBuild", deploy.CodeBuild},
	JobSourceECS:       {"EcsTask", deploy.ECS},
}

// newAdminUserPool creates the Cognito user pool (admins only, MFA
// required) and the app client whose id is the JWT audience.
func newAdminUserPool(stack awscdk.Stack, cfg Config, removal awscdk.RemovalPolicy) (awscognito.UserPool, awscognito.UserPoolClient) {
	pool := awscognito.NewUserPool(stack, jsii.String("AdminUserPool"), &awscognito.UserPoolProps{
		SelfSignUpEnabled: jsii.Bool(false),
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		Mfa:               awscognito.Mfa_REQUIRED,
		MfaSecondFactor:   &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength:        jsii.Number(12),
			RequireLowercase: jsii.Bool(true),
			RequireUppercase: jsii.Bool(true),
			RequireDigits:    jsii.Bool(true),
			RequireSymbols:   jsii.Bool(true),
		},
		AccountRecovery:    awscognito.AccountRecovery_EMAIL_ONLY,
		DeletionProtection: jsii.Bool(cfg.Retain),
		RemovalPolicy:      removal,
	})
	client := pool.AddClient(jsii.String("AdminClient"), &awscognito.UserPoolClientOptions{
		GenerateSecret:             jsii.Bool(false),
		AuthFlows:                  &awscognito.AuthFlow{UserSrp: jsii.Bool(true), UserPassword: jsii.Bool(true)},
		AccessTokenValidity:        awscdk.Duration_Hours(jsii.Number(1)),
		IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
		PreventUserExistenceErrors: jsii.Bool(true),
	})
	return pool, client
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
