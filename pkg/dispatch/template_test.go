package dispatch

import (
	"strings"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// TestTemplateOfTheLowestRuleIDWins: two rules with templates reach one
// recipient; the one with the lowest id renders its message, whatever the
// order the rules are stored or matched in; Slack gets the slack template.
func TestTemplateOfTheLowestRuleIDWins(t *testing.T) {
	f := newFixture(t)
	now := f.clk.Now()
	for _, r := range []*notify.Rule{
		{ID: "t2", Name: "T2", Template: &notify.Template{Subject: "from t2"}},
		{ID: "t1", Name: "T1", Template: &notify.Template{Subject: "from t1 {{.Severity}}", Text: "text", Slack: "slack text"}},
	} {
		r.Enabled, r.Source = true, notify.SourceUser
		r.EventTypes, r.Severities = []notify.EventType{notify.TypeSpending}, notify.Severities
		r.Recipients = notify.Recipients{Emails: []string{stormTo}, SlackChannels: []string{slackID}}
		r.Recipients.Normalize()
		r.Version, r.CreatedAt, r.UpdatedAt = 1, now, now
		if err := r.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := f.st.CreateRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	ev := &notify.Event{ID: "sp-1", Type: notify.TypeSpending, Severity: notify.SeverityWarning, Title: "over budget", Message: "orig"}
	if err := f.d.Dispatch(ctx, ev); err != nil {
		t.Fatal(err)
	}
	mail, post := f.email.notes[0].Event, f.slack.notes[0].Event
	if mail.Title != "from t1 WARNING" || mail.Message != "text" {
		t.Errorf("mail event %q / %q, want rule t1's template", mail.Title, mail.Message)
	}
	if post.Title != "from t1 WARNING" || post.Message != "slack text" {
		t.Errorf("slack event %q / %q, want rule t1's slack template", post.Title, post.Message)
	}
	if ev.Title != "over budget" {
		t.Error("the event itself was changed")
	}
	plan, err := f.d.Plan(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Rendered) != 2 {
		t.Errorf("plan.Rendered = %+v, want both rules' previews", plan.Rendered)
	}
}

// TestTemplateOverBudgetFallsBack: a rule stored with a template that
// runs over its budget (saved before templates were bounded) does not
// hang dispatch: the template fails on the event and the default
// rendering is sent; the plan's preview says why.
func TestTemplateOverBudgetFallsBack(t *testing.T) {
	f := newFixture(t)
	now := f.clk.Now()
	r := &notify.Rule{ID: "t0", Name: "T0", Enabled: true, Source: notify.SourceUser,
		EventTypes: []notify.EventType{notify.TypeSpending}, Severities: notify.Severities,
		Recipients: notify.Recipients{Emails: []string{stormTo}, SlackChannels: []string{slackID}},
		Template:   &notify.Template{Subject: "{{range 99999999999}}{{end}}", Slack: `{{printf "%999999999d" 1}}`},
		Version:    1, CreatedAt: now, UpdatedAt: now}
	r.Recipients.Normalize()
	if err := r.Validate(); err == nil {
		t.Fatal("the template is accepted on save")
	}
	if err := f.st.CreateRule(ctx, r); err != nil { // as stored before
		t.Fatal(err)
	}
	ev := &notify.Event{ID: "sp-1", Type: notify.TypeSpending, Severity: notify.SeverityWarning, Title: "over budget", Message: "orig"}
	if err := f.d.Dispatch(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if len(f.email.notes) != 1 || len(f.slack.notes) != 1 {
		t.Fatalf("%d mails, %d posts, want one each", len(f.email.notes), len(f.slack.notes))
	}
	for _, got := range []*notify.Event{f.email.notes[0].Event, f.slack.notes[0].Event} {
		if got.Title != "over budget" || got.Message != "orig" {
			t.Errorf("sent %q / %q, want the default rendering", got.Title, got.Message)
		}
	}
	plan, err := f.d.Plan(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Rendered) != 1 || !strings.Contains(plan.Rendered[0].Error, "the template takes more than 100000 steps") {
		t.Errorf("plan.Rendered = %+v, want the template's error", plan.Rendered)
	}
}
