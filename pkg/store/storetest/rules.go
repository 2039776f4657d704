package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

func (c *clock) rule(id, name string) *notify.Rule {
	now := c.now()
	return &notify.Rule{
		ID: id, Name: name, Enabled: true,
		EventTypes: []notify.EventType{notify.TypeJob},
		Severities: []notify.Severity{notify.SeverityCritical},
		Recipients: notify.Recipients{Emails: []string{"ops@example.com"}},
		Source:     notify.SourceUser, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
}

func copyRule(r *notify.Rule) *notify.Rule {
	c := *r
	return &c
}

func ruleIDs(rs []*notify.Rule) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

func testRules(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("create and get", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		must(t, "create user", s.CreateUser(ctx, c.user("u1", "a@example.com")))
		must(t, "create group", s.CreateGroup(ctx, c.group("g1", "Ops")))
		r := c.rule("r1", "Deploy failures")
		r.Recipients = notify.Recipients{Users: []string{"u1"}, Groups: []string{"g1"}, Emails: []string{"a@example.com"}, SlackChannels: []string{"C0123456789"}}
		r.EventTypes = []notify.EventType{notify.TypeJob, notify.TypeDeployment}
		r.Severities = []notify.Severity{notify.SeverityCritical, notify.SeverityWarning}
		want := copyRule(r)
		must(t, "create", s.CreateRule(ctx, r))
		got, err := s.GetRule(ctx, "r1")
		must(t, "get", err)
		if d := diff(want, got); d != "" {
			t.Errorf("get after create (-want +got):\n%s", d)
		}
		_, err = s.GetRule(ctx, "nope")
		wantCode(t, "get unknown", err, notify.ENotFound)
	})

	t.Run("policy rule keeps its policy", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		r := c.rule(notify.PolicyRuleID("p1"), "Policy: nightly backup")
		r.Source = notify.SourcePolicy
		r.Policy = &notify.Policy{ID: "p1", Name: "nightly backup", OnFailure: true}
		want := copyRule(r)
		must(t, "create", s.CreateRule(ctx, r))
		got, err := s.GetRule(ctx, r.ID)
		must(t, "get", err)
		if d := diff(want, got); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})

	t.Run("returned values are copies", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		must(t, "create", s.CreateRule(ctx, c.rule("r1", "one")))
		got, err := s.GetRule(ctx, "r1")
		must(t, "get", err)
		got.Name = "changed"
		got.Recipients.Emails[0] = "changed@example.com"
		again, err := s.GetRule(ctx, "r1")
		must(t, "get again", err)
		if again.Name != "one" || again.Recipients.Emails[0] != "ops@example.com" {
			t.Errorf("changing a returned rule changed the store: %+v", again)
		}
	})

	t.Run("create conflicts", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		must(t, "create", s.CreateRule(ctx, c.rule("r1", "Disk Full")))
		wantCode(t, "same id", s.CreateRule(ctx, c.rule("r1", "other name")), notify.EConflict)
		wantCode(t, "same name", s.CreateRule(ctx, c.rule("r2", "Disk Full")), notify.EConflict)
		wantCode(t, "name in other case", s.CreateRule(ctx, c.rule("r3", "DISK full")), notify.EConflict)
		for _, id := range []string{"r2", "r3"} {
			_, err := s.GetRule(ctx, id)
			wantCode(t, "refused rule "+id, err, notify.ENotFound)
		}
		got, err := s.GetRule(ctx, "r1")
		must(t, "get", err)
		if got.Name != "Disk Full" {
			t.Errorf("name of r1 = %q after refused creates", got.Name)
		}
		all, err := s.AllRules(ctx)
		must(t, "all", err)
		if len(all) != 1 {
			t.Errorf("AllRules holds %d rules, want 1", len(all))
		}
	})

	t.Run("concurrent creates of one name: exactly one wins", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		const n = 8
		rs := make([]*notify.Rule, n)
		for i := range rs {
			rs[i] = c.rule(fmt.Sprintf("r%d", i), "Same Name")
		}
		errs := concurrently(n, func(i int) error { return s.CreateRule(ctx, rs[i]) })
		oneWins(t, "create", errs, notify.EConflict)
		all, err := s.AllRules(ctx)
		must(t, "all", err)
		if len(all) != 1 {
			t.Errorf("AllRules holds %d rules, want 1", len(all))
		}
	})

	t.Run("concurrent updates of one version: exactly one wins", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		must(t, "create", s.CreateRule(ctx, c.rule("r1", "one")))
		const n = 8
		errs := concurrently(n, func(i int) error {
			r := c.rule("r1", fmt.Sprintf("one v2 by %d", i))
			r.Version = 2
			return s.UpdateRule(ctx, r)
		})
		oneWins(t, "update", errs, notify.EStale)
		got, err := s.GetRule(ctx, "r1")
		must(t, "get", err)
		if got.Version != 2 {
			t.Errorf("version = %d, want 2", got.Version)
		}
	})

	t.Run("update", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		must(t, "create user", s.CreateUser(ctx, c.user("u1", "a@example.com")))
		r := c.rule("r1", "Old Name")
		must(t, "create", s.CreateRule(ctx, r))
		u := copyRule(r)
		u.Name, u.Enabled, u.Version, u.UpdatedAt = "New Name", false, 2, c.now()
		u.Recipients = notify.Recipients{Users: []string{"u1"}}
		want := copyRule(u)
		must(t, "update", s.UpdateRule(ctx, u))
		got, err := s.GetRule(ctx, "r1")
		must(t, "get", err)
		if d := diff(want, got); d != "" {
			t.Errorf("get after update (-want +got):\n%s", d)
		}
		must(t, "the old name is free", s.CreateRule(ctx, c.rule("r2", "old name")))
		wantCode(t, "the new name is taken", s.CreateRule(ctx, c.rule("r3", "NEW NAME")), notify.EConflict)

		u = copyRule(want)
		u.Name, u.Version = "NEW NAME", 3
		must(t, "rename to a case variant of its own name", s.UpdateRule(ctx, u))
		wantCode(t, "the case variant is taken", s.CreateRule(ctx, c.rule("r4", "new name")), notify.EConflict)
	})

	t.Run("update refusals change nothing", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		r1, r2 := c.rule("r1", "one"), c.rule("r2", "two")
		want := copyRule(r1)
		must(t, "create", s.CreateRule(ctx, r1))
		must(t, "create", s.CreateRule(ctx, r2))
		for _, tc := range []struct {
			name    string
			version int64
			newName string
			code    string
		}{
			{"version too high", 3, "one changed", notify.EStale},
			{"version not incremented", 1, "one changed", notify.EStale},
			{"version zero", 0, "one changed", notify.EStale},
			{"name of another rule", 2, "Two", notify.EConflict},
		} {
			t.Run(tc.name, func(t *testing.T) {
				u := copyRule(r1)
				u.Name, u.Version, u.Enabled = tc.newName, tc.version, false
				wantCode(t, "update", s.UpdateRule(ctx, u), tc.code)
				got, err := s.GetRule(ctx, "r1")
				must(t, "get", err)
				if d := diff(want, got); d != "" {
					t.Errorf("refused update changed the rule (-want +got):\n%s", d)
				}
			})
		}
		u := c.rule("nope", "nope")
		u.Version = 2
		wantCode(t, "update unknown", s.UpdateRule(ctx, u), notify.ENotFound)
		_, err := s.GetRule(ctx, "nope")
		wantCode(t, "update unknown created it", err, notify.ENotFound)
	})

	t.Run("delete", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		r := c.rule("r1", "Gone Soon")
		must(t, "create", s.CreateRule(ctx, r))
		u := copyRule(r)
		u.Version = 2
		must(t, "update", s.UpdateRule(ctx, u))
		wantCode(t, "delete stale version", s.DeleteRule(ctx, "r1", 1), notify.EStale)
		wantCode(t, "delete future version", s.DeleteRule(ctx, "r1", 3), notify.EStale)
		if _, err := s.GetRule(ctx, "r1"); err != nil {
			t.Errorf("refused delete removed the rule: %v", err)
		}
		must(t, "delete current version", s.DeleteRule(ctx, "r1", 2))
		_, err := s.GetRule(ctx, "r1")
		wantCode(t, "get deleted", err, notify.ENotFound)
		wantCode(t, "delete again", s.DeleteRule(ctx, "r1", 0), notify.ENotFound)
		must(t, "the name is free", s.CreateRule(ctx, c.rule("r2", "gone soon")))

		must(t, "delete any version", s.DeleteRule(ctx, "r2", 0))
		all, err := s.AllRules(ctx)
		must(t, "all", err)
		if len(all) != 0 {
			t.Errorf("AllRules holds %d rules after deleting all, want 0", len(all))
		}
		must(t, "the id is free", s.CreateRule(ctx, c.rule("r1", "again")))
	})

	t.Run("list walks every page in creation order", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		const n = 7
		var want []string
		for i := range n {
			r := c.rule(revID("r", i), fmt.Sprintf("rule %d", i))
			must(t, "create", s.CreateRule(ctx, r))
			want = append(want, r.ID)
		}
		for _, limit := range []int{1, 2, 3, 7, 8, 100} {
			t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
				got := walk(t, "rules", limit, func(p store.Page) ([]*notify.Rule, string, error) {
					return s.ListRules(ctx, store.RuleFilter{Page: p})
				})
				if d := diff(want, ruleIDs(got)); d != "" {
					t.Errorf("ids (-want +got):\n%s", d)
				}
			})
		}
		all, err := s.AllRules(ctx)
		must(t, "all", err)
		if d := diff(setOf(want), setOf(ruleIDs(all))); d != "" {
			t.Errorf("AllRules ids (-want +got):\n%s", d)
		}
	})

	t.Run("list after deletes and inserts between pages", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		for i := range 6 {
			must(t, "create", s.CreateRule(ctx, c.rule(revID("r", i), fmt.Sprintf("rule %d", i))))
		}
		page, next, err := s.ListRules(ctx, store.RuleFilter{Page: store.Page{Limit: 3}})
		must(t, "page 1", err)
		if len(page) != 3 || next == "" {
			t.Fatalf("page 1: %d rules, next %q", len(page), next)
		}
		must(t, "delete the last rule of page 1", s.DeleteRule(ctx, page[2].ID, 0))
		must(t, "delete the first rule of page 2", s.DeleteRule(ctx, revID("r", 3), 0))
		must(t, "create", s.CreateRule(ctx, c.rule("a-new", "new")))
		rest := walk(t, "rest", 3, func(p store.Page) ([]*notify.Rule, string, error) {
			if p.Cursor == "" {
				p.Cursor = next
			}
			return s.ListRules(ctx, store.RuleFilter{Page: p})
		})
		if d := diff([]string{revID("r", 4), revID("r", 5), "a-new"}, ruleIDs(rest)); d != "" {
			t.Errorf("ids after the cursor (-want +got):\n%s", d)
		}
	})

	t.Run("list default limit", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		for i := range store.DefaultLimit + 3 {
			must(t, "create", s.CreateRule(ctx, c.rule(revID("r", i), fmt.Sprintf("rule %d", i))))
		}
		page, next, err := s.ListRules(ctx, store.RuleFilter{})
		must(t, "list", err)
		if len(page) != store.DefaultLimit || next == "" {
			t.Errorf("limit 0: %d rules, next %q; want %d and a cursor", len(page), next, store.DefaultLimit)
		}
		page, next, err = s.ListRules(ctx, store.RuleFilter{Page: store.Page{Cursor: next}})
		must(t, "list", err)
		if len(page) != 3 || next != "" {
			t.Errorf("second page: %d rules, next %q; want 3 and no cursor", len(page), next)
		}
	})

	t.Run("list of nothing", func(t *testing.T) {
		s := newStore(t)
		page, next, err := s.ListRules(ctx, store.RuleFilter{Page: store.Page{Limit: 5}})
		must(t, "list", err)
		if len(page) != 0 || next != "" {
			t.Errorf("empty store: %d rules, next %q", len(page), next)
		}
	})

	t.Run("list with a bad cursor", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		must(t, "create", s.CreateRule(ctx, c.rule("r1", "one")))
		_, _, err := s.ListRules(ctx, store.RuleFilter{Page: store.Page{Cursor: "!!not a cursor!!"}})
		wantCode(t, "list", err, notify.EInvalid)
	})

	t.Run("list filters with pagination", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		var rs []*notify.Rule
		for i := range 12 {
			r := c.rule(revID("r", i), fmt.Sprintf("rule %d", i))
			r.Enabled = i%3 != 0
			if i%2 == 1 {
				r.Source = notify.SourcePolicy
				r.Policy = &notify.Policy{ID: fmt.Sprintf("p%d", i), Name: "policy", OnSuccess: true}
				r.ID = notify.PolicyRuleID(revID("p", i))
			}
			must(t, "create", s.CreateRule(ctx, r))
			rs = append(rs, r)
		}
		yes, no := true, false
		for _, src := range []notify.Source{"", notify.SourceUser, notify.SourcePolicy} {
			for _, en := range []*bool{nil, &yes, &no} {
				var want []string
				for _, r := range rs {
					if (src == "" || r.Source == src) && (en == nil || r.Enabled == *en) {
						want = append(want, r.ID)
					}
				}
				name := fmt.Sprintf("source %q enabled %v", src, en)
				if en != nil {
					name = fmt.Sprintf("source %q enabled %v", src, *en)
				}
				t.Run(name, func(t *testing.T) {
					for _, limit := range []int{1, 2, 5} {
						got := walk(t, "rules", limit, func(p store.Page) ([]*notify.Rule, string, error) {
							return s.ListRules(ctx, store.RuleFilter{Source: src, Enabled: en, Page: p})
						})
						if d := diff(want, ruleIDs(got)); d != "" {
							t.Errorf("limit %d ids (-want +got):\n%s", limit, d)
						}
					}
				})
			}
		}
	})
}

// setOf returns a sorted copy of ids, for comparing sets.
func setOf(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}
