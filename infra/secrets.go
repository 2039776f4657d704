package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
)

// ingestSecret creates the generated HMAC key of POST /v1/events.
func (b *builder) ingestSecret() {
	b.ns.IngestSecret = awssecretsmanager.NewSecret(b.stack, jsii.String("IngestSecret"), &awssecretsmanager.SecretProps{
		// No fixed name: a retained secret of a deleted stack would
		// block the next deploy of the same stack name.
		Description: jsii.String("HMAC-SHA256 key that signs POST /v1/events (X-Argo-Signature)"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(64),
			ExcludePunctuation: jsii.Bool(true),
		},
		RemovalPolicy: b.removal,
	})
}
