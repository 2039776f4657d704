package storetest

import (
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// snapshot is everything a directory change can touch.
type snapshot struct {
	Users  []*notify.User
	Groups []*notify.Group
	Rules  []*notify.Rule
}

func snap(t *testing.T, s store.Store) snapshot {
	t.Helper()
	var sn snapshot
	sn.Users = walk(t, "users", store.MaxLimit, func(p store.Page) ([]*notify.User, string, error) { return s.ListUsers(ctx, p) })
	sn.Groups = walk(t, "groups", store.MaxLimit, func(p store.Page) ([]*notify.Group, string, error) { return s.ListGroups(ctx, p) })
	sn.Rules = walk(t, "rules", store.MaxLimit, func(p store.Page) ([]*notify.Rule, string, error) {
		return s.ListRules(ctx, store.RuleFilter{Page: p})
	})
	return sn
}

func dirUser(id, name, email string) notify.User {
	return notify.User{ID: id, Name: name, Email: email, Role: notify.RoleMember}
}

func testReplaceDirectory(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("from empty", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		now := c.now()
		d := notify.Directory{
			Users:  []notify.User{dirUser("u1", "Ann", "ann@example.com"), dirUser("u2", "Bob", "bob@example.com")},
			Groups: []notify.Group{{ID: "g1", Name: "Ops", Members: []string{"u2", "u1"}}},
		}
		must(t, "replace", s.ReplaceDirectory(ctx, d, false, now))
		for _, u := range d.Users {
			got, err := s.GetUser(ctx, u.ID)
			must(t, "get user", err)
			want := u
			want.Version, want.CreatedAt, want.UpdatedAt = 1, now, now
			if dd := diff(&want, got); dd != "" {
				t.Errorf("user %s (-want +got):\n%s", u.ID, dd)
			}
		}
		got, err := s.GetGroup(ctx, "g1")
		must(t, "get group", err)
		want := d.Groups[0]
		want.Version, want.CreatedAt, want.UpdatedAt = 1, now, now
		if dd := diff(&want, got); dd != "" {
			t.Errorf("group (-want +got):\n%s", dd)
		}
	})

	// setup makes users u1..u4, groups g1 (u1, u2), g2 (u3), g3 (u4) and a
	// rule naming u3, one naming g2 only, one naming u4 and an email.
	setup := func(t *testing.T, s store.Store, c *clock) (t0 time.Time) {
		t0 = c.now()
		d := notify.Directory{
			Users: []notify.User{dirUser("u1", "Ann", "ann@example.com"), dirUser("u2", "Bob", "bob@example.com"),
				dirUser("u3", "Cy", "cy@example.com"), dirUser("u4", "Di", "di@example.com")},
			Groups: []notify.Group{{ID: "g1", Name: "Ops", Members: []string{"u1", "u2"}},
				{ID: "g2", Name: "Dev", Members: []string{"u3"}}, {ID: "g3", Name: "QA", Members: []string{"u4"}}},
		}
		must(t, "replace", s.ReplaceDirectory(ctx, d, false, t0))
		r1, r2, r3, r4 := c.rule("r1", "names u3"), c.rule("r2", "names g2"), c.rule("r3", "names u4"), c.rule("r4", "names u1")
		r1.Recipients = notify.Recipients{Users: []string{"u1", "u3"}}
		r2.Recipients = notify.Recipients{Groups: []string{"g2"}}
		r3.Recipients = notify.Recipients{Users: []string{"u4"}, Emails: []string{"x@example.com"}}
		r4.Recipients = notify.Recipients{Users: []string{"u1"}, Groups: []string{"g1"}}
		for _, r := range []*notify.Rule{r1, r2, r3, r4} {
			must(t, "create rule", s.CreateRule(ctx, r))
		}
		return t0
	}

	t.Run("keeps, changes, adds and removes", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		t0 := setup(t, s, c)
		now := c.now()
		d := notify.Directory{
			Users: []notify.User{
				dirUser("u1", "Ann", "ann@example.com"),  // unchanged
				dirUser("u2", "Bob", "cy@example.com"),   // takes u3's email
				dirUser("u3", "Cy", "bob@example.com"),   // takes u2's email
				dirUser("u4", "Diana", "di@example.com"), // renamed
				dirUser("u5", "Eve", "eve@example.com"),  // new
			},
			Groups: []notify.Group{
				{ID: "g1", Name: "Ops", Members: []string{"u1", "u2"}}, // unchanged
				{ID: "g2", Name: "Dev", Members: []string{"u3", "u5"}}, // new member
				{ID: "g3", Name: "qa", Members: []string{"u4"}},        // renamed
				{ID: "g4", Name: "New", Members: []string{"u5"}},       // new
			},
		}
		// The read-only fields of d are ignored.
		d.Users[0].Version, d.Users[0].CreatedAt = 42, now
		must(t, "replace", s.ReplaceDirectory(ctx, d, false, now))
		wantUser := map[string]struct {
			v       int64
			created time.Time
			updated time.Time
		}{
			"u1": {1, t0, t0}, "u2": {2, t0, now}, "u3": {2, t0, now}, "u4": {2, t0, now}, "u5": {1, now, now},
		}
		for i, u := range d.Users {
			got, err := s.GetUser(ctx, u.ID)
			must(t, "get user", err)
			w := d.Users[i]
			w.Version, w.CreatedAt, w.UpdatedAt = wantUser[u.ID].v, wantUser[u.ID].created, wantUser[u.ID].updated
			if dd := diff(&w, got); dd != "" {
				t.Errorf("user %s (-want +got):\n%s", u.ID, dd)
			}
		}
		wantGroup := map[string]int64{"g1": 1, "g2": 2, "g3": 2, "g4": 1}
		for i, g := range d.Groups {
			got, err := s.GetGroup(ctx, g.ID)
			must(t, "get group", err)
			w := d.Groups[i]
			w.Version, w.CreatedAt, w.UpdatedAt = wantGroup[g.ID], t0, now
			if w.Version == 1 {
				w.UpdatedAt = t0
			}
			if g.ID == "g4" {
				w.CreatedAt, w.UpdatedAt = now, now
			}
			if dd := diff(&w, got); dd != "" {
				t.Errorf("group %s (-want +got):\n%s", g.ID, dd)
			}
		}
		wantCode(t, "emails stay unique", s.CreateUser(ctx, c.user("u9", "CY@example.com")), notify.EConflict)
		wantCode(t, "group names stay unique", s.CreateGroup(ctx, c.group("g9", "QA")), notify.EConflict)
		for _, r := range []string{"r1", "r2", "r3", "r4"} {
			got, err := s.GetRule(ctx, r)
			must(t, "get rule", err)
			if got.Version != 1 {
				t.Errorf("rule %s version = %d, want 1: nothing it names was removed", r, got.Version)
			}
		}
	})

	t.Run("removal of named users and groups is refused and changes nothing", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		setup(t, s, c)
		before := snap(t, s)
		d := notify.Directory{
			Users:  []notify.User{dirUser("u1", "Ann 2", "ann@example.com"), dirUser("u2", "Bob", "bob@example.com")},
			Groups: []notify.Group{{ID: "g1", Name: "Ops", Members: []string{"u1"}}},
		}
		err := s.ReplaceDirectory(ctx, d, false, c.now())
		wantCode(t, "replace", err, notify.EInUse)
		if dd := diff([]string{"r1", "r2", "r3"}, refsOf(err)); dd != "" {
			t.Errorf("Refs (-want +got):\n%s", dd)
		}
		if dd := diff(before, snap(t, s)); dd != "" {
			t.Errorf("a refused replace changed the store (-before +after):\n%s", dd)
		}
	})

	t.Run("prune removes the references", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		setup(t, s, c)
		before := snap(t, s)
		now := c.now()
		d := notify.Directory{
			Users:  []notify.User{dirUser("u1", "Ann", "ann@example.com"), dirUser("u2", "Bob", "bob@example.com")},
			Groups: []notify.Group{{ID: "g1", Name: "Ops", Members: []string{"u1", "u2"}}},
		}
		must(t, "replace", s.ReplaceDirectory(ctx, d, true, now))
		after := snap(t, s)
		if dd := diff(before.Users[:2], after.Users); dd != "" {
			t.Errorf("users (-want +got):\n%s", dd)
		}
		if dd := diff(before.Groups[:1], after.Groups); dd != "" {
			t.Errorf("groups (-want +got):\n%s", dd)
		}
		want := map[string]*notify.Rule{}
		for _, r := range before.Rules {
			want[r.ID] = copyRule(r)
		}
		bump := func(id string, rc notify.Recipients, enabled bool) {
			r := want[id]
			r.Recipients, r.Enabled, r.Version, r.UpdatedAt = rc, enabled, r.Version+1, now
		}
		bump("r1", notify.Recipients{Users: []string{"u1"}}, true)
		bump("r2", notify.Recipients{}, false) // no recipient left: disabled
		bump("r3", notify.Recipients{Emails: []string{"x@example.com"}}, true)
		for _, r := range after.Rules {
			if dd := diff(want[r.ID], r); dd != "" {
				t.Errorf("rule %s (-want +got):\n%s", r.ID, dd)
			}
		}
		if len(after.Rules) != 4 {
			t.Errorf("%d rules after prune, want 4", len(after.Rules))
		}
		must(t, "u3 is no longer named", s.CreateUser(ctx, c.user("u3", "cy@example.com")))
		must(t, "deleting it again is not refused", s.DeleteUser(ctx, "u3", 0))
	})

	t.Run("invalid directories are refused and change nothing", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			d    notify.Directory
			code string
		}{
			{"repeated email", notify.Directory{Users: []notify.User{dirUser("u1", "A", "a@example.com"), dirUser("u2", "B", "A@example.com")}}, notify.EConflict},
			{"repeated user id", notify.Directory{Users: []notify.User{dirUser("u1", "A", "a@example.com"), dirUser("u1", "B", "b@example.com")}}, notify.EConflict},
			{"repeated group name", notify.Directory{Groups: []notify.Group{{ID: "g1", Name: "Ops"}, {ID: "g2", Name: "OPS"}}}, notify.EConflict},
			{"member not in the directory", notify.Directory{
				Users:  []notify.User{dirUser("u1", "A", "a@example.com")},
				Groups: []notify.Group{{ID: "g1", Name: "Ops", Members: []string{"u1", "u9"}}}}, notify.EInvalid},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s, c := newStore(t), &clock{}
				must(t, "create user", s.CreateUser(ctx, c.user("u0", "zero@example.com")))
				before := snap(t, s)
				wantCode(t, "replace", s.ReplaceDirectory(ctx, tc.d, true, c.now()), tc.code)
				if dd := diff(before, snap(t, s)); dd != "" {
					t.Errorf("a refused replace changed the store (-before +after):\n%s", dd)
				}
			})
		}
	})
}
