package notify

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Roles a user may hold in the organization directory.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
	RoleViewer = "viewer"
)

// Roles lists the known roles.
var Roles = []string{RoleAdmin, RoleMember, RoleViewer}

// MaxGroupMembers bounds a group's member list.
const MaxGroupMembers = 1000

// User is a platform user from the organization directory. Rules name users
// by ID; notifications reach them at Email.
type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
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
		v.add("role", "must be one of admin, member, viewer")
	}
	return v.err()
}

// Group is a named set of users from the organization directory.
type Group struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Members   []string  `json:"members"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
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
	}
}

// Directory is the whole organization directory, as PUT /v1/directory
// replaces it.
type Directory struct {
	Users  []User  `json:"users"`
	Groups []Group `json:"groups"`
}
