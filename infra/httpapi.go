package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
)

// httpAPI creates the HTTP API: its throttled, access-logged default stage
// (on a custom domain if configured), the admin routes behind the JWT
// authorizer, POST /v1/events, which ingest checks by its HMAC signature,
// and the admin console's public routes (GET / and GET /{proxy+}: static
// assets and /console-config.json, served by the api function).
func (b *builder) httpAPI() {
	ns, cfg, stack := b.ns, b.cfg, b.stack
	ns.API = awsapigatewayv2.NewHttpApi(stack, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String(b.stackName()),
		Description:        jsii.String("argo-notify: admin API (JWT) and event ingest (HMAC)"),
		CreateDefaultStage: jsii.Bool(false),
	})
	accessLogs := awslogs.NewLogGroup(stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     b.retention,
		RemovalPolicy: b.removal,
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
	if cfg.DomainName != "" {
		b.domain = awsapigatewayv2.NewDomainName(stack, jsii.String("DomainName"), &awsapigatewayv2.DomainNameProps{
			DomainName:  jsii.String(cfg.DomainName),
			Certificate: awscertificatemanager.Certificate_FromCertificateArn(stack, jsii.String("Certificate"), jsii.String(cfg.CertificateARN)),
		})
		stageOpts.DomainMapping = &awsapigatewayv2.DomainMappingOptions{DomainName: b.domain}
	}
	b.stage = awsapigatewayv2.NewHttpStage(stack, jsii.String("DefaultStage"), stageOpts)
	cfnStage := b.stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
	cfnStage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(accessLogFormat),
	})

	authorizer := b.authorizer(b.consoleURL())
	apiIntegration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("ApiIntegration"), ns.Functions[FnAPI], nil)
	ingestIntegration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("IngestIntegration"), ns.Functions[FnIngest], nil)
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
	ns.IngestRoute = (*ingestRoutes)[0]
	// The console: public assets, no authorizer; every data call it makes
	// goes to /v1, behind the authorizer. API Gateway picks the most
	// specific route, so /v1/... never reaches GET /{proxy+}.
	for _, path := range deploy.ConsoleRoutePaths {
		routes := ns.API.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET},
			Integration: apiIntegration,
		})
		for _, r := range *routes {
			suppress(r, &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-APIG4"), Reason: jsii.String(reasonConsoleRoutes)})
		}
	}
	// SCIM: identity providers push users and groups with a bearer token of
	// their own, which pkg/scim checks (in constant time, against a hash);
	// no JWT authorizer. The function serves requests that came by this
	// route with SCIM alone. Throttled apart from the stage's limits.
	scimRoutes := ns.API.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path:        jsii.String(deploy.SCIMRoutePath),
		Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_ANY},
		Integration: apiIntegration,
	})
	for _, r := range *scimRoutes {
		suppress(r, &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-APIG4"), Reason: jsii.String(reasonSCIMRoute)})
	}
	cfnStage.SetRouteSettings(map[string]any{
		"ANY " + deploy.SCIMRoutePath: map[string]any{"ThrottlingRateLimit": scimRateLimit, "ThrottlingBurstLimit": scimBurstLimit},
	})
}

// The SCIM route's throttle: identity providers push in bursts at sign-up
// of many users, then trickle.
const (
	scimRateLimit  = 20
	scimBurstLimit = 50
)

// reasonSCIMRoute is why the SCIM route carries no authorizer.
const reasonSCIMRoute = "ANY /scim/v2/{proxy+} is the SCIM 2.0 endpoint identity providers (Okta, Entra ID) call with " +
	"a SCIM bearer token of their own, checked by the api function in constant time against a stored hash; the " +
	"function serves requests that came by this route with SCIM alone, never the admin API."

// reasonConsoleRoutes is why the console's routes carry no authorizer.
const reasonConsoleRoutes = "GET / and GET /{proxy+} serve the admin console's static assets (embedded in the api " +
	"function) and /console-config.json (the OIDC issuer and public client id, no secret): a browser must load them " +
	"before it can sign in. Every data call the console makes goes to /v1/..., which keeps the JWT authorizer."

// consoleURL is where administrators open the console, and the OAuth
// callback and sign-out URL the Cognito app client registers: the custom
// domain's root, or else the HTTP API's default endpoint.
func (b *builder) consoleURL() *string {
	if b.cfg.DomainName != "" {
		return jsii.String("https://" + b.cfg.DomainName + "/")
	}
	return b.stage.Url()
}

// accessLogFormat is the HTTP API access log line (JSON, one per request).
const accessLogFormat = `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",` +
	`"requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","routeKey":"$context.routeKey",` +
	`"status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength",` +
	`"integrationLatency":"$context.integrationLatency","responseLatency":"$context.responseLatency",` +
	`"integrationError":"$context.integrationErrorMessage","errorMessage":"$context.error.message",` +
	`"authorizerError":"$context.authorizer.error","sub":"$context.authorizer.claims.sub"}`
