package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/jsii-runtime-go"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
)

// eventBridge creates the custom bus for Argo events and the rules that
// send its events, and the terminal state changes of the configured AWS job
// services, to ingest.
func (b *builder) eventBridge() {
	ns, stack := b.ns, b.stack
	ingest := ns.Functions[FnIngest]
	ns.Bus = awsevents.NewEventBus(stack, jsii.String("EventBus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(b.cfg.EventBusName),
		Description:  jsii.String("Argo events for argo-notify (source \"argo\", detail = an Argo event)"),
	})
	target := func() awsevents.IRuleTarget {
		return awseventstargets.NewLambdaFunction(ingest, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: ns.EventsDLQ,
			RetryAttempts:   jsii.Number(eventTargetRetries),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(6)),
		})
	}
	awsevents.NewRule(stack, jsii.String("ArgoEventsRule"), &awsevents.RuleProps{
		Description:  jsii.String("Argo events on the custom bus to ingest"),
		EventBus:     ns.Bus,
		EventPattern: &awsevents.EventPattern{Source: jsii.Strings(deploy.SourceArgo)},
		Targets:      &[]awsevents.IRuleTarget{target()},
	})
	for _, src := range b.cfg.JobSources {
		js := jobSourcePatterns[src]
		p := js.pattern
		detail := map[string]any{p.StatusField: p.Terminal}
		if src == JobSourceECS {
			// Standalone tasks only: a service's tasks stop whenever it
			// scales or deploys.
			detail["group"] = []any{map[string]any{"prefix": deploy.ECSTaskGroupPrefix}}
		}
		awsevents.NewRule(stack, jsii.String(js.id+"Rule"), &awsevents.RuleProps{
			Description: jsii.String(p.DetailType + " (terminal states only) to ingest"),
			EventPattern: &awsevents.EventPattern{
				Source:     jsii.Strings(p.Source),
				DetailType: jsii.Strings(p.DetailType),
				Detail:     &detail,
			},
			Targets: &[]awsevents.IRuleTarget{target()},
		})
	}
}

// jobSource is one AWS job service the stack routes to ingest: the
// construct id of its rule and its pattern, which pkg/deploy shares with
// ingest.
type jobSource struct {
	id      string
	pattern deploy.JobSource
}

// jobSourcePatterns filter to terminal states so that non-terminal changes
// never invoke ingest.
var jobSourcePatterns = map[string]jobSource{
	JobSourceBatch:     {"BatchJob", deploy.Batch},
	JobSourceStates:    {"StepFunctionsExecution", deploy.States},
	JobSourceCodeBuild: {"CodeBuildBuild", deploy.CodeBuild},
	JobSourceECS:       {"EcsTask", deploy.ECS},
}
