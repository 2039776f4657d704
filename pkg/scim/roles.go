package scim

import (
	"context"
	"slices"
	"strings"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// groupRole returns the role the groups of Config.RoleGroups give user
// id: the highest (admin, developer, member, viewer) of the mapped groups
// it is in, and false if it is in none.
func (h *Handler) groupRole(ctx context.Context, id string) (string, bool, error) {
	if len(h.cfg.RoleGroups) == 0 {
		return "", false, nil
	}
	groups, err := h.dir.AllGroups(ctx)
	if err != nil {
		return "", false, err
	}
	best := -1
	for _, g := range groups {
		role, ok := h.mappedRole(g.Name)
		if !ok || !slices.Contains(g.Members, id) {
			continue
		}
		if i := slices.Index(notify.Roles, role); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	if best < 0 {
		return "", false, nil
	}
	return notify.Roles[best], true, nil
}

// mappedRole is the role Config.RoleGroups gives the group named name
// (compared case-insensitively).
func (h *Handler) mappedRole(name string) (string, bool) {
	for g, role := range h.cfg.RoleGroups {
		if strings.EqualFold(g, name) {
			return role, true
		}
	}
	return "", false
}

// withGroupRole sets in.Role from the user's mapped groups when roles come
// from groups (Config.RoleGroups is set): DefaultRole outside them.
func (h *Handler) withGroupRole(ctx context.Context, id string, in admin.ProvisionInput) (admin.ProvisionInput, error) {
	if len(h.cfg.RoleGroups) == 0 {
		return in, nil
	}
	role, ok, err := h.groupRole(ctx, id)
	if err != nil {
		return in, err
	}
	in.Role = h.cfg.DefaultRole
	if ok {
		in.Role = role
	}
	return in, nil
}

// syncRoles gives the users ids the role their mapped groups say (a user
// in none: DefaultRole), after a change of a group named names (before and
// after) that may be mapped.
func (h *Handler) syncRoles(ctx context.Context, ids []string, names ...string) error {
	if !slices.ContainsFunc(names, func(n string) bool { _, ok := h.mappedRole(n); return ok }) {
		return nil
	}
	for _, id := range ids {
		role, ok, err := h.groupRole(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			role = h.cfg.DefaultRole
		}
		if u, err := h.dir.GetUser(ctx, id); err != nil || u.Role == role {
			continue // gone meanwhile, or nothing to change
		}
		_, err = h.dir.ModifyUser(ctx, id, nil, func(cur *notify.User) (admin.ProvisionInput, error) {
			p := notify.Provisioned{UserName: cur.Email}
			if cur.Provisioned != nil {
				p = *cur.Provisioned
			}
			return admin.ProvisionInput{Name: cur.Name, Email: cur.Email, Role: role, Active: !cur.Inactive, Provisioned: p}, nil
		})
		if err != nil && !notify.IsCode(err, notify.ENotFound) {
			return err
		}
	}
	return nil
}
