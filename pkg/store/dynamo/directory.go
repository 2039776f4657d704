package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

var users = &kind[notify.User]{
	name: "user", prefix: "USER", guard: "USEREMAIL", uniqField: "email",
	id:           func(u *notify.User) string { return u.ID },
	uniq:         func(u *notify.User) string { return u.Email },
	createdAt:    func(u *notify.User) time.Time { return u.CreatedAt },
	version:      func(u *notify.User) int64 { return u.Version },
	setCreatedAt: func(u *notify.User, t time.Time) { u.CreatedAt = t },
}

var groups = &kind[notify.Group]{
	name: "group", prefix: "GROUP", guard: "GROUPNAME", uniqField: "name",
	id:           func(g *notify.Group) string { return g.ID },
	uniq:         func(g *notify.Group) string { return g.Name },
	createdAt:    func(g *notify.Group) time.Time { return g.CreatedAt },
	version:      func(g *notify.Group) int64 { return g.Version },
	setCreatedAt: func(g *notify.Group, t time.Time) { g.CreatedAt = t },
}

// CreateUser stores a new user; EConflict if the id or email is taken.
func (s *Store) CreateUser(ctx context.Context, u *notify.User) error {
	return users.insert(ctx, s, u)
}

// GetUser returns the user with the id or ENotFound.
func (s *Store) GetUser(ctx context.Context, id string) (*notify.User, error) {
	return users.get(ctx, s, id)
}

// ListUsers returns one page of users, oldest first.
func (s *Store) ListUsers(ctx context.Context, p store.Page) ([]*notify.User, string, error) {
	return users.page(ctx, s, p, nil)
}

// UpdateUser replaces the user whose stored version is u.Version-1.
func (s *Store) UpdateUser(ctx context.Context, u *notify.User) error {
	return users.update(ctx, s, u, nil)
}

// DeleteUser removes a user (any version if version is 0) and takes it out
// of every group it is in, in one transaction (each such group gets a new
// version). EInUse if a rule names the user. The rules are read from the
// index just before: a rule created at the same moment naming the user is
// not seen.
func (s *Store) DeleteUser(ctx context.Context, id string, version int64) error {
	return users.remove(ctx, s, id, version, func(ctx context.Context, _ *notify.User) ([]op, error) {
		all, err := s.AllRules(ctx)
		if err != nil {
			return nil, fmt.Errorf("delete user %q: %w", id, err)
		}
		if refs := refsTo(all, "user", id); len(refs) > 0 {
			return nil, inUse("user", id, refs)
		}
		gs, err := groups.all(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("delete user %q: %w", id, err)
		}
		now := s.now().UTC()
		var ops []op
		for _, g := range gs {
			i := slices.Index(g.Members, id)
			if i < 0 {
				continue
			}
			ng := *g
			ng.Members = slices.Delete(slices.Clone(g.Members), i, i+1)
			ng.Version++
			ng.UpdatedAt = now
			o, err := groups.putOver(s, &ng, g.Version)
			if err != nil {
				return nil, err
			}
			ops = append(ops, o)
		}
		return ops, nil
	})
}

// checkMembers returns EInvalid naming every member of g that is not a user.
func (s *Store) checkMembers(ctx context.Context, g *notify.Group) error {
	if len(g.Members) == 0 {
		return nil
	}
	known := map[string]bool{}
	if len(g.Members) <= 4 {
		for _, m := range g.Members {
			if _, err := users.get(ctx, s, m); err == nil {
				known[m] = true
			} else if !notify.IsCode(err, notify.ENotFound) {
				return err
			}
		}
	} else {
		all, err := users.all(ctx, s)
		if err != nil {
			return err
		}
		for _, u := range all {
			known[u.ID] = true
		}
	}
	var fields []notify.FieldError
	for i, m := range g.Members {
		if !known[m] {
			fields = append(fields, notify.FieldError{Field: fmt.Sprintf("members[%d]", i), Message: fmt.Sprintf("user %q does not exist", m)})
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return &notify.Error{Code: notify.EInvalid, Message: fields[0].Field + ": " + fields[0].Message, Fields: fields}
}

// CreateGroup stores a new group; EConflict if the id or name is taken,
// EInvalid if a member is not a user.
func (s *Store) CreateGroup(ctx context.Context, g *notify.Group) error {
	if err := s.checkMembers(ctx, g); err != nil {
		return err
	}
	return groups.insert(ctx, s, g)
}

// GetGroup returns the group with the id or ENotFound.
func (s *Store) GetGroup(ctx context.Context, id string) (*notify.Group, error) {
	return groups.get(ctx, s, id)
}

// ListGroups returns one page of groups, oldest first.
func (s *Store) ListGroups(ctx context.Context, p store.Page) ([]*notify.Group, string, error) {
	return groups.page(ctx, s, p, nil)
}

// UpdateGroup replaces the group whose stored version is g.Version-1; EInvalid
// if a member is not a user.
func (s *Store) UpdateGroup(ctx context.Context, g *notify.Group) error {
	return groups.update(ctx, s, g, func(ctx context.Context, _ *notify.Group) error {
		return s.checkMembers(ctx, g)
	})
}

// DeleteGroup removes a group (any version if version is 0); EInUse if a rule
// names it.
func (s *Store) DeleteGroup(ctx context.Context, id string, version int64) error {
	return groups.remove(ctx, s, id, version, func(ctx context.Context, _ *notify.Group) ([]op, error) {
		all, err := s.AllRules(ctx)
		if err != nil {
			return nil, fmt.Errorf("delete group %q: %w", id, err)
		}
		if refs := refsTo(all, "group", id); len(refs) > 0 {
			return nil, inUse("group", id, refs)
		}
		return nil, nil
	})
}

// ReplaceDirectory makes the directory exactly d. It reads the users, groups
// and rules, then writes every change — records (each conditioned on the
// version it read), name guards (moved between records where emails or names
// swap) and pruned rules — in one TransactWriteItems. DynamoDB holds at most
// 100 writes in a transaction: a larger change is written in several
// transactions, in order, and is then not atomic (a failure part-way leaves
// the part written; running the same replace again completes it).
func (s *Store) ReplaceDirectory(ctx context.Context, d notify.Directory, prune bool, now time.Time) error {
	if err := d.Check(); err != nil {
		return err
	}
	curUsers, err := users.all(ctx, s)
	if err != nil {
		return fmt.Errorf("replace directory: %w", err)
	}
	curGroups, err := groups.all(ctx, s)
	if err != nil {
		return fmt.Errorf("replace directory: %w", err)
	}
	allRules, err := s.AllRules(ctx)
	if err != nil {
		return fmt.Errorf("replace directory: %w", err)
	}
	keepUsers := make(map[string]bool, len(d.Users))
	for _, u := range d.Users {
		keepUsers[u.ID] = true
	}
	keepGroups := make(map[string]bool, len(d.Groups))
	for _, g := range d.Groups {
		keepGroups[g.ID] = true
	}
	goneUsers, goneGroups := map[string]bool{}, map[string]bool{}
	var refs []string
	for _, u := range curUsers {
		if !keepUsers[u.ID] {
			goneUsers[u.ID] = true
			refs = append(refs, refsTo(allRules, "user", u.ID)...)
		}
	}
	for _, g := range curGroups {
		if !keepGroups[g.ID] {
			goneGroups[g.ID] = true
			refs = append(refs, refsTo(allRules, "group", g.ID)...)
		}
	}
	slices.Sort(refs)
	refs = slices.Compact(refs)
	if len(refs) > 0 && !prune {
		return &notify.Error{Code: notify.EInUse,
			Message: fmt.Sprintf("users or groups the directory removes are named by %d rule(s): %s", len(refs), strings.Join(refs, ", ")),
			Refs:    refs}
	}

	var ops []op
	for _, r := range allRules {
		if !slices.Contains(refs, r.ID) {
			continue
		}
		nr := *r
		nr.Recipients.Users = slices.DeleteFunc(slices.Clone(r.Recipients.Users), func(u string) bool { return goneUsers[u] })
		nr.Recipients.Groups = slices.DeleteFunc(slices.Clone(r.Recipients.Groups), func(g string) bool { return goneGroups[g] })
		nr.Version++
		nr.UpdatedAt = now
		if nr.Recipients.Empty() {
			nr.Enabled = false
		}
		o, err := rules.putOver(s, &nr, r.Version)
		if err != nil {
			return err
		}
		ops = append(ops, o)
	}
	uops, err := replaceAll(s, users, curUsers, d.Users, now, userSame, func(u *notify.User, v int64, c, m time.Time) {
		u.Version, u.CreatedAt, u.UpdatedAt = v, c, m
	})
	if err != nil {
		return err
	}
	gops, err := replaceAll(s, groups, curGroups, d.Groups, now, groupSame, func(g *notify.Group, v int64, c, m time.Time) {
		g.Version, g.CreatedAt, g.UpdatedAt = v, c, m
	})
	if err != nil {
		return err
	}
	ops = append(append(ops, uops...), gops...)
	for i := 0; i < len(ops); i += maxTransactItems {
		chunk := ops[i:min(i+maxTransactItems, len(ops))]
		if err := s.transact(ctx, "replace directory", chunk); err != nil {
			if i > 0 {
				return fmt.Errorf("replace directory: part %d of %d: %w", i/maxTransactItems+1, (len(ops)+maxTransactItems-1)/maxTransactItems, err)
			}
			return err
		}
	}
	return nil
}

func userSame(a, b *notify.User) bool {
	return a.Name == b.Name && a.Email == b.Email && a.Role == b.Role
}

func groupSame(a, b *notify.Group) bool {
	return a.Name == b.Name && slices.Equal(a.Members, b.Members)
}

// replaceAll returns the ops that make kind k hold exactly want, given its
// current records cur: puts of new and changed records, deletes of removed
// ones, and the moves of their name guards.
func replaceAll[T any](s *Store, k *kind[T], cur []*T, want []T, now time.Time,
	same func(a, b *T) bool, stamp func(v *T, version int64, created, updated time.Time)) ([]op, error) {
	old := make(map[string]*T, len(cur))
	curNames := map[string]string{} // folded name → id, as stored
	for _, v := range cur {
		old[k.id(v)] = v
		curNames[fold(k.uniq(v))] = k.id(v)
	}
	wantNames := map[string]string{}
	display := map[string]string{} // folded name → name, for messages
	var ops []op
	for i := range want {
		v := want[i] // a copy: d belongs to the caller
		wantNames[fold(k.uniq(&v))] = k.id(&v)
		display[fold(k.uniq(&v))] = k.uniq(&v)
		prev := old[k.id(&v)]
		var (
			o   op
			err error
		)
		switch {
		case prev == nil:
			stamp(&v, 1, now, now)
			o, err = k.putNew(s, &v)
		case same(prev, &v):
			continue
		default:
			stamp(&v, k.version(prev)+1, k.createdAt(prev), now)
			o, err = k.putOver(s, &v, k.version(prev))
		}
		if err != nil {
			return nil, err
		}
		ops = append(ops, o)
	}
	keep := make(map[string]bool, len(want))
	for i := range want {
		keep[k.id(&want[i])] = true
	}
	for _, v := range cur {
		if !keep[k.id(v)] {
			ops = append(ops, k.deleteAt(s, k.id(v), k.version(v)))
		}
	}
	for name, id := range curNames {
		switch to, ok := wantNames[name]; {
		case !ok:
			ops = append(ops, op{item: k.freeName(s, name, id).item, onFail: stalePart(k.name)})
		case to != id:
			ops = append(ops, k.takeName(s, display[name], to, id))
		}
	}
	for name, id := range wantNames {
		if _, ok := curNames[name]; !ok {
			ops = append(ops, k.takeName(s, display[name], id, ""))
		}
	}
	return ops, nil
}

func stalePart(kind string) func() error {
	return func() error {
		return notify.Errorf(notify.EStale, "the %ss changed while the directory was being replaced", kind)
	}
}
