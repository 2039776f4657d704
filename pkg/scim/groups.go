package scim

import (
	"net/http"
	"slices"
	"strings"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// groupAttrs are the attributes of the Group schema (RFC 7643 §4.2),
// lower-case.
var groupAttrs = []string{"schemas", "id", "externalid", "meta", "displayname", "members"}

var groupReadOnly = []string{"id", "meta"}

var groupFilters = []string{"displayname", "externalid", "id", "members.value", "members"}

// groupResource is the SCIM representation of g; names maps user ids to
// their display names (missing: no display).
func groupResource(g *notify.Group) map[string]any {
	members := make([]any, 0, len(g.Members))
	for _, id := range g.Members {
		members = append(members, map[string]any{"value": id, "$ref": BasePath + "/Users/" + id, "type": "User"})
	}
	m := map[string]any{
		"schemas":     []any{SchemaGroup},
		"id":          g.ID,
		"displayName": g.Name,
		"members":     members,
		"meta":        meta("Group", g.ID, g.CreatedAt, g.UpdatedAt, g.Version),
	}
	if g.ExternalID != "" {
		m["externalId"] = g.ExternalID
	}
	return m
}

// groupInput reads a Group resource into what the directory keeps.
func groupInput(m map[string]any) (admin.GroupInput, error) {
	var in admin.GroupInput
	if err := checkAttrs(m, groupAttrs); err != nil {
		return in, err
	}
	name, err := str(m, "displayName")
	if err != nil {
		return in, err
	}
	if strings.TrimSpace(name) == "" {
		return in, badRequest("invalidValue", "displayName is required")
	}
	in.Name = strings.TrimSpace(name)
	if in.ExternalID, err = str(m, "externalId"); err != nil {
		return in, err
	}
	mv, _ := get(m, "members")
	in.Members = []string{}
	seen := map[string]bool{}
	for _, e := range list(mv) {
		em, ok := e.(map[string]any)
		if !ok {
			return in, badRequest("invalidValue", "members must be a list of objects with a value")
		}
		id, err := str(em, "value")
		if err != nil {
			return in, err
		}
		if id == "" {
			return in, badRequest("invalidValue", "members[].value is required")
		}
		if !seen[id] {
			seen[id] = true
			in.Members = append(in.Members, id)
		}
	}
	return in, nil
}

func (h *Handler) listGroups(w http.ResponseWriter, r *http.Request) {
	lq, err := parseList(r, groupFilters)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	groups, err := h.dir.AllGroups(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var all []map[string]any
	for _, g := range groups {
		if m := groupResource(g); matches(m, lq.conds, []string{"externalid", "id", "members.value", "members"}) {
			all = append(all, m)
		}
	}
	writeList(w, all, lq)
}

func (h *Handler) getGroup(w http.ResponseWriter, r *http.Request) {
	g, err := h.dir.GetGroup(r.Context(), pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeResource(w, http.StatusOK, groupResource(g), g.Version, r)
}

func (h *Handler) createGroup(w http.ResponseWriter, r *http.Request) {
	m, err := readBody(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	in, err := groupInput(m)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	g, err := h.dir.ProvisionGroup(r.Context(), in)
	if err == nil {
		err = h.syncRoles(r.Context(), g.Members, g.Name)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeResource(w, http.StatusCreated, groupResource(g), g.Version, r)
}

func (h *Handler) replaceGroup(w http.ResponseWriter, r *http.Request) {
	m, err := readBody(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.modifyGroup(w, r, func(cur *notify.Group) (map[string]any, error) {
		if id, _ := str(m, "id"); id != "" && id != cur.ID {
			return nil, badRequest("mutability", "id is read-only")
		}
		return m, nil
	})
}

func (h *Handler) patchGroup(w http.ResponseWriter, r *http.Request) {
	ops, err := readPatch(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.modifyGroup(w, r, func(cur *notify.Group) (map[string]any, error) {
		m := clone(groupResource(cur))
		if err := applyPatch(m, ops, groupAttrs, groupReadOnly); err != nil {
			return nil, err
		}
		return m, nil
	})
}

// modifyGroup changes the group the path names to the resource that
// resource makes of the stored one (a PUT's body, or the stored one
// patched), then recomputes the roles of the members it gained or lost,
// and answers with the group.
func (h *Handler) modifyGroup(w http.ResponseWriter, r *http.Request, resource func(cur *notify.Group) (map[string]any, error)) {
	var before notify.Group
	g, err := h.dir.ModifyGroup(r.Context(), pathID(r), precondition(r), func(cur *notify.Group) (admin.GroupInput, error) {
		before = *cur
		m, err := resource(cur)
		if err != nil {
			return admin.GroupInput{}, err
		}
		return groupInput(m)
	})
	if err == nil {
		err = h.syncRoles(r.Context(), union(before.Members, g.Members), before.Name, g.Name)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeResource(w, http.StatusOK, groupResource(g), g.Version, r)
}

func (h *Handler) deleteGroup(w http.ResponseWriter, r *http.Request) {
	g, err := h.dir.GetGroup(r.Context(), pathID(r))
	var pruned []*notify.Rule
	if err == nil {
		pruned, err = h.dir.RemoveGroup(r.Context(), g.ID, precondition(r))
	}
	if err == nil {
		h.reportPruned(r, "group", g.ID, pruned)
	}
	if err == nil {
		err = h.syncRoles(r.Context(), g.Members, g.Name)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// union is a and the elements of b not in a.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
