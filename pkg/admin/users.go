package admin

import (
	"context"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// UserInput is what a client sets on a user. ID "" on create assigns
// usr_<ulid>; Role "" means member.
type UserInput struct {
	ID, Name, Email, Role string
}

func (in UserInput) user() *notify.User {
	role := in.Role
	if role == "" {
		role = notify.RoleMember
	}
	return &notify.User{ID: in.ID, Name: in.Name, Email: in.Email, Role: role}
}

// ListUsers returns one page of users, oldest first.
func (s *Directory) ListUsers(ctx context.Context, p store.Page) ([]*notify.User, string, error) {
	return s.dir.ListUsers(ctx, p)
}

// GetUser returns the user with the id, or ENotFound.
func (s *Directory) GetUser(ctx context.Context, id string) (*notify.User, error) {
	return s.dir.GetUser(ctx, id)
}

// CreateUser validates and stores a new user (version 1). EInvalid if it
// is not valid; EConflict if its id or email is taken.
func (s *Directory) CreateUser(ctx context.Context, in UserInput) (*notify.User, error) {
	if err := s.checkWritable(ctx); err != nil {
		return nil, err
	}
	return s.createUser(ctx, in.user())
}

// createUser assigns u an id if it has none, stamps and stores it.
func (s *Directory) createUser(ctx context.Context, u *notify.User) (*notify.User, error) {
	if u.ID == "" {
		u.ID = "usr_" + s.clock.ids()
	}
	now := s.clock.stamp()
	u.Version, u.CreatedAt, u.UpdatedAt = 1, now, now
	if err := u.Validate(); err != nil {
		return nil, err
	}
	if err := s.dir.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	s.audit.record(ctx, "user.create", "user", u.ID, u.Email, nil, u)
	return u, nil
}

// UpdateUser replaces user id with in (in.ID is ignored), if pre accepts
// its stored version. What an identity provider set (Provisioned, Inactive)
// is kept.
func (s *Directory) UpdateUser(ctx context.Context, id string, in UserInput, pre Precondition) (*notify.User, error) {
	if err := s.checkWritable(ctx); err != nil {
		return nil, err
	}
	return s.updateUser(ctx, id, pre, func(cur *notify.User) (*notify.User, error) {
		u := in.user()
		u.Inactive, u.Provisioned = cur.Inactive, cur.Provisioned
		return u, nil
	})
}

// updateUser replaces user id with what change makes of the stored user,
// if pre accepts its stored version.
func (s *Directory) updateUser(ctx context.Context, id string, pre Precondition, change func(cur *notify.User) (*notify.User, error)) (*notify.User, error) {
	cur, err := s.dir.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := pre.check("user "+cur.ID, cur.Version); err != nil {
		return nil, err
	}
	u, err := change(cur)
	if err != nil {
		return nil, err
	}
	u.ID, u.Version, u.CreatedAt, u.UpdatedAt = cur.ID, cur.Version+1, cur.CreatedAt, s.clock.stamp()
	if err := u.Validate(); err != nil {
		return nil, err
	}
	if err := s.dir.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	announce(s.changed)
	s.audit.record(ctx, "user.update", "user", u.ID, u.Email, cur, u)
	return u, nil
}

// DeleteUser removes user id and takes it out of its groups. With a
// precondition, pre must accept the stored version. EInUse (Refs: the
// rules) while a rule names the user: the store decides that atomically
// with the removal.
func (s *Directory) DeleteUser(ctx context.Context, id string, pre Precondition) error {
	if err := s.checkWritable(ctx); err != nil {
		return err
	}
	cur, err := s.dir.GetUser(ctx, id)
	if err != nil {
		return err
	}
	var version int64
	if pre != nil {
		if _, err := pre("user "+cur.ID, cur.Version); err != nil {
			return err
		}
		version = cur.Version
	}
	if err := s.dir.DeleteUser(ctx, id, version); err != nil {
		return err
	}
	announce(s.changed)
	s.audit.record(ctx, "user.delete", "user", id, cur.Email, cur, nil)
	return nil
}
