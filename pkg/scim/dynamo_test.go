package scim_test

import (
	"context"
	"crypto/rand"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/argoproj-labs/argo-notify/pkg/internal/kumotest"
	"github.com/argoproj-labs/argo-notify/pkg/scim"
	"github.com/argoproj-labs/argo-notify/pkg/store/dynamo"
)

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// dynamoStore is a fresh table on the DynamoDB emulator that
// _tools/with-peers.sh starts; the test skips without
// ARGO_NOTIFY_INTEGRATION=1 (and fails if it is set and kumo is not up).
func dynamoStore(t *testing.T) backend {
	t.Helper()
	c := dynamodb.NewFromConfig(kumotest.Config(t), func(o *dynamodb.Options) {
		o.DisableValidateResponseChecksum = true // kumo's CRC32 header is wrong (EMULATORS.md)
	})
	name := "argo-notify-" + unsafe.ReplaceAllString(t.Name(), "-") + "-" + rand.Text()[:8]
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := dynamo.CreateTable(ctx, c, name); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("delete table %s: %v", name, err)
		}
	})
	return dynamo.New(c, name)
}

func TestOktaDynamo(t *testing.T) { oktaSequence(t, newEnv(t, dynamoStore(t), scim.Config{})) }

func TestEntraIDDynamo(t *testing.T) { entraSequence(t, newEnv(t, dynamoStore(t), scim.Config{})) }

func TestConcurrentMemberAddsDynamo(t *testing.T) { concurrentMemberAdds(t, dynamoStore(t)) }
