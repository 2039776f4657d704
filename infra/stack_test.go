package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// assert runs a CDK assertion, which panics on failure, and turns the panic
// into a test error so the remaining checks still run.
func assert(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// resources returns the template's resources of one type by logical id.
func (s *synthesized) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range s.json["Resources"].(map[string]any) {
		if r := r.(map[string]any); r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

// logicalID is the template id of a construct's CloudFormation resource.
func (s *synthesized) logicalID(c awscdk.IResource) string {
	el := c.Node().DefaultChild().(awscdk.CfnElement)
	return s.ns.Stack.Resolve(s.ns.Stack.GetLogicalId(el)).(string)
}

func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

// js renders a template fragment for comparisons and messages.
func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestResourceCounts(t *testing.T) {
	tests := []struct {
		typ        string
		full, lean float64
	}{
		{"AWS::DynamoDB::Table", 1, 1},
		{"AWS::SQS::Queue", 3, 3},
		{"AWS::Lambda::Function", 3, 3},
		{"AWS::Lambda::EventSourceMapping", 1, 1},
		{"AWS::Lambda::EventInvokeConfig", 1, 1},
		{"AWS::IAM::Role", 3, 3},
		{"AWS::Logs::LogGroup", 4, 4},
		{"AWS::ApiGatewayV2::Api", 1, 1},
		{"AWS::ApiGatewayV2::Stage", 1, 1},
		{"AWS::ApiGatewayV2::Route", 6, 6},
		{"AWS::Cognito::UserPoolDomain", 1, 0},
		{"AWS::ApiGatewayV2::Authorizer", 1, 1},
		{"AWS::ApiGatewayV2::DomainName", 1, 0},
		{"AWS::Events::EventBus", 1, 1},
		{"AWS::Events::Rule", 5, 2},
		{"AWS::SecretsManager::Secret", 1, 1},
		{"AWS::SES::EmailIdentity", 1, 0},
		{"AWS::Cognito::UserPool", 1, 0},
		{"AWS::CloudWatch::Alarm", 18, 18},
		{"AWS::CloudWatch::Dashboard", 1, 1},
		{"AWS::SES::ConfigurationSet", 0, 1},
		{"AWS::SES::ConfigurationSetEventDestination", 1, 1},
		{"AWS::SNS::Topic", 1, 0},
		{"AWS::KMS::Key", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			assert(t, "full", func() { full.tmpl.ResourceCountIs(jsii.String(tt.typ), jsii.Number(tt.full)) })
			assert(t, "lean", func() { lean.tmpl.ResourceCountIs(jsii.String(tt.typ), jsii.Number(tt.lean)) })
		})
	}
}

func TestTable(t *testing.T) {
	want := map[string]any{
		"BillingMode":                      "PAY_PER_REQUEST",
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
		"SSESpecification":                 map[string]any{"SSEEnabled": true},
		"TimeToLiveSpecification":          map[string]any{"AttributeName": "ttl", "Enabled": true},
		"KeySchema": []any{
			map[string]any{"AttributeName": "pk", "KeyType": "HASH"},
			map[string]any{"AttributeName": "sk", "KeyType": "RANGE"},
		},
		"GlobalSecondaryIndexes": []any{map[string]any{
			"IndexName": "gsi1",
			"KeySchema": []any{
				map[string]any{"AttributeName": "gsi1pk", "KeyType": "HASH"},
				map[string]any{"AttributeName": "gsi1sk", "KeyType": "RANGE"},
			},
			"Projection": map[string]any{"ProjectionType": "INCLUDE", "NonKeyAttributes": []any{"RuleIDs"}},
		}},
	}
	tests := []struct {
		name       string
		s          *synthesized
		protection bool
		policy     string
	}{
		{"retained by default", full, true, "Retain"},
		{"retain=false", lean, false, "Delete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert(t, "table properties", func() { tt.s.tmpl.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), want) })
			assert(t, "deletion protection", func() {
				tt.s.tmpl.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{
					"DeletionPolicy": tt.policy,
					"Properties":     map[string]any{"DeletionProtectionEnabled": tt.protection},
				})
			})
			for id, r := range tt.s.resources("AWS::DynamoDB::Table") {
				for _, a := range props(r)["AttributeDefinitions"].([]any) {
					if typ := a.(map[string]any)["AttributeType"]; typ != "S" {
						t.Errorf("%s: attribute %v has type %v, want S", id, a.(map[string]any)["AttributeName"], typ)
					}
				}
			}
		})
	}
}

func TestQueues(t *testing.T) {
	for _, s := range []*synthesized{full, lean} {
		queueID, dlqID, eventsDLQID := s.logicalID(s.ns.Queue), s.logicalID(s.ns.DeadLetter), s.logicalID(s.ns.EventsDLQ)
		queues := s.resources("AWS::SQS::Queue")
		t.Run(*s.ns.StackName()+"/encryption and TLS", func(t *testing.T) {
			for id, q := range queues {
				if props(q)["SqsManagedSseEnabled"] != true && props(q)["KmsMasterKeyId"] == nil {
					t.Errorf("queue %s is not encrypted: %s", id, js(props(q)))
				}
			}
			secure := map[string]bool{}
			for _, p := range s.resources("AWS::SQS::QueuePolicy") {
				for _, st := range props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
					st := st.(map[string]any)
					if st["Effect"] == "Deny" && strings.Contains(js(st["Condition"]), `"aws:SecureTransport":"false"`) {
						for _, q := range props(p)["Queues"].([]any) {
							secure[js(q)] = true
						}
					}
				}
			}
			for id := range queues {
				if !secure[js(map[string]any{"Ref": id})] {
					t.Errorf("queue %s accepts requests without TLS", id)
				}
			}
		})
		t.Run(*s.ns.StackName()+"/redrive", func(t *testing.T) {
			q := props(queues[queueID])
			wantRedrive := map[string]any{"deadLetterTargetArn": map[string]any{"Fn::GetAtt": []any{dlqID, "Arn"}}, "maxReceiveCount": float64(5)}
			if got := q["RedrivePolicy"]; js(got) != js(wantRedrive) {
				t.Errorf("queue RedrivePolicy = %s, want %s", js(got), js(wantRedrive))
			}
			dispatcher := props(s.resources("AWS::Lambda::Function")[s.logicalID(s.ns.Functions[FnDispatcher])])
			if vis, timeout := q["VisibilityTimeout"].(float64), dispatcher["Timeout"].(float64); vis < 6*timeout {
				t.Errorf("queue visibility timeout %vs < 6 × dispatcher timeout %vs", vis, timeout)
			}
			for _, id := range []string{dlqID, eventsDLQID} {
				if got := props(queues[id])["MessageRetentionPeriod"]; got != float64(14*24*3600) {
					t.Errorf("DLQ %s retention = %v, want 14 days", id, got)
				}
			}
		})
	}
}

func TestFunctions(t *testing.T) {
	tests := []struct {
		s       *synthesized
		tracing any
	}{
		{full, map[string]any{"Mode": "Active"}},
		{lean, nil},
	}
	for _, tt := range tests {
		fns := tt.s.resources("AWS::Lambda::Function")
		for _, name := range []string{FnAPI, FnIngest, FnDispatcher} {
			t.Run(*tt.s.ns.StackName()+"/"+name, func(t *testing.T) {
				p := props(fns[tt.s.logicalID(tt.s.ns.Functions[name])])
				if p == nil {
					t.Fatalf("function %s not in template", name)
				}
				checks := map[string]any{
					"Runtime":       "provided.al2023",
					"Architectures": []any{"arm64"},
					"Handler":       "bootstrap",
					"TracingConfig": tt.tracing,
				}
				for k, want := range checks {
					if got := p[k]; js(got) != js(want) {
						t.Errorf("%s = %s, want %s", k, js(got), js(want))
					}
				}
				logging, _ := p["LoggingConfig"].(map[string]any)
				if logging["LogFormat"] != "JSON" || logging["LogGroup"] == nil {
					t.Errorf("LoggingConfig = %s, want JSON to the function's own log group", js(logging))
				}
				vars, _ := p["Environment"].(map[string]any)["Variables"].(map[string]any)
				for _, v := range []string{deploy.EnvTable, deploy.EnvQueueURL, deploy.EnvDLQURL, deploy.EnvEmailFrom, deploy.EnvSecretPrefix, deploy.EnvIngestSecretARN} {
					if vars[v] == nil {
						t.Errorf("environment lacks %s", v)
					}
				}
			})
		}
	}
	t.Run("optional environment", func(t *testing.T) {
		for _, fn := range full.resources("AWS::Lambda::Function") {
			vars := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
			if vars[deploy.EnvSESConfigurationSet] != "argo-notify" || vars[deploy.EnvSlackAPIURL] != "https://slack.example.com/api/" {
				t.Errorf("full stack: optional variables = %v, %v", vars[deploy.EnvSESConfigurationSet], vars[deploy.EnvSlackAPIURL])
			}
			if vars[deploy.EnvSecretPrefix] != "argo-notify/ArgoNotifyTest/integrations/" {
				t.Errorf("secret prefix = %v", vars[deploy.EnvSecretPrefix])
			}
		}
		for _, fn := range lean.resources("AWS::Lambda::Function") {
			vars := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
			// No configuration set named: the stack creates one.
			if _, ok := vars[deploy.EnvSESConfigurationSet].(map[string]any)["Ref"]; !ok {
				t.Errorf("lean stack: %s = %v, want the created configuration set", deploy.EnvSESConfigurationSet, vars[deploy.EnvSESConfigurationSet])
			}
		}
	})
	t.Run("log retention", func(t *testing.T) {
		for id, lg := range full.resources("AWS::Logs::LogGroup") {
			if got := props(lg)["RetentionInDays"]; got != float64(30) {
				t.Errorf("log group %s retention = %v, want 30", id, got)
			}
		}
	})
}

func TestDispatcherEventSource(t *testing.T) {
	assert(t, "event source mapping", func() {
		full.tmpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
			"BatchSize":             10,
			"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
			"EventSourceArn":        map[string]any{"Fn::GetAtt": []any{full.logicalID(full.ns.Queue), "Arn"}},
			"FunctionName":          map[string]any{"Ref": full.logicalID(full.ns.Functions[FnDispatcher])},
		})
	})
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		s      *synthesized
		issuer string
	}{
		{full, "https://cognito-idp.eu-west-1.amazonaws.com/"},
		{lean, "https://login.example.org/"},
	}
	for _, tt := range tests {
		t.Run(*tt.s.ns.StackName(), func(t *testing.T) {
			var authorizerID string
			for id, a := range tt.s.resources("AWS::ApiGatewayV2::Authorizer") {
				authorizerID = id
				p := props(a)
				if p["AuthorizerType"] != "JWT" || !strings.Contains(js(p["JwtConfiguration"]), tt.issuer) {
					t.Errorf("authorizer %s = %s, want JWT with issuer %s", id, js(p), tt.issuer)
				}
			}
			ingestIntegration, apiIntegration := "", ""
			for id, in := range tt.s.resources("AWS::ApiGatewayV2::Integration") {
				uri := js(props(in)["IntegrationUri"])
				switch {
				case strings.Contains(uri, tt.s.logicalID(tt.s.ns.Functions[FnIngest])):
					ingestIntegration = id
				case strings.Contains(uri, tt.s.logicalID(tt.s.ns.Functions[FnAPI])):
					apiIntegration = id
				}
			}
			keys := []string{}
			for id, r := range tt.s.resources("AWS::ApiGatewayV2::Route") {
				p := props(r)
				key := p["RouteKey"].(string)
				keys = append(keys, key)
				target := js(p["Target"])
				if key == "POST /v1/events" {
					if p["AuthorizationType"] != "NONE" || p["AuthorizerId"] != nil {
						t.Errorf("ingest route %s has authorization %v: it must rely on HMAC only", id, p["AuthorizationType"])
					}
					if !strings.Contains(target, ingestIntegration) {
						t.Errorf("ingest route targets %s, want the ingest integration", target)
					}
					continue
				}
				if key == "GET /" || key == "GET /{proxy+}" {
					continue // the console's public routes: TestConsoleRoutes
				}
				if key == "ANY "+deploy.SCIMRoutePath {
					// SCIM: its own bearer token, checked by the function; no JWT.
					if p["AuthorizationType"] != "NONE" || p["AuthorizerId"] != nil {
						t.Errorf("SCIM route %s has authorization %v: SCIM checks its own token", id, p["AuthorizationType"])
					}
					if !strings.Contains(target, apiIntegration) {
						t.Errorf("SCIM route targets %s, want the api integration", target)
					}
					continue
				}
				if !strings.HasPrefix(key, "ANY /v1") {
					t.Errorf("unexpected route %q", key)
				}
				if p["AuthorizationType"] != "JWT" || js(p["AuthorizerId"]) != js(map[string]any{"Ref": authorizerID}) {
					t.Errorf("admin route %q: authorization %v %s, want JWT via %s", key, p["AuthorizationType"], js(p["AuthorizerId"]), authorizerID)
				}
				if !strings.Contains(target, apiIntegration) {
					t.Errorf("admin route %q targets %s, want the api integration", key, target)
				}
			}
			sort.Strings(keys)
			if want := []string{"ANY /scim/v2/{proxy+}", "ANY /v1", "ANY /v1/{proxy+}", "GET /", "GET /{proxy+}", "POST /v1/events"}; !slices.Equal(keys, want) {
				t.Errorf("routes = %v, want %v", keys, want)
			}
		})
	}
	t.Run("JWT audience", func(t *testing.T) {
		assert(t, "lean audience", func() {
			lean.tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), map[string]any{
				"JwtConfiguration": map[string]any{"Audience": []any{"argo-notify", "argo-console"}, "Issuer": "https://login.example.org/"},
			})
		})
	})
}

func TestStage(t *testing.T) {
	assert(t, "throttling and access logs", func() {
		full.tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), map[string]any{
			"StageName":            "$default",
			"DefaultRouteSettings": map[string]any{"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100},
			"RouteSettings": map[string]any{
				"ANY /scim/v2/{proxy+}": map[string]any{"ThrottlingRateLimit": 20, "ThrottlingBurstLimit": 50},
			},
			"AccessLogSettings": map[string]any{
				"DestinationArn": map[string]any{"Fn::GetAtt": []any{assertions.Match_AnyValue(), "Arn"}},
				"Format":         assertions.Match_StringLikeRegexp(jsii.String(`"requestId":"\$context.requestId".*"responseLatency":"\$context.responseLatency".*"errorMessage":"\$context.error.message"`)),
			},
		})
	})
	assert(t, "custom domain", func() {
		full.tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::DomainName"), map[string]any{"DomainName": "notify.example.com"})
	})
}

func TestEventRules(t *testing.T) {
	nonTerminal := []string{"SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "IN_PROGRESS", "PROVISIONING", "ACTIVATING", "DEACTIVATING", "STOPPING"}
	ingestID, dlqID := full.logicalID(full.ns.Functions[FnIngest]), full.logicalID(full.ns.EventsDLQ)
	sources := map[string]bool{}
	for id, r := range full.resources("AWS::Events::Rule") {
		p := props(r)
		pattern := p["EventPattern"].(map[string]any)
		src := pattern["source"].([]any)[0].(string)
		sources[src] = true
		t.Run(src, func(t *testing.T) {
			if src == "argo" {
				if js(p["EventBusName"]) != js(map[string]any{"Ref": full.logicalID(full.ns.Bus)}) {
					t.Errorf("argo rule %s is not on the custom bus: %s", id, js(p["EventBusName"]))
				}
			} else {
				if p["EventBusName"] != nil {
					t.Errorf("job rule %s is not on the default bus", id)
				}
				detail, _ := pattern["detail"].(map[string]any)
				if len(detail) == 0 {
					t.Fatalf("job rule %s does not filter on a status: %s", id, js(pattern))
				}
				for field, states := range detail {
					if field == "group" {
						continue // ECS: standalone tasks only (production_test.go)
					}
					for _, s := range states.([]any) {
						if slices.Contains(nonTerminal, s.(string)) {
							t.Errorf("rule %s lets non-terminal state %s through", id, s)
						}
					}
				}
			}
			targets := p["Targets"].([]any)
			if len(targets) != 1 {
				t.Fatalf("rule %s has %d targets", id, len(targets))
			}
			tg := targets[0].(map[string]any)
			if !strings.Contains(js(tg["Arn"]), ingestID) {
				t.Errorf("rule %s targets %s, want ingest", id, js(tg["Arn"]))
			}
			if !strings.Contains(js(tg["DeadLetterConfig"]), dlqID) {
				t.Errorf("rule %s target has no DLQ: %s", id, js(tg))
			}
			if rp, _ := tg["RetryPolicy"].(map[string]any); rp["MaximumRetryAttempts"] == nil {
				t.Errorf("rule %s target has no retry policy", id)
			}
		})
	}
	want := map[string]bool{"argo": true, "aws.batch": true, "aws.states": true, "aws.codebuild": true, "aws.ecs": true}
	if js(sources) != js(want) {
		t.Errorf("rule sources = %v, want %v", sources, want)
	}
	assert(t, "bus name", func() {
		full.tmpl.HasResourceProperties(jsii.String("AWS::Events::EventBus"), map[string]any{"Name": "argo-ArgoNotifyTest"})
	})
	assert(t, "ingest async failures go to the events DLQ", func() {
		full.tmpl.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), map[string]any{
			"DestinationConfig": map[string]any{"OnFailure": map[string]any{"Destination": map[string]any{"Fn::GetAtt": []any{dlqID, "Arn"}}}},
		})
	})
}

// grants maps each action a role holds to the resources it holds it on.
func (s *synthesized) grants(t *testing.T, fn string) map[string][]string {
	t.Helper()
	roleID := s.logicalID(s.ns.Functions[fn].Role())
	out := map[string][]string{}
	for _, p := range s.resources("AWS::IAM::Policy") {
		if !strings.Contains(js(props(p)["Roles"]), `"`+roleID+`"`) {
			continue
		}
		for _, st := range props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			if st["Effect"] != "Allow" {
				t.Errorf("%s: unexpected %v statement", fn, st["Effect"])
			}
			actions, resources := list(st["Action"]), list(st["Resource"])
			for _, a := range actions {
				for _, r := range resources {
					out[a.(string)] = append(out[a.(string)], resourceName(r))
				}
			}
		}
	}
	for a := range out {
		sort.Strings(out[a])
	}
	return out
}

// list returns a policy field that is one value or a list as a list.
func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// resourceName shortens a policy resource to something a test can name:
// "*", a logical id ("Table"), "<logical id>/index/gsi1", or an ARN with
// the partition placeholder.
func resourceName(r any) string {
	switch v := r.(type) {
	case string:
		return v
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok {
			if strings.HasPrefix(ref, "AWS::") {
				return ref
			}
			return trimHash(ref)
		}
		if ga, ok := v["Fn::GetAtt"].([]any); ok {
			return trimHash(ga[0].(string))
		}
		if j, ok := v["Fn::Join"].([]any); ok {
			var b strings.Builder
			for _, part := range j[1].([]any) {
				b.WriteString(resourceName(part))
			}
			return b.String()
		}
	}
	return js(r)
}

// trimHash drops the 8-hex-digit suffix of a CDK logical id.
func trimHash(id string) string {
	if len(id) > 8 {
		return id[:len(id)-8]
	}
	return id
}

func TestIAMGrants(t *testing.T) {
	const secretPrefix = "arn:AWS::Partition:secretsmanager:eu-west-1:123456789012:secret:argo-notify/ArgoNotifyTest/integrations/*"
	tableAndIndex := []string{"Table", "Table/index/gsi1"}
	sqsConsume := []string{"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"}
	want := map[string]map[string][]string{
		FnAPI: {
			"logs:CreateLogStream":          {"ApiLogs"},
			"logs:PutLogEvents":             {"ApiLogs"},
			"xray:PutTraceSegments":         {"*"},
			"xray:PutTelemetryRecords":      {"*"},
			"dynamodb:GetItem":              tableAndIndex,
			"dynamodb:Query":                tableAndIndex,
			"dynamodb:PutItem":              tableAndIndex,
			"dynamodb:DeleteItem":           tableAndIndex,
			"dynamodb:BatchGetItem":         tableAndIndex,
			"sqs:SendMessage":               {"Queue"},
			"sqs:GetQueueAttributes":        {"DeadLetterQueue", "Queue"},
			"sqs:GetQueueUrl":               {"DeadLetterQueue", "Queue"},
			"sqs:ReceiveMessage":            {"DeadLetterQueue"},
			"sqs:DeleteMessage":             {"DeadLetterQueue"},
			"sqs:ChangeMessageVisibility":   {"DeadLetterQueue"},
			"secretsmanager:CreateSecret":   {secretPrefix},
			"secretsmanager:PutSecretValue": {secretPrefix},
			"secretsmanager:GetSecretValue": {secretPrefix},
			"secretsmanager:DeleteSecret":   {secretPrefix},
			"secretsmanager:RestoreSecret":  {secretPrefix},
		},
		FnIngest: {
			"logs:CreateLogStream":          {"IngestLogs"},
			"logs:PutLogEvents":             {"IngestLogs"},
			"xray:PutTraceSegments":         {"*"},
			"xray:PutTelemetryRecords":      {"*"},
			"sqs:SendMessage":               {"EventsDeadLetterQueue", "Queue"},
			"sqs:GetQueueAttributes":        {"EventsDeadLetterQueue", "Queue"},
			"sqs:GetQueueUrl":               {"EventsDeadLetterQueue", "Queue"},
			"secretsmanager:GetSecretValue": {"IngestSecret"},
		},
		FnDispatcher: {
			"logs:CreateLogStream":          {"DispatcherLogs"},
			"logs:PutLogEvents":             {"DispatcherLogs"},
			"xray:PutTraceSegments":         {"*"},
			"xray:PutTelemetryRecords":      {"*"},
			"dynamodb:GetItem":              tableAndIndex,
			"dynamodb:Query":                tableAndIndex,
			"dynamodb:PutItem":              tableAndIndex,
			"dynamodb:DeleteItem":           tableAndIndex,
			"dynamodb:BatchGetItem":         tableAndIndex,
			"secretsmanager:GetSecretValue": {secretPrefix},
			"sqs:SendMessage":               {"Queue"}, // the release of held deliveries
			"ses:GetAccount":                {"*"},
			"ses:SendEmail": {
				"arn:AWS::Partition:ses:eu-west-1:123456789012:configuration-set/argo-notify",
				"arn:AWS::Partition:ses:eu-west-1:123456789012:identity/EmailIdentity",
			},
			"ses:SendRawEmail": {
				"arn:AWS::Partition:ses:eu-west-1:123456789012:configuration-set/argo-notify",
				"arn:AWS::Partition:ses:eu-west-1:123456789012:identity/EmailIdentity",
			},
		},
	}
	for _, name := range []string{FnAPI, FnIngest, FnDispatcher} {
		t.Run(name, func(t *testing.T) {
			got := full.grants(t, name)
			w := want[name]
			if name == FnDispatcher {
				for _, a := range sqsConsume {
					w[a] = []string{"Queue"}
				}
			}
			for a, res := range w {
				if !slices.Equal(got[a], res) {
					t.Errorf("%s on %v, want on %v", a, got[a], res)
				}
			}
			for a, res := range got {
				if _, ok := w[a]; !ok {
					t.Errorf("unexpected grant %s on %v", a, res)
				}
			}
		})
	}
	t.Run("no managed policies", func(t *testing.T) {
		for _, s := range []*synthesized{full, lean} {
			for id, r := range s.resources("AWS::IAM::Role") {
				if mp := props(r)["ManagedPolicyArns"]; mp != nil {
					t.Errorf("%s: role %s has managed policies %s", *s.ns.StackName(), id, js(mp))
				}
			}
		}
	})
	t.Run("no tracing grants without tracing", func(t *testing.T) {
		for _, fn := range []string{FnAPI, FnIngest, FnDispatcher} {
			if res, ok := lean.grants(t, fn)["xray:PutTraceSegments"]; ok {
				t.Errorf("%s holds xray:PutTraceSegments on %v with tracing off", fn, res)
			}
		}
	})
	t.Run("existing SES identity", func(t *testing.T) {
		got := lean.grants(t, FnDispatcher)["ses:SendEmail"]
		want := []string{"arn:AWS::Partition:ses:eu-west-1:123456789012:configuration-set/ConfigurationSet", "arn:aws:ses:eu-west-1:123456789012:identity/example.org"}
		if !slices.Equal(got, want) {
			t.Errorf("ses:SendEmail on %v, want %v", got, want)
		}
	})
}

func TestNagSuppressionsHaveReasons(t *testing.T) {
	got := map[string]bool{}
	for id, r := range full.json["Resources"].(map[string]any) {
		meta, _ := r.(map[string]any)["Metadata"].(map[string]any)
		nag, _ := meta["cdk_nag"].(map[string]any)
		rules, _ := nag["rules_to_suppress"].([]any)
		for _, rule := range rules {
			rule := rule.(map[string]any)
			reason, _ := rule["reason"].(string)
			if len(reason) < 80 {
				t.Errorf("%s: suppression of %v has too thin a reason: %q", id, rule["id"], reason)
			}
			got[trimHash(id)+" "+rule["id"].(string)] = true
		}
	}
	want := []string{
		"AdminUserPool AwsSolutions-COG8",
		"ApiRoleDefaultPolicy AwsSolutions-IAM5",
		"DispatcherRoleDefaultPolicy AwsSolutions-IAM5",
		"EventsDeadLetterQueue AwsSolutions-SQS3",
		"HttpApiANYscimv2proxy AwsSolutions-APIG4",
		"HttpApiGET AwsSolutions-APIG4",
		"HttpApiGETproxy AwsSolutions-APIG4",
		"HttpApiPOSTv1events AwsSolutions-APIG4",
		"IngestRoleDefaultPolicy AwsSolutions-IAM5",
		"IngestSecret AwsSolutions-SMG4",
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !slices.Equal(keys, want) {
		t.Errorf("suppressions =\n%s\nwant\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
}

func TestOutputs(t *testing.T) {
	outputs := full.json["Outputs"].(map[string]any)
	for _, name := range []string{"ApiUrl", "IngestUrl", "EventBusArn", "IngestSecretArn", "UserPoolId", "UserPoolClientId", "CustomDomainTarget", "DkimCname1"} {
		if outputs[name] == nil {
			t.Errorf("output %s missing", name)
		}
	}
	if got := js(outputs["IngestUrl"]); !strings.Contains(got, "/v1/events") {
		t.Errorf("IngestUrl = %s", got)
	}
	if lean.json["Outputs"].(map[string]any)["UserPoolId"] != nil {
		t.Error("lean stack outputs a user pool it does not have")
	}
}

func TestCheckAssets(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, FnAPI), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FnAPI, "bootstrap"), []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dir     string
		missing []string
	}{
		{"no folder", filepath.Join(dir, "nope"), []string{FnAPI, FnIngest, FnDispatcher}},
		{"only api", dir, []string{FnIngest, FnDispatcher}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckAssets(tt.dir)
			if err == nil {
				t.Fatal("CheckAssets: no error")
			}
			if !strings.Contains(err.Error(), "run `make build` first") {
				t.Errorf("error %q does not tell the user to run make build", err)
			}
			for _, fn := range tt.missing {
				if !strings.Contains(err.Error(), filepath.Join(fn, "bootstrap")) {
					t.Errorf("error %q does not name %s/bootstrap", err, fn)
				}
			}
			if strings.Contains(err.Error(), filepath.Join(dir, FnAPI, "bootstrap")+",") && tt.name == "only api" {
				t.Errorf("error %q names the bootstrap that exists", err)
			}
		})
	}
	t.Run("NewNotifyStack refuses", func(t *testing.T) {
		_, err := NewNotifyStack(nil, "X", &NotifyStackProps{Config: Config{AssetDir: filepath.Join(dir, "nope")}})
		if err == nil || !strings.Contains(err.Error(), "make build") {
			t.Errorf("NewNotifyStack error = %v, want the make build hint", err)
		}
	})
}
