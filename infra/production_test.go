package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
)

// Template assertions of issue 16: production on AWS.

// wantAlarms are the alarms every stack has (construct ids).
var wantAlarms = []string{
	"DeadLetterAlarm", "EventsDeadLetterAlarm", "OldestMessageAlarm",
	"ApiErrorsAlarm", "ApiThrottlesAlarm", "IngestErrorsAlarm", "IngestThrottlesAlarm",
	"DispatcherErrorsAlarm", "DispatcherThrottlesAlarm",
	"Api5xxAlarm", "TableThrottlesAlarm", "IndexThrottlesAlarm",
	"DeliveriesFailedEmailAlarm", "DeliveriesFailedSlackAlarm", "DeliveriesFailedWebhookAlarm",
	"SESAccountErrorsAlarm", "BounceRateAlarm", "ComplaintRateAlarm",
}

func TestAlarmsReachSomeone(t *testing.T) {
	for _, s := range []*synthesized{full, lean} {
		t.Run(*s.ns.StackName(), func(t *testing.T) {
			var seen []string
			for id, a := range s.resources("AWS::CloudWatch::Alarm") {
				seen = append(seen, trimHash(id))
				if acts := list(props(a)["AlarmActions"]); len(acts) != 1 {
					t.Errorf("alarm %s actions = %s, want the alarm target", id, js(acts))
				}
			}
			slices.Sort(seen)
			want := slices.Sorted(slices.Values(wantAlarms))
			if !slices.Equal(seen, want) {
				t.Errorf("alarms = %v\nwant %v", seen, want)
			}
		})
	}
	assert(t, "lean: alarms go to the given topic", func() {
		lean.tmpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"AlarmActions": []any{"arn:aws:sns:eu-west-1:123456789012:oncall"},
		})
	})
	assert(t, "full: alarm topic encrypted and subscribed", func() {
		full.tmpl.HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]any{"KmsMasterKeyId": assertions.Match_AnyValue()})
		full.tmpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{"Protocol": "email", "Endpoint": "oncall@example.com"})
	})
}

func TestAlarmMetrics(t *testing.T) {
	byID := map[string]map[string]any{}
	for id, a := range full.resources("AWS::CloudWatch::Alarm") {
		byID[trimHash(id)] = props(a)
	}
	ns := deploy.DefaultMetricNamespace + "/ArgoNotifyTest"
	tests := []struct {
		alarm string
		want  []string // fragments of the alarm's metric definition
	}{
		{"DeadLetterAlarm", []string{"ApproximateNumberOfMessagesVisible", full.logicalID(full.ns.DeadLetter)}},
		{"DispatcherErrorsAlarm", []string{`"MetricName":"Errors"`, full.logicalID(full.ns.Functions[FnDispatcher])}},
		{"IngestThrottlesAlarm", []string{`"MetricName":"Throttles"`, full.logicalID(full.ns.Functions[FnIngest])}},
		{"Api5xxAlarm", []string{`"MetricName":"5xx"`, "AWS/ApiGateway"}},
		{"TableThrottlesAlarm", []string{"ReadThrottleEvents", "WriteThrottleEvents", full.logicalID(full.ns.Table)}},
		{"IndexThrottlesAlarm", []string{"WriteThrottleEvents", `"GlobalSecondaryIndexName"`, `"gsi1"`}},
		{"DeliveriesFailedEmailAlarm", []string{deploy.MetricDeliveriesFailed, ns, `"Name":"Channel","Value":"email"`}},
		{"DeliveriesFailedSlackAlarm", []string{deploy.MetricDeliveriesFailed, `"Value":"slack"`}},
		{"SESAccountErrorsAlarm", []string{deploy.MetricSESAccountErrors, ns}},
		{"BounceRateAlarm", []string{`"MetricName":"Bounce"`, `"MetricName":"Send"`, sesConfigSetDimension, "argo-notify", "100*FILL(e,0)/s"}},
		{"ComplaintRateAlarm", []string{`"MetricName":"Complaint"`, "AWS/SES"}},
	}
	for _, tt := range tests {
		t.Run(tt.alarm, func(t *testing.T) {
			p, ok := byID[tt.alarm]
			if !ok {
				t.Fatal("no such alarm")
			}
			got := js(p)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("alarm lacks %s: %s", w, got)
				}
			}
		})
	}
	if got := byID["ComplaintRateAlarm"]["Threshold"]; got != complaintRateAlarmPercent {
		t.Errorf("complaint threshold = %v", got)
	}
}

func TestDashboardShowsEveryAlarm(t *testing.T) {
	for _, d := range full.resources("AWS::CloudWatch::Dashboard") {
		body := js(props(d)["DashboardBody"])
		for id := range full.resources("AWS::CloudWatch::Alarm") {
			if !strings.Contains(body, id) {
				t.Errorf("dashboard lacks alarm %s", id)
			}
		}
	}
}

func TestThrottlingBounds(t *testing.T) {
	assert(t, "dispatcher event source bounded", func() {
		full.tmpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
			"ScalingConfig": map[string]any{"MaximumConcurrency": deploy.DefaultDispatcherConcurrency},
		})
	})
	fns := full.resources("AWS::Lambda::Function")
	if got := props(fns[full.logicalID(full.ns.Functions[FnIngest])])["ReservedConcurrentExecutions"]; got != float64(5) {
		t.Errorf("ingest reserved concurrency = %v, want 5", got)
	}
	for _, name := range []string{FnAPI, FnDispatcher} {
		if got := props(fns[full.logicalID(full.ns.Functions[name])])["ReservedConcurrentExecutions"]; got != nil {
			t.Errorf("%s reserved concurrency = %v, want none", name, got)
		}
	}
	vars := props(fns[full.logicalID(full.ns.Functions[FnDispatcher])])["Environment"].(map[string]any)["Variables"].(map[string]any)
	if vars[deploy.EnvDispatcherConcurrency] != "2" || vars[deploy.EnvMetricNamespace] != "ArgoNotify/ArgoNotifyTest" {
		t.Errorf("dispatcher pacing/metrics environment = %v, %v", vars[deploy.EnvDispatcherConcurrency], vars[deploy.EnvMetricNamespace])
	}
	if g := full.grants(t, FnDispatcher); !slices.Contains(g["ses:GetAccount"], "*") {
		t.Errorf("dispatcher may not read the SES send rate: %v", g["ses:GetAccount"])
	}
}

func TestLoggingKeepsReportLines(t *testing.T) {
	for _, s := range []*synthesized{full, lean} {
		for id, fn := range s.resources("AWS::Lambda::Function") {
			lc, _ := props(fn)["LoggingConfig"].(map[string]any)
			if lc["SystemLogLevel"] != "INFO" || lc["ApplicationLogLevel"] != "INFO" {
				t.Errorf("%s logging = %s, want INFO system logs (REPORT lines)", id, js(lc))
			}
		}
	}
}

func TestSESConfigurationSet(t *testing.T) {
	for _, s := range []*synthesized{full, lean} {
		t.Run(*s.ns.StackName(), func(t *testing.T) {
			dests := s.resources("AWS::SES::ConfigurationSetEventDestination")
			if len(dests) != 1 {
				t.Fatalf("event destinations = %d, want 1", len(dests))
			}
			for _, d := range dests {
				got := js(props(d))
				for _, w := range []string{"BOUNCE", "COMPLAINT", "SEND", "CloudWatchDestination", sesConfigSetDimension} {
					if !strings.Contains(strings.ToUpper(got), strings.ToUpper(w)) {
						t.Errorf("event destination lacks %s: %s", w, got)
					}
				}
			}
		})
	}
	if g := full.grants(t, FnDispatcher); !slices.ContainsFunc(g["ses:SendEmail"], func(r string) bool { return strings.Contains(r, "configuration-set/argo-notify") }) {
		t.Errorf("dispatcher may not send with its configuration set: %v", g["ses:SendEmail"])
	}
}

func TestDeployTraps(t *testing.T) {
	t.Run("ingest secret has no fixed name", func(t *testing.T) {
		for id, sec := range full.resources("AWS::SecretsManager::Secret") {
			if n := props(sec)["Name"]; n != nil {
				t.Errorf("secret %s is named %v: a retained one blocks redeploying", id, n)
			}
		}
	})
	t.Run("bus name per stack", func(t *testing.T) {
		assert(t, "bus", func() {
			full.tmpl.HasResourceProperties(jsii.String("AWS::Events::EventBus"), map[string]any{"Name": "argo-ArgoNotifyTest"})
			lean.tmpl.HasResourceProperties(jsii.String("AWS::Events::EventBus"), map[string]any{"Name": "argo-ArgoNotifyLean"})
		})
	})
	t.Run("ECS rule: standalone tasks only", func(t *testing.T) {
		assert(t, "ecs rule", func() {
			full.tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
				"EventPattern": assertions.Match_ObjectLike(&map[string]any{
					"source": []any{deploy.SourceECS},
					"detail": map[string]any{"lastStatus": []any{"STOPPED"}, "group": []any{map[string]any{"prefix": "family:"}}},
				}),
			})
		})
	})
	t.Run("redrive limit is the queue's", func(t *testing.T) {
		assert(t, "queue", func() {
			full.tmpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
				"RedrivePolicy": assertions.Match_ObjectLike(&map[string]any{"maxReceiveCount": deploy.MaxReceiveCount}),
			})
		})
	})
	t.Run("tracing off by default", func(t *testing.T) {
		c, err := LoadConfig(ctx(map[string]any{CtxEmailFrom: "n@example.com", CtxAlarmEmail: "o@example.com"}))
		if err != nil || c.Tracing {
			t.Errorf("tracing = %v (%v), want off", c.Tracing, err)
		}
	})
}

// TestSynthDisplayNameSenderTwoStacks synthesizes one app holding two
// stacks, one with a display-name sender and the SES sandbox grant.
func TestSynthDisplayNameSenderTwoStacks(t *testing.T) {
	dir := t.TempDir()
	if err := writeFakeBootstraps(dir); err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{BuiltinCloudFormationValidation: jsii.Bool(false), Outdir: jsii.String(filepath.Join(dir, "out"))})
	var stacks []*NotifyStack
	for _, c := range []map[string]any{
		{CtxStackName: "NotifyA", CtxEmailFrom: "Argo <notify@example.com>", CtxSESSandbox: "true"},
		{CtxStackName: "NotifyB", CtxEmailFrom: `"Argo, B" <notify-b@example.com>`},
	} {
		c[CtxAssetDir] = dir
		c[CtxAlarmEmail] = "oncall@example.com"
		cfg, err := LoadConfig(ctx(c))
		if err != nil {
			t.Fatal(err)
		}
		ns, err := NewNotifyStack(app, cfg.StackName, &NotifyStackProps{
			StackProps: awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}},
			Config:     cfg,
		})
		if err != nil {
			t.Fatal(err)
		}
		stacks = append(stacks, ns)
	}
	app.Synth(nil)
	var templates []assertions.Template
	for _, ns := range stacks {
		templates = append(templates, assertions.Template_FromStack(ns.Stack, nil))
	}
	for _, f := range []string{"NotifyA.template.json", "NotifyB.template.json"} {
		if _, err := os.Stat(filepath.Join(dir, "out", f)); err != nil {
			t.Errorf("synth wrote no %s: %v", f, err)
		}
	}
	assert(t, "identity is the bare address", func() {
		templates[0].HasResourceProperties(jsii.String("AWS::SES::EmailIdentity"), map[string]any{"EmailIdentity": "notify@example.com"})
		templates[1].HasResourceProperties(jsii.String("AWS::SES::EmailIdentity"), map[string]any{"EmailIdentity": "notify-b@example.com"})
	})
	assert(t, "buses apart", func() {
		templates[0].HasResourceProperties(jsii.String("AWS::Events::EventBus"), map[string]any{"Name": "argo-NotifyA"})
		templates[1].HasResourceProperties(jsii.String("AWS::Events::EventBus"), map[string]any{"Name": "argo-NotifyB"})
	})
	assert(t, "sandbox: send from any identity of the account", func() {
		raw := js(templates[0].ToJSON())
		if !strings.Contains(raw, ":identity/*") {
			t.Error("sandbox stack grants no identity/*")
		}
		if strings.Contains(js(templates[1].ToJSON()), ":identity/*") {
			t.Error("non-sandbox stack grants identity/*")
		}
	})
}

func TestDeliveryIndex(t *testing.T) {
	assert(t, "gsi1 projects keys and the list filters only", func() {
		full.tmpl.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"GlobalSecondaryIndexes": []any{map[string]any{
				"IndexName":  "gsi1",
				"Projection": map[string]any{"ProjectionType": "INCLUDE", "NonKeyAttributes": []any{"RuleIDs"}},
				"KeySchema": []any{
					map[string]any{"AttributeName": "gsi1pk", "KeyType": "HASH"},
					map[string]any{"AttributeName": "gsi1sk", "KeyType": "RANGE"},
				},
			}},
		})
	})
	for _, fn := range []string{FnAPI, FnDispatcher} {
		if g := full.grants(t, fn); len(g["dynamodb:BatchGetItem"]) == 0 {
			t.Errorf("%s may not read list pages with BatchGetItem", fn)
		}
	}
}
