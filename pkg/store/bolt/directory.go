package bolt

import (
	"context"
	"fmt"
	"slices"
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

// ReplaceDirectory makes the directory exactly d in one transaction: it
// reads the users, groups and rules, has notify.PlanDirectory compute the
// change, and applies the plan.
func (s *Store) ReplaceDirectory(ctx context.Context, d notify.Directory, prune bool, now time.Time) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		curUsers, err := users.all(tx)
		if err != nil {
			return err
		}
		curGroups, err := groups.all(tx)
		if err != nil {
			return err
		}
		allRules, err := rules.all(tx)
		if err != nil {
			return err
		}
		plan, err := notify.PlanDirectory(curUsers, curGroups, allRules, d, prune, now)
		if err != nil {
			return err
		}
		for i := range plan.PruneRules {
			r := &plan.PruneRules[i]
			old, key, err := rules.get(tx, r.ID)
			if err != nil {
				return err
			}
			if err := replaceRule(tx, old, key, r); err != nil {
				return err
			}
		}
		if err := apply(tx, users, plan.CreateUsers, plan.UpdateUsers, plan.DeleteUsers); err != nil {
			return err
		}
		return apply(tx, groups, plan.CreateGroups, plan.UpdateGroups, plan.DeleteGroups)
	})
}

// apply writes one kind's part of a directory plan. It takes out every
// removed or changed record first, so that emails and names can move
// between records, then writes the new state.
func apply[T any](tx *bbolt.Tx, t *table[T], create, update, del []T) error {
	for _, list := range [][]T{del, update} {
		for i := range list {
			old, _, err := t.get(tx, t.id(&list[i]))
			if err != nil {
				return err
			}
			if err := t.remove(tx, old); err != nil {
				return err
			}
		}
	}
	for _, list := range [][]T{update, create} {
		for i := range list {
			if err := t.insert(tx, &list[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
