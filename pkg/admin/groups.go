package admin

import (
	"context"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// GroupInput is what a client sets on a group. ID "" on create assigns
// grp_<ulid>.
type GroupInput struct {
	ID, Name string
	Members  []string
	// ExternalID is an identity provider's id for the group (SCIM); on
	// an update through the admin API "" keeps the stored one.
	ExternalID string
}

func (in GroupInput) group() *notify.Group {
	members := in.Members
	if members == nil {
		members = []string{}
	}
	return &notify.Group{ID: in.ID, Name: in.Name, Members: members, ExternalID: in.ExternalID}
}

// ListGroups returns one page of groups, oldest first.
func (s *Directory) ListGroups(ctx context.Context, p store.Page) ([]*notify.Group, string, error) {
	return s.dir.ListGroups(ctx, p)
}

// GetGroup returns the group with the id, or ENotFound.
func (s *Directory) GetGroup(ctx context.Context, id string) (*notify.Group, error) {
	return s.dir.GetGroup(ctx, id)
}

// CreateGroup validates and stores a new group (version 1). EInvalid if it
// is not valid or a member is not a user (members[i]); EConflict if its
// id or name is taken.
func (s *Directory) CreateGroup(ctx context.Context, in GroupInput) (*notify.Group, error) {
	if err := s.checkWritable(ctx); err != nil {
		return nil, err
	}
	return s.createGroup(ctx, in)
}

func (s *Directory) createGroup(ctx context.Context, in GroupInput) (*notify.Group, error) {
	g := in.group()
	if g.ID == "" {
		g.ID = "grp_" + s.clock.ids()
	}
	now := s.clock.stamp()
	g.Version, g.CreatedAt, g.UpdatedAt = 1, now, now
	if err := s.checkGroup(ctx, g); err != nil {
		return nil, err
	}
	if err := s.dir.CreateGroup(ctx, g); err != nil {
		return nil, err
	}
	s.audit.record(ctx, "group.create", "group", g.ID, g.Name, nil, g)
	return g, nil
}

// UpdateGroup replaces group id with in (in.ID is ignored), if pre accepts
// its stored version. A change of members changes whom the rules naming
// the group reach.
func (s *Directory) UpdateGroup(ctx context.Context, id string, in GroupInput, pre Precondition) (*notify.Group, error) {
	if err := s.checkWritable(ctx); err != nil {
		return nil, err
	}
	return s.updateGroup(ctx, id, pre, func(cur *notify.Group) (GroupInput, error) {
		if in.ExternalID == "" {
			in.ExternalID = cur.ExternalID
		}
		return in, nil
	})
}

// updateGroup replaces group id with what change makes of the stored one,
// if pre accepts its stored version.
func (s *Directory) updateGroup(ctx context.Context, id string, pre Precondition, change func(cur *notify.Group) (GroupInput, error)) (*notify.Group, error) {
	cur, err := s.dir.GetGroup(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := pre.check("group "+cur.ID, cur.Version); err != nil {
		return nil, err
	}
	in, err := change(cur)
	if err != nil {
		return nil, err
	}
	g := in.group()
	g.ID, g.Version, g.CreatedAt, g.UpdatedAt = cur.ID, cur.Version+1, cur.CreatedAt, s.clock.stamp()
	if err := s.checkGroup(ctx, g); err != nil {
		return nil, err
	}
	if err := s.dir.UpdateGroup(ctx, g); err != nil {
		return nil, err
	}
	announce(s.changed)
	s.audit.record(ctx, "group.update", "group", g.ID, g.Name, cur, g)
	return g, nil
}

// DeleteGroup removes group id; with a precondition, pre must accept the
// stored version. EInUse (Refs: the rules) while a rule names the group:
// the store decides that atomically with the removal.
func (s *Directory) DeleteGroup(ctx context.Context, id string, pre Precondition) error {
	if err := s.checkWritable(ctx); err != nil {
		return err
	}
	cur, err := s.dir.GetGroup(ctx, id)
	if err != nil {
		return err
	}
	var version int64
	if pre != nil {
		if _, err := pre("group "+cur.ID, cur.Version); err != nil {
			return err
		}
		version = cur.Version
	}
	if err := s.dir.DeleteGroup(ctx, id, version); err != nil {
		return err
	}
	announce(s.changed)
	s.audit.record(ctx, "group.delete", "group", id, cur.Name, cur, nil)
	return nil
}

// checkGroup validates g and reports, with the validation errors, every
// member that is not a user.
func (s *Directory) checkGroup(ctx context.Context, g *notify.Group) error {
	var fields []notify.FieldError
	if err := g.Validate(); err != nil {
		fs, ok := fieldsOf(err)
		if !ok {
			return err
		}
		fields = fs
	}
	for i, id := range g.Members {
		if !notify.ValidID(id) {
			continue // reported by Validate
		}
		_, err := s.dir.GetUser(ctx, id)
		switch {
		case notify.IsCode(err, notify.ENotFound):
			fields = append(fields, notify.FieldError{Field: indexed("members", i), Message: quote(id) + " is not a known user id"})
		case err != nil:
			return err
		}
	}
	return invalid(fields)
}
