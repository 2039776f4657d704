package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// PolicyNotification is the notification a policy carries: whom to tell
// when a job the policy runs succeeds or fails. It is stored as a rule of
// source policy (id policy:<policyId>), listed by GET /v1/rules.
type PolicyNotification struct {
	PolicyID   string     `json:"policyId,omitzero" readOnly:"true" doc:"The policy id, from the path." example:"nightly-etl"`
	PolicyName string     `json:"policyName,omitzero" maxLength:"256" doc:"The policy's display name." example:"Nightly ETL"`
	Name       string     `json:"name,omitzero" doc:"The rule's unique name; default: Policy <policyName or policyId>." example:"Policy Nightly ETL"`
	Enabled    *bool      `json:"enabled,omitempty" doc:"Whether the notification fires; true when omitted on create."`
	OnSuccess  bool       `json:"onSuccess" required:"false" doc:"Default false. Notify when a job of the policy succeeds."`
	OnFailure  bool       `json:"onFailure" required:"false" doc:"Default false. Notify when a job of the policy fails."`
	Recipients Recipients `json:"recipients" doc:"Whom to notify; at least one recipient."`
	RuleID     string     `json:"ruleId,omitzero" readOnly:"true" doc:"The id of the rule that carries the notification." example:"policy:nightly-etl"`
	Version    int64      `json:"version,omitzero" readOnly:"true" doc:"Incremented on every change; the ETag is this number, quoted."`
	CreatedAt  time.Time  `json:"createdAt,omitzero" readOnly:"true"`
	UpdatedAt  time.Time  `json:"updatedAt,omitzero" readOnly:"true"`
}

func policyFrom(r *notify.Rule) PolicyNotification {
	enabled := r.Enabled
	out := PolicyNotification{
		Name:       r.Name,
		Enabled:    &enabled,
		Recipients: recipientsFrom(r.Recipients),
		RuleID:     r.ID,
		Version:    r.Version,
		CreatedAt:  r.CreatedAt,
		UpdatedAt:  r.UpdatedAt,
	}
	if r.Policy != nil {
		out.PolicyID = r.Policy.ID
		out.PolicyName = r.Policy.Name
		out.OnSuccess = r.Policy.OnSuccess
		out.OnFailure = r.Policy.OnFailure
	}
	return out
}

type policyIDInput struct {
	PolicyID string `path:"policyId" maxLength:"128" doc:"The policy id." example:"nightly-etl"`
}

type putPolicyInput struct {
	PolicyID string `path:"policyId" maxLength:"128" doc:"The policy id." example:"nightly-etl"`
	IfMatch  string `header:"If-Match" doc:"Optional: replace only if the notification is at this version (its ETag); * requires that it exists."`
	Body     PolicyNotification
}

type deletePolicyInput struct {
	PolicyID string `path:"policyId" maxLength:"128" doc:"The policy id." example:"nightly-etl"`
	IfMatch  string `header:"If-Match" doc:"Optional: delete only if the resource is still at this version (its ETag)."`
}

type policyOutput struct {
	Status int
	ETag   string `header:"ETag"`
	Body   PolicyNotification
}

func (s *server) registerPolicies(api huma.API) {
	tags := []string{"policies"}
	huma.Register(api, huma.Operation{
		OperationID: "getPolicyNotification", Method: http.MethodGet, Path: "/v1/policies/{policyId}/notification", Tags: tags,
		Summary: "Get a policy's notification", Errors: []int{401, 404},
	}, s.getPolicy)
	huma.Register(api, huma.Operation{
		OperationID: "putPolicyNotification", Method: http.MethodPut, Path: "/v1/policies/{policyId}/notification", Tags: tags,
		Summary:      "Create or replace a policy's notification",
		Description:  "Creates (201) or replaces (200) the notification of a policy. It fires on JOB events of the policy whose status is SUCCEEDED (onSuccess) or FAILED (onFailure), whatever their severity.",
		MaxBodyBytes: maxBody + 1,
		Errors:       []int{400, 401, 409, 412, 413, 415, 422},
	}, s.putPolicy)
	// The handler answers 201 or 200 with the same body; document both.
	put := api.OpenAPI().Paths["/v1/policies/{policyId}/notification"].Put
	created := *put.Responses["200"]
	created.Description = "Created"
	put.Responses["201"] = &created
	huma.Register(api, huma.Operation{
		OperationID: "deletePolicyNotification", Method: http.MethodDelete, Path: "/v1/policies/{policyId}/notification", Tags: tags,
		Summary: "Delete a policy's notification", DefaultStatus: http.StatusNoContent, Errors: []int{401, 404, 412},
	}, s.deletePolicy)
}

func (s *server) getPolicy(ctx context.Context, in *policyIDInput) (*policyOutput, error) {
	r, err := s.rules.GetPolicy(ctx, in.PolicyID)
	if err != nil {
		return nil, s.fail(ctx, "get policy rule", err)
	}
	return &policyOutput{Status: http.StatusOK, ETag: etag(r.Version), Body: policyFrom(r)}, nil
}

func (s *server) putPolicy(ctx context.Context, in *putPolicyInput) (*policyOutput, error) {
	b := in.Body
	r, created, err := s.rules.PutPolicy(ctx, in.PolicyID, admin.PolicyInput{
		PolicyName: b.PolicyName, Name: b.Name, Enabled: b.Enabled,
		OnSuccess: b.OnSuccess, OnFailure: b.OnFailure, Recipients: b.Recipients.domain(),
	}, ifMatchLater(in.IfMatch, false))
	if err != nil {
		return nil, renamePolicyFields(s.fail(ctx, "put policy rule", err))
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return &policyOutput{Status: status, ETag: etag(r.Version), Body: policyFrom(r)}, nil
}

func (s *server) deletePolicy(ctx context.Context, in *deletePolicyInput) (*struct{}, error) {
	pre, err := parseIfMatch(in.IfMatch)
	if err != nil {
		return nil, err
	}
	if err := s.rules.DeletePolicy(ctx, in.PolicyID, pre.admin()); err != nil {
		return nil, s.fail(ctx, "delete policy rule", err)
	}
	return nil, nil
}

// renamePolicyFields renames the fields of a rule's validation problem to
// those of the PolicyNotification body.
func renamePolicyFields(err error) error {
	p, ok := err.(*Problem)
	if !ok || p.Code != notify.EInvalid {
		return err
	}
	names := map[string]string{"policy": "onSuccess", "policy.name": "policyName", "policy.id": "policyId"}
	for i, f := range p.Errors {
		if n, ok := names[f.Field]; ok {
			p.Errors[i].Field = n
		}
	}
	if len(p.Errors) == 1 {
		p.Detail = p.Errors[0].Field + ": " + p.Errors[0].Message
	}
	return p
}
