package main

import (
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/jsii-runtime-go"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
)

// consoleScopes are the scopes the console asks for by default: the
// Cognito app client allows exactly these.
var consoleScopes = []string{"openid", "email", "profile"}

// authorizer returns the admin routes' JWT authorizer: the configured
// issuer's, or else that of a new Cognito user pool for the admins, whose
// app client is the console's (authorization code with PKCE, redirecting
// back to consoleURL). It also tells the api function, which serves the
// console, how the console signs in.
func (b *builder) authorizer(consoleURL *string) awsapigatewayv2.IHttpRouteAuthorizer {
	cfg := b.cfg
	if cfg.JWTIssuer != "" {
		if cfg.ConsoleClientID != "" {
			scopes := cfg.ConsoleScopes
			if len(scopes) == 0 {
				scopes = consoleScopes
			}
			b.consoleSignIn(jsii.String(cfg.JWTIssuer), jsii.String(cfg.ConsoleClientID), strings.Join(scopes, " "), cfg.ConsoleLogoutURL)
		}
		return awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("AdminJwt"), jsii.String(cfg.JWTIssuer),
			&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{JwtAudience: jsii.Strings(cfg.JWTAudience...)})
	}
	b.ns.UserPool, b.poolClient = newAdminUserPool(b.stack, cfg, b.removal, consoleURL)
	domain := b.ns.UserPool.AddDomain(jsii.String("AdminDomain"), &awscognito.UserPoolDomainOptions{
		CognitoDomain: &awscognito.CognitoDomainOptions{DomainPrefix: b.cognitoDomainPrefix()},
	})
	logout := awscdk.Fn_Join(jsii.String(""), &[]*string{domain.BaseUrl(nil), jsii.String("/logout")})
	// The access token: its client_id claim is the app client's id, the
	// audience the user pool authorizer accepts.
	// The issuer exactly as the user pool authorizer spells it (the
	// tokens' iss claim), so the console and the authorizer agree.
	issuer := awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://cognito-idp."), b.stack.Region(),
		jsii.String(".amazonaws.com/"), b.ns.UserPool.UserPoolId()})
	b.consoleSignIn(issuer, b.poolClient.UserPoolClientId(), strings.Join(consoleScopes, " "), *logout)
	return awsapigatewayv2authorizers.NewHttpUserPoolAuthorizer(jsii.String("AdminUserPool"), b.ns.UserPool,
		&awsapigatewayv2authorizers.HttpUserPoolAuthorizerProps{UserPoolClients: &[]awscognito.IUserPoolClient{b.poolClient}})
}

// consoleSignIn sets the api function's ARGO_NOTIFY_OIDC_* variables,
// which pkg/console serves at /console-config.json and names in the
// console's Content-Security-Policy.
func (b *builder) consoleSignIn(issuer, clientID *string, scopes, logoutURL string) {
	fn := b.ns.Functions[FnAPI]
	fn.AddEnvironment(jsii.String(deploy.EnvOIDCIssuer), issuer, nil)
	fn.AddEnvironment(jsii.String(deploy.EnvOIDCClientID), clientID, nil)
	fn.AddEnvironment(jsii.String(deploy.EnvOIDCScopes), jsii.String(scopes), nil)
	if logoutURL != "" {
		fn.AddEnvironment(jsii.String(deploy.EnvOIDCLogoutURL), jsii.String(logoutURL), nil)
	}
}

// cognitoDomainPrefix is the hosted sign-in domain's prefix
// (<prefix>.auth.<region>.amazoncognito.com), unique per region across
// all accounts: the configured one, or argo-notify-<stack>-<account>.
func (b *builder) cognitoDomainPrefix() *string {
	if b.cfg.CognitoDomainPrefix != "" {
		return jsii.String(b.cfg.CognitoDomainPrefix)
	}
	name := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(b.cfg.StackName), "-"), "-")
	for _, reserved := range []string{"aws", "amazon", "cognito"} {
		name = strings.ReplaceAll(name, reserved, "x")
	}
	if len(name) > 36 {
		name = strings.Trim(name[:36], "-")
	}
	return awscdk.Fn_Join(jsii.String("-"), &[]*string{jsii.String("argo-notify"), jsii.String(name), awscdk.Aws_ACCOUNT_ID()})
}

// newAdminUserPool creates the Cognito user pool (admins only, MFA
// required) and the console's app client, whose id is the JWT audience:
// a public client (no secret) for the authorization code grant with PKCE
// on the hosted sign-in pages, redirecting back to the console.
func newAdminUserPool(stack awscdk.Stack, cfg Config, removal awscdk.RemovalPolicy, consoleURL *string) (awscognito.UserPool, awscognito.UserPoolClient) {
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
		GenerateSecret: jsii.Bool(false),
		// SRP only: the console signs in through the hosted pages (which
		// also enrol the TOTP authenticator at the first sign-in), never
		// with a password sent to the API.
		AuthFlows: &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		OAuth: &awscognito.OAuthSettings{
			Flows:        &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true), ImplicitCodeGrant: jsii.Bool(false), ClientCredentials: jsii.Bool(false)},
			Scopes:       &[]awscognito.OAuthScope{awscognito.OAuthScope_OPENID(), awscognito.OAuthScope_EMAIL(), awscognito.OAuthScope_PROFILE()},
			CallbackUrls: &[]*string{consoleURL},
			LogoutUrls:   &[]*string{consoleURL},
		},
		SupportedIdentityProviders: &[]awscognito.UserPoolClientIdentityProvider{awscognito.UserPoolClientIdentityProvider_COGNITO()},
		AccessTokenValidity:        awscdk.Duration_Hours(jsii.Number(1)),
		IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
		PreventUserExistenceErrors: jsii.Bool(true),
	})
	return pool, client
}
