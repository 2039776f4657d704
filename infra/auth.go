package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/jsii-runtime-go"
)

// authorizer returns the admin routes' JWT authorizer: the configured
// issuer's, or else that of a new Cognito user pool for the admins.
func (b *builder) authorizer() awsapigatewayv2.IHttpRouteAuthorizer {
	cfg := b.cfg
	if cfg.JWTIssuer != "" {
		return awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("AdminJwt"), jsii.String(cfg.JWTIssuer),
			&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{JwtAudience: jsii.Strings(cfg.JWTAudience...)})
	}
	b.ns.UserPool, b.poolClient = newAdminUserPool(b.stack, cfg, b.removal)
	return awsapigatewayv2authorizers.NewHttpUserPoolAuthorizer(jsii.String("AdminUserPool"), b.ns.UserPool,
		&awsapigatewayv2authorizers.HttpUserPoolAuthorizerProps{UserPoolClients: &[]awscognito.IUserPoolClient{b.poolClient}})
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
