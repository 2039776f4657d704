package admin

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// modifyRetries bounds how often Modify* re-reads an entry another
// writer changed meanwhile (identity providers send changes to one group
// in parallel).
const modifyRetries = 20

// backoff waits a little, more after each attempt i and at random, before
// an entry that changed meanwhile is read again, so that parallel writers
// spread out.
func backoff(ctx context.Context, i int) error {
	t := time.NewTimer(rand.N(time.Duration(i+1) * 2 * time.Millisecond))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ProvisionInput is a user as an identity provider sets it.
type ProvisionInput struct {
	Name, Email, Role string
	Active            bool
	Provisioned       notify.Provisioned
}

func (in ProvisionInput) user() *notify.User {
	role := in.Role
	if role == "" {
		role = notify.RoleMember
	}
	p := in.Provisioned
	return &notify.User{Name: in.Name, Email: in.Email, Role: role, Inactive: !in.Active, Provisioned: &p}
}

// userNameTaken fails with EConflict if another user than id has the
// userName (case-insensitive).
func (s *Directory) userNameTaken(ctx context.Context, id, userName string) error {
	users, err := s.AllUsers(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.ID != id && u.Provisioned != nil && strings.EqualFold(u.Provisioned.UserName, userName) {
			return &notify.Error{Code: notify.EConflict, Message: fmt.Sprintf("a user with userName %q exists", userName),
				Fields: []notify.FieldError{{Field: "userName", Message: "is already taken"}}}
		}
	}
	return nil
}

// ProvisionUser creates a user an identity provider pushes (id
// usr_<ulid>). EConflict if its userName or email is taken.
func (s *Directory) ProvisionUser(ctx context.Context, in ProvisionInput) (*notify.User, error) {
	if in.Provisioned.UserName == "" {
		return nil, notify.Invalid("userName", "is required")
	}
	if err := s.userNameTaken(ctx, "", in.Provisioned.UserName); err != nil {
		return nil, err
	}
	return s.createUser(ctx, in.user())
}

// ModifyUser replaces user id with what change makes of it, re-reading it
// if another writer changed it meanwhile; with pre, the stored version
// must satisfy it (and no re-read happens).
func (s *Directory) ModifyUser(ctx context.Context, id string, pre Precondition, change func(cur *notify.User) (ProvisionInput, error)) (*notify.User, error) {
	for i := 0; ; i++ {
		u, err := s.updateUser(ctx, id, pre, func(cur *notify.User) (*notify.User, error) {
			in, err := change(cur)
			if err != nil {
				return nil, err
			}
			if in.Provisioned.UserName == "" {
				return nil, notify.Invalid("userName", "is required")
			}
			if err := s.userNameTaken(ctx, id, in.Provisioned.UserName); err != nil {
				return nil, err
			}
			return in.user(), nil
		})
		if pre != nil || !notify.IsCode(err, notify.EStale) || i == modifyRetries {
			return u, err
		}
		if err := backoff(ctx, i); err != nil {
			return nil, err
		}
	}
}

// ProvisionGroup creates a group an identity provider pushes (id
// grp_<ulid>).
func (s *Directory) ProvisionGroup(ctx context.Context, in GroupInput) (*notify.Group, error) {
	in.ID = ""
	return s.createGroup(ctx, in)
}

// ModifyGroup replaces group id with what change makes of it, as
// ModifyUser.
func (s *Directory) ModifyGroup(ctx context.Context, id string, pre Precondition, change func(cur *notify.Group) (GroupInput, error)) (*notify.Group, error) {
	for i := 0; ; i++ {
		g, err := s.updateGroup(ctx, id, pre, change)
		if pre != nil || !notify.IsCode(err, notify.EStale) || i == modifyRetries {
			return g, err
		}
		if err := backoff(ctx, i); err != nil {
			return nil, err
		}
	}
}

// RemoveUser deletes user id as an identity provider does: it takes the
// user out of its groups and out of every rule naming it (as a directory
// replace with prune does), disabling the rules left with no recipient. It
// returns those rules as they are now. With pre, the stored version must
// satisfy it.
func (s *Directory) RemoveUser(ctx context.Context, id string, pre Precondition) ([]*notify.Rule, error) {
	return s.remove(ctx, store.RefUser, id, pre)
}

// RemoveGroup deletes group id as RemoveUser deletes a user.
func (s *Directory) RemoveGroup(ctx context.Context, id string, pre Precondition) ([]*notify.Rule, error) {
	return s.remove(ctx, store.RefGroup, id, pre)
}

// remove deletes a user or group (kind store.RefUser or RefGroup). The
// store refuses the delete while a rule names the entry (EInUse, with the
// rules): those rules are pruned, each with a versioned update, and the
// delete tried again, until no rule names it.
func (s *Directory) remove(ctx context.Context, kind, id string, pre Precondition) ([]*notify.Rule, error) {
	var (
		before any
		ver    int64
		name   string
	)
	if kind == store.RefUser {
		u, err := s.dir.GetUser(ctx, id)
		if err != nil {
			return nil, err
		}
		before, ver, name = u, u.Version, u.Email
	} else {
		g, err := s.dir.GetGroup(ctx, id)
		if err != nil {
			return nil, err
		}
		before, ver, name = g, g.Version, g.Name
	}
	var pin int64
	if pre != nil {
		if _, err := pre(kind+" "+id, ver); err != nil {
			return nil, err
		}
		pin = ver
	}
	var pruned []*notify.Rule
	for i := 0; ; i++ {
		var err error
		if kind == store.RefUser {
			err = s.dir.DeleteUser(ctx, id, pin)
		} else {
			err = s.dir.DeleteGroup(ctx, id, pin)
		}
		if err == nil {
			break
		}
		var refs []string
		if e, ok := err.(*notify.Error); ok && e.Code == notify.EInUse {
			refs = e.Refs
		}
		// EStale without refs: the rules naming it changed meanwhile (the
		// DynamoDB store), worth another try unless the caller pinned a
		// version.
		retry := len(refs) > 0 || (notify.IsCode(err, notify.EStale) && pin == 0)
		if !retry || s.rules == nil || i == modifyRetries {
			return pruned, err
		}
		if len(refs) == 0 {
			if err := backoff(ctx, i); err != nil {
				return pruned, err
			}
		}
		for _, rid := range refs {
			r, err := s.pruneRule(ctx, rid, kind, id)
			if err != nil {
				return pruned, err
			}
			if r != nil {
				pruned = slices.DeleteFunc(pruned, func(x *notify.Rule) bool { return x.ID == r.ID })
				pruned = append(pruned, r)
			}
		}
	}
	announce(s.changed)
	s.audit.record(ctx, kind+".delete", kind, id, name, before, nil)
	return pruned, nil
}

// pruneRule takes the user or group id out of rule rid, disabling the rule
// if no recipient is left. nil if the rule no longer names it.
func (s *Directory) pruneRule(ctx context.Context, rid, kind, id string) (*notify.Rule, error) {
	for i := 0; ; i++ {
		cur, err := s.rules.GetRule(ctx, rid)
		if notify.IsCode(err, notify.ENotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		nr := *cur
		drop := func(x string) bool { return x == id }
		if kind == store.RefUser {
			nr.Recipients.Users = slices.DeleteFunc(slices.Clone(cur.Recipients.Users), drop)
		} else {
			nr.Recipients.Groups = slices.DeleteFunc(slices.Clone(cur.Recipients.Groups), drop)
		}
		if len(nr.Recipients.Users) == len(cur.Recipients.Users) && len(nr.Recipients.Groups) == len(cur.Recipients.Groups) {
			return nil, nil
		}
		if nr.Recipients.Empty() {
			nr.Enabled = false
		}
		nr.Version++
		nr.UpdatedAt = s.clock.stamp()
		err = s.rules.UpdateRule(ctx, &nr)
		if notify.IsCode(err, notify.EStale) && i < modifyRetries {
			if err := backoff(ctx, i); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		summary := fmt.Sprintf("%s %s removed from the rule's recipients", kind, id)
		if !nr.Enabled && cur.Enabled {
			summary += "; the rule has no recipient left and is disabled"
		}
		s.audit.record(ctx, "rule.prune", "rule", nr.ID, summary, cur, &nr)
		return &nr, nil
	}
}
