package scim

import (
	"net/http"
	"slices"
	"strings"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// userAttrs are the attributes of the User schema (RFC 7643 §4.1) and the
// enterprise extension, lower-case. Those the directory does not keep are
// accepted and dropped; any other attribute is a bad request.
var userAttrs = []string{
	"schemas", "id", "externalid", "meta", "username", "name", "displayname", "nickname", "profileurl", "title",
	"usertype", "preferredlanguage", "locale", "timezone", "active", "password", "emails", "phonenumbers", "ims",
	"photos", "addresses", "groups", "entitlements", "roles", "x509certificates", strings.ToLower(SchemaEnterprise),
}

// userReadOnly are the attributes a client cannot set.
var userReadOnly = []string{"id", "meta", "groups"}

// userFilters are the attributes a Users filter may compare.
var userFilters = []string{"username", "externalid", "emails.value", "emails", "displayname", "id", "active"}

// userResource is the SCIM representation of u.
func (h *Handler) userResource(u *notify.User) map[string]any {
	p := notify.Provisioned{UserName: u.Email}
	if u.Provisioned != nil {
		p = *u.Provisioned
	}
	if u.Provisioned == nil {
		p.DisplayName, p.Formatted = u.Name, u.Name
	}
	m := map[string]any{
		"schemas":  []any{SchemaUser},
		"id":       u.ID,
		"userName": p.UserName,
		"active":   !u.Inactive,
		"emails":   []any{map[string]any{"value": u.Email, "type": "work", "primary": true}},
		"meta":     meta("User", u.ID, u.CreatedAt, u.UpdatedAt, u.Version),
	}
	if p.DisplayName != "" {
		m["displayName"] = p.DisplayName
	}
	name := map[string]any{}
	if p.Formatted != "" {
		name["formatted"] = p.Formatted
	}
	if p.GivenName != "" {
		name["givenName"] = p.GivenName
	}
	if p.FamilyName != "" {
		name["familyName"] = p.FamilyName
	}
	if len(name) > 0 {
		m["name"] = name
	}
	if p.ExternalID != "" {
		m["externalId"] = p.ExternalID
	}
	h.setRole(m, u.Role)
	return m
}

// setRole writes role into the configured role attribute of m.
func (h *Handler) setRole(m map[string]any, role string) {
	a := h.cfg.RoleAttribute
	switch {
	case strings.EqualFold(a, "roles"):
		m["roles"] = []any{map[string]any{"value": role, "primary": true}}
	case strings.HasPrefix(strings.ToLower(a), strings.ToLower(SchemaEnterprise)+":"):
		m[SchemaEnterprise] = map[string]any{a[len(SchemaEnterprise)+1:]: role}
		m["schemas"] = []any{SchemaUser, SchemaEnterprise}
	default:
		m[a] = role
	}
}

// role reads the role from the configured attribute of m.
func (h *Handler) role(m map[string]any) string {
	a := h.cfg.RoleAttribute
	var v any
	switch {
	case strings.EqualFold(a, "roles"):
		rs := list(first(get(m, "roles")))
		for _, r := range rs {
			if rm, ok := r.(map[string]any); ok {
				if p, _ := get(rm, "primary"); p != nil {
					if b, _ := boolean("primary", p); b {
						v, _ = get(rm, "value")
						break
					}
				}
			}
		}
		if v == nil && len(rs) > 0 {
			if rm, ok := rs[0].(map[string]any); ok {
				v, _ = get(rm, "value")
			} else {
				v = rs[0]
			}
		}
	case strings.HasPrefix(strings.ToLower(a), strings.ToLower(SchemaEnterprise)+":"):
		if ext, ok := first(get(m, SchemaEnterprise)).(map[string]any); ok {
			v, _ = get(ext, a[len(SchemaEnterprise)+1:])
		}
	default:
		v, _ = get(m, a)
	}
	if s, ok := v.(string); ok {
		for _, r := range notify.Roles {
			if strings.EqualFold(strings.TrimSpace(s), r) {
				return r
			}
		}
	}
	return h.cfg.DefaultRole
}

func first(v any, _ string) any { return v }

// checkAttrs fails with invalidValue for an attribute not in known.
func checkAttrs(m map[string]any, known []string) error {
	for k := range m {
		if !slices.Contains(known, strings.ToLower(k)) {
			return badRequest("invalidValue", "unknown attribute %q", k)
		}
	}
	return nil
}

// userInput reads a User resource into what the directory keeps.
func (h *Handler) userInput(m map[string]any) (admin.ProvisionInput, error) {
	var in admin.ProvisionInput
	if err := checkAttrs(m, userAttrs); err != nil {
		return in, err
	}
	userName, err := str(m, "userName")
	if err != nil {
		return in, err
	}
	if strings.TrimSpace(userName) == "" {
		return in, badRequest("invalidValue", "userName is required")
	}
	ext, err := str(m, "externalId")
	if err != nil {
		return in, err
	}
	display, err := str(m, "displayName")
	if err != nil {
		return in, err
	}
	in.Provisioned = notify.Provisioned{UserName: userName, ExternalID: ext, DisplayName: display}
	var formatted string
	if nv, _ := get(m, "name"); nv != nil {
		nm, ok := nv.(map[string]any)
		if !ok {
			return in, badRequest("invalidValue", "name must be an object")
		}
		if in.Provisioned.GivenName, err = str(nm, "givenName"); err != nil {
			return in, err
		}
		if in.Provisioned.FamilyName, err = str(nm, "familyName"); err != nil {
			return in, err
		}
		if formatted, err = str(nm, "formatted"); err != nil {
			return in, err
		}
		in.Provisioned.Formatted = formatted
	}
	in.Name = strings.TrimSpace(display)
	if in.Name == "" {
		in.Name = strings.TrimSpace(formatted)
	}
	if in.Name == "" {
		in.Name = strings.TrimSpace(in.Provisioned.GivenName + " " + in.Provisioned.FamilyName)
	}
	if in.Name == "" {
		in.Name = userName
	}
	if len([]rune(in.Name)) > notify.MaxRuleName {
		in.Name = string([]rune(in.Name)[:notify.MaxRuleName])
	}
	emails, _ := get(m, "emails")
	var primary, any1 string
	for _, e := range list(emails) {
		em, ok := e.(map[string]any)
		if !ok {
			return in, badRequest("invalidValue", "emails must be a list of objects")
		}
		v, err := str(em, "value")
		if err != nil {
			return in, err
		}
		if any1 == "" {
			any1 = v
		}
		if p, _ := get(em, "primary"); p != nil {
			b, err := boolean("emails.primary", p)
			if err != nil {
				return in, err
			}
			if b && primary == "" {
				primary = v
			}
		}
	}
	in.Email = primary
	if in.Email == "" {
		in.Email = any1
	}
	if in.Email == "" && notify.ValidEmail(userName) {
		in.Email = userName
	}
	if !notify.ValidEmail(in.Email) {
		return in, badRequest("invalidValue", "a valid email address is required (emails[primary eq true].value, or a userName that is one)")
	}
	in.Active = true
	if a, _ := get(m, "active"); a != nil {
		if in.Active, err = boolean("active", a); err != nil {
			return in, err
		}
	}
	in.Role = h.role(m)
	return in, nil
}

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) {
	lq, err := parseList(r, userFilters)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	users, err := h.dir.AllUsers(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var all []map[string]any
	for _, u := range users {
		if m := h.userResource(u); matches(m, lq.conds, []string{"externalid", "id"}) {
			all = append(all, m)
		}
	}
	writeList(w, all, lq)
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := h.dir.GetUser(r.Context(), pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeResource(w, http.StatusOK, h.userResource(u), u.Version, r)
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	m, err := readBody(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	in, err := h.userInput(m)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(h.cfg.RoleGroups) > 0 {
		in.Role = h.cfg.DefaultRole // in no group yet
	}
	u, err := h.dir.ProvisionUser(r.Context(), in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeResource(w, http.StatusCreated, h.userResource(u), u.Version, r)
}

func (h *Handler) replaceUser(w http.ResponseWriter, r *http.Request) {
	m, err := readBody(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.modifyUser(w, r, func(cur *notify.User) (map[string]any, error) {
		if id, _ := str(m, "id"); id != "" && id != cur.ID {
			return nil, badRequest("mutability", "id is read-only")
		}
		return m, nil
	})
}

func (h *Handler) patchUser(w http.ResponseWriter, r *http.Request) {
	ops, err := readPatch(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.modifyUser(w, r, func(cur *notify.User) (map[string]any, error) {
		m := clone(h.userResource(cur))
		if err := applyPatch(m, ops, userAttrs, userReadOnly); err != nil {
			return nil, err
		}
		return m, nil
	})
}

// modifyUser changes the user the path names to the resource that
// resource makes of the stored one (a PUT's body, or the stored one
// patched), keeping a role that comes from group membership, and answers
// with the user.
func (h *Handler) modifyUser(w http.ResponseWriter, r *http.Request, resource func(cur *notify.User) (map[string]any, error)) {
	u, err := h.dir.ModifyUser(r.Context(), pathID(r), precondition(r), func(cur *notify.User) (admin.ProvisionInput, error) {
		m, err := resource(cur)
		if err != nil {
			return admin.ProvisionInput{}, err
		}
		in, err := h.userInput(m)
		if err != nil {
			return in, err
		}
		return h.withGroupRole(r.Context(), cur.ID, in)
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeResource(w, http.StatusOK, h.userResource(u), u.Version, r)
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	pruned, err := h.dir.RemoveUser(r.Context(), pathID(r), precondition(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.reportPruned(r, "user", pathID(r), pruned)
	w.WriteHeader(http.StatusNoContent)
}
