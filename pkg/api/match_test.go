package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/api"
	"github.com/argoproj-labs/argo-notify/pkg/dispatch"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/route"
)

// decodeInto decodes a JSON body into v.
func decodeInto(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

func TestMatchMapsThePlan(t *testing.T) {
	prod := send.RuleRef{ID: "rul_1", Name: "Prod failures"}
	pol := send.RuleRef{ID: notify.PolicyRuleID("nightly-etl"), Name: "Policy Nightly ETL"}
	plan := &dispatch.Plan{
		Rules: []send.RuleRef{prod, pol},
		Recipients: []dispatch.Recipient{
			{Channel: notify.ChannelEmail, Recipient: "alice@example.com", Rules: []send.RuleRef{prod, pol}, Via: []string{"user:alice", "group:sre"}},
			{Channel: notify.ChannelEmail, Recipient: "bob@example.com", Rules: []send.RuleRef{prod}, Via: []string{"group:sre"}},
			{Channel: notify.ChannelSlack, Recipient: "C001", Rules: []send.RuleRef{prod}, Via: []string{"slackChannel"}},
		},
		Notes: []string{`rule "Prod failures" names user "zed", which does not exist: skipped`},
	}
	wantRules := []api.MatchedRule{
		{ID: "rul_1", Name: "Prod failures", Source: "user"},
		{ID: "policy:nightly-etl", Name: "Policy Nightly ETL", Source: "policy", PolicyID: "nightly-etl"},
	}
	wantRecipients := api.MatchRecipients{
		Email: []api.MatchRecipient{
			{Recipient: "alice@example.com", Rules: []api.RuleRef{{ID: "rul_1", Name: "Prod failures"}, {ID: "policy:nightly-etl", Name: "Policy Nightly ETL"}}, Via: []string{"user:alice", "group:sre"}},
			{Recipient: "bob@example.com", Rules: []api.RuleRef{{ID: "rul_1", Name: "Prod failures"}}, Via: []string{"group:sre"}},
		},
		Slack:    []api.MatchRecipient{{Recipient: "C001", Rules: []api.RuleRef{{ID: "rul_1", Name: "Prod failures"}}, Via: []string{"slackChannel"}}},
		Webhooks: []api.MatchRecipient{},
	}
	body := `{"type":"JOB","severity":"CRITICAL","title":"etl failed","policyId":"nightly-etl","status":"FAILED","occurredAt":"2026-01-02T03:00:00+01:00","labels":{"env":"prod"}}`

	tests := []struct {
		name      string
		connected bool
		wantNotes []string
	}{
		{name: "Slack not connected", wantNotes: []string{plan.Notes[0], "no Slack workspace is connected: the Slack deliveries would be recorded as skipped"}},
		{name: "Slack connected", connected: true, wantNotes: plan.Notes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.planner.plan = plan
			if tc.connected {
				if err := e.store.PutSlack(context.Background(), &notify.Slack{TeamID: "T1", Team: "Acme", Version: 1}); err != nil {
					t.Fatal(err)
				}
			}
			r := e.do("POST", "/v1/match", body)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			var got api.MatchResult
			decodeInto(t, r.body, &got)
			if diff := cmp.Diff(wantRules, got.Rules); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantRecipients, got.Recipients); diff != "" {
				t.Errorf("recipients (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantNotes, got.Notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
			if len(e.planner.events) != 1 {
				t.Fatalf("planned %d events", len(e.planner.events))
			}
			ev := e.planner.events[0]
			if ev.ID != "" || ev.ReceivedAt.IsZero() || ev.PolicyID != "nightly-etl" || ev.Status != notify.JobFailed ||
				!ev.OccurredAt.Equal(time.Date(2026, 1, 2, 2, 0, 0, 0, time.UTC)) || ev.Labels["env"] != "prod" {
				t.Errorf("planned event %+v", ev)
			}
			if got.Event.Title != "etl failed" || got.Event.ID != "" || got.Event.ReceivedAt == nil {
				t.Errorf("event echoed %+v", got.Event)
			}
			if n := len(e.producer.sent()); n != 0 {
				t.Errorf("a dry run queued %d messages", n)
			}
		})
	}
}

func TestMatchPlannerFails(t *testing.T) {
	e := newEnv(t)
	e.planner.err = errBroken
	r := e.do("POST", "/v1/match", eventJSON("x", ""))
	if r.status != http.StatusInternalServerError || strings.Contains(string(r.body), "queue.sock") {
		t.Errorf("answer %d %s", r.status, r.body)
	}
	if !strings.Contains(e.logs.String(), "queue.sock") {
		t.Errorf("the log lacks the cause")
	}
}

// TestMatchWithDispatcher runs the dry run on the real planner over the
// seeded store: alice and group sre (alice, bob) are named by "Prod
// failures" (JOB and DEPLOYMENT, CRITICAL and WARNING); carol by the
// notification of policy nightly-etl (on failure).
func TestMatchWithDispatcher(t *testing.T) {
	type reach struct {
		Recipient string
		Rules     []string
		Via       []string
	}
	tests := []struct {
		name  string
		event string
		rules []string
		email []reach
	}{
		{name: "a user rule", event: `{"type":"DEPLOYMENT","severity":"WARNING","title":"x"}`, rules: []string{"rul_000001"},
			email: []reach{{"alice@example.com", []string{"rul_000001"}, []string{"user:alice", "group:sre"}}, {"bob@example.com", []string{"rul_000001"}, []string{"group:sre"}}}},
		{name: "a user rule and a policy", event: `{"type":"JOB","severity":"CRITICAL","title":"x","policyId":"nightly-etl","status":"FAILED"}`,
			rules: []string{"policy:nightly-etl", "rul_000001"},
			email: []reach{
				{"alice@example.com", []string{"rul_000001"}, []string{"user:alice", "group:sre"}},
				{"bob@example.com", []string{"rul_000001"}, []string{"group:sre"}},
				{"carol@example.com", []string{"policy:nightly-etl"}, []string{"user:carol"}},
			}},
		{name: "a policy success nobody asked for", event: `{"type":"JOB","severity":"INFO","title":"x","policyId":"nightly-etl","status":"SUCCEEDED"}`},
		{name: "no rule", event: `{"type":"SPENDING","severity":"INFO","title":"x"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *api.Config) {
				c.Planner = dispatch.New(dispatch.Config{Rules: c.Store, Directory: c.Store, Deliveries: c.Store, Channels: route.New(route.Config{})})
			})
			e.seed()
			r := e.do("POST", "/v1/match", tc.event)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			var got api.MatchResult
			decodeInto(t, r.body, &got)
			var rules []string
			for _, r := range got.Rules {
				rules = append(rules, r.ID)
			}
			slices.Sort(rules) // in the planner's order, which is not this test's business
			if !cmp.Equal(rules, tc.rules) {
				t.Errorf("rules %v, want %v", rules, tc.rules)
			}
			var email []reach
			for _, m := range got.Recipients.Email {
				var ids []string
				for _, r := range m.Rules {
					ids = append(ids, r.ID)
				}
				email = append(email, reach{m.Recipient, ids, m.Via})
			}
			if diff := cmp.Diff(tc.email, email); diff != "" {
				t.Errorf("email recipients (-want +got):\n%s", diff)
			}
			if len(got.Recipients.Slack) != 0 {
				t.Errorf("slack recipients %v", got.Recipients.Slack)
			}
			if ds, _, err := e.store.ListDeliveries(context.Background(), storeAll()); err != nil || len(ds) != 0 {
				t.Errorf("a dry run recorded deliveries: %v %v", ds, err)
			}
		})
	}
}
