package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Recipients is whom a rule notifies. Lists may be omitted; at least one
// recipient is required in all.
type Recipients struct {
	Users         []string         `json:"users,omitzero" maxItems:"500" doc:"Ids of users in the directory; they are reached at their email." example:"[\"alice\"]"`
	Groups        []string         `json:"groups,omitzero" maxItems:"500" doc:"Ids of groups in the directory; every member is reached." example:"[\"sre\"]"`
	Emails        []string         `json:"emails,omitzero" maxItems:"500" doc:"Email addresses outside the directory (RFC 5322 addr-spec)." example:"[\"oncall@example.com\"]"`
	SlackChannels []string         `json:"slackChannels,omitzero" maxItems:"500" doc:"Slack channel ids (C… or G…) of the connected workspace." example:"[\"C0123456789\"]"`
	Webhooks      []string         `json:"webhooks,omitzero" maxItems:"500" doc:"Ids of connected webhooks (/v1/integrations/webhooks)." example:"[\"whk_01JDZ5Q8X9K7W3M2N4P6R8T0VB\"]"`
	UserChannels  []notify.Channel `json:"userChannels,omitempty" enum:"email,slack" doc:"How users and group members are reached: email, Slack direct message (the Slack user with their email, found with users.lookupByEmail), or both. Default: email." example:"[\"email\",\"slack\"]"`
}

func recipientsFrom(r notify.Recipients) Recipients {
	r.Normalize()
	return Recipients(r)
}

func (r Recipients) domain() notify.Recipients {
	d := notify.Recipients(r)
	d.Normalize()
	return d
}

// RulePolicy names the policy a policy rule belongs to.
type RulePolicy struct {
	ID        string `json:"id" doc:"The policy id."`
	Name      string `json:"name" doc:"The policy name."`
	OnSuccess bool   `json:"onSuccess" doc:"Fires when a job of the policy succeeds."`
	OnFailure bool   `json:"onFailure" doc:"Fires when a job of the policy fails."`
}

// RuleDigest is a rule's digest window.
type RuleDigest struct {
	WindowSeconds int `json:"windowSeconds" minimum:"0" maximum:"86400" doc:"The window, in seconds; windows are aligned to multiples of it since the Unix epoch. 0: off." example:"60"`
}

// RuleQuietHours is a rule's quiet hours.
type RuleQuietHours struct {
	TimeZone      string   `json:"timeZone" doc:"An IANA time zone." example:"Europe/Paris"`
	Start         string   `json:"start" pattern:"^[0-2][0-9]:[0-5][0-9]$" doc:"Wall-clock start, HH:MM in timeZone." example:"22:00"`
	End           string   `json:"end" pattern:"^[0-2][0-9]:[0-5][0-9]$" doc:"Wall-clock end, HH:MM; before start, the window spans midnight." example:"07:00"`
	Days          []string `json:"days,omitempty" enum:"sun,mon,tue,wed,thu,fri,sat" doc:"The weekdays on which a window starts; every day when omitted."`
	AllowCritical bool     `json:"allowCritical,omitempty" doc:"CRITICAL events go out at once even in the window."`
}

// RuleTemplate is a rule's message template.
type RuleTemplate struct {
	Subject string `json:"subject,omitempty" maxLength:"8192" doc:"Go text/template over the event (.Type .Severity .Title .Message .Source .Policy .PolicyID .Job .Status .URL .Time .Labels .ID; functions upper lower trim default trunc label replace): replaces the title in the subject and the Slack headline." example:"{{.Severity}} {{.Title | trunc 80}}"`
	Text    string `json:"text,omitempty" maxLength:"8192" doc:"The message text of mails (HTML mail is this text, escaped) and of Slack without a slack template." example:"{{.Message}}\nPolicy: {{default \"none\" .Policy}}"`
	Slack   string `json:"slack,omitempty" maxLength:"8192" doc:"The message text in Slack; escaped for mrkdwn, so <!channel> and friends stay inert."`
}

// Rule is the JSON representation of a notification rule. Read-only fields
// are ignored in requests, so a client can GET a rule, change a field and
// PUT it back.
type Rule struct {
	ID         string             `json:"id,omitzero" readOnly:"true" doc:"Assigned by the service: rul_<ulid>, or policy:<policyId> for a policy rule." example:"rul_01JDZ5Q8X9K7W3M2N4P6R8T0VB"`
	Name       string             `json:"name" doc:"Unique (case-insensitive), 1-128 characters, no leading or trailing space." example:"Production failures"`
	Enabled    *bool              `json:"enabled,omitempty" doc:"Whether the rule fires; true when omitted on create."`
	EventTypes []notify.EventType `json:"eventTypes" enum:"SYSTEM,CONFIGURATION,JOB,DEPLOYMENT,SPENDING" doc:"The event types the rule fires on; at least one." example:"[\"JOB\",\"DEPLOYMENT\"]"`
	Severities []notify.Severity  `json:"severities" enum:"CRITICAL,WARNING,INFO" doc:"The severities the rule fires on; at least one." example:"[\"CRITICAL\"]"`
	Recipients Recipients         `json:"recipients" doc:"Whom the rule notifies; at least one recipient."`
	Source     notify.Source      `json:"source,omitzero" readOnly:"true" enum:"user,policy" doc:"user: managed through /v1/rules; policy: carried by a policy, managed through /v1/policies/{policyId}/notification."`
	Policy     *RulePolicy        `json:"policy,omitempty" readOnly:"true" doc:"The policy of a policy rule."`
	QuietHours *RuleQuietHours    `json:"quietHours,omitempty" doc:"Events in the window are held and delivered as one digest when it ends. Wall-clock times are kept across DST changes."`
	Template   *RuleTemplate      `json:"template,omitempty" doc:"Per-rule message templates, validated on save (422 with the line and column). When several rules reach one recipient with one event, the template of the rule with the lowest id wins."`
	Digest     *RuleDigest        `json:"digest,omitempty" doc:"Storm control: per recipient, the first event of each window goes out at once and the others are folded into one digest sent when the window closes. Omitted or windowSeconds 0: off."`
	Version    int64              `json:"version,omitzero" readOnly:"true" doc:"Incremented on every change; the ETag is this number, quoted."`
	CreatedAt  time.Time          `json:"createdAt,omitzero" readOnly:"true"`
	UpdatedAt  time.Time          `json:"updatedAt,omitzero" readOnly:"true"`
}

func ruleFrom(r *notify.Rule) Rule {
	enabled := r.Enabled
	out := Rule{
		ID:         r.ID,
		Name:       r.Name,
		Enabled:    &enabled,
		EventTypes: r.EventTypes,
		Severities: r.Severities,
		Recipients: recipientsFrom(r.Recipients),
		Source:     r.Source,
		Version:    r.Version,
		CreatedAt:  r.CreatedAt,
		UpdatedAt:  r.UpdatedAt,
	}
	if r.Policy != nil {
		p := RulePolicy(*r.Policy)
		out.Policy = &p
	}
	if r.Digest != nil {
		out.Digest = &RuleDigest{WindowSeconds: r.Digest.WindowSeconds}
	}
	if r.QuietHours != nil {
		q := RuleQuietHours(*r.QuietHours)
		out.QuietHours = &q
	}
	if r.Template != nil {
		t := RuleTemplate(*r.Template)
		out.Template = &t
	}
	return out
}

// RuleList is one page of rules.
type RuleList struct {
	Items []Rule `json:"items" doc:"The rules of this page, oldest first."`
	Next  string `json:"next,omitempty" doc:"The cursor of the next page; absent on the last page."`
}

type listRulesInput struct {
	Source  string `query:"source" enum:"user,policy" doc:"Only rules of this source."`
	Enabled string `query:"enabled" enum:"true,false" doc:"Only enabled (true) or disabled (false) rules."`
	Limit   int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Items per page."`
	Cursor  string `query:"cursor" maxLength:"1024" doc:"The next value of the previous page."`
}

func (in *listRulesInput) page() store.Page { return store.Page{Limit: in.Limit, Cursor: in.Cursor} }

// pageParams are the pagination parameters of every list.
type pageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Items per page."`
	Cursor string `query:"cursor" maxLength:"1024" doc:"The next value of the previous page."`
}

func (p pageParams) page() store.Page { return store.Page{Limit: p.Limit, Cursor: p.Cursor} }

type ruleIDInput struct {
	ID string `path:"id" maxLength:"200" doc:"The rule id."`
}

type ruleOutput struct {
	Status   int
	ETag     string `header:"ETag"`
	Location string `header:"Location"`
	Body     Rule
}

type listRulesOutput struct{ Body RuleList }

type createRuleInput struct{ Body Rule }

type updateRuleInput struct {
	ID      string `path:"id" maxLength:"200" doc:"The rule id."`
	IfMatch string `header:"If-Match" doc:"Required: the ETag of the version you read, e.g. \"3\"."`
	Body    Rule
}

type deleteRuleInput struct {
	ID      string `path:"id" maxLength:"200" doc:"The rule id."`
	IfMatch string `header:"If-Match" doc:"Optional: delete only if the resource is still at this version (its ETag)."`
}

func (s *server) registerRules(api huma.API) {
	tags := []string{"rules"}
	huma.Register(api, huma.Operation{
		OperationID: "listRules", Method: http.MethodGet, Path: "/v1/rules", Tags: tags,
		Summary:     "List rules",
		Description: "Lists user and policy rules, oldest first, one page at a time.",
		Errors:      []int{400, 401, 422},
	}, s.listRules)
	huma.Register(api, huma.Operation{
		OperationID: "createRule", Method: http.MethodPost, Path: "/v1/rules", Tags: tags,
		Summary: "Create a rule", DefaultStatus: http.StatusCreated, MaxBodyBytes: maxBody + 1,
		Errors: []int{400, 401, 409, 413, 415, 422},
	}, s.createRule)
	huma.Register(api, huma.Operation{
		OperationID: "getRule", Method: http.MethodGet, Path: "/v1/rules/{id}", Tags: tags,
		Summary: "Get a rule", Errors: []int{401, 404},
	}, s.getRule)
	huma.Register(api, huma.Operation{
		OperationID: "updateRule", Method: http.MethodPut, Path: "/v1/rules/{id}", Tags: tags,
		Summary:      "Replace a rule",
		Description:  "Replaces a user rule. Policy rules are read-only here (409 read_only).",
		MaxBodyBytes: maxBody + 1, Errors: []int{400, 401, 404, 409, 412, 413, 415, 422, 428},
	}, s.updateRule)
	huma.Register(api, huma.Operation{
		OperationID: "deleteRule", Method: http.MethodDelete, Path: "/v1/rules/{id}", Tags: tags,
		Summary: "Delete a rule", DefaultStatus: http.StatusNoContent,
		Description: "Deletes a user rule. Policy rules are read-only here (409 read_only).",
		Errors:      []int{401, 404, 409, 412},
	}, s.deleteRule)
}

func (s *server) listRules(ctx context.Context, in *listRulesInput) (*listRulesOutput, error) {
	f := store.RuleFilter{Source: notify.Source(in.Source), Page: in.page()}
	if in.Enabled != "" {
		b := in.Enabled == "true"
		f.Enabled = &b
	}
	rules, next, err := s.rules.List(ctx, f)
	if err != nil {
		return nil, s.fail(ctx, "list rules", err)
	}
	out := &listRulesOutput{Body: RuleList{Items: make([]Rule, 0, len(rules)), Next: next}}
	for _, r := range rules {
		out.Body.Items = append(out.Body.Items, ruleFrom(r))
	}
	return out, nil
}

func (s *server) getRule(ctx context.Context, in *ruleIDInput) (*ruleOutput, error) {
	r, err := s.rules.Get(ctx, in.ID)
	if err != nil {
		return nil, s.fail(ctx, "get rule", err)
	}
	return ruleResponse(http.StatusOK, r), nil
}

func ruleResponse(status int, r *notify.Rule) *ruleOutput {
	return &ruleOutput{Status: status, ETag: etag(r.Version), Body: ruleFrom(r)}
}

// input is the part of the body a client sets.
func (r *Rule) input() admin.RuleInput {
	in := admin.RuleInput{Name: r.Name, Enabled: r.Enabled, EventTypes: r.EventTypes, Severities: r.Severities, Recipients: r.Recipients.domain()}
	if r.Digest != nil {
		in.Digest = &notify.DigestPolicy{WindowSeconds: r.Digest.WindowSeconds}
	}
	if r.QuietHours != nil {
		q := notify.QuietHours(*r.QuietHours)
		in.QuietHours = &q
	}
	if r.Template != nil {
		t := notify.Template(*r.Template)
		in.Template = &t
	}
	return in
}

func (s *server) createRule(ctx context.Context, in *createRuleInput) (*ruleOutput, error) {
	if in.Body.Source == notify.SourcePolicy || in.Body.Policy != nil {
		field := "source"
		if in.Body.Policy != nil {
			field = "policy"
		}
		return nil, fieldf(field, "policy rules are managed with PUT /v1/policies/{policyId}/notification")
	}
	r, err := s.rules.Create(ctx, in.Body.input())
	if err != nil {
		return nil, s.fail(ctx, "create rule", err)
	}
	out := ruleResponse(http.StatusCreated, r)
	out.Location = "/v1/rules/" + r.ID
	return out, nil
}

func (s *server) updateRule(ctx context.Context, in *updateRuleInput) (*ruleOutput, error) {
	r, err := s.rules.Update(ctx, in.ID, in.Body.input(), ifMatchLater(in.IfMatch, true))
	if err != nil {
		return nil, s.fail(ctx, "update rule", err)
	}
	return ruleResponse(http.StatusOK, r), nil
}

func (s *server) deleteRule(ctx context.Context, in *deleteRuleInput) (*struct{}, error) {
	pre, err := parseIfMatch(in.IfMatch)
	if err != nil {
		return nil, err
	}
	if err := s.rules.Delete(ctx, in.ID, pre.admin()); err != nil {
		return nil, s.fail(ctx, "delete rule", err)
	}
	return nil, nil
}
