package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
)

// queues creates the event queue, its dead-letter queue (after
// deploy.MaxReceiveCount receives) and the dead-letter queue of the job
// events EventBridge could not deliver to ingest.
func (b *builder) queues() {
	ns := b.ns
	// Dead letters are failed events an admin may still redrive: they
	// follow the data's removal policy.
	ns.DeadLetter = awssqs.NewQueue(b.stack, jsii.String("DeadLetterQueue"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		RemovalPolicy:   b.removal,
	})
	ns.Queue = awssqs.NewQueue(b.stack, jsii.String("Queue"), &awssqs.QueueProps{
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(queueVisibilitySeconds)),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           ns.DeadLetter,
			MaxReceiveCount: jsii.Number(deploy.MaxReceiveCount),
		},
	})
	// EventsDLQ holds job events EventBridge could not deliver to ingest,
	// and those ingest failed on after Lambda's asynchronous retries.
	ns.EventsDLQ = awssqs.NewQueue(b.stack, jsii.String("EventsDeadLetterQueue"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		RemovalPolicy:   b.removal,
	})
}
