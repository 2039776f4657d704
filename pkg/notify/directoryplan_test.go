package notify

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestPlanDirectory(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	user := func(id, email string, v int64) *User {
		return &User{ID: id, Name: id, Email: email, Role: RoleMember, Version: v, CreatedAt: t0, UpdatedAt: t0}
	}
	users := []*User{user("ann", "ann@example.com", 1), user("bob", "bob@example.com", 3), user("cy", "cy@example.com", 1)}
	groups := []*Group{{ID: "ops", Name: "Ops", Members: []string{"ann"}, Version: 2, CreatedAt: t0}, {ID: "old", Name: "Old", Version: 1, CreatedAt: t0}}
	rule := func(id string, rc Recipients) *Rule {
		return &Rule{ID: id, Name: id, Enabled: true, Recipients: rc, Version: 4, CreatedAt: t0, UpdatedAt: t0}
	}
	rules := []*Rule{
		rule("r2", Recipients{Users: []string{"cy"}}),                                     // loses its only recipient
		rule("r1", Recipients{Users: []string{"ann", "cy"}, Groups: []string{"old"}}),     // loses two
		rule("r3", Recipients{Users: []string{"bob"}, Emails: []string{"x@example.com"}}), // untouched
	}
	want := Directory{
		Users: []User{
			{ID: "ann", Name: "ann", Email: "ann@example.com", Role: RoleMember},  // same
			{ID: "bob", Name: "Bob B", Email: "bob@example.com", Role: RoleAdmin}, // changed
			{ID: "dee", Name: "dee", Email: "dee@example.com", Role: RoleMember},  // new
		},
		Groups: []Group{{ID: "ops", Name: "Ops", Members: []string{"ann", "bob"}}},
	}
	// inputs is a deep copy of what PlanDirectory must not change.
	inputs := func() []any {
		var out []any
		for _, u := range users {
			out = append(out, *u)
		}
		for _, r := range rules {
			c := *r
			c.Recipients = Recipients{Users: slices.Clone(r.Recipients.Users), Groups: slices.Clone(r.Recipients.Groups), Emails: slices.Clone(r.Recipients.Emails)}
			out = append(out, c)
		}
		return out
	}
	before := inputs()

	_, err := PlanDirectory(users, groups, rules, want, false, now)
	if e, ok := err.(*Error); !ok || e.Code != EInUse || !slices.Equal(e.Refs, []string{"r1", "r2"}) {
		t.Fatalf("without prune: %v, want EInUse with refs r1, r2", err)
	}

	p, err := PlanDirectory(users, groups, rules, want, true, now)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(n int, id func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = id(i)
		}
		return out
	}
	for _, c := range []struct {
		name      string
		got, want []string
	}{
		{"create users", ids(len(p.CreateUsers), func(i int) string { return p.CreateUsers[i].ID }), []string{"dee"}},
		{"update users", ids(len(p.UpdateUsers), func(i int) string { return p.UpdateUsers[i].ID }), []string{"bob"}},
		{"delete users", ids(len(p.DeleteUsers), func(i int) string { return p.DeleteUsers[i].ID }), []string{"cy"}},
		{"create groups", ids(len(p.CreateGroups), func(i int) string { return p.CreateGroups[i].ID }), []string{}},
		{"update groups", ids(len(p.UpdateGroups), func(i int) string { return p.UpdateGroups[i].ID }), []string{"ops"}},
		{"delete groups", ids(len(p.DeleteGroups), func(i int) string { return p.DeleteGroups[i].ID }), []string{"old"}},
		{"prune rules", ids(len(p.PruneRules), func(i int) string { return p.PruneRules[i].ID }), []string{"r1", "r2"}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	if b := p.UpdateUsers[0]; b.Version != 4 || !b.CreatedAt.Equal(t0) || !b.UpdatedAt.Equal(now) {
		t.Errorf("changed user %+v: want version 4, created kept, updated now", b)
	}
	if d := p.CreateUsers[0]; d.Version != 1 || !d.CreatedAt.Equal(now) {
		t.Errorf("new user %+v: want version 1 created now", d)
	}
	r1, r2 := p.PruneRules[0], p.PruneRules[1]
	if !slices.Equal(r1.Recipients.Users, []string{"ann"}) || len(r1.Recipients.Groups) != 0 || !r1.Enabled || r1.Version != 5 {
		t.Errorf("pruned r1 %+v: want users [ann], no groups, enabled, version 5", r1)
	}
	if !r2.Recipients.Empty() || r2.Enabled {
		t.Errorf("pruned r2 %+v: want no recipient and disabled", r2)
	}
	if !reflect.DeepEqual(inputs(), before) {
		t.Error("PlanDirectory changed its inputs")
	}

	same := Directory{Users: []User{*users[0], *users[1], *users[2]}, Groups: []Group{*groups[0], *groups[1]}}
	if p, err := PlanDirectory(users, groups, rules, same, false, now); err != nil || !p.Empty() {
		t.Errorf("replace with the stored directory: %+v, %v, want an empty plan", p, err)
	}
	if _, err := PlanDirectory(nil, nil, nil, Directory{Groups: []Group{{ID: "g", Name: "G", Members: []string{"x"}}}}, false, now); err == nil {
		t.Error("a group naming a user outside the directory was planned")
	}
}
