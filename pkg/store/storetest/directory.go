package storetest

import (
	"fmt"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

func (c *clock) user(id, email string) *notify.User {
	now := c.now()
	return &notify.User{ID: id, Name: "User " + id, Email: email, Role: notify.RoleMember, Version: 1, CreatedAt: now, UpdatedAt: now}
}

func (c *clock) group(id, name string, members ...string) *notify.Group {
	now := c.now()
	return &notify.Group{ID: id, Name: name, Members: members, Version: 1, CreatedAt: now, UpdatedAt: now}
}

func testUsers(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("create, get, update, delete", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		u := c.user("u1", "Ann@example.com")
		want := *u
		must(t, "create", s.CreateUser(ctx, u))
		got, err := s.GetUser(ctx, "u1")
		must(t, "get", err)
		if d := diff(&want, got); d != "" {
			t.Errorf("get after create (-want +got):\n%s", d)
		}
		_, err = s.GetUser(ctx, "nope")
		wantCode(t, "get unknown", err, notify.ENotFound)

		got.Email, got.Role, got.Version, got.UpdatedAt = "ann.b@example.com", notify.RoleAdmin, 2, c.now()
		want = *got
		must(t, "update", s.UpdateUser(ctx, got))
		got, err = s.GetUser(ctx, "u1")
		must(t, "get", err)
		if d := diff(&want, got); d != "" {
			t.Errorf("get after update (-want +got):\n%s", d)
		}
		must(t, "the old email is free", s.CreateUser(ctx, c.user("u2", "ann@example.com")))

		wantCode(t, "delete stale", s.DeleteUser(ctx, "u1", 1), notify.EStale)
		must(t, "delete", s.DeleteUser(ctx, "u1", 2))
		_, err = s.GetUser(ctx, "u1")
		wantCode(t, "get deleted", err, notify.ENotFound)
		wantCode(t, "delete again", s.DeleteUser(ctx, "u1", 0), notify.ENotFound)
		must(t, "the email is free", s.CreateUser(ctx, c.user("u3", "ANN.B@example.com")))
	})

	t.Run("conflicts and stale versions change nothing", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		u1, u2 := c.user("u1", "a@example.com"), c.user("u2", "b@example.com")
		want := *u1
		must(t, "create", s.CreateUser(ctx, u1))
		must(t, "create", s.CreateUser(ctx, u2))
		wantCode(t, "same id", s.CreateUser(ctx, c.user("u1", "c@example.com")), notify.EConflict)
		wantCode(t, "same email in other case", s.CreateUser(ctx, c.user("u3", "A@EXAMPLE.COM")), notify.EConflict)
		_, err := s.GetUser(ctx, "u3")
		wantCode(t, "refused user", err, notify.ENotFound)

		for _, tc := range []struct {
			name    string
			email   string
			version int64
			code    string
		}{
			{"email of another user", "B@example.com", 2, notify.EConflict},
			{"stale version", "new@example.com", 3, notify.EStale},
			{"same version", "new@example.com", 1, notify.EStale},
		} {
			t.Run(tc.name, func(t *testing.T) {
				u := want
				u.Email, u.Version = tc.email, tc.version
				wantCode(t, "update", s.UpdateUser(ctx, &u), tc.code)
				got, err := s.GetUser(ctx, "u1")
				must(t, "get", err)
				if d := diff(&want, got); d != "" {
					t.Errorf("refused update changed the user (-want +got):\n%s", d)
				}
			})
		}
		u := c.user("nope", "nope@example.com")
		u.Version = 2
		wantCode(t, "update unknown", s.UpdateUser(ctx, u), notify.ENotFound)
	})

	t.Run("concurrent creates of one email: exactly one wins", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		const n = 8
		us := make([]*notify.User, n)
		for i := range us {
			us[i] = c.user(fmt.Sprintf("u%d", i), "same@example.com")
		}
		oneWins(t, "create", concurrently(n, func(i int) error { return s.CreateUser(ctx, us[i]) }), notify.EConflict)
		all := walk(t, "users", 100, func(p store.Page) ([]*notify.User, string, error) { return s.ListUsers(ctx, p) })
		if len(all) != 1 {
			t.Errorf("%d users, want 1", len(all))
		}
	})

	t.Run("list walks every page in creation order", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		var want []string
		for i := range 5 {
			u := c.user(revID("u", i), fmt.Sprintf("u%d@example.com", i))
			must(t, "create", s.CreateUser(ctx, u))
			want = append(want, u.ID)
		}
		for _, limit := range []int{1, 2, 5, 6} {
			got := walk(t, "users", limit, func(p store.Page) ([]*notify.User, string, error) { return s.ListUsers(ctx, p) })
			ids := make([]string, len(got))
			for i, u := range got {
				ids[i] = u.ID
			}
			if d := diff(want, ids); d != "" {
				t.Errorf("limit %d ids (-want +got):\n%s", limit, d)
			}
		}
		_, _, err := s.ListUsers(ctx, store.Page{Cursor: "%%%"})
		wantCode(t, "bad cursor", err, notify.EInvalid)
	})

	t.Run("delete of a user a rule names is refused", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		must(t, "create user", s.CreateUser(ctx, c.user("u1", "a@example.com")))
		must(t, "create user", s.CreateUser(ctx, c.user("u2", "b@example.com")))
		r1, r2, r3 := c.rule("r1", "one"), c.rule("r2", "two"), c.rule("r3", "three")
		r1.Recipients.Users = []string{"u1"}
		r2.Recipients.Users = []string{"u2", "u1"}
		r3.Recipients.Users = []string{"u2"}
		for _, r := range []*notify.Rule{r1, r2, r3} {
			must(t, "create rule", s.CreateRule(ctx, r))
		}
		err := s.DeleteUser(ctx, "u1", 0)
		wantCode(t, "delete", err, notify.EInUse)
		if d := diff([]string{"r1", "r2"}, refsOf(err)); d != "" {
			t.Errorf("Refs (-want +got):\n%s", d)
		}
		if _, err := s.GetUser(ctx, "u1"); err != nil {
			t.Errorf("refused delete removed the user: %v", err)
		}

		must(t, "delete r1", s.DeleteRule(ctx, "r1", 0))
		u := copyRule(r2)
		u.Recipients.Users, u.Version = []string{"u2"}, 2
		must(t, "update r2", s.UpdateRule(ctx, u))
		must(t, "delete once no rule names it", s.DeleteUser(ctx, "u1", 0))

		err = s.DeleteUser(ctx, "u2", 0)
		wantCode(t, "delete u2", err, notify.EInUse)
		if d := diff([]string{"r2", "r3"}, refsOf(err)); d != "" {
			t.Errorf("Refs (-want +got):\n%s", d)
		}
	})

	t.Run("delete takes the user out of its groups", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		must(t, "create user", s.CreateUser(ctx, c.user("u1", "a@example.com")))
		must(t, "create user", s.CreateUser(ctx, c.user("u2", "b@example.com")))
		must(t, "create group", s.CreateGroup(ctx, c.group("g1", "both", "u1", "u2")))
		must(t, "create group", s.CreateGroup(ctx, c.group("g2", "only u2", "u2")))
		must(t, "delete", s.DeleteUser(ctx, "u1", 0))
		g1, err := s.GetGroup(ctx, "g1")
		must(t, "get g1", err)
		if d := diff([]string{"u2"}, g1.Members); d != "" {
			t.Errorf("g1 members (-want +got):\n%s", d)
		}
		if g1.Version <= 1 {
			t.Errorf("g1 version = %d after losing a member, want > 1", g1.Version)
		}
		g2, err := s.GetGroup(ctx, "g2")
		must(t, "get g2", err)
		if g2.Version != 1 {
			t.Errorf("g2 version = %d, want 1 (unchanged)", g2.Version)
		}
	})
}

func testGroups(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("create, get, update, delete", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		for _, id := range []string{"u1", "u2", "u3"} {
			must(t, "create user", s.CreateUser(ctx, c.user(id, id+"@example.com")))
		}
		g := c.group("g1", "On Call", "u1", "u2")
		want := *g
		must(t, "create", s.CreateGroup(ctx, g))
		got, err := s.GetGroup(ctx, "g1")
		must(t, "get", err)
		if d := diff(&want, got); d != "" {
			t.Errorf("get after create (-want +got):\n%s", d)
		}
		_, err = s.GetGroup(ctx, "nope")
		wantCode(t, "get unknown", err, notify.ENotFound)

		got.Name, got.Members, got.Version, got.UpdatedAt = "Night Shift", []string{"u3"}, 2, c.now()
		want = *got
		must(t, "update", s.UpdateGroup(ctx, got))
		got, err = s.GetGroup(ctx, "g1")
		must(t, "get", err)
		if d := diff(&want, got); d != "" {
			t.Errorf("get after update (-want +got):\n%s", d)
		}
		must(t, "the old name is free", s.CreateGroup(ctx, c.group("g2", "on call")))
		wantCode(t, "delete stale", s.DeleteGroup(ctx, "g1", 1), notify.EStale)
		must(t, "delete", s.DeleteGroup(ctx, "g1", 2))
		_, err = s.GetGroup(ctx, "g1")
		wantCode(t, "get deleted", err, notify.ENotFound)
		wantCode(t, "delete again", s.DeleteGroup(ctx, "g1", 0), notify.ENotFound)
		must(t, "the name is free", s.CreateGroup(ctx, c.group("g3", "NIGHT SHIFT")))
	})

	t.Run("refusals change nothing", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		must(t, "create user", s.CreateUser(ctx, c.user("u1", "a@example.com")))
		g1 := c.group("g1", "Ops", "u1")
		want := *g1
		must(t, "create", s.CreateGroup(ctx, g1))
		must(t, "create", s.CreateGroup(ctx, c.group("g2", "Dev")))
		wantCode(t, "same id", s.CreateGroup(ctx, c.group("g1", "Other")), notify.EConflict)
		wantCode(t, "same name in other case", s.CreateGroup(ctx, c.group("g3", "OPS")), notify.EConflict)
		wantCode(t, "unknown member", s.CreateGroup(ctx, c.group("g4", "Ghosts", "u1", "ghost")), notify.EInvalid)
		for _, id := range []string{"g3", "g4"} {
			_, err := s.GetGroup(ctx, id)
			wantCode(t, "refused group "+id, err, notify.ENotFound)
		}
		for _, tc := range []struct {
			name    string
			gname   string
			members []string
			version int64
			code    string
		}{
			{"name of another group", "dev", []string{"u1"}, 2, notify.EConflict},
			{"unknown member", "Ops", []string{"ghost"}, 2, notify.EInvalid},
			{"stale version", "Ops 2", []string{"u1"}, 3, notify.EStale},
		} {
			t.Run(tc.name, func(t *testing.T) {
				g := want
				g.Name, g.Members, g.Version = tc.gname, tc.members, tc.version
				wantCode(t, "update", s.UpdateGroup(ctx, &g), tc.code)
				got, err := s.GetGroup(ctx, "g1")
				must(t, "get", err)
				if d := diff(&want, got); d != "" {
					t.Errorf("refused update changed the group (-want +got):\n%s", d)
				}
			})
		}
		g := c.group("nope", "Nope")
		g.Version = 2
		wantCode(t, "update unknown", s.UpdateGroup(ctx, g), notify.ENotFound)
	})

	t.Run("concurrent creates of one name: exactly one wins", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		const n = 8
		gs := make([]*notify.Group, n)
		for i := range gs {
			gs[i] = c.group(fmt.Sprintf("g%d", i), "Same")
		}
		oneWins(t, "create", concurrently(n, func(i int) error { return s.CreateGroup(ctx, gs[i]) }), notify.EConflict)
	})

	t.Run("list walks every page in creation order", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		var want []string
		for i := range 5 {
			g := c.group(revID("g", i), fmt.Sprintf("group %d", i))
			must(t, "create", s.CreateGroup(ctx, g))
			want = append(want, g.ID)
		}
		for _, limit := range []int{1, 2, 5, 6} {
			got := walk(t, "groups", limit, func(p store.Page) ([]*notify.Group, string, error) { return s.ListGroups(ctx, p) })
			ids := make([]string, len(got))
			for i, g := range got {
				ids[i] = g.ID
			}
			if d := diff(want, ids); d != "" {
				t.Errorf("limit %d ids (-want +got):\n%s", limit, d)
			}
		}
		_, _, err := s.ListGroups(ctx, store.Page{Cursor: "%%%"})
		wantCode(t, "bad cursor", err, notify.EInvalid)
	})

	t.Run("delete of a group a rule names is refused", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		must(t, "create", s.CreateGroup(ctx, c.group("g1", "Ops")))
		r := c.rule("r1", "one")
		r.Recipients.Groups = []string{"g1"}
		must(t, "create rule", s.CreateRule(ctx, r))
		err := s.DeleteGroup(ctx, "g1", 0)
		wantCode(t, "delete", err, notify.EInUse)
		if d := diff([]string{"r1"}, refsOf(err)); d != "" {
			t.Errorf("Refs (-want +got):\n%s", d)
		}
		if _, err := s.GetGroup(ctx, "g1"); err != nil {
			t.Errorf("refused delete removed the group: %v", err)
		}
		must(t, "delete rule", s.DeleteRule(ctx, "r1", 0))
		must(t, "delete once no rule names it", s.DeleteGroup(ctx, "g1", 0))
	})
}
