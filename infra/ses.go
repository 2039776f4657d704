package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsses"
	"github.com/aws/jsii-runtime-go"
)

// sesConfigSetDimension is the CloudWatch dimension the configuration set's
// event destination writes (an auto-tag SES puts on every message): the
// bounce and complaint alarms read the stack's own counts by it.
const sesConfigSetDimension = "ses:configuration-set"

// ses creates the SES identity to send from (unless an existing one is
// given) and a configuration set (unless an existing one is named) whose
// send, bounce, complaint and reject counts go to CloudWatch, and lists the
// resources the dispatcher may send email from.
func (b *builder) ses() {
	cfg := b.cfg
	b.sesResources = []*string{}
	if cfg.SESIdentityARN != "" {
		b.sesResources = append(b.sesResources, jsii.String(cfg.SESIdentityARN))
	} else {
		// cfg.SESIdentity is an address or a domain, never a display name
		// (LoadConfig parsed emailFrom).
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
	if cfg.SESSandbox {
		// In the sandbox SES authorizes the sender against the recipients'
		// identities too (each a verified address of this account).
		b.sesResources = append(b.sesResources, b.stack.FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("ses"),
			Resource:     jsii.String("identity"),
			ResourceName: jsii.String("*"),
		}))
	}
	var set awsses.IConfigurationSet
	if cfg.SESConfigurationSet != "" {
		set = awsses.ConfigurationSet_FromConfigurationSetName(b.stack, jsii.String("ConfigurationSet"), jsii.String(cfg.SESConfigurationSet))
		b.configSetName = jsii.String(cfg.SESConfigurationSet)
	} else {
		created := awsses.NewConfigurationSet(b.stack, jsii.String("ConfigurationSet"), &awsses.ConfigurationSetProps{
			ReputationMetrics: jsii.Bool(true),
			SendingEnabled:    jsii.Bool(true),
		})
		set = created
		b.configSetName = created.ConfigurationSetName()
	}
	awsses.NewConfigurationSetEventDestination(b.stack, jsii.String("ConfigurationSetMetrics"), &awsses.ConfigurationSetEventDestinationProps{
		ConfigurationSet: set,
		Destination: awsses.EventDestination_CloudWatchDimensions(&[]*awsses.CloudWatchDimension{{
			Name:         jsii.String(sesConfigSetDimension),
			Source:       awsses.CloudWatchDimensionSource_MESSAGE_TAG,
			DefaultValue: jsii.String("none"),
		}}),
		Events: &[]awsses.EmailSendingEvent{
			awsses.EmailSendingEvent_SEND, awsses.EmailSendingEvent_DELIVERY, awsses.EmailSendingEvent_BOUNCE,
			awsses.EmailSendingEvent_COMPLAINT, awsses.EmailSendingEvent_REJECT,
		},
	})
	b.sesResources = append(b.sesResources, b.stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("ses"),
		Resource:     jsii.String("configuration-set"),
		ResourceName: b.configSetName,
	}))
}
