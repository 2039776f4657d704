package admin

import (
	"context"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

func TestDirectoryAnnouncesChangesThatReachRules(t *testing.T) {
	ctx := context.Background()
	f, c := newFakeStore(), &counter{}
	s := NewDirectory(DirectoryConfig{Directory: f, Now: fixedNow, IDs: seq(), OnRulesChanged: c.hook})

	u, err := s.CreateUser(ctx, UserInput{Name: "Ann", Email: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "usr_1" || u.Role != notify.RoleMember {
		t.Errorf("created %+v: want id usr_1, role member", u)
	}
	g, err := s.CreateGroup(ctx, GroupInput{ID: "ops", Name: "Ops", Members: []string{u.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if c.n != 0 {
		t.Errorf("creates announced %d changes: nothing names a new entry yet", c.n)
	}
	if _, err := s.CreateGroup(ctx, GroupInput{Name: "Bad", Members: []string{"nobody"}}); !notify.IsCode(err, notify.EInvalid) {
		t.Errorf("group with an unknown member: %v, want EInvalid", err)
	}
	steps := []func() error{
		func() error {
			_, err := s.UpdateUser(ctx, u.ID, UserInput{Name: "Ann", Email: "ann2@example.com"}, nil)
			return err
		},
		func() error {
			_, err := s.UpdateGroup(ctx, g.ID, GroupInput{Name: "Ops", Members: []string{}}, nil)
			return err
		},
		func() error { return s.DeleteGroup(ctx, g.ID, nil) },
		func() error { return s.DeleteUser(ctx, u.ID, nil) },
		func() error { return s.Replace(ctx, notify.Directory{}, true) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if c.n != i+1 {
			t.Fatalf("after step %d: %d announcements, want %d", i, c.n, i+1)
		}
	}
}

func TestDirectoryReplaceValidates(t *testing.T) {
	s := NewDirectory(DirectoryConfig{Directory: newFakeStore(), IDs: seq()})
	d := notify.Directory{
		Users: []notify.User{
			{ID: "a", Name: "A", Email: "a@example.com", Role: notify.RoleMember},
			{ID: "a", Name: "B", Email: "A@example.com", Role: notify.RoleMember},
		},
		Groups: []notify.Group{{ID: "g", Name: "G", Members: []string{"zed"}}},
	}
	err := s.Replace(context.Background(), d, false)
	e, ok := err.(*notify.Error)
	if !ok || e.Code != notify.EInvalid {
		t.Fatalf("got %v, want EInvalid", err)
	}
	want := map[string]bool{"users[1].id": true, "users[1].email": true, "groups[0].members[0]": true}
	for _, f := range e.Fields {
		delete(want, f.Field)
	}
	if len(want) > 0 {
		t.Errorf("fields %+v miss %v", e.Fields, want)
	}
}
