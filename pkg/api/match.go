package api

import (
	"bytes"
	"context"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/argoproj-labs/argo-notify/pkg/api/problem"
	"github.com/argoproj-labs/argo-notify/pkg/dispatch"
	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// Planner matches an event against the rules and resolves the recipients
// they reach, sending nothing. *dispatch.Dispatcher implements it.
type Planner interface {
	Plan(ctx context.Context, ev *notify.Event) (*dispatch.Plan, error)
}

// Event is an Argo event as POST /v1/events and POST /v1/match take it.
// Unknown fields are rejected.
type Event struct {
	ID         string            `json:"id,omitempty" maxLength:"128" pattern:"^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$" doc:"Optional; generated (evt_<ulid>) when absent. The same id sent twice notifies once." example:"argo-7f3c2a"`
	Type       string            `json:"type" enum:"SYSTEM,CONFIGURATION,JOB,DEPLOYMENT,SPENDING" doc:"What the event is about."`
	Severity   string            `json:"severity" enum:"CRITICAL,WARNING,INFO" doc:"How urgent it is."`
	Title      string            `json:"title" minLength:"1" maxLength:"256" doc:"1-256 characters." example:"Deployment web-7 failed"`
	Message    string            `json:"message,omitempty" maxLength:"16384" doc:"At most 16 KiB."`
	Source     string            `json:"source,omitempty" maxLength:"256" doc:"Where the event comes from." example:"argo/prod"`
	OccurredAt *time.Time        `json:"occurredAt,omitempty" doc:"When it happened (RFC 3339)."`
	ReceivedAt *time.Time        `json:"receivedAt,omitempty" readOnly:"true" doc:"When argo-notify received it; set by the service."`
	PolicyID   string            `json:"policyId,omitempty" maxLength:"128" doc:"The policy a JOB event's job belongs to."`
	PolicyName string            `json:"policyName,omitempty" maxLength:"256" doc:"The policy's name."`
	JobID      string            `json:"jobId,omitempty" maxLength:"2048" doc:"The job's id."`
	Status     string            `json:"status,omitempty" enum:"SUCCEEDED,FAILED" doc:"The terminal status of a JOB event's job."`
	URL        string            `json:"url,omitempty" maxLength:"2048" format:"uri" doc:"An absolute http(s) link to the event in Argo."`
	Labels     map[string]string `json:"labels,omitempty" maxProperties:"32" doc:"Up to 32 pairs; keys 1-128 bytes, values up to 1024 bytes."`
}

func eventFrom(e *notify.Event) Event {
	out := Event{
		ID: e.ID, Type: string(e.Type), Severity: string(e.Severity), Title: e.Title, Message: e.Message,
		Source: e.Source, PolicyID: e.PolicyID, PolicyName: e.PolicyName, JobID: e.JobID,
		Status: string(e.Status), URL: e.URL, Labels: e.Labels,
	}
	if !e.OccurredAt.IsZero() {
		t := e.OccurredAt
		out.OccurredAt = &t
	}
	if !e.ReceivedAt.IsZero() {
		t := e.ReceivedAt
		out.ReceivedAt = &t
	}
	return out
}

// MatchedRule is a rule an event matches.
type MatchedRule struct {
	ID       string `json:"id" doc:"The rule id."`
	Name     string `json:"name" doc:"The rule name."`
	Source   string `json:"source" enum:"user,policy" doc:"user: a rule of /v1/rules; policy: the notification of a policy."`
	PolicyID string `json:"policyId,omitempty" doc:"The policy of a policy rule."`
}

func matchedRule(r send.RuleRef) MatchedRule {
	m := MatchedRule{ID: r.ID, Name: r.Name, Source: string(notify.SourceUser)}
	if pid, ok := strings.CutPrefix(r.ID, notify.PolicyRuleID("")); ok {
		m.Source, m.PolicyID = string(notify.SourcePolicy), pid
	}
	return m
}

// RuleRef names a rule.
type RuleRef struct {
	ID   string `json:"id" doc:"The rule id."`
	Name string `json:"name" doc:"The rule name."`
}

// MatchRecipient is one recipient an event would reach, with every rule
// that reached it: it would get one notification naming them all.
type MatchRecipient struct {
	Recipient string    `json:"recipient" doc:"An email address, a Slack channel id or a webhook id." example:"alice@example.com"`
	Rules     []RuleRef `json:"rules" doc:"The rules that reached this recipient."`
	Via       []string  `json:"via" doc:"How the rules named it: user:<id>, group:<id>, email, slackChannel or webhook." example:"[\"user:alice\",\"group:sre\"]"`
}

// MatchRecipients are the recipients of a dry run, by channel.
type MatchRecipients struct {
	Email []MatchRecipient `json:"email" doc:"One mail per address, sorted."`
	Slack []MatchRecipient `json:"slack" doc:"One message per channel, sorted."`
	// Webhooks is the webhook channel's.
	Webhooks []MatchRecipient `json:"webhooks" doc:"One POST per webhook, sorted."`
}

// byChannel is where the recipients of each registered channel go in the
// answer: the document names one property per channel.
func (m *MatchRecipients) byChannel() map[notify.Channel]*[]MatchRecipient {
	return map[notify.Channel]*[]MatchRecipient{
		notify.ChannelEmail: &m.Email, notify.ChannelSlack: &m.Slack, notify.ChannelWebhook: &m.Webhooks,
	}
}

// MatchResult is what an event would do.
type MatchResult struct {
	Event      Event           `json:"event" doc:"The event as it was read."`
	Rules      []MatchedRule   `json:"rules" doc:"The rules the event matches."`
	Recipients MatchRecipients `json:"recipients" doc:"Whom they would reach."`
	Notes      []string        `json:"notes,omitempty" doc:"What was left out and why (a user or group that does not exist), and deliveries that would be skipped."`
	Rendered   []MatchRendered `json:"rendered,omitempty" doc:"For each matched rule with a template, what it renders for this event: a preview for rule editors."`
}

// MatchRendered is one rule's template rendered for the event.
type MatchRendered struct {
	RuleID  string `json:"ruleId" doc:"The rule."`
	Subject string `json:"subject,omitempty" doc:"The rendered subject (it replaces the title after the [SEVERITY] TYPE: prefix); absent: the default."`
	Text    string `json:"text,omitempty" doc:"The rendered text of mails (and of Slack without a slack template); absent: the default."`
	Slack   string `json:"slack,omitempty" doc:"The rendered Slack text; absent: text, or the default."`
	Error   string `json:"error,omitempty" doc:"Why the template failed on this event: the default rendering would be used."`
}

type matchInput struct {
	RawBody []byte `contentType:"application/json"`
}

type matchOutput struct{ Body MatchResult }

func (s *server) registerMatch(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "matchEvent", Method: http.MethodPost, Path: "/v1/match", Tags: []string{"events"},
		Summary: "Dry-run an event",
		Description: "Matches one event against the rules and resolves the recipients they reach, by channel, with the rules that reached each. " +
			"Nothing is queued, sent or recorded. The event is validated as POST /v1/events validates it; its id is optional.",
		Middlewares:      huma.Middlewares{limitEventBody},
		SkipValidateBody: true, MaxBodyBytes: notify.MaxEventBody + 1, Errors: []int{400, 401, 413, 422},
	}, s.match)
	setRequestSchema(api, "/v1/match", http.MethodPost, api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[Event](), true, "Event"))
}

func (s *server) match(ctx context.Context, in *matchInput) (*matchOutput, error) {
	if t := bytes.TrimLeft(in.RawBody, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		return nil, fieldf("body", "must be one event object")
	}
	evs, err := ingest.Decode(in.RawBody, s.stamp(), func() string { return "" })
	if err != nil {
		return nil, decodeProblem(err)
	}
	ev := &evs[0]
	plan, err := s.planner.Plan(ctx, ev)
	if err != nil {
		return nil, s.fail(ctx, "plan", err)
	}
	res := MatchResult{
		Event:      eventFrom(ev),
		Rules:      make([]MatchedRule, 0, len(plan.Rules)),
		Recipients: MatchRecipients{Email: []MatchRecipient{}, Slack: []MatchRecipient{}, Webhooks: []MatchRecipient{}},
		Notes:      plan.Notes,
	}
	for _, r := range plan.Rules {
		res.Rules = append(res.Rules, matchedRule(r))
	}
	for _, r := range plan.Rendered {
		res.Rendered = append(res.Rendered, MatchRendered{RuleID: r.RuleID, Subject: r.Subject, Text: r.Text, Slack: r.Slack, Error: r.Error})
	}
	lists := res.Recipients.byChannel()
	for _, r := range plan.Recipients {
		mr := MatchRecipient{Recipient: r.Recipient, Rules: make([]RuleRef, 0, len(r.Rules)), Via: r.Via}
		if mr.Via == nil {
			mr.Via = []string{}
		}
		for _, ref := range r.Rules {
			mr.Rules = append(mr.Rules, RuleRef(ref))
		}
		if r.Skip != "" {
			res.Notes = append(res.Notes, strconv.Quote(r.Recipient)+": "+r.Skip+"; the delivery would be recorded as skipped")
		}
		l, ok := lists[r.Channel]
		if !ok {
			res.Notes = append(res.Notes, "channel "+strconv.Quote(string(r.Channel))+" is not in this answer: recipient "+strconv.Quote(r.Recipient)+" left out")
			continue
		}
		*l = append(*l, mr)
		if r.Channel == notify.ChannelWebhook {
			_, err := s.webhooks.Get(ctx, r.Recipient)
			switch {
			case notify.IsCode(err, notify.ENotFound):
				res.Notes = append(res.Notes, "webhook "+strconv.Quote(r.Recipient)+" is not connected: its delivery would fail")
			case err != nil:
				return nil, s.fail(ctx, "get webhook", err)
			}
		}
	}
	if len(res.Recipients.Slack) > 0 {
		_, err := s.slack.Get(ctx)
		switch {
		case notify.IsCode(err, notify.ENotFound):
			res.Notes = append(res.Notes, "no Slack workspace is connected: the Slack deliveries would be recorded as skipped")
		case err != nil:
			return nil, s.fail(ctx, "get Slack workspace", err)
		}
	}
	return &matchOutput{Body: res}, nil
}

// decodeProblem turns an ingest.Decode error into a problem: see
// problem.FromDecode.
func decodeProblem(err error) error { return problem.FromDecode(err) }

// setRequestSchema documents the JSON body of an operation whose handler
// reads the raw bytes (to check a signature, or to validate exactly as
// ingest does).
func setRequestSchema(api huma.API, path, method string, schema *huma.Schema) {
	item := api.OpenAPI().Paths[path]
	if item == nil {
		panic("api: no path " + path)
	}
	var op *huma.Operation
	switch method {
	case http.MethodPost:
		op = item.Post
	case http.MethodPut:
		op = item.Put
	}
	if op == nil {
		panic("api: no operation " + method + " " + path)
	}
	op.RequestBody = &huma.RequestBody{
		Required: true,
		Content:  map[string]*huma.MediaType{"application/json": {Schema: schema}},
	}
}
