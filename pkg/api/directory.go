package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// User is the JSON representation of a directory user.
type User struct {
	ID        string    `json:"id,omitzero" maxLength:"128" doc:"Given by the client on create (1-128 characters of letters, digits and ._:@/+=-, starting with a letter or digit) or assigned (usr_<ulid>); ignored on PUT." example:"alice"`
	Name      string    `json:"name" doc:"Display name, 1-128 characters." example:"Alice Liddell"`
	Email     string    `json:"email" doc:"Unique (case-insensitive) RFC 5322 addr-spec; notifications to the user go here." example:"alice@example.com"`
	Role      string    `json:"role,omitzero" enum:"admin,developer,member,viewer" doc:"The user's role; member when omitted."`
	Active    *bool     `json:"active,omitempty" readOnly:"true" doc:"False for a user the identity provider deactivated: rules still name it, but it is not notified."`
	UserName  string    `json:"userName,omitzero" readOnly:"true" doc:"The login name an identity provider (SCIM) gave the user."`
	External  string    `json:"externalId,omitzero" readOnly:"true" doc:"The identity provider's own id for the user (SCIM externalId)."`
	Version   int64     `json:"version,omitzero" readOnly:"true" doc:"Incremented on every change; the ETag is this number, quoted."`
	CreatedAt time.Time `json:"createdAt,omitzero" readOnly:"true"`
	UpdatedAt time.Time `json:"updatedAt,omitzero" readOnly:"true"`
}

func userFrom(u *notify.User) User {
	active := !u.Inactive
	out := User{ID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role, Active: &active, Version: u.Version, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
	if p := u.Provisioned; p != nil {
		out.UserName, out.External = p.UserName, p.ExternalID
	}
	return out
}

func (u User) input() admin.UserInput {
	return admin.UserInput{ID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role}
}

// domain is the user as a directory replace takes it (role member when
// omitted).
func (u User) domain() notify.User {
	role := u.Role
	if role == "" {
		role = notify.RoleMember
	}
	return notify.User{ID: u.ID, Name: u.Name, Email: u.Email, Role: role}
}

// Group is the JSON representation of a directory group.
type Group struct {
	ID        string    `json:"id,omitzero" maxLength:"128" doc:"Given by the client on create (1-128 characters of letters, digits and ._:@/+=-, starting with a letter or digit) or assigned (grp_<ulid>); ignored on PUT." example:"sre"`
	Name      string    `json:"name" doc:"Unique (case-insensitive) name, 1-128 characters." example:"SRE"`
	Members   []string  `json:"members,omitzero" maxItems:"1000" doc:"Ids of the users in the group." example:"[\"alice\"]"`
	Version   int64     `json:"version,omitzero" readOnly:"true" doc:"Incremented on every change; the ETag is this number, quoted."`
	CreatedAt time.Time `json:"createdAt,omitzero" readOnly:"true"`
	UpdatedAt time.Time `json:"updatedAt,omitzero" readOnly:"true"`
}

func groupFrom(g *notify.Group) Group {
	members := g.Members
	if members == nil {
		members = []string{}
	}
	return Group{ID: g.ID, Name: g.Name, Members: members, Version: g.Version, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt}
}

func (g Group) input() admin.GroupInput {
	return admin.GroupInput{ID: g.ID, Name: g.Name, Members: g.Members}
}

// domain is the group as a directory replace takes it.
func (g Group) domain() notify.Group {
	members := g.Members
	if members == nil {
		members = []string{}
	}
	return notify.Group{ID: g.ID, Name: g.Name, Members: members}
}

// UserList is one page of users.
type UserList struct {
	Items []User `json:"items" doc:"The users of this page."`
	Next  string `json:"next,omitempty" doc:"The cursor of the next page; absent on the last page."`
}

// GroupList is one page of groups.
type GroupList struct {
	Items []Group `json:"items" doc:"The groups of this page."`
	Next  string  `json:"next,omitempty" doc:"The cursor of the next page; absent on the last page."`
}

// Directory is the whole directory, as PUT /v1/directory replaces it.
type Directory struct {
	Users  []User  `json:"users" maxItems:"10000" doc:"Every user; users not listed are removed."`
	Groups []Group `json:"groups" maxItems:"10000" doc:"Every group; groups not listed are removed."`
}

type idInput struct {
	ID string `path:"id" maxLength:"200" doc:"The id."`
}

type userOutput struct {
	Status   int
	ETag     string `header:"ETag"`
	Location string `header:"Location"`
	Body     User
}

type groupOutput struct {
	Status   int
	ETag     string `header:"ETag"`
	Location string `header:"Location"`
	Body     Group
}

type updateUserInput struct {
	ID      string `path:"id" maxLength:"200" doc:"The id."`
	IfMatch string `header:"If-Match" doc:"Required: the ETag of the version you read, e.g. \"3\"."`
	Body    User
}

type updateGroupInput struct {
	ID      string `path:"id" maxLength:"200" doc:"The id."`
	IfMatch string `header:"If-Match" doc:"Required: the ETag of the version you read, e.g. \"3\"."`
	Body    Group
}

type deleteByIDInput struct {
	ID      string `path:"id" maxLength:"200" doc:"The id."`
	IfMatch string `header:"If-Match" doc:"Optional: delete only if the resource is still at this version (its ETag)."`
}

type putDirectoryInput struct {
	Prune bool `query:"prune" doc:"Remove users and groups that rules still name from those rules (a rule left with no recipient is disabled), instead of refusing with 409 in_use."`
	Body  Directory
}

func (s *server) registerUsers(api huma.API) {
	tags := []string{"directory"}
	huma.Register(api, huma.Operation{
		OperationID: "listUsers", Method: http.MethodGet, Path: "/v1/users", Tags: tags,
		Summary: "List users", Errors: []int{400, 401, 422},
	}, func(ctx context.Context, in *pageParams) (*struct{ Body UserList }, error) {
		us, next, err := s.dir.ListUsers(ctx, in.page())
		if err != nil {
			return nil, s.fail(ctx, "list users", err)
		}
		out := &struct{ Body UserList }{Body: UserList{Items: make([]User, 0, len(us)), Next: next}}
		for _, u := range us {
			out.Body.Items = append(out.Body.Items, userFrom(u))
		}
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "createUser", Method: http.MethodPost, Path: "/v1/users", Tags: tags,
		Summary: "Create a user", DefaultStatus: http.StatusCreated, MaxBodyBytes: maxBody + 1,
		Errors: []int{400, 401, 409, 413, 415, 422},
	}, s.createUser)
	huma.Register(api, huma.Operation{
		OperationID: "getUser", Method: http.MethodGet, Path: "/v1/users/{id}", Tags: tags,
		Summary: "Get a user", Errors: []int{401, 404},
	}, func(ctx context.Context, in *idInput) (*userOutput, error) {
		u, err := s.dir.GetUser(ctx, in.ID)
		if err != nil {
			return nil, s.fail(ctx, "get user", err)
		}
		return &userOutput{Status: http.StatusOK, ETag: etag(u.Version), Body: userFrom(u)}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "updateUser", Method: http.MethodPut, Path: "/v1/users/{id}", Tags: tags,
		Summary: "Replace a user", MaxBodyBytes: maxBody + 1,
		Errors: []int{400, 401, 404, 409, 412, 413, 415, 422, 428},
	}, s.updateUser)
	huma.Register(api, huma.Operation{
		OperationID: "deleteUser", Method: http.MethodDelete, Path: "/v1/users/{id}", Tags: tags,
		Summary:       "Delete a user",
		Description:   "Deletes a user and removes it from its groups. Refused with 409 in_use (refs: the rule ids) while a rule names the user.",
		DefaultStatus: http.StatusNoContent, Errors: []int{401, 404, 409, 412},
	}, s.deleteUser)
}

func (s *server) createUser(ctx context.Context, in *struct{ Body User }) (*userOutput, error) {
	u, err := s.dir.CreateUser(ctx, in.Body.input())
	if err != nil {
		return nil, s.fail(ctx, "create user", err)
	}
	return &userOutput{Status: http.StatusCreated, ETag: etag(u.Version), Location: "/v1/users/" + u.ID, Body: userFrom(u)}, nil
}

func (s *server) updateUser(ctx context.Context, in *updateUserInput) (*userOutput, error) {
	pre, err := requireIfMatch(in.IfMatch)
	if err != nil {
		return nil, err
	}
	u, err := s.dir.UpdateUser(ctx, in.ID, in.Body.input(), pre.admin())
	if err != nil {
		return nil, s.fail(ctx, "update user", err)
	}
	return &userOutput{Status: http.StatusOK, ETag: etag(u.Version), Body: userFrom(u)}, nil
}

func (s *server) deleteUser(ctx context.Context, in *deleteByIDInput) (*struct{}, error) {
	pre, err := parseIfMatch(in.IfMatch)
	if err != nil {
		return nil, err
	}
	if err := s.dir.DeleteUser(ctx, in.ID, pre.admin()); err != nil {
		return nil, s.fail(ctx, "delete user", err)
	}
	return nil, nil
}

func (s *server) registerGroups(api huma.API) {
	tags := []string{"directory"}
	huma.Register(api, huma.Operation{
		OperationID: "listGroups", Method: http.MethodGet, Path: "/v1/groups", Tags: tags,
		Summary: "List groups", Errors: []int{400, 401, 422},
	}, func(ctx context.Context, in *pageParams) (*struct{ Body GroupList }, error) {
		gs, next, err := s.dir.ListGroups(ctx, in.page())
		if err != nil {
			return nil, s.fail(ctx, "list groups", err)
		}
		out := &struct{ Body GroupList }{Body: GroupList{Items: make([]Group, 0, len(gs)), Next: next}}
		for _, g := range gs {
			out.Body.Items = append(out.Body.Items, groupFrom(g))
		}
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "createGroup", Method: http.MethodPost, Path: "/v1/groups", Tags: tags,
		Summary: "Create a group", DefaultStatus: http.StatusCreated, MaxBodyBytes: maxBody + 1,
		Errors: []int{400, 401, 409, 413, 415, 422},
	}, s.createGroup)
	huma.Register(api, huma.Operation{
		OperationID: "getGroup", Method: http.MethodGet, Path: "/v1/groups/{id}", Tags: tags,
		Summary: "Get a group", Errors: []int{401, 404},
	}, func(ctx context.Context, in *idInput) (*groupOutput, error) {
		g, err := s.dir.GetGroup(ctx, in.ID)
		if err != nil {
			return nil, s.fail(ctx, "get group", err)
		}
		return &groupOutput{Status: http.StatusOK, ETag: etag(g.Version), Body: groupFrom(g)}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "updateGroup", Method: http.MethodPut, Path: "/v1/groups/{id}", Tags: tags,
		Summary: "Replace a group", MaxBodyBytes: maxBody + 1,
		Errors: []int{400, 401, 404, 409, 412, 413, 415, 422, 428},
	}, s.updateGroup)
	huma.Register(api, huma.Operation{
		OperationID: "deleteGroup", Method: http.MethodDelete, Path: "/v1/groups/{id}", Tags: tags,
		Summary:       "Delete a group",
		Description:   "Refused with 409 in_use (refs: the rule ids) while a rule names the group.",
		DefaultStatus: http.StatusNoContent, Errors: []int{401, 404, 409, 412},
	}, s.deleteGroup)
}

func (s *server) createGroup(ctx context.Context, in *struct{ Body Group }) (*groupOutput, error) {
	g, err := s.dir.CreateGroup(ctx, in.Body.input())
	if err != nil {
		return nil, s.fail(ctx, "create group", err)
	}
	return &groupOutput{Status: http.StatusCreated, ETag: etag(g.Version), Location: "/v1/groups/" + g.ID, Body: groupFrom(g)}, nil
}

func (s *server) updateGroup(ctx context.Context, in *updateGroupInput) (*groupOutput, error) {
	pre, err := requireIfMatch(in.IfMatch)
	if err != nil {
		return nil, err
	}
	g, err := s.dir.UpdateGroup(ctx, in.ID, in.Body.input(), pre.admin())
	if err != nil {
		return nil, s.fail(ctx, "update group", err)
	}
	return &groupOutput{Status: http.StatusOK, ETag: etag(g.Version), Body: groupFrom(g)}, nil
}

func (s *server) deleteGroup(ctx context.Context, in *deleteByIDInput) (*struct{}, error) {
	pre, err := parseIfMatch(in.IfMatch)
	if err != nil {
		return nil, err
	}
	if err := s.dir.DeleteGroup(ctx, in.ID, pre.admin()); err != nil {
		return nil, s.fail(ctx, "delete group", err)
	}
	return nil, nil
}

func (s *server) registerDirectory(api huma.API) {
	tags := []string{"directory"}
	huma.Register(api, huma.Operation{
		OperationID: "getDirectory", Method: http.MethodGet, Path: "/v1/directory", Tags: tags,
		Summary: "Get the whole directory", Errors: []int{401},
	}, func(ctx context.Context, _ *struct{}) (*struct{ Body Directory }, error) {
		d, err := s.directory(ctx)
		if err != nil {
			return nil, err
		}
		return &struct{ Body Directory }{Body: d}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "putDirectory", Method: http.MethodPut, Path: "/v1/directory", Tags: tags,
		Summary: "Replace the whole directory",
		Description: "Makes the directory exactly the users and groups given, atomically. Removing a user or group that a rule names " +
			"is refused with 409 in_use (refs: the rule ids) unless prune=true. Answers with the directory as stored.",
		MaxBodyBytes: maxBody + 1, Errors: []int{400, 401, 409, 413, 415, 422},
	}, s.putDirectory)
}

// directory reads the whole directory.
func (s *server) directory(ctx context.Context) (Directory, error) {
	d := Directory{Users: []User{}, Groups: []Group{}}
	users, groups, err := s.dir.All(ctx)
	if err != nil {
		return d, s.fail(ctx, "read the directory", err)
	}
	for _, u := range users {
		d.Users = append(d.Users, userFrom(u))
	}
	for _, g := range groups {
		d.Groups = append(d.Groups, groupFrom(g))
	}
	return d, nil
}

func (s *server) putDirectory(ctx context.Context, in *putDirectoryInput) (*struct{ Body Directory }, error) {
	var d notify.Directory
	for _, u := range in.Body.Users {
		d.Users = append(d.Users, u.domain())
	}
	for _, g := range in.Body.Groups {
		d.Groups = append(d.Groups, g.domain())
	}
	if err := s.dir.Replace(ctx, d, in.Prune); err != nil {
		return nil, s.fail(ctx, "replace directory", err)
	}
	out, err := s.directory(ctx)
	if err != nil {
		return nil, err
	}
	return &struct{ Body Directory }{Body: out}, nil
}
