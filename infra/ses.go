package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/jsii-runtime-go"
)

// ses creates the SES identity to send from (unless an existing one is
// given) and lists the resources the dispatcher may send email from.
func (b *builder) ses() {
	cfg := b.cfg
	b.sesResources = []*string{}
	if cfg.SESIdentityARN != "" {
		b.sesResources = append(b.sesResources, jsii.String(cfg.SESIdentityARN))
	} else {
		idn := awsses.Identity_Email(jsii.String(cfg.SESIdentity))
		if !strings.Contains(cfg.SESIdentity, "@") {
			idn = awsses.Identity_Domain(jsii.String(cfg.SESIdentity))
		}
		b.identity = awsses.NewEmailIdentity(b.stack, jsii.String("EmailIdentity"), &awsses.EmailIdentityProps{Identity: idn})
		b.sesResources = append(b.sesResources, b.stack.FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("ses"),
			Resource:     jsii.String("identity"),
			ResourceName: b.identity.EmailIdentityName(),
		}))
	}
	if cfg.SESConfigurationSet != "" {
		b.sesResources = append(b.sesResources, b.stack.FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("ses"),
			Resource:     jsii.String("configuration-set"),
			ResourceName: jsii.String(cfg.SESConfigurationSet),
		}))
	}
}
