package main

import (
	"fmt"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"
)

// alarms raises an alarm when events are parked in either dead-letter
// queue or wait too long in the queue, sent to the configured topic or
// email address (a new KMS-encrypted topic), if any.
func (b *builder) alarms() {
	ns, cfg, stack := b.ns, b.cfg, b.stack
	var alarmAction awscloudwatch.IAlarmAction
	switch {
	case cfg.AlarmTopicARN != "":
		alarmAction = awscloudwatchactions.NewSnsAction(awssns.Topic_FromTopicArn(stack, jsii.String("AlarmTopic"), jsii.String(cfg.AlarmTopicARN)))
	case cfg.AlarmEmail != "":
		key := awskms.NewKey(stack, jsii.String("AlarmTopicKey"), &awskms.KeyProps{
			Description:       jsii.String("argo-notify alarm topic encryption"),
			EnableKeyRotation: jsii.Bool(true),
			RemovalPolicy:     b.removal,
		})
		// CloudWatch publishes to the encrypted topic with this key.
		key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("CloudWatchAlarms"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
			Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
			Resources:  jsii.Strings("*"),
		}), nil)
		topic := awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
			DisplayName: jsii.String("argo-notify alarms"),
			MasterKey:   key,
			EnforceSSL:  jsii.Bool(true),
		})
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), nil))
		alarmAction = awscloudwatchactions.NewSnsAction(topic)
	}
	alarms := []awscloudwatch.Alarm{
		awscloudwatch.NewAlarm(stack, jsii.String("DeadLetterAlarm"), &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String(fmt.Sprintf("argo-notify: events failed %d times and are parked in the dead-letter queue (GET /v1/dead-letters)", deploy.MaxReceiveCount)),
			Metric: ns.DeadLetter.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
				Period:    awscdk.Duration_Minutes(jsii.Number(1)),
				Statistic: jsii.String("Maximum"),
			}),
			Threshold:          jsii.Number(0),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		}),
		awscloudwatch.NewAlarm(stack, jsii.String("EventsDeadLetterAlarm"), &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String("argo-notify: EventBridge could not deliver job events to ingest"),
			Metric: ns.EventsDLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
				Period:    awscdk.Duration_Minutes(jsii.Number(1)),
				Statistic: jsii.String("Maximum"),
			}),
			Threshold:          jsii.Number(0),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		}),
		awscloudwatch.NewAlarm(stack, jsii.String("OldestMessageAlarm"), &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String("argo-notify: events wait too long in the queue (dispatcher failing or throttled)"),
			Metric: ns.Queue.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{
				Period:    awscdk.Duration_Minutes(jsii.Number(5)),
				Statistic: jsii.String("Maximum"),
			}),
			Threshold:          jsii.Number(cfg.OldestMessageAlarmSeconds),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		}),
	}
	if alarmAction != nil {
		for _, a := range alarms {
			a.AddAlarmAction(alarmAction)
		}
	}

}
