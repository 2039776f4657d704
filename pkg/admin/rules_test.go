package admin

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

func newRules(f *fakeStore, c *counter) *Rules {
	return NewRules(RulesConfig{Rules: f, Directory: f, Now: fixedNow, IDs: seq(), OnRulesChanged: c.hook})
}

func validInput() RuleInput {
	return RuleInput{Name: "Failures", EventTypes: []notify.EventType{notify.TypeJob},
		Severities: []notify.Severity{notify.SeverityCritical}, Recipients: notify.Recipients{Users: []string{"ann"}}}
}

func TestRulesAnnounceOnlySuccessfulChanges(t *testing.T) {
	ctx := context.Background()
	f, c := newFakeStore(), &counter{}
	f.users["ann"] = &notify.User{ID: "ann"}
	s := newRules(f, c)

	r, err := s.Create(ctx, validInput())
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "rul_1" || r.Version != 1 || !r.Enabled || r.Source != notify.SourceUser || !r.CreatedAt.Equal(t0) {
		t.Errorf("created %+v", r)
	}
	bad := validInput()
	bad.Recipients.Users = []string{"carol"}
	if _, err := s.Create(ctx, bad); !notify.IsCode(err, notify.EInvalid) {
		t.Errorf("create naming an unknown user: %v, want EInvalid", err)
	}
	if c.n != 1 {
		t.Errorf("after one create and one refusal: %d announcements, want 1", c.n)
	}
	off := false
	in := validInput()
	in.Enabled = &off
	if _, err := s.Update(ctx, r.ID, in, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, r.ID, nil); err != nil {
		t.Fatal(err)
	}
	if c.n != 3 {
		t.Errorf("after create, update, delete: %d announcements, want 3", c.n)
	}
}

func TestRulesReportUnknownReferencesWithValidation(t *testing.T) {
	f := newFakeStore()
	s := newRules(f, &counter{})
	in := validInput()
	in.Name = " padded"
	in.Recipients = notify.Recipients{Users: []string{"carol"}, Groups: []string{"ops"}}
	_, err := s.Create(context.Background(), in)
	e, ok := err.(*notify.Error)
	if !ok || e.Code != notify.EInvalid {
		t.Fatalf("got %v, want EInvalid", err)
	}
	var fields []string
	for _, fe := range e.Fields {
		fields = append(fields, fe.Field+": "+fe.Message)
	}
	want := []string{
		"name: must be 1-128 characters without leading or trailing space",
		`recipients.groups[0]: "ops" is not a known group id`,
		`recipients.users[0]: "carol" is not a known user id`,
	}
	if d := cmp.Diff(want, fields); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
}

func TestRulesPolicyRulesAreReadOnly(t *testing.T) {
	ctx := context.Background()
	f, c := newFakeStore(), &counter{}
	f.users["ann"] = &notify.User{ID: "ann"}
	s := newRules(f, c)
	in := PolicyInput{PolicyName: "Nightly", OnFailure: true, Recipients: notify.Recipients{Users: []string{"ann"}}}
	r, created, err := s.PutPolicy(ctx, "nightly", in, nil)
	if err != nil || !created {
		t.Fatalf("PutPolicy = %v, created %v", err, created)
	}
	want := &notify.Rule{ID: "policy:nightly", Name: "Policy Nightly", Enabled: true,
		EventTypes: []notify.EventType{notify.TypeJob}, Severities: notify.Severities,
		Recipients: in.Recipients, Source: notify.SourcePolicy,
		Policy:  &notify.Policy{ID: "nightly", Name: "Nightly", OnFailure: true},
		Version: 1, CreatedAt: t0, UpdatedAt: t0}
	if d := cmp.Diff(want, r); d != "" {
		t.Errorf("policy rule (-want +got):\n%s", d)
	}
	if _, err := s.Update(ctx, r.ID, validInput(), nil); !notify.IsCode(err, notify.EReadOnly) {
		t.Errorf("Update of a policy rule: %v, want EReadOnly", err)
	}
	if err := s.Delete(ctx, r.ID, nil); !notify.IsCode(err, notify.EReadOnly) {
		t.Errorf("Delete of a policy rule: %v, want EReadOnly", err)
	}
	off := false
	f.rules[r.ID].Enabled = false
	r2, created, err := s.PutPolicy(ctx, "nightly", in, nil)
	if err != nil || created || r2.Version != 2 || r2.Enabled {
		t.Errorf("second PutPolicy = %+v, created %v, %v: want version 2, still disabled", r2, created, err)
	}
	in.Enabled = &off
	if _, _, err := s.PutPolicy(ctx, "bad id!", in, nil); !notify.IsCode(err, notify.EInvalid) {
		t.Errorf("PutPolicy with a bad id: %v, want EInvalid", err)
	}
	if err := s.DeletePolicy(ctx, "nightly", nil); err != nil {
		t.Fatal(err)
	}
	if c.n != 3 {
		t.Errorf("%d announcements, want 3 (create, replace, delete)", c.n)
	}
}

func TestRulesPreconditionRefuses(t *testing.T) {
	ctx := context.Background()
	f := newFakeStore()
	f.users["ann"] = &notify.User{ID: "ann"}
	s := newRules(f, &counter{})
	r, err := s.Create(ctx, validInput())
	if err != nil {
		t.Fatal(err)
	}
	var seen int64
	pre := func(what string, v int64) (int64, error) {
		seen = v
		return 0, notify.Errorf(notify.EStale, "%s is at version %d", what, v)
	}
	if _, err := s.Update(ctx, r.ID, validInput(), pre); !notify.IsCode(err, notify.EStale) || seen != 1 {
		t.Errorf("Update with a refusing precondition: %v (saw version %d)", err, seen)
	}
	if err := s.Delete(ctx, r.ID, pre); !notify.IsCode(err, notify.EStale) {
		t.Errorf("Delete with a refusing precondition: %v", err)
	}
	if _, ok := f.rules[r.ID]; !ok {
		t.Error("a refused delete removed the rule")
	}
}
