package dispatch

import (
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// A deactivated user stays named in rules but is not sent to: its delivery
// is recorded skipped with the reason. An address something else reaches
// too (a rule's emails) is still sent to.
func TestDeactivatedUserIsSkipped(t *testing.T) {
	f := newFixture(t)
	for _, id := range []string{"u2", "u3"} {
		u, err := f.st.GetUser(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		u.Inactive = true
		u.Version++
		if err := f.st.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	ev := event("ev-inactive")
	plan, err := f.d.Plan(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range plan.Recipients {
		want := ""
		if r.Recipient == "cy@example.com" {
			want = inactiveSkip
		}
		if r.Skip != want {
			t.Errorf("plan: %s skip %q, want %q", r.Recipient, r.Skip, want)
		}
	}
	if err := f.d.Dispatch(ctx, ev); err != nil {
		t.Fatalf("Dispatch: %v", err)
	}
	d := f.delivery(t, ev.ID, notify.ChannelEmail, "cy@example.com")
	if d.Status != notify.DeliverySkipped || d.Note != inactiveSkip {
		t.Errorf("delivery to the deactivated user: %s %q, want skipped %q", d.Status, d.Note, inactiveSkip)
	}
	calls, _ := f.email.counts()
	if calls["cy@example.com"] != 0 {
		t.Errorf("the deactivated user was sent to %d time(s)", calls["cy@example.com"])
	}
	if b := f.delivery(t, ev.ID, notify.ChannelEmail, "Bob@Example.com"); b.Status != notify.DeliverySent {
		t.Errorf("bob, deactivated but also a rule's email address: %s, want sent", b.Status)
	}
}
