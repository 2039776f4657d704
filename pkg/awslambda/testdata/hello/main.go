// Command hello is the smallest Go Lambda function, the baseline the
// argo-notify functions' sizes and invoke times are measured against.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, in json.RawMessage) (string, error) { return "hello", nil })
}
