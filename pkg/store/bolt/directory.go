package bolt

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

var users = &table[notify.User]{
	kind: "user", uniqField: "email",
	data: bUsers, ids: bUsersID, names: bUsersEmail,
	id:           func(u *notify.User) string { return u.ID },
	uniq:         func(u *notify.User) string { return u.Email },
	createdAt:    func(u *notify.User) time.Time { return u.CreatedAt },
	version:      func(u *notify.User) int64 { return u.Version },
	setCreatedAt: func(u *notify.User, t time.Time) { u.CreatedAt = t },
}

var groups = &table[notify.Group]{
	kind: "group", uniqField: "name",
	data: bGroups, ids: bGroupsID, names: bGroupsName,
	id:           func(g *notify.Group) string { return g.ID },
	uniq:         func(g *notify.Group) string { return g.Name },
	createdAt:    func(g *notify.Group) time.Time { return g.CreatedAt },
	version:      func(g *notify.Group) int64 { return g.Version },
	setCreatedAt: func(g *notify.Group, t time.Time) { g.CreatedAt = t },
}

// CreateUser stores a new user; EConflict if the id or email is taken.
func (s *Store) CreateUser(ctx context.Context, u *notify.User) error {
	return s.update(ctx, func(tx *bbolt.Tx) error { return users.insert(tx, u) })
}

// GetUser returns the user with the id or ENotFound.
func (s *Store) GetUser(ctx context.Context, id string) (*notify.User, error) {
	var u *notify.User
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		u, _, err = users.get(tx, id)
		return err
	})
	return u, err
}

// ListUsers returns one page of users, oldest first.
func (s *Store) ListUsers(ctx context.Context, p store.Page) ([]*notify.User, string, error) {
	var (
		out  []*notify.User
		next string
	)
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		out, next, err = users.page(tx, p, nil)
		return err
	})
	return out, next, err
}

// UpdateUser replaces the user whose stored version is u.Version-1.
func (s *Store) UpdateUser(ctx context.Context, u *notify.User) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, key, err := users.get(tx, u.ID)
		if err != nil {
			return err
		}
		if old.Version != u.Version-1 {
			return stale("user", u.ID, old.Version, u.Version-1)
		}
		return users.replace(tx, old, key, u)
	})
}

// DeleteUser removes a user (any version if version is 0) and takes it out
// of every group it is in (each such group gets a new version). EInUse if a
// rule names the user.
func (s *Store) DeleteUser(ctx context.Context, id string, version int64) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, _, err := users.get(tx, id)
		if err != nil {
			return err
		}
		if version != 0 && old.Version != version {
			return stale("user", id, old.Version, version)
		}
		if refs := refsTo(tx, refUser, id); len(refs) > 0 {
			return store.InUse(store.RefUser, id, refs)
		}
		all, err := groups.all(tx)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		for _, g := range all {
			i := slices.Index(g.Members, id)
			if i < 0 {
				continue
			}
			_, gkey, err := groups.get(tx, g.ID)
			if err != nil {
				return err
			}
			ng := *g
			ng.Members = slices.Delete(slices.Clone(g.Members), i, i+1)
			ng.Version++
			ng.UpdatedAt = now
			if err := groups.replace(tx, g, gkey, &ng); err != nil {
				return err
			}
		}
		return users.remove(tx, old)
	})
}

// checkMembers returns EInvalid naming every member that is not a user.
func checkMembers(tx *bbolt.Tx, g *notify.Group) error {
	var fields []notify.FieldError
	for i, m := range g.Members {
		if !users.exists(tx, m) {
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
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if err := checkMembers(tx, g); err != nil {
			return err
		}
		return groups.insert(tx, g)
	})
}

// GetGroup returns the group with the id or ENotFound.
func (s *Store) GetGroup(ctx context.Context, id string) (*notify.Group, error) {
	var g *notify.Group
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		g, _, err = groups.get(tx, id)
		return err
	})
	return g, err
}

// ListGroups returns one page of groups, oldest first.
func (s *Store) ListGroups(ctx context.Context, p store.Page) ([]*notify.Group, string, error) {
	var (
		out  []*notify.Group
		next string
	)
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		out, next, err = groups.page(tx, p, nil)
		return err
	})
	return out, next, err
}

// UpdateGroup replaces the group whose stored version is g.Version-1.
func (s *Store) UpdateGroup(ctx context.Context, g *notify.Group) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, key, err := groups.get(tx, g.ID)
		if err != nil {
			return err
		}
		if old.Version != g.Version-1 {
			return stale("group", g.ID, old.Version, g.Version-1)
		}
		if err := checkMembers(tx, g); err != nil {
			return err
		}
		return groups.replace(tx, old, key, g)
	})
}

// DeleteGroup removes a group (any version if version is 0); EInUse if a
// rule names it.
func (s *Store) DeleteGroup(ctx context.Context, id string, version int64) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, _, err := groups.get(tx, id)
		if err != nil {
			return err
		}
		if version != 0 && old.Version != version {
			return stale("group", id, old.Version, version)
		}
		if refs := refsTo(tx, refGroup, id); len(refs) > 0 {
			return store.InUse(store.RefGroup, id, refs)
		}
		return groups.remove(tx, old)
	})
}

// ReplaceDirectory makes the directory exactly d in one transaction.
func (s *Store) ReplaceDirectory(ctx context.Context, d notify.Directory, prune bool, now time.Time) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if err := d.Check(); err != nil {
			return err
		}
		curUsers, err := users.all(tx)
		if err != nil {
			return err
		}
		curGroups, err := groups.all(tx)
		if err != nil {
			return err
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
				refs = append(refs, refsTo(tx, refUser, u.ID)...)
			}
		}
		for _, g := range curGroups {
			if !keepGroups[g.ID] {
				goneGroups[g.ID] = true
				refs = append(refs, refsTo(tx, refGroup, g.ID)...)
			}
		}
		slices.Sort(refs)
		refs = slices.Compact(refs)
		if len(refs) > 0 && !prune {
			return &notify.Error{Code: notify.EInUse,
				Message: fmt.Sprintf("users or groups the directory removes are named by %d rule(s): %s", len(refs), strings.Join(refs, ", ")),
				Refs:    refs}
		}
		for _, id := range refs {
			if err := pruneRule(tx, id, goneUsers, goneGroups, now); err != nil {
				return err
			}
		}
		// Take out every removed or changed record first, so that emails and
		// names can move between records, then write the new state.
		if err := replaceAll(tx, users, curUsers, d.Users, now, userSame, func(u *notify.User, v int64, c, m time.Time) {
			u.Version, u.CreatedAt, u.UpdatedAt = v, c, m
		}); err != nil {
			return err
		}
		return replaceAll(tx, groups, curGroups, d.Groups, now, groupSame, func(g *notify.Group, v int64, c, m time.Time) {
			g.Version, g.CreatedAt, g.UpdatedAt = v, c, m
		})
	})
}

func userSame(a, b *notify.User) bool {
	return a.Name == b.Name && a.Email == b.Email && a.Role == b.Role
}

func groupSame(a, b *notify.Group) bool {
	return a.Name == b.Name && slices.Equal(a.Members, b.Members)
}

// replaceAll makes table t hold exactly want, given its current content cur.
func replaceAll[T any](tx *bbolt.Tx, t *table[T], cur []*T, want []T, now time.Time,
	same func(a, b *T) bool, stamp func(v *T, version int64, created, updated time.Time)) error {
	old := make(map[string]*T, len(cur))
	for _, v := range cur {
		old[t.id(v)] = v
	}
	var write []*T
	for i := range want {
		v := want[i] // a copy: d belongs to the caller
		prev := old[t.id(&v)]
		switch {
		case prev == nil:
			stamp(&v, 1, now, now)
		case same(prev, &v):
			delete(old, t.id(&v)) // unchanged: leave it alone
			continue
		default:
			stamp(&v, t.version(prev)+1, t.createdAt(prev), now)
		}
		write = append(write, &v)
	}
	for _, v := range old { // removed or changed
		if err := t.remove(tx, v); err != nil {
			return err
		}
	}
	for _, v := range write {
		if err := t.insert(tx, v); err != nil {
			return err
		}
	}
	return nil
}

// pruneRule removes the gone users and groups from rule id's recipients.
func pruneRule(tx *bbolt.Tx, id string, goneUsers, goneGroups map[string]bool, now time.Time) error {
	old, key, err := rules.get(tx, id)
	if err != nil {
		return err
	}
	r := *old
	r.Recipients.Users = slices.DeleteFunc(slices.Clone(old.Recipients.Users), func(u string) bool { return goneUsers[u] })
	r.Recipients.Groups = slices.DeleteFunc(slices.Clone(old.Recipients.Groups), func(g string) bool { return goneGroups[g] })
	r.Version++
	r.UpdatedAt = now
	if r.Recipients.Empty() {
		r.Enabled = false
	}
	return replaceRule(tx, old, key, &r)
}
