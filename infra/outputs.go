package main

import (
	"fmt"
	"strings"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/jsii-runtime-go"
)

// outputs lists what an operator needs after a deploy: URLs, names, ARNs
// and the DNS records to create.
func (b *builder) outputs() {
	ns, cfg, stack := b.ns, b.cfg, b.stack
	out := func(id, desc string, value *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(desc)})
	}
	out("ConsoleUrl", "Admin console: open it in a browser and sign in (the OIDC callback and sign-out URL)", b.consoleURL())
	out("ApiUrl", "Admin API base URL (append v1/...; JWT required)", b.stage.Url())
	out("IngestUrl", "POST signed Argo events here", awscdk.Fn_Join(jsii.String(""), &[]*string{b.stage.Url(), jsii.String("v1/events")}))
	out("EventBusArn", "Custom EventBridge bus for Argo events (source \"argo\")", ns.Bus.EventBusArn())
	out("EventBusName", "Custom EventBridge bus name", ns.Bus.EventBusName())
	out("IngestSecretArn", "HMAC key for X-Argo-Signature: aws secretsmanager get-secret-value --secret-id <arn> --query SecretString --output text", ns.IngestSecret.SecretArn())
	out("TableName", "DynamoDB table", ns.Table.TableName())
	out("QueueUrl", "Event queue", ns.Queue.QueueUrl())
	out("DeadLetterQueueUrl", fmt.Sprintf("Dead-letter queue (events that failed %d times)", deploy.MaxReceiveCount), ns.DeadLetter.QueueUrl())
	if ns.UserPool != nil {
		out("UserPoolId", "Cognito user pool for admins (create users with aws cognito-idp admin-create-user)", ns.UserPool.UserPoolId())
		out("UserPoolClientId", "Cognito app client id: the console's (code + PKCE) and the JWT audience", b.poolClient.UserPoolClientId())
		if d, ok := ns.UserPool.Node().TryFindChild(jsii.String("AdminDomain")).(awscognito.UserPoolDomain); ok {
			out("SignInDomain", "Cognito hosted sign-in pages the console redirects to", d.BaseUrl(nil))
		}
	}
	if b.domain != nil {
		out("CustomDomainTarget", "Point a CNAME (or alias) for the custom domain at this name", b.domain.RegionalDomainName())
	}
	if identity := b.identity; identity != nil && !strings.Contains(cfg.SESIdentity, "@") {
		for i, rec := range []struct{ name, value *string }{
			{identity.DkimDnsTokenName1(), identity.DkimDnsTokenValue1()},
			{identity.DkimDnsTokenName2(), identity.DkimDnsTokenValue2()},
			{identity.DkimDnsTokenName3(), identity.DkimDnsTokenValue3()},
		} {
			out(fmt.Sprintf("DkimCname%d", i+1), "SES DKIM: CNAME <name> -> <value>", awscdk.Fn_Join(jsii.String(" -> "), &[]*string{rec.name, rec.value}))
		}
	}
}
