package fn

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestLambdaAWSConfig(t *testing.T) {
	env := map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
		"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
	}
	cfg, err := LambdaAWSConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || aws.ToString(cfg.BaseEndpoint) != "http://127.0.0.1:4566" {
		t.Errorf("region %q endpoint %q, want eu-west-1 (AWS_REGION first) and the endpoint", cfg.Region, aws.ToString(cfg.BaseEndpoint))
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIAEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" {
		t.Errorf("credentials %+v, %v", creds, err)
	}

	delete(env, "AWS_REGION")
	delete(env, "AWS_ENDPOINT_URL")
	if cfg, err = LambdaAWSConfig(func(k string) string { return env[k] }); err != nil || cfg.Region != "us-east-1" || cfg.BaseEndpoint != nil {
		t.Errorf("without AWS_REGION: region %q endpoint %v err %v, want AWS_DEFAULT_REGION and no endpoint", cfg.Region, cfg.BaseEndpoint, err)
	}
	for _, missing := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"} {
		e := map[string]string{}
		for k, v := range env {
			if k != missing {
				e[k] = v
			}
		}
		_, err := LambdaAWSConfig(func(k string) string { return e[k] })
		want := missing
		if missing == "AWS_DEFAULT_REGION" {
			want = "AWS_REGION"
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("without %s: %v, want an error naming %s", missing, err, want)
		}
	}
}
