package apifn

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
)

// withActor names the caller API Gateway's JWT authorizer checked (its sub
// claim) as the actor of the changes the request makes, for the audit
// trail. Without one (a route outside the authorizer) ctx is unchanged.
func withActor(ctx context.Context, req events.APIGatewayV2HTTPRequest) context.Context {
	if a := req.RequestContext.Authorizer; a != nil && a.JWT != nil {
		if sub := a.JWT.Claims["sub"]; sub != "" {
			return admin.WithActor(ctx, "jwt:"+sub)
		}
	}
	return ctx
}
