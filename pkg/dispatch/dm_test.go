package dispatch

import (
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// TestUserChannelsSlack: a rule with userChannels [email, slack] reaches
// each user by mail and by Slack DM (recipient: the email, lower case);
// a DM the Slack sender skips (no such Slack user) is recorded skipped.
func TestUserChannelsSlack(t *testing.T) {
	f := newFixture(t)
	now := f.clk.Now()
	r := &notify.Rule{ID: "dm", Name: "DM", Enabled: true, Source: notify.SourceUser,
		EventTypes: []notify.EventType{notify.TypeSpending}, Severities: notify.Severities,
		Recipients: notify.Recipients{Groups: []string{"g1"}, UserChannels: []notify.Channel{notify.ChannelEmail, notify.ChannelSlack}},
		Version:    1, CreatedAt: now, UpdatedAt: now}
	r.Recipients.Normalize()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := f.st.CreateRule(ctx, r); err != nil {
		t.Fatal(err)
	}
	f.slack.script["bob@example.com"] = []error{&send.Skip{Reason: "no Slack user with this email in the workspace"}}
	ev := &notify.Event{ID: "sp-1", Type: notify.TypeSpending, Severity: notify.SeverityInfo, Title: "spend"}
	if err := f.d.Dispatch(ctx, ev); err != nil {
		t.Fatal(err)
	}
	_, mails := f.email.counts()
	_, dms := f.slack.counts()
	if mails["ann@example.com"] != 1 || mails["Bob@Example.com"] != 1 || dms["ann@example.com"] != 1 || dms["bob@example.com"] != 0 {
		t.Errorf("mails %v, DMs %v; want both mailed, Ann messaged once", mails, dms)
	}
	if d := f.delivery(t, "sp-1", notify.ChannelSlack, "bob@example.com"); d.Status != notify.DeliverySkipped || d.Note == "" {
		t.Errorf("Bob's DM: %s %q, want skipped with the reason", d.Status, d.Note)
	}
	bad := *r
	bad.Recipients.UserChannels = []notify.Channel{"sms"}
	if err := bad.Validate(); err == nil {
		t.Error("userChannels [sms] accepted")
	}
}
