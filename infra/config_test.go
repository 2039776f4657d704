package main

import (
	"slices"
	"strings"
	"testing"
)

func ctx(m map[string]any) func(string) any {
	return func(k string) any { return m[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	c, err := LoadConfig(ctx(map[string]any{CtxEmailFrom: "notify@example.com", CtxAlarmEmail: "oncall@example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"assetDir", c.AssetDir, ".bin/lambda"},
		{"stackName", c.StackName, "ArgoNotify"},
		{"sesIdentity defaults to emailFrom", c.SESIdentity, "notify@example.com"},
		{"tracing", c.Tracing, false},
		{"retain", c.Retain, true},
		{"logRetentionDays", c.LogRetentionDays, 30},
		{"eventBusName", c.EventBusName, "argo-ArgoNotify"},
		{"dispatcherMaxConcurrency", c.DispatcherMaxConcurrency, 2},
		{"ingestReservedConcurrency", c.IngestReservedConcurrency, 5},
		{"sesSandbox", c.SESSandbox, false},
		{"apiRateLimit", c.APIRateLimit, 50.0},
		{"jwtIssuer", c.JWTIssuer, ""},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			if ck.got != ck.want {
				t.Errorf("got %v, want %v", ck.got, ck.want)
			}
		})
	}
	if !slices.Equal(c.JobSources, AllJobSources) {
		t.Errorf("jobSources = %v, want %v", c.JobSources, AllJobSources)
	}
}

func TestLoadConfigValues(t *testing.T) {
	tests := []struct {
		name  string
		ctx   map[string]any
		check func(c Config) bool
	}{
		{"strings from -c", map[string]any{CtxTracing: "false", CtxRetain: "false", CtxLogRetentionDays: "90", CtxAPIRateLimit: "10"},
			func(c Config) bool {
				return !c.Tracing && !c.Retain && c.LogRetentionDays == 90 && c.APIRateLimit == 10
			}},
		{"JSON values from cdk.json", map[string]any{CtxTracing: false, CtxLogRetentionDays: 14.0, CtxJobSources: []any{"batch", "ecs"}},
			func(c Config) bool {
				return !c.Tracing && c.LogRetentionDays == 14 && slices.Equal(c.JobSources, []string{"batch", "ecs"})
			}},
		{"comma list", map[string]any{CtxJWTIssuer: "https://idp.example.com/", CtxJWTAudience: " a, b ,"},
			func(c Config) bool { return slices.Equal(c.JWTAudience, []string{"a", "b"}) }},
		{"no job sources", map[string]any{CtxJobSources: "none"},
			func(c Config) bool { return len(c.JobSources) == 0 }},
		{"domain identity", map[string]any{CtxSESIdentity: "example.com"},
			func(c Config) bool { return c.SESIdentity == "example.com" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ctx[CtxEmailFrom] = "notify@example.com"
			tt.ctx[CtxAlarmTopicARN] = "arn:aws:sns:eu-west-1:123456789012:oncall"
			c, err := LoadConfig(ctx(tt.ctx))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected config %+v", c)
			}
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		ctx  map[string]any
		want string
	}{
		{"no sender", map[string]any{}, "emailFrom is required"},
		{"bad sender", map[string]any{CtxEmailFrom: "not an address"}, "not an email address"},
		{"issuer without audience", map[string]any{CtxJWTIssuer: "https://idp.example.com/"}, "go together"},
		{"http issuer", map[string]any{CtxJWTIssuer: "http://idp.example.com/", CtxJWTAudience: "a"}, "https://"},
		{"both alarm targets", map[string]any{CtxAlarmEmail: "a@example.com", CtxAlarmTopicARN: "arn:aws:sns:eu-west-1:1:t"}, "at most one"},
		{"no alarm target", map[string]any{}, "an alarm target is required"},
		{"bad alarm topic", map[string]any{CtxAlarmTopicARN: "oncall"}, "is not an ARN"},
		{"concurrency below SQS minimum", map[string]any{CtxDispatcherMaxConcurrency: "1"}, "between 2 and 1000"},
		{"negative reserved concurrency", map[string]any{CtxIngestReservedConcurrency: -1}, "must not be negative"},
		{"domain without certificate", map[string]any{CtxDomainName: "n.example.com"}, "certificateArn"},
		{"odd retention", map[string]any{CtxLogRetentionDays: "31"}, "logRetentionDays 31"},
		{"bad bool", map[string]any{CtxTracing: "yes please"}, "tracing must be true or false"},
		{"bad number", map[string]any{CtxAPIRateLimit: "fast"}, "apiRateLimit must be a number"},
		{"unknown job source", map[string]any{CtxJobSources: "batch,glue"}, `unknown source "glue"`},
		{"default bus", map[string]any{CtxEventBusName: "default"}, "custom bus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := tt.ctx[CtxEmailFrom]; !ok && tt.name != "no sender" {
				tt.ctx[CtxEmailFrom] = "notify@example.com"
			}
			if _, ok := tt.ctx[CtxAlarmTopicARN]; !ok && tt.name != "no alarm target" {
				tt.ctx[CtxAlarmEmail] = "oncall@example.com"
			}
			_, err := LoadConfig(ctx(tt.ctx))
			if err == nil {
				t.Fatalf("no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}
