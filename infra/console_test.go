package main

// The admin console on AWS: its public routes beside the authorized API,
// the Cognito app client it signs in with (authorization code + PKCE),
// the hosted sign-in domain, the api function's ARGO_NOTIFY_OIDC_*
// variables and the ConsoleUrl output.

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
)

// Two more stacks, synthesized only when a test here asks: the default
// deployment (Cognito, no custom domain) and an external issuer with the
// console's own client id.
var (
	cognitoOnce, externalOnce sync.Once
	cognitoStack, externalStk *synthesized
)

func consoleStack(t *testing.T, once *sync.Once, s **synthesized, ctx map[string]any) *synthesized {
	t.Helper()
	once.Do(func() {
		dir := t.TempDir()
		if err := writeFakeBootstraps(dir); err != nil {
			t.Fatal(err)
		}
		ctx[CtxAssetDir] = dir
		var err error
		if *s, err = synth(ctx); err != nil {
			t.Fatalf("synth: %v", err)
		}
	})
	if *s == nil {
		t.Fatal("the stack did not synthesize (see the first test that asked)")
	}
	return *s
}

// cognitoDefault is the default deployment: a Cognito pool, the HTTP API's
// own endpoint.
func cognitoDefault(t *testing.T) *synthesized {
	return consoleStack(t, &cognitoOnce, &cognitoStack, map[string]any{
		CtxStackName: "ArgoNotifyProd", CtxEmailFrom: "notify@example.net", CtxAlarmEmail: "oncall@example.net", CtxRetain: false, CtxJobSources: "none",
	})
}

// external is an OIDC provider with the console registered as its own client.
func external(t *testing.T) *synthesized {
	return consoleStack(t, &externalOnce, &externalStk, map[string]any{
		CtxStackName: "ArgoNotifyIdp", CtxEmailFrom: "notify@example.net", CtxAlarmEmail: "oncall@example.net", CtxRetain: false, CtxJobSources: "none",
		CtxJWTIssuer: "https://idp.example.net/oauth2/default", CtxJWTAudience: "api://argo-notify",
		CtxConsoleClientID: "0oaconsole", CtxConsoleScopes: "openid,email,profile,offline_access",
		CtxConsoleLogoutURL: "https://idp.example.net/logout",
	})
}

// apiEnv is the api function's environment, and every other function's.
func apiEnv(s *synthesized) (api map[string]any, others []map[string]any) {
	fns := s.resources("AWS::Lambda::Function")
	for id, fn := range fns {
		vars := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
		if id == s.logicalID(s.ns.Functions[FnAPI]) {
			api = vars
		} else {
			others = append(others, vars)
		}
	}
	return api, others
}

// TestConsoleRoutes: GET / and GET /{proxy+} reach the api function with no
// authorizer; no /v1 route lost its authorizer; POST /v1/events stays on
// ingest.
func TestConsoleRoutes(t *testing.T) {
	for _, s := range []*synthesized{full, lean} {
		t.Run(*s.ns.StackName(), func(t *testing.T) {
			apiIntegration, ingestIntegration := "", ""
			for id, in := range s.resources("AWS::ApiGatewayV2::Integration") {
				switch uri := js(props(in)["IntegrationUri"]); {
				case strings.Contains(uri, s.logicalID(s.ns.Functions[FnAPI])):
					apiIntegration = id
				case strings.Contains(uri, s.logicalID(s.ns.Functions[FnIngest])):
					ingestIntegration = id
				}
			}
			var keys []string
			for id, r := range s.resources("AWS::ApiGatewayV2::Route") {
				p := props(r)
				key, target := p["RouteKey"].(string), js(p["Target"])
				keys = append(keys, key)
				switch {
				case key == "GET /" || key == "GET /{proxy+}":
					if p["AuthorizationType"] != "NONE" || p["AuthorizerId"] != nil {
						t.Errorf("console route %q (%s) has authorization %v %s: its assets are public", key, id, p["AuthorizationType"], js(p["AuthorizerId"]))
					}
					if !strings.Contains(target, apiIntegration) {
						t.Errorf("console route %q targets %s, want the api integration", key, target)
					}
				case key == "ANY /scim/v2/{proxy+}":
					// SCIM checks its own token; the function serves this
					// route with SCIM alone (pkg/awslambda/apifn: scimOnly).
					if p["AuthorizerId"] != nil || !strings.Contains(target, apiIntegration) {
						t.Errorf("SCIM route: target %s, authorizer %s", target, js(p["AuthorizerId"]))
					}
				case key == "POST /v1/events":
					if !strings.Contains(target, ingestIntegration) || p["AuthorizerId"] != nil {
						t.Errorf("ingest route: target %s, authorizer %s", target, js(p["AuthorizerId"]))
					}
				case strings.Contains(key, " /v1"):
					if p["AuthorizationType"] != "JWT" || p["AuthorizerId"] == nil {
						t.Errorf("route %q lost its JWT authorizer: %s", key, js(p))
					}
				default:
					t.Errorf("unexpected route %q", key)
				}
			}
			sort.Strings(keys)
			if want := []string{"ANY /scim/v2/{proxy+}", "ANY /v1", "ANY /v1/{proxy+}", "GET /", "GET /{proxy+}", "POST /v1/events"}; !slices.Equal(keys, want) {
				t.Errorf("routes = %v, want %v", keys, want)
			}
		})
	}
}

// TestCognitoConsoleClient: the pool's app client is the console's: a
// public client for the authorization code grant (PKCE), the console URL as
// callback and sign-out URL, no implicit flow, no password auth.
func TestCognitoConsoleClient(t *testing.T) {
	tests := []struct {
		name       string
		s          func(*testing.T) *synthesized
		consoleURL string // a fragment of the URL's template JSON
	}{
		{"custom domain", func(*testing.T) *synthesized { return full }, `"https://notify.example.com/"`},
		{"API endpoint", cognitoDefault, `{"Fn::Join":["",["https://",{"Ref":"HttpApi`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s(t)
			clients := s.resources("AWS::Cognito::UserPoolClient")
			if len(clients) != 1 {
				t.Fatalf("%d user pool clients, want 1", len(clients))
			}
			for _, c := range clients {
				p := props(c)
				want := map[string]any{
					"AllowedOAuthFlows":               []any{"code"},
					"AllowedOAuthFlowsUserPoolClient": true,
					"AllowedOAuthScopes":              []any{"openid", "email", "profile"},
					"GenerateSecret":                  false,
					"SupportedIdentityProviders":      []any{"COGNITO"},
					"ExplicitAuthFlows":               []any{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
				}
				for k, v := range want {
					if js(p[k]) != js(v) {
						t.Errorf("%s = %s, want %s", k, js(p[k]), js(v))
					}
				}
				for _, k := range []string{"CallbackURLs", "LogoutURLs"} {
					urls, _ := p[k].([]any)
					if len(urls) != 1 || !strings.HasPrefix(js(urls[0]), tt.consoleURL) {
						t.Errorf("%s = %s, want the console URL %s…", k, js(p[k]), tt.consoleURL)
					}
				}
				if got := js(p["ExplicitAuthFlows"]); strings.Contains(got, "USER_PASSWORD") || strings.Contains(js(p), "implicit") {
					t.Errorf("the client allows password auth or the implicit flow: %s", js(p))
				}
			}
			domains := s.resources("AWS::Cognito::UserPoolDomain")
			if len(domains) != 1 {
				t.Fatalf("%d user pool domains, want 1", len(domains))
			}
			for _, d := range domains {
				got := js(props(d)["Domain"])
				prefix := "argo-notify-" + strings.ToLower(*s.ns.StackName())
				if !strings.Contains(got, `"`+prefix+`"`) || !strings.Contains(got, "AWS::AccountId") || props(d)["CustomDomainConfig"] != nil {
					t.Errorf("domain = %s, want a Cognito prefix domain %s-<account>", got, prefix)
				}
			}
			outputs := s.json["Outputs"].(map[string]any)
			if got := js(outputs["ConsoleUrl"].(map[string]any)["Value"]); !strings.HasPrefix(got, tt.consoleURL) {
				t.Errorf("ConsoleUrl = %s, want %s…", got, tt.consoleURL)
			}
			if outputs["SignInDomain"] == nil {
				t.Error("no SignInDomain output")
			}
		})
	}
}

// TestConsoleSignInEnvironment: the api function, and only it, is told the
// issuer, the client id, the scopes and (Cognito) the logout endpoint.
func TestConsoleSignInEnvironment(t *testing.T) {
	oidcVars := []string{deploy.EnvOIDCIssuer, deploy.EnvOIDCClientID, deploy.EnvOIDCScopes, deploy.EnvOIDCLogoutURL}
	t.Run("cognito", func(t *testing.T) {
		for _, s := range []*synthesized{full, cognitoDefault(t)} {
			api, others := apiEnv(s)
			// The console's issuer is the one the authorizer checks tokens against.
			var authorizerIssuer string
			for _, a := range s.resources("AWS::ApiGatewayV2::Authorizer") {
				authorizerIssuer = js(props(a)["JwtConfiguration"].(map[string]any)["Issuer"])
			}
			if got := js(api[deploy.EnvOIDCIssuer]); got != authorizerIssuer || !strings.Contains(got, s.logicalID(s.ns.UserPool)) {
				t.Errorf("%s = %s, want the authorizer's issuer %s", deploy.EnvOIDCIssuer, got, authorizerIssuer)
			}
			if got := js(api[deploy.EnvOIDCClientID]); !strings.Contains(got, `{"Ref":"AdminUserPoolAdminClient`) {
				t.Errorf("%s = %s, want the app client", deploy.EnvOIDCClientID, got)
			}
			if api[deploy.EnvOIDCScopes] != "openid email profile" {
				t.Errorf("%s = %v", deploy.EnvOIDCScopes, api[deploy.EnvOIDCScopes])
			}
			if got := js(api[deploy.EnvOIDCLogoutURL]); !strings.Contains(got, "AdminUserPoolAdminDomain") || !strings.Contains(got, ".auth.") || !strings.HasSuffix(got, `.amazoncognito.com/logout"]]}`) {
				t.Errorf("%s = %s, want https://<domain>.auth.<region>.amazoncognito.com/logout", deploy.EnvOIDCLogoutURL, got)
			}
			for _, vars := range others {
				for _, v := range oidcVars {
					if vars[v] != nil {
						t.Errorf("a function other than api has %s", v)
					}
				}
			}
		}
	})
	t.Run("external issuer with consoleClientId", func(t *testing.T) {
		s := external(t)
		api, _ := apiEnv(s)
		want := map[string]any{
			deploy.EnvOIDCIssuer:    "https://idp.example.net/oauth2/default",
			deploy.EnvOIDCClientID:  "0oaconsole",
			deploy.EnvOIDCScopes:    "openid email profile offline_access",
			deploy.EnvOIDCLogoutURL: "https://idp.example.net/logout",
		}
		for k, v := range want {
			if api[k] != v {
				t.Errorf("%s = %v, want %v", k, api[k], v)
			}
		}
		if n := len(s.resources("AWS::Cognito::UserPool")) + len(s.resources("AWS::Cognito::UserPoolDomain")); n != 0 {
			t.Errorf("%d Cognito resources with an external issuer", n)
		}
		if got := js(s.json["Outputs"].(map[string]any)["ConsoleUrl"]); !strings.Contains(got, `"Ref":"HttpApi`) {
			t.Errorf("ConsoleUrl = %s", got)
		}
		if len(s.nagError) > 0 {
			t.Errorf("cdk-nag errors:\n%s", strings.Join(s.nagError, "\n"))
		}
	})
	t.Run("external issuer without consoleClientId", func(t *testing.T) {
		api, _ := apiEnv(lean)
		for _, v := range oidcVars {
			if api[v] != nil {
				t.Errorf("lean stack (no consoleClientId) sets %s: the console should ask for a token", v)
			}
		}
	})
}

// TestConsoleNagClean: the console's public routes carry the one accepted
// finding (APIG4, with its reason) and nothing else is left unsuppressed.
func TestConsoleNagClean(t *testing.T) {
	s := cognitoDefault(t)
	if len(s.nagError) > 0 {
		t.Errorf("cdk-nag errors:\n%s", strings.Join(s.nagError, "\n"))
	}
	n := 0
	for id, r := range s.resources("AWS::ApiGatewayV2::Route") {
		if !strings.HasPrefix(props(r)["RouteKey"].(string), "GET ") {
			continue
		}
		n++
		if got := js(r["Metadata"]); !strings.Contains(got, "AwsSolutions-APIG4") || !strings.Contains(got, "console") {
			t.Errorf("console route %s: metadata %s, want the APIG4 suppression with its reason", id, got)
		}
	}
	if n != 2 {
		t.Errorf("%d console routes, want 2", n)
	}
}

func TestConsoleConfig(t *testing.T) {
	base := func(kv ...any) map[string]any {
		m := map[string]any{CtxEmailFrom: "notify@example.com", CtxAlarmEmail: "oncall@example.com"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	ok := []map[string]any{
		base(),
		base(CtxCognitoDomainPrefix, "acme-notify"),
		base(CtxJWTIssuer, "https://idp.example.com/", CtxJWTAudience, "a", CtxConsoleClientID, "c"),
		base(CtxJWTIssuer, "https://idp.example.com/", CtxJWTAudience, "a", CtxConsoleClientID, "c", CtxConsoleScopes, "openid,groups", CtxConsoleLogoutURL, "https://idp.example.com/logout"),
	}
	for _, m := range ok {
		if _, err := LoadConfig(ctx(m)); err != nil {
			t.Errorf("%v: %v", m, err)
		}
	}
	bad := []struct {
		m    map[string]any
		want string
	}{
		{base(CtxConsoleClientID, "c"), CtxJWTIssuer},
		{base(CtxJWTIssuer, "https://idp.example.com/", CtxJWTAudience, "a", CtxConsoleScopes, "openid"), "need " + CtxConsoleClientID},
		{base(CtxJWTIssuer, "https://idp.example.com/", CtxJWTAudience, "a", CtxConsoleClientID, "c", CtxConsoleScopes, "email"), "must include openid"},
		{base(CtxJWTIssuer, "https://idp.example.com/", CtxJWTAudience, "a", CtxConsoleClientID, "c", CtxConsoleLogoutURL, "http://x/"), "https://"},
		{base(CtxCognitoDomainPrefix, "Acme"), CtxCognitoDomainPrefix},
		{base(CtxCognitoDomainPrefix, "my-aws-notify"), "without aws"},
		{base(CtxJWTIssuer, "https://idp.example.com/", CtxJWTAudience, "a", CtxCognitoDomainPrefix, "acme"), "there is none"},
	}
	for _, tt := range bad {
		_, err := LoadConfig(ctx(tt.m))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want one mentioning %q", tt.m, err, tt.want)
		}
	}
}
