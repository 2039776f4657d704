package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/jsii-runtime-go"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
)

// gsiName is the table's one global secondary index.
const gsiName = "gsi1"

// table creates the DynamoDB table: pk/sk strings, the gsi1 index that
// lists deliveries (sharded keys, see pkg/store/dynamo), TTL on delivery
// records, point-in-time recovery.
func (b *builder) table() {
	ns := b.ns
	ns.Table = awsdynamodb.NewTable(b.stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String("sk"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		TimeToLiveAttribute: jsii.String("ttl"),
		DeletionProtection:  jsii.Bool(b.cfg.Retain),
		RemovalPolicy:       b.removal,
	})
	ns.Table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:    jsii.String(gsiName),
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("gsi1pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String("gsi1sk"), Type: awsdynamodb.AttributeType_STRING},
		// Deliveries only (records of other kinds are not indexed): keys
		// and what the list filters read; the page is read with
		// BatchGetItem. An index write is then ~1 unit, not the item's size.
		ProjectionType:   awsdynamodb.ProjectionType_INCLUDE,
		NonKeyAttributes: jsii.Strings(deploy.DeliveryIndexAttributes...),
	})
}
