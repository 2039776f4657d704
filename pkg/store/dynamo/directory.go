package dynamo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
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

// CreateUser stores a new user and its reference counter; EConflict if
// the id or email is taken.
func (s *Store) CreateUser(ctx context.Context, u *notify.User) error {
	return users.insert(ctx, s, u, s.newRefs(users.prefix, u.ID))
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

// DeleteUser removes a user (any version if version is 0) and its
// reference counter, and takes it out of every group it is in, in one
// transaction (each such group gets a new version). EInUse if a rule names
// the user: the counter must be 0, so a rule written meanwhile naming the
// user makes the delete fail.
func (s *Store) DeleteUser(ctx context.Context, id string, version int64) error {
	err := users.remove(ctx, s, id, version, func(ctx context.Context, _ *notify.User) ([]op, error) {
		if err := s.notNamed(ctx, store.RefUser, id); err != nil {
			return nil, err
		}
		gs, err := groups.all(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("delete user %q: %w", id, err)
		}
		now := s.now().UTC()
		ops := []op{s.dropRefs(users.prefix, id, 0)}
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
	return s.inUseIfNamed(ctx, err, store.RefUser, id)
}

// notNamed fails with EInUse if a rule names the user or group id (kind
// store.RefUser or store.RefGroup), as the rules read now say.
func (s *Store) notNamed(ctx context.Context, kind, id string) error {
	all, err := s.AllRules(ctx)
	if err != nil {
		return fmt.Errorf("delete %s %q: %w", kind, id, err)
	}
	if refs := refsTo(all, kind, id); len(refs) > 0 {
		return store.InUse(kind, id, refs)
	}
	return nil
}

// inUseIfNamed turns the failed counter condition of a delete into EInUse
// with the rules that now name the user or group.
func (s *Store) inUseIfNamed(ctx context.Context, err error, kind, id string) error {
	if !errors.Is(err, errRefsChanged) {
		return err
	}
	if err := s.notNamed(ctx, kind, id); err != nil {
		return err
	}
	// Named when the delete ran, no longer now: the caller may try again.
	return notify.Errorf(notify.EStale, "the rules naming %s %q changed meanwhile", kind, id)
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

// CreateGroup stores a new group and its reference counter; EConflict if
// the id or name is taken, EInvalid if a member is not a user.
func (s *Store) CreateGroup(ctx context.Context, g *notify.Group) error {
	if err := s.checkMembers(ctx, g); err != nil {
		return err
	}
	return groups.insert(ctx, s, g, s.newRefs(groups.prefix, g.ID))
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

// DeleteGroup removes a group (any version if version is 0) and its
// reference counter; EInUse if a rule names it (atomically, as
// DeleteUser).
func (s *Store) DeleteGroup(ctx context.Context, id string, version int64) error {
	err := groups.remove(ctx, s, id, version, func(ctx context.Context, _ *notify.Group) ([]op, error) {
		if err := s.notNamed(ctx, store.RefGroup, id); err != nil {
			return nil, err
		}
		return []op{s.dropRefs(groups.prefix, id, 0)}, nil
	})
	return s.inUseIfNamed(ctx, err, store.RefGroup, id)
}

// ReplaceDirectory makes the directory exactly d. It reads the users,
// groups and rules, has notify.PlanDirectory compute the change, and writes
// the plan — records (each conditioned on the version it read), reference
// counters (created with new records; deleted with removed ones on the
// condition that they still count the rules read), name guards (moved
// between records where emails or names swap) and pruned rules — in one
// TransactWriteItems. A rule written meanwhile naming a removed user or
// group fails the counter's condition: the replace then starts again from
// a new read, and fails with EInUse or prunes the new rule too.
//
// DynamoDB holds at most 100 writes in a transaction: a larger change is
// written in several transactions, in order, and is then not atomic (a
// failure part-way leaves the part written; running the same replace again
// completes it). A record and its counter are always created or deleted in
// the same one, so that no rule can name a removed record and no record is
// left without its counter.
func (s *Store) ReplaceDirectory(ctx context.Context, d notify.Directory, prune bool, now time.Time) error {
	for attempt := 0; ; attempt++ {
		err := s.replaceDirectory(ctx, d, prune, now)
		if !errors.Is(err, errRefsChanged) {
			return err
		}
		if attempt == transactRetries {
			return notify.Errorf(notify.EStale, "the rules changed while the directory was being replaced; try again")
		}
	}
}

func (s *Store) replaceDirectory(ctx context.Context, d notify.Directory, prune bool, now time.Time) error {
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
	plan, err := notify.PlanDirectory(curUsers, curGroups, allRules, d, prune, now)
	if err != nil {
		return err
	}
	var ops []op
	for i := range plan.PruneRules {
		r := &plan.PruneRules[i]
		o, err := rules.putOver(s, r, r.Version-1)
		if err != nil {
			return err
		}
		ops = append(ops, o)
	}
	// A removed record's counter is deleted on the condition that it
	// still counts the rules read (those being pruned).
	dropUser := func(id string) op {
		return s.dropRefs(users.prefix, id, int64(len(refsTo(allRules, store.RefUser, id))))
	}
	dropGroup := func(id string) op {
		return s.dropRefs(groups.prefix, id, int64(len(refsTo(allRules, store.RefGroup, id))))
	}
	uops, err := applyOps(s, users, curUsers, plan.CreateUsers, plan.UpdateUsers, plan.DeleteUsers, dropUser)
	if err != nil {
		return err
	}
	gops, err := applyOps(s, groups, curGroups, plan.CreateGroups, plan.UpdateGroups, plan.DeleteGroups, dropGroup)
	if err != nil {
		return err
	}
	ops = append(append(ops, uops...), gops...)
	parts := chunks(ops)
	for i, chunk := range parts {
		if err := s.transact(ctx, "replace directory", chunk); err != nil {
			if i > 0 && !errors.Is(err, errRefsChanged) {
				return fmt.Errorf("replace directory: part %d of %d: %w", i+1, len(parts), err)
			}
			return err
		}
	}
	return nil
}

// chunks splits ops into transactions of at most maxTransactItems, in
// order, never between an op marked withNext and the next one.
func chunks(ops []op) [][]op {
	var out [][]op
	for i := 0; i < len(ops); {
		end := min(i+maxTransactItems, len(ops))
		for end < len(ops) && end > i+1 && ops[end-1].withNext {
			end--
		}
		out = append(out, ops[i:end])
		i = end
	}
	return out
}

// applyOps returns the ops that apply kind k's part of a directory plan,
// given its current records cur: puts of new records (with their reference
// counters) and changed ones, deletes of removed ones (each with the op
// drop returns for its counter), and the moves of their name guards. A
// record and its counter are created or deleted in the same transaction
// (withNext) even when the plan takes several: a record never exists
// without its counter, which the counter backfill (backfill.go) would take
// for a record written before the counters.
func applyOps[T any](s *Store, k *kind[T], cur []*T, create, update, del []T, drop func(id string) op) ([]op, error) {
	held := map[string]string{} // folded name → id, as stored
	stored := make(map[string]*T, len(cur))
	for _, v := range cur {
		held[fold(k.uniq(v))] = k.id(v)
		stored[k.id(v)] = v
	}
	after := maps.Clone(held) // folded name → id, once applied
	display := map[string]string{}
	var ops []op
	for i := range del {
		v := &del[i]
		delete(after, fold(k.uniq(v)))
		d := drop(k.id(v))
		d.withNext = true
		ops = append(ops, d, k.deleteAt(s, k.id(v), k.version(v)))
	}
	for i := range update {
		if old := stored[k.id(&update[i])]; old != nil {
			delete(after, fold(k.uniq(old)))
		}
	}
	for i := range update {
		v := &update[i]
		after[fold(k.uniq(v))], display[fold(k.uniq(v))] = k.id(v), k.uniq(v)
		o, err := k.putOver(s, v, k.version(v)-1)
		if err != nil {
			return nil, err
		}
		ops = append(ops, o)
	}
	for i := range create {
		v := &create[i]
		after[fold(k.uniq(v))], display[fold(k.uniq(v))] = k.id(v), k.uniq(v)
		o, err := k.putNew(s, v)
		if err != nil {
			return nil, err
		}
		o.withNext = true
		ops = append(ops, o, s.newRefs(k.prefix, k.id(v)))
	}
	for name, id := range held {
		switch to, ok := after[name]; {
		case !ok:
			ops = append(ops, op{item: k.freeName(s, name, id).item, onFail: stalePart(k.name)})
		case to != id:
			ops = append(ops, k.takeName(s, display[name], to, id))
		}
	}
	for name, id := range after {
		if _, ok := held[name]; !ok {
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
