package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// AuditEntry is one recorded change.
type AuditEntry struct {
	ID         string          `json:"id" doc:"Unique; sorts by time."`
	At         time.Time       `json:"at"`
	Actor      string          `json:"actor" doc:"Who: admin (the admin API) or scim (an identity provider)." example:"scim"`
	Action     string          `json:"action" doc:"What, e.g. user.create, user.update, rule.prune, directory.replace, scim.token.rotate." example:"rule.prune"`
	Resource   string          `json:"resource" doc:"The kind of what changed: user, group, rule, directory, credential (the SCIM token), smtp, slack or webhook." example:"rule"`
	ResourceID string          `json:"resourceId,omitempty" example:"rul_01J8Z"`
	Summary    string          `json:"summary,omitempty"`
	Before     json.RawMessage `json:"before,omitempty" doc:"Rules, users and groups: the resource before the change (absent on create). Integrations are recorded by name only."`
	After      json.RawMessage `json:"after,omitempty" doc:"The resource after the change (absent on delete)."`
}

// AuditList is one page of the audit trail, newest first.
type AuditList struct {
	Items []AuditEntry `json:"items"`
	Next  string       `json:"next,omitempty" doc:"The cursor of the next page; absent on the last page."`
}

func (s *server) registerAudit(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "listAudit", Method: http.MethodGet, Path: "/v1/audit", Tags: []string{"audit"},
		Summary:     "List the audit trail",
		Description: "Every change made through the admin API or SCIM, newest first: who, what, when, and for rules, users and groups the state before and after.",
		Errors:      []int{400, 401, 422},
	}, func(ctx context.Context, in *pageParams) (*struct{ Body AuditList }, error) {
		es, next, err := s.store.ListAudit(ctx, in.page())
		if err != nil {
			return nil, s.fail(ctx, "list audit", err)
		}
		out := &struct{ Body AuditList }{Body: AuditList{Items: make([]AuditEntry, 0, len(es)), Next: next}}
		for _, e := range es {
			out.Body.Items = append(out.Body.Items, auditFrom(e))
		}
		return out, nil
	})
	s.registerSCIM(api)
}

func auditFrom(e *notify.AuditEntry) AuditEntry {
	return AuditEntry{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Resource: e.Resource, ResourceID: e.ResourceID,
		Summary: e.Summary, Before: e.Before, After: e.After}
}
