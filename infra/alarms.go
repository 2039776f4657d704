package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
)

// Thresholds of the SES reputation alarms, in percent over an hour: below
// the rates at which SES puts an account under review (5% and 0.1%).
const (
	bounceRateAlarmPercent    = 5
	complaintRateAlarmPercent = 0.1
)

// alarms raises an alarm on everything that loses or delays notifications
// (dead letters, queue age, function errors and throttles, API 5xx, table
// and index throttles, deliveries recorded failed, SES account errors,
// bounce and complaint rates), sends each to the required alarm target
// (an existing topic, or a new KMS-encrypted topic with an email
// subscription) and shows them all on one dashboard.
func (b *builder) alarms() {
	ns, cfg, stack := b.ns, b.cfg, b.stack
	action := b.alarmAction()
	var all []awscloudwatch.Alarm
	add := func(id, desc string, metric awscloudwatch.IMetric, threshold float64) {
		a := awscloudwatch.NewAlarm(stack, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String("argo-notify: " + desc),
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(action)
		all = append(all, a)
	}
	minutes := func(n float64) awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(n)) }
	maxOf := &awscloudwatch.MetricOptions{Period: minutes(1), Statistic: jsii.String("Maximum")}
	sum5 := &awscloudwatch.MetricOptions{Period: minutes(5), Statistic: jsii.String("Sum")}

	add("DeadLetterAlarm", fmt.Sprintf("events failed %d times and are parked in the dead-letter queue (GET /v1/dead-letters, then redrive)", deploy.MaxReceiveCount),
		ns.DeadLetter.MetricApproximateNumberOfMessagesVisible(maxOf), 0)
	add("EventsDeadLetterAlarm", "EventBridge could not deliver job events to ingest",
		ns.EventsDLQ.MetricApproximateNumberOfMessagesVisible(maxOf), 0)
	add("OldestMessageAlarm", "events wait too long in the queue (dispatcher failing or throttled)",
		ns.Queue.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{Period: minutes(5), Statistic: jsii.String("Maximum")}),
		cfg.OldestMessageAlarmSeconds)
	for _, s := range functionSpecs {
		fn := ns.Functions[s.name]
		add(title(s.name)+"ErrorsAlarm", "the "+s.name+" function failed (see its log group)", fn.MetricErrors(sum5), 0)
		add(title(s.name)+"ThrottlesAlarm", "the "+s.name+" function was throttled (account concurrency or its reserved concurrency)", fn.MetricThrottles(sum5), 0)
	}
	add("Api5xxAlarm", "the HTTP API answered 5xx", ns.API.MetricServerError(sum5), 0)
	throttles := func(index string) awscloudwatch.IMetric {
		dims := map[string]*string{"TableName": ns.Table.TableName()}
		if index != "" {
			dims["GlobalSecondaryIndexName"] = jsii.String(index)
		}
		m := func(name string) awscloudwatch.IMetric {
			return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace: jsii.String("AWS/DynamoDB"), MetricName: jsii.String(name), DimensionsMap: &dims,
				Period: minutes(5), Statistic: jsii.String("Sum"),
			})
		}
		return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression:   jsii.String("FILL(r,0)+FILL(w,0)"),
			UsingMetrics: &map[string]awscloudwatch.IMetric{"r": m("ReadThrottleEvents"), "w": m("WriteThrottleEvents")},
			Label:        jsii.String("throttle events"),
			Period:       minutes(5),
		})
	}
	add("TableThrottlesAlarm", "DynamoDB throttled reads or writes on the table", throttles(""), 0)
	add("IndexThrottlesAlarm", "DynamoDB throttled the gsi1 index (a throttled index throttles the table's writes)", throttles(gsiName), 0)
	for _, ch := range deploy.MetricChannels {
		add("DeliveriesFailed"+title(ch)+"Alarm", ch+" deliveries were recorded failed (GET /v1/deliveries?status=failed)",
			b.metric(deploy.MetricDeliveriesFailed, map[string]*string{deploy.DimChannel: jsii.String(ch)}), 0)
	}
	add("SESAccountErrorsAlarm", "SES refused sends for the account's setup (sandbox, unverified sender, paused sending, AccessDenied): retried until fixed, then parked",
		b.metric(deploy.MetricSESAccountErrors, nil), 0)
	add("BounceRateAlarm", fmt.Sprintf("SES bounce rate over %v%% in an hour (SES reviews the account at 5%%)", bounceRateAlarmPercent),
		b.sesRate("Bounce"), bounceRateAlarmPercent)
	add("ComplaintRateAlarm", fmt.Sprintf("SES complaint rate over %v%% in an hour (SES reviews the account at 0.1%%)", complaintRateAlarmPercent),
		b.sesRate("Complaint"), complaintRateAlarmPercent)

	dash := awscloudwatch.NewDashboard(stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)),
	})
	var row []awscloudwatch.IWidget
	for i, a := range all {
		row = append(row, awscloudwatch.NewAlarmWidget(&awscloudwatch.AlarmWidgetProps{
			Alarm: a, Title: a.Node().Id(), Width: jsii.Number(8), Height: jsii.Number(5),
		}))
		if len(row) == 3 || i == len(all)-1 {
			dash.AddWidgets(row...)
			row = nil
		}
	}
	b.ns.Dashboard = dash
}

// metric is one of the dispatcher's embedded metrics, summed over 5 minutes.
func (b *builder) metric(name string, dims map[string]*string) awscloudwatch.IMetric {
	p := &awscloudwatch.MetricProps{
		Namespace: jsii.String(b.metricNamespace()), MetricName: jsii.String(name),
		Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum"),
	}
	if dims != nil {
		p.DimensionsMap = &dims
	}
	return awscloudwatch.NewMetric(p)
}

// sesRate is the percentage of this stack's SES sends (its configuration
// set's event destination) that ended in event over an hour.
func (b *builder) sesRate(event string) awscloudwatch.IMetric {
	dims := map[string]*string{sesConfigSetDimension: b.configSetName}
	m := func(name string) awscloudwatch.IMetric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/SES"), MetricName: jsii.String(name), DimensionsMap: &dims,
			Period: awscdk.Duration_Hours(jsii.Number(1)), Statistic: jsii.String("Sum"),
		})
	}
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String("100*FILL(e,0)/s"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{"e": m(event), "s": m("Send")},
		Label:        jsii.String(event + " rate (%)"),
		Period:       awscdk.Duration_Hours(jsii.Number(1)),
	})
}

// alarmAction is where every alarm goes: the configured topic, or a new
// KMS-encrypted topic the alarm email subscribes to. LoadConfig requires
// one of them.
func (b *builder) alarmAction() awscloudwatch.IAlarmAction {
	cfg, stack := b.cfg, b.stack
	if cfg.AlarmTopicARN != "" {
		return awscloudwatchactions.NewSnsAction(awssns.Topic_FromTopicArn(stack, jsii.String("AlarmTopic"), jsii.String(cfg.AlarmTopicARN)))
	}
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
	return awscloudwatchactions.NewSnsAction(topic)
}
