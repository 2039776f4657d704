package awslambda_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/argoproj-labs/argo-notify/pkg/awslambda"
)

// TestAPIServesConsole: the api function answers the console's public
// routes (GET / and /console-config.json, outside the JWT authorizer) from
// the ARGO_NOTIFY_OIDC_* variables the stack sets, and refuses a bad issuer.
func TestAPIServesConsole(t *testing.T) {
	env := map[string]string{
		awslambda.EnvTable:         "t",
		awslambda.EnvOIDCIssuer:    "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC",
		awslambda.EnvOIDCClientID:  "client123",
		awslambda.EnvOIDCScopes:    "openid email profile",
		awslambda.EnvOIDCLogoutURL: "https://argo-notify-x.auth.eu-west-1.amazoncognito.com/logout",
	}
	cfg := awslambda.ConfigFromEnv(func(k string) string { return env[k] })
	a, err := awslambda.NewAPI(cfg, awslambda.Clients{}, awslambda.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		resp, err := a.Handle(context.Background(), events.APIGatewayV2HTTPRequest{
			RawPath: path, RouteKey: "GET /{proxy+}", Headers: map[string]string{},
			RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: path}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	cfgResp := get("/console-config.json")
	if cfgResp.StatusCode != 200 || !strings.Contains(cfgResp.Body, `"signIn":"oidc"`) || !strings.Contains(cfgResp.Body, `"clientId":"client123"`) {
		t.Errorf("/console-config.json: %d %s", cfgResp.StatusCode, cfgResp.Body)
	}
	index := get("/")
	if index.StatusCode != 200 || !strings.Contains(index.Body, `<div id="app">`) {
		t.Errorf("GET /: %d %.200s", index.StatusCode, index.Body)
	}
	if csp := index.Headers["Content-Security-Policy"]; !strings.Contains(csp, "connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com https://argo-notify-x.auth.eu-west-1.amazoncognito.com;") {
		t.Errorf("CSP = %q", csp)
	}

	env[awslambda.EnvOIDCIssuer] = "not a url"
	if _, err := awslambda.NewAPI(awslambda.ConfigFromEnv(func(k string) string { return env[k] }), awslambda.Clients{}, awslambda.Options{Logger: slog.New(slog.DiscardHandler)}); err == nil || !strings.Contains(err.Error(), awslambda.EnvOIDCIssuer) {
		t.Errorf("a bad issuer: error %v, want one naming %s", err, awslambda.EnvOIDCIssuer)
	}
}
