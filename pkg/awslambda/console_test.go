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
		return viaRoute(t, a, "GET /{proxy+}", path)
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

	// A request that came by a console route is served by the console
	// alone, whatever its path: none reaches the API without the authorizer.
	for _, p := range []string{"/v1%2Frules", "/v1/rules", "/healthz", "/v1"} {
		resp := get(p)
		if resp.StatusCode != 200 || !strings.Contains(resp.Body, `<div id="app">`) {
			t.Errorf("GET %s by the console route: %d %.200s, want the console's index.html", p, resp.StatusCode, resp.Body)
		}
	}
	// By an authorized route, the API answers (here: its 404 problem).
	if resp := viaRoute(t, a, "ANY /v1/{proxy+}", "/v1/no-such-thing"); resp.StatusCode != 404 || !strings.Contains(resp.Headers["Content-Type"], "problem+json") {
		t.Errorf("ANY /v1/{proxy+}: %d %s %.200s, want the API's 404 problem", resp.StatusCode, resp.Headers["Content-Type"], resp.Body)
	}

	env[awslambda.EnvOIDCIssuer] = "not a url"
	if _, err := awslambda.NewAPI(awslambda.ConfigFromEnv(func(k string) string { return env[k] }), awslambda.Clients{}, awslambda.Options{Logger: slog.New(slog.DiscardHandler)}); err == nil || !strings.Contains(err.Error(), awslambda.EnvOIDCIssuer) {
		t.Errorf("a bad issuer: error %v, want one naming %s", err, awslambda.EnvOIDCIssuer)
	}
}

// viaRoute serves a GET that API Gateway matched to routeKey.
func viaRoute(t *testing.T, a *awslambda.API, routeKey, path string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := a.Handle(context.Background(), events.APIGatewayV2HTTPRequest{
		RawPath: path, RouteKey: routeKey, Headers: map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: path}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestSCIMRouteServesOnlySCIM: a request that came by the SCIM route (no
// JWT authorizer) is served only when its cleaned path is under /scim/v2,
// where SCIM checks its own token; any other path is 404, so that route
// never reaches the admin API.
func TestSCIMRouteServesOnlySCIM(t *testing.T) {
	env := map[string]string{awslambda.EnvTable: "t"}
	a, err := awslambda.NewAPI(awslambda.ConfigFromEnv(func(k string) string { return env[k] }), awslambda.Clients{}, awslambda.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	const key = "ANY /scim/v2/{proxy+}"
	for _, p := range []string{"/v1/rules", "/scim/v2/../../v1/rules", "/scim/v2/..%2F..%2Fv1/rules", "/healthz", "/"} {
		if resp := viaRoute(t, a, key, p); resp.StatusCode != 404 {
			t.Errorf("%s by the SCIM route: %d %.200s, want 404", p, resp.StatusCode, resp.Body)
		}
	}
	// Under /scim/v2, SCIM answers: without its token, 401 in SCIM's format.
	resp := viaRoute(t, a, key, "/scim/v2/Users")
	if resp.StatusCode != 401 || !strings.Contains(resp.Headers["Content-Type"], "scim+json") {
		t.Errorf("/scim/v2/Users without a token: %d %s %.200s, want SCIM's 401", resp.StatusCode, resp.Headers["Content-Type"], resp.Body)
	}
}
