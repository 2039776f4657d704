package apifn

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
)

func TestWithActor(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	if got := admin.ActorOf(withActor(context.Background(), req)); got != admin.ActorAdmin {
		t.Errorf("no authorizer: actor %q", got)
	}
	req.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": "u-123"}},
	}
	if got := admin.ActorOf(withActor(context.Background(), req)); got != "jwt:u-123" {
		t.Errorf("JWT: actor %q", got)
	}
}
