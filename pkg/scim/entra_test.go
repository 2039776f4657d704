package scim_test

import (
	"slices"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/scim"
)

func TestEntraID(t *testing.T) { entraSequence(t, newEnv(t, boltStore(t), scim.Config{})) }

const patchOp = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`

// entraSequence replays the requests Microsoft Entra ID's SCIM
// provisioning documentation shows (capitalized ops, string booleans,
// members removed by value list), asserting the directory and the rules
// after each.
func entraSequence(t *testing.T, e *env) {
	const userName = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"
	if n := e.do("GET", "/scim/v2/Users?filter="+filterQ(`userName eq "`+userName+`"`), "").want(t, "lookup", 200).total(); n != 0 {
		t.Fatalf("lookup before create: %d", n)
	}
	r := e.do("POST", "/scim/v2/Users", `{
	  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
	  "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
	  "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
	  "active": true,
	  "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
	  "meta": {"resourceType": "User"},
	  "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
	  "roles": [{"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "Developer"}],
	  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Platform", "manager": {"value": "m1"}}
	}`).want(t, "create", 201)
	id := r.str("id")
	u := e.user(id)
	if u.Name != "givenName familyName" || u.Email != "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com" ||
		u.Role != notify.RoleDeveloper || u.Provisioned.UserName != userName {
		t.Errorf("created: %+v %+v", u, u.Provisioned)
	}
	rule := e.newRule("Entra user and another", []string{id}, nil)

	if n := e.do("GET", "/scim/v2/Users?filter="+filterQ(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`), "").want(t, "by externalId", 200).total(); n != 1 {
		t.Errorf("by externalId: %d", n)
	}
	// A duplicate create is refused as not unique.
	e.do("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+userName+`",
	  "emails":[{"primary":true,"type":"work","value":"other@testuser.com"}],"active":true}`).wantError(t, "duplicate", 409, "uniqueness")

	// Update attributes, then the userName (rename).
	e.do("PATCH", "/scim/v2/Users/"+id, `{`+patchOp+`,"Operations":[
	  {"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
	  {"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}]}`).want(t, "patch attributes", 200)
	if u := e.user(id); u.Email != "updatedEmail@microsoft.com" || u.Provisioned.FamilyName != "updatedFamilyName" {
		t.Errorf("after patch: %+v %+v", u, u.Provisioned)
	}
	r = e.do("PATCH", "/scim/v2/Users/"+id, `{`+patchOp+`,"Operations":[
	  {"op":"Replace","path":"userName","value":"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"},
	  {"op":"Add","path":"displayName","value":"Renamed Person"}]}`).want(t, "rename", 200)
	if u := e.user(id); u.Provisioned.UserName != "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com" || u.Name != "Renamed Person" {
		t.Errorf("after rename: %+v", u)
	}
	if r.str("id") != id {
		t.Errorf("the id changed with the userName: %s", r.str("id"))
	}

	// Disable with a string boolean, as Entra ID sends it; enable again.
	e.do("PATCH", "/scim/v2/Users/"+id, `{`+patchOp+`,"Operations":[{"op":"Replace","path":"active","value":"False"}]}`).want(t, "disable", 200)
	if u := e.user(id); !u.Inactive {
		t.Error("not inactive after active \"False\"")
	}
	if r := e.rule(rule.ID); !r.Enabled || len(r.Recipients.Users) != 1 {
		t.Errorf("rule after disable: %+v", r)
	}
	e.do("PATCH", "/scim/v2/Users/"+id, `{`+patchOp+`,"Operations":[{"op":"Replace","path":"active","value":true}]}`).want(t, "enable", 200)
	if u := e.user(id); u.Inactive {
		t.Error("inactive after active true")
	}

	// Groups.
	r = e.do("POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
	  "externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName","meta":{"resourceType":"Group"}}`).want(t, "create group", 201)
	gid := r.str("id")
	if g := e.group(gid); g.ExternalID != "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159" {
		t.Errorf("group externalId %q", g.ExternalID)
	}
	r = e.do("GET", "/scim/v2/Groups?excludedAttributes=members&filter="+filterQ(`displayName eq "displayName"`), "").want(t, "group lookup", 200)
	if res, _ := r.body["Resources"].([]any); len(res) != 1 || res[0].(map[string]any)["members"] != nil || res[0].(map[string]any)["id"] != gid {
		t.Errorf("group lookup without members: %v", r.body)
	}
	e.do("PATCH", "/scim/v2/Groups/"+gid, `{`+patchOp+`,"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+id+`"}]}]}`).want(t, "add member", 200)
	if g := e.group(gid); !slices.Equal(g.Members, []string{id}) {
		t.Errorf("members after add: %v", g.Members)
	}
	e.do("PATCH", "/scim/v2/Groups/"+gid, `{`+patchOp+`,"Operations":[{"op":"Replace","path":"displayName","value":"1879db59updatedDisplayName"}]}`).want(t, "rename group", 200)
	e.do("PATCH", "/scim/v2/Groups/"+gid, `{`+patchOp+`,"Operations":[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"`+id+`"}]}]}`).want(t, "remove member", 200)
	if g := e.group(gid); len(g.Members) != 0 || g.Name != "1879db59updatedDisplayName" {
		t.Errorf("group after rename and remove: %+v", g)
	}
	groupRule := e.newRule("Entra group", []string{id}, []string{gid})

	// Delete the group, then the user.
	e.do("DELETE", "/scim/v2/Groups/"+gid, "").want(t, "delete group", 204)
	e.gone("group", gid)
	if r := e.rule(groupRule.ID); len(r.Recipients.Groups) != 0 || !r.Enabled || len(r.Recipients.Users) != 1 {
		t.Errorf("rule after group delete (a user left, still enabled): %+v", r)
	}
	e.do("DELETE", "/scim/v2/Users/"+id, "").want(t, "delete user", 204)
	e.gone("user", id)
	for _, rid := range []string{rule.ID, groupRule.ID} {
		if r := e.rule(rid); r.Enabled || !r.Recipients.Empty() {
			t.Errorf("rule %s after user delete: %+v", rid, r)
		}
	}
	e.do("DELETE", "/scim/v2/Users/"+id, "").wantError(t, "delete again", 404, "")
}
