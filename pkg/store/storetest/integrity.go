package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// raceRounds is how many times each delete-versus-rule race runs.
const raceRounds = 50

// testIntegrity checks that a rule never names a user or group that does
// not exist: the store refuses such a rule, and refuses to remove what a
// rule names, atomically, so that of a delete racing a rule change exactly
// one wins.
func testIntegrity(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("a rule naming unknown users or groups is refused", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		must(t, "create user", s.CreateUser(ctx, c.user("u1", "a@example.com")))
		must(t, "create group", s.CreateGroup(ctx, c.group("g1", "Ops")))
		r := c.rule("r1", "one")
		r.Recipients.Users = []string{"u1", "carol"}
		r.Recipients.Groups = []string{"ghost", "g1"}
		err := s.CreateRule(ctx, r)
		wantCode(t, "create", err, notify.EInvalid)
		want := []notify.FieldError{
			{Field: "recipients.groups[0]", Message: `"ghost" is not a known group id`},
			{Field: "recipients.users[1]", Message: `"carol" is not a known user id`},
		}
		if d := diff(want, fieldsOf(err)); d != "" {
			t.Errorf("create: fields (-want +got):\n%s", d)
		}
		if _, err := s.GetRule(ctx, "r1"); !notify.IsCode(err, notify.ENotFound) {
			t.Errorf("a refused create stored the rule: %v", err)
		}

		ok := c.rule("r1", "one")
		ok.Recipients.Users = []string{"u1"}
		must(t, "create", s.CreateRule(ctx, ok))
		u := copyRule(ok)
		u.Recipients.Users, u.Version = []string{"carol"}, 2
		err = s.UpdateRule(ctx, u)
		wantCode(t, "update", err, notify.EInvalid)
		if d := diff([]notify.FieldError{{Field: "recipients.users[0]", Message: `"carol" is not a known user id`}}, fieldsOf(err)); d != "" {
			t.Errorf("update: fields (-want +got):\n%s", d)
		}
		got, err := s.GetRule(ctx, "r1")
		must(t, "get", err)
		if got.Version != 1 || len(got.Recipients.Users) != 1 || got.Recipients.Users[0] != "u1" {
			t.Errorf("a refused update changed the rule: %+v", got)
		}
	})

	t.Run("directory replace races create of a rule naming a user it removes", func(t *testing.T) {
		raceReplace(t, newStore(t))
	})

	for _, kind := range []string{store.RefUser, store.RefGroup} {
		for _, change := range []string{"create", "replace"} {
			t.Run(fmt.Sprintf("delete %s races %s of a rule naming it", kind, change), func(t *testing.T) {
				raceDelete(t, newStore(t), kind, change)
			})
		}
	}
}

// raceDelete runs raceRounds rounds of a delete of a user or group (kind)
// at the same moment as a create of a rule naming it, or an update of a
// rule to name it (change "replace"). In every round exactly one must win;
// afterwards no rule may name a missing user or group.
func raceDelete(t *testing.T, s store.Store, kind, change string) {
	c := &clock{}
	deletes, changes := 0, 0
	for i := range raceRounds {
		id, rid := fmt.Sprintf("x%03d", i), fmt.Sprintf("r%03d", i)
		var del func() error
		if kind == store.RefUser {
			must(t, "create user", s.CreateUser(ctx, c.user(id, id+"@example.com")))
			del = func() error { return s.DeleteUser(ctx, id, 0) }
		} else {
			must(t, "create group", s.CreateGroup(ctx, c.group(id, "Group "+id)))
			del = func() error { return s.DeleteGroup(ctx, id, 0) }
		}
		r := c.rule(rid, "Rule "+rid)
		if change == "replace" {
			must(t, "create rule", s.CreateRule(ctx, copyRule(r)))
			r.Version, r.UpdatedAt = 2, c.now()
		}
		if kind == store.RefUser {
			r.Recipients.Users = []string{id}
		} else {
			r.Recipients.Groups = []string{id}
		}
		// Stagger one side by 0-4 ms, the write in even rounds and the
		// delete in odd ones, so that the rounds cover many interleavings
		// of operations that read before they write.
		stagger := func() { time.Sleep(time.Duration(i/2%5) * time.Millisecond) }
		write := func() error {
			if i%2 == 0 {
				stagger()
			}
			if change == "replace" {
				return s.UpdateRule(ctx, copyRule(r))
			}
			return s.CreateRule(ctx, copyRule(r))
		}
		// Alternate which goroutine starts first, so neither side always
		// gets the head start.
		errs := concurrently(2, func(j int) error {
			if j == i%2 {
				if i%2 == 1 {
					stagger()
				}
				return del()
			}
			return write()
		})
		if i%2 == 1 {
			errs[0], errs[1] = errs[1], errs[0]
		}
		switch {
		case errs[0] == nil && errs[1] == nil:
			t.Fatalf("round %d: both the delete of %s %q and the %s of rule %q won", i, kind, id, change, rid)
		case errs[0] == nil:
			deletes++
			wantCode(t, fmt.Sprintf("round %d: the losing %s", i, change), errs[1], notify.EInvalid)
		case errs[1] == nil:
			changes++
			wantCode(t, fmt.Sprintf("round %d: the losing delete", i), errs[0], notify.EInUse)
		default:
			t.Errorf("round %d: both lost: delete %v; %s %v", i, errs[0], change, errs[1])
		}
	}
	t.Logf("%d rounds: the delete won %d, the %s won %d", raceRounds, deletes, change, changes)
	checkNoDangling(t, s)
}

// raceReplace runs raceRounds rounds of a directory replace without prune
// that removes user x at the same moment as a create of a rule naming x.
func raceReplace(t *testing.T, s store.Store) {
	c := &clock{}
	var kept []notify.User // named by rules that won: every replace keeps them
	replaces, creates := 0, 0
	for i := range raceRounds {
		id := fmt.Sprintf("x%03d", i)
		x := notify.User{ID: id, Name: id, Email: id + "@example.com", Role: notify.RoleMember}
		must(t, "set up the directory", s.ReplaceDirectory(ctx, notify.Directory{Users: append(slices.Clone(kept), x)}, false, c.now()))
		r := c.rule(fmt.Sprintf("r%03d", i), "Rule "+id)
		r.Recipients.Users = []string{id}
		errs := concurrently(2, func(j int) error {
			if j == 0 {
				return s.ReplaceDirectory(ctx, notify.Directory{Users: slices.Clone(kept)}, false, c.now())
			}
			time.Sleep(time.Duration(i%5) * time.Millisecond)
			return s.CreateRule(ctx, copyRule(r))
		})
		switch {
		case errs[0] == nil && errs[1] == nil:
			t.Fatalf("round %d: both the replace removing %q and the create of a rule naming it won", i, id)
		case errs[0] == nil:
			replaces++
			wantCode(t, fmt.Sprintf("round %d: the losing create", i), errs[1], notify.EInvalid)
		case errs[1] == nil:
			creates++
			kept = append(kept, x)
			wantCode(t, fmt.Sprintf("round %d: the losing replace", i), errs[0], notify.EInUse)
		default:
			t.Errorf("round %d: both lost: replace %v; create %v", i, errs[0], errs[1])
		}
	}
	t.Logf("%d rounds: the replace won %d, the create won %d", raceRounds, replaces, creates)
	checkNoDangling(t, s)
}

// checkNoDangling fails the test if a rule names a user or group that
// does not exist.
func checkNoDangling(t *testing.T, s store.Store) {
	t.Helper()
	all, err := s.AllRules(ctx)
	must(t, "all rules", err)
	for _, r := range all {
		for _, ref := range store.RuleRefs(r) {
			var err error
			if ref.Kind == store.RefUser {
				_, err = s.GetUser(ctx, ref.ID)
			} else {
				_, err = s.GetGroup(ctx, ref.ID)
			}
			if err != nil {
				t.Errorf("rule %q names %s %q: %v", r.ID, ref.Kind, ref.ID, err)
			}
		}
	}
}

// fieldsOf returns the fields of err, or nil if it is not a *notify.Error.
func fieldsOf(err error) []notify.FieldError {
	if e, ok := err.(*notify.Error); ok {
		return e.Fields
	}
	return nil
}
