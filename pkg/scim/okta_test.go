package scim_test

import (
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/scim"
)

func TestOkta(t *testing.T) { oktaSequence(t, newEnv(t, boltStore(t), scim.Config{})) }

func filterQ(f string) string { return url.QueryEscape(f) }

// oktaSequence replays the requests Okta's SCIM 2.0 provisioning
// documentation shows, asserting the directory and the rules after each.
func oktaSequence(t *testing.T, e *env) {
	const userName = "test.user@okta.local"

	// 1. Okta looks the user up before creating it.
	r := e.do("GET", "/scim/v2/Users?filter="+filterQ(`userName eq "`+userName+`"`)+"&startIndex=1&count=100", "").want(t, "lookup", 200)
	if r.total() != 0 {
		t.Fatalf("lookup before create: %d results", r.total())
	}

	// 2. Create.
	r = e.do("POST", "/scim/v2/Users", `{
	  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName": "test.user@okta.local",
	  "name": {"givenName": "Test", "familyName": "User"},
	  "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
	  "displayName": "Test User",
	  "locale": "en-US",
	  "externalId": "00ujl29u0le5T6Aj10h7",
	  "groups": [],
	  "password": "1mPr0b4bl3",
	  "active": true
	}`).want(t, "create", 201)
	id := r.str("id")
	if id == "" || id == userName {
		t.Fatalf("id %q: want a stable id distinct from userName", id)
	}
	if r.header.Get("ETag") != `W/"1"` || r.header.Get("Location") != "/scim/v2/Users/"+id {
		t.Errorf("ETag %q Location %q", r.header.Get("ETag"), r.header.Get("Location"))
	}
	u := e.user(id)
	if u.Name != "Test User" || u.Email != userName || u.Role != notify.RoleMember || u.Inactive ||
		u.Provisioned == nil || u.Provisioned.ExternalID != "00ujl29u0le5T6Aj10h7" || u.Provisioned.GivenName != "Test" {
		t.Errorf("created user %+v %+v", u, u.Provisioned)
	}
	rule := e.newRule("Okta user only", []string{id}, nil)

	// 3. Get, and look up by filter.
	r = e.do("GET", "/scim/v2/Users/"+id, "").want(t, "get", 200)
	if r.str("userName") != userName || r.body["active"] != true {
		t.Errorf("get: %v", r.body)
	}
	for _, f := range []string{`userName eq "TEST.USER@okta.local"`, `externalId eq "00ujl29u0le5T6Aj10h7"`, `emails.value eq "test.user@okta.local"`, `displayName eq "Test User"`} {
		if n := e.do("GET", "/scim/v2/Users?filter="+filterQ(f), "").want(t, f, 200).total(); n != 1 {
			t.Errorf("filter %s: %d results, want 1", f, n)
		}
	}

	// 4. Profile update: Okta replaces the user with PUT (rename).
	r = e.do("PUT", "/scim/v2/Users/"+id, `{
	  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "id": "`+id+`",
	  "userName": "test.user@okta.local",
	  "name": {"givenName": "Tested", "familyName": "User"},
	  "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
	  "displayName": "Tested User",
	  "active": true,
	  "meta": {"resourceType": "User"}
	}`).want(t, "put", 200)
	if u := e.user(id); u.Name != "Tested User" || u.Version != 2 {
		t.Errorf("after PUT: %+v", u)
	}

	// 5. Deactivate: Okta's replace without a path.
	e.do("PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations":[{"op":"replace","value":{"active":false}}]}`).want(t, "deactivate", 200)
	if u := e.user(id); !u.Inactive || u.Name != "Tested User" {
		t.Errorf("after deactivate: %+v", u)
	}
	if r := e.rule(rule.ID); !slices.Equal(r.Recipients.Users, []string{id}) || !r.Enabled {
		t.Errorf("a deactivated user stays named: %+v", r.Recipients)
	}
	r = e.do("GET", "/scim/v2/Users?filter="+filterQ(`userName eq "`+userName+`"`), "").want(t, "list inactive", 200)
	if res, _ := r.body["Resources"].([]any); len(res) != 1 || res[0].(map[string]any)["active"] != false {
		t.Errorf("inactive user listed as %v", r.body["Resources"])
	}

	// 6. Reactivate.
	e.do("PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations":[{"op":"replace","value":{"active":true}}]}`).want(t, "reactivate", 200)
	if u := e.user(id); u.Inactive {
		t.Errorf("after reactivate: inactive")
	}

	// 7. Group push: create, add a member, rename, remove the member.
	second := e.do("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName":"second@okta.local","name":{"givenName":"Sec","familyName":"Ond"},
	  "emails":[{"primary":true,"value":"second@okta.local","type":"work"}],"active":true}`).want(t, "second user", 201).str("id")
	r = e.do("POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Test SCIMv2","members":[]}`).want(t, "create group", 201)
	gid := r.str("id")
	groupRule := e.newRule("Okta group", nil, []string{gid})
	if n := e.do("GET", "/scim/v2/Groups?filter="+filterQ(`displayName eq "Test SCIMv2"`), "").want(t, "group lookup", 200).total(); n != 1 {
		t.Errorf("group lookup: %d", n)
	}
	e.do("PATCH", "/scim/v2/Groups/"+gid, fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations":[{"op":"add","path":"members","value":[{"value":"%s","display":"test.user@okta.local"},{"value":"%s","display":"second@okta.local"}]}]}`, id, second)).want(t, "add members", 200)
	if g := e.group(gid); !slices.Equal(g.Members, []string{id, second}) {
		t.Errorf("members after add: %v", g.Members)
	}
	e.do("PATCH", "/scim/v2/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations":[{"op":"replace","value":{"id":"`+gid+`","displayName":"Renamed SCIMv2"}}]}`).want(t, "rename group", 200)
	if g := e.group(gid); g.Name != "Renamed SCIMv2" || len(g.Members) != 2 {
		t.Errorf("after rename: %+v", g)
	}
	e.do("PATCH", "/scim/v2/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	  "Operations":[{"op":"remove","path":"members[value eq \"`+second+`\"]"}]}`).want(t, "remove member", 200)
	if g := e.group(gid); !slices.Equal(g.Members, []string{id}) {
		t.Errorf("members after remove: %v", g.Members)
	}

	// 8. Delete the user: out of its group and its rule, which it
	// emptied and which is disabled.
	e.do("DELETE", "/scim/v2/Users/"+id, "").want(t, "delete user", 204)
	e.gone("user", id)
	if g := e.group(gid); len(g.Members) != 0 {
		t.Errorf("group after user delete: %v", g.Members)
	}
	if r := e.rule(rule.ID); len(r.Recipients.Users) != 0 || r.Enabled {
		t.Errorf("rule after user delete: enabled %t, users %v", r.Enabled, r.Recipients.Users)
	}
	e.do("GET", "/scim/v2/Users/"+id, "").wantError(t, "get deleted", 404, "")

	// 9. Delete the group: out of its rule.
	e.do("DELETE", "/scim/v2/Groups/"+gid, "").want(t, "delete group", 204)
	e.gone("group", gid)
	if r := e.rule(groupRule.ID); len(r.Recipients.Groups) != 0 || r.Enabled {
		t.Errorf("rule after group delete: enabled %t, groups %v", r.Enabled, r.Recipients.Groups)
	}
	a := e.audit()
	for _, want := range []string{"scim user.create " + id, "scim user.update " + id, "scim rule.prune " + rule.ID,
		"scim user.delete " + id, "scim group.delete " + gid, "admin rule.create " + rule.ID} {
		if !slices.Contains(a, want) {
			t.Errorf("audit trail lacks %q: %v", want, a)
		}
	}
}
