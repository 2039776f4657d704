package notify

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Roles a user may hold in the organization directory.
const (
	RoleAdmin     = "admin"
	RoleDeveloper = "developer"
	RoleMember    = "member"
	RoleViewer    = "viewer"
)

// Roles lists the known roles.
var Roles = []string{RoleAdmin, RoleDeveloper, RoleMember, RoleViewer}

// MaxProvisioned bounds each field an identity provider sets on a user
// (Provisioned).
const MaxProvisioned = 256

// MaxGroupMembers bounds a group's member list.
const MaxGroupMembers = 1000

// User is a platform user from the organization directory. Rules name users
// by ID; notifications reach them at Email.
type User struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  string `json:"role"`
	// Inactive marks a user an identity provider deactivated: rules still
	// name it and it is still listed, but it is not notified.
	Inactive bool `json:"inactive,omitempty"`
	// Provisioned holds what an identity provider keeps about the user
	// (SCIM); nil for users created through the admin API.
	Provisioned *Provisioned `json:"provisioned,omitempty"`
	Version     int64        `json:"version"`
	CreatedAt   time.Time    `json:"createdAt"`
	UpdatedAt   time.Time    `json:"updatedAt"`
}

// Validate checks the user's fields. Unique ids and emails are checked by
// the store.
func (u *User) Validate() error {
	var v validator
	if !ValidID(u.ID) {
		v.add("id", "must be 1-128 characters of letters, digits and ._:@/+=-, starting with a letter or digit")
	}
	validName(&v, "name", u.Name)
	if !ValidEmail(u.Email) {
		v.add("email", "%q is not a valid email address", u.Email)
	}
	if !slices.Contains(Roles, u.Role) {
		v.add("role", "must be one of admin, developer, member, viewer")
	}
	if p := u.Provisioned; p != nil {
		if n := utf8.RuneCountInString(p.UserName); n == 0 || n > MaxProvisioned {
			v.add("userName", "must be 1-%d characters", MaxProvisioned)
		}
		for _, f := range [...]struct{ name, val string }{{"externalId", p.ExternalID}, {"displayName", p.DisplayName},
			{"name.formatted", p.Formatted}, {"name.givenName", p.GivenName}, {"name.familyName", p.FamilyName}} {
			if utf8.RuneCountInString(f.val) > MaxProvisioned {
				v.add(f.name, "must be at most %d characters", MaxProvisioned)
			}
		}
	}
	return v.err()
}

// Provisioned is what an identity provider keeps about a user beyond the
// directory's own fields: its login name (SCIM userName, unique,
// case-insensitive), its own id for the user (externalId) and the name as
// it sent it (the user's Name is derived from them).
type Provisioned struct {
	UserName    string `json:"userName"`
	ExternalID  string `json:"externalId,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	Formatted   string `json:"formatted,omitempty"`
	GivenName   string `json:"givenName,omitempty"`
	FamilyName  string `json:"familyName,omitempty"`
}

// Notified reports whether notifications to the user are sent: false for
// a deactivated user.
func (u *User) Notified() bool { return !u.Inactive }

// Group is a named set of users from the organization directory.
type Group struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Members []string `json:"members"`
	// ExternalID is an identity provider's own id for the group (SCIM).
	ExternalID string    `json:"externalId,omitempty"`
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// Validate checks the group's fields. Unique names and whether the members
// exist are checked against the store.
func (g *Group) Validate() error {
	var v validator
	if !ValidID(g.ID) {
		v.add("id", "must be 1-128 characters of letters, digits and ._:@/+=-, starting with a letter or digit")
	}
	validName(&v, "name", g.Name)
	checkList(&v, "members", g.Members, ValidID, "is not a valid user id")
	if len(g.Members) > MaxGroupMembers {
		v.add("members", "must have at most %d entries", MaxGroupMembers)
	}
	return v.err()
}

func validName(v *validator, field, name string) {
	t := strings.TrimSpace(name)
	if n := utf8.RuneCountInString(t); n == 0 || n > MaxRuleName || t != name {
		v.add(field, "must be 1-%d characters without leading or trailing space", MaxRuleName)
	} else if p := NameProblem(name); p != "" {
		v.add(field, "%s", p)
	}
}

// Directory is the whole organization directory, as PUT /v1/directory
// replaces it.
type Directory struct {
	Users  []User  `json:"users"`
	Groups []Group `json:"groups"`
}

// Check rejects a directory with repeated user ids, emails or group ids or
// names (EConflict; emails and names compared case-insensitively) or a group
// member that is not one of its users (EInvalid). Each user and group is
// validated on its own by its Validate.
func (d Directory) Check() error {
	conflict := func(field, format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		return &Error{Code: EConflict, Message: field + ": " + msg, Fields: []FieldError{{Field: field, Message: msg}}}
	}
	ids, emails := map[string]bool{}, map[string]bool{}
	for i, u := range d.Users {
		if ids[u.ID] {
			return conflict(fmt.Sprintf("users[%d].id", i), "%q is repeated", u.ID)
		}
		if emails[strings.ToLower(u.Email)] {
			return conflict(fmt.Sprintf("users[%d].email", i), "%q is repeated", u.Email)
		}
		ids[u.ID], emails[strings.ToLower(u.Email)] = true, true
	}
	gids, names := map[string]bool{}, map[string]bool{}
	for i, g := range d.Groups {
		if gids[g.ID] {
			return conflict(fmt.Sprintf("groups[%d].id", i), "%q is repeated", g.ID)
		}
		if names[strings.ToLower(g.Name)] {
			return conflict(fmt.Sprintf("groups[%d].name", i), "%q is repeated", g.Name)
		}
		gids[g.ID], names[strings.ToLower(g.Name)] = true, true
		for j, m := range g.Members {
			if !ids[m] {
				return Invalid(fmt.Sprintf("groups[%d].members[%d]", i, j), "user %q is not in the directory", m)
			}
		}
	}
	return nil
}

// EDirectorySynced is the error code of a directory write through the admin
// API while an identity provider syncs the directory (HTTP 409).
const EDirectorySynced = "directory_synced"
