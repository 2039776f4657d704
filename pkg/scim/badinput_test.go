package scim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/scim"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// snapshot is the directory and the audit trail, to show that a refused
// request changed nothing.
func (e *env) snapshot() (users []*notify.User, groups []*notify.Group, audit int) {
	e.t.Helper()
	users, groups, err := e.dir.All(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	es, _, err := e.st.ListAudit(context.Background(), store.Page{Limit: store.MaxLimit})
	if err != nil {
		e.t.Fatal(err)
	}
	return users, groups, len(es)
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, boltStore(t), scim.Config{})
	id := e.do("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@example.com",
	  "emails":[{"primary":true,"value":"ann@example.com"}],"active":true}`).want(t, "create", 201).str("id")
	gid := e.do("POST", "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Ops","members":[{"value":"`+id+`"}]}`).want(t, "create group", 201).str("id")
	patch := func(ops string) string { return `{` + patchOp + `,"Operations":[` + ops + `]}` }

	for _, c := range []struct {
		name, method, path, body, token string
		hdr                             map[string]string
		status                          int
		scimType                        string
	}{
		{name: "no token", method: "GET", path: "/scim/v2/Users", status: 401},
		{name: "wrong token", method: "GET", path: "/scim/v2/Users", token: "scim_wrong", status: 401},
		{name: "wrong token on a write", method: "DELETE", path: "/scim/v2/Users/" + id, token: "scim_wrong", status: 401},
		{name: "filter without value", method: "GET", path: "/scim/v2/Users?filter=" + filterQ(`userName eq`), status: 400, scimType: "invalidFilter"},
		{name: "filter unterminated string", method: "GET", path: "/scim/v2/Users?filter=" + filterQ(`userName eq "ann`), status: 400, scimType: "invalidFilter"},
		{name: "filter operator co", method: "GET", path: "/scim/v2/Users?filter=" + filterQ(`userName co "ann"`), status: 400, scimType: "invalidFilter"},
		{name: "filter or", method: "GET", path: "/scim/v2/Users?filter=" + filterQ(`userName eq "a" or userName eq "b"`), status: 400, scimType: "invalidFilter"},
		{name: "filter unknown attribute", method: "GET", path: "/scim/v2/Users?filter=" + filterQ(`shoeSize eq "9"`), status: 400, scimType: "invalidFilter"},
		{name: "filter grouping", method: "GET", path: "/scim/v2/Groups?filter=" + filterQ(`(displayName eq "Ops")`), status: 400, scimType: "invalidFilter"},
		{name: "create with an unknown attribute", method: "POST", path: "/scim/v2/Users", status: 400, scimType: "invalidValue",
			body: `{"userName":"bob@example.com","emails":[{"value":"bob@example.com"}],"shoeSize":9}`},
		{name: "create without userName", method: "POST", path: "/scim/v2/Users", status: 400, scimType: "invalidValue",
			body: `{"emails":[{"value":"bob@example.com"}]}`},
		{name: "create without an email", method: "POST", path: "/scim/v2/Users", status: 400, scimType: "invalidValue",
			body: `{"userName":"bob"}`},
		{name: "create with active not a boolean", method: "POST", path: "/scim/v2/Users", status: 400, scimType: "invalidValue",
			body: `{"userName":"bob@example.com","active":"maybe"}`},
		{name: "body not JSON", method: "POST", path: "/scim/v2/Users", status: 400, scimType: "invalidSyntax", body: `{"userName":`},
		{name: "group with an unknown member", method: "POST", path: "/scim/v2/Groups", status: 400, scimType: "invalidValue",
			body: `{"displayName":"Devs","members":[{"value":"usr_nobody"}]}`},
		{name: "group name taken", method: "POST", path: "/scim/v2/Groups", status: 409, scimType: "uniqueness", body: `{"displayName":"ops"}`},
		{name: "patch id", method: "PATCH", path: "/scim/v2/Users/" + id, status: 400, scimType: "mutability",
			body: patch(`{"op":"replace","path":"id","value":"other"}`)},
		{name: "patch meta", method: "PATCH", path: "/scim/v2/Users/" + id, status: 400, scimType: "mutability",
			body: patch(`{"op":"replace","path":"meta.version","value":"W/\"9\""}`)},
		{name: "patch groups of a user", method: "PATCH", path: "/scim/v2/Users/" + id, status: 400, scimType: "mutability",
			body: patch(`{"op":"add","path":"groups","value":[{"value":"` + gid + `"}]}`)},
		{name: "patch id without path", method: "PATCH", path: "/scim/v2/Groups/" + gid, status: 400, scimType: "mutability",
			body: patch(`{"op":"replace","value":{"id":"grp_other"}}`)},
		{name: "patch unknown attribute", method: "PATCH", path: "/scim/v2/Users/" + id, status: 400, scimType: "invalidPath",
			body: patch(`{"op":"replace","path":"shoeSize","value":9}`)},
		{name: "patch bad path", method: "PATCH", path: "/scim/v2/Users/" + id, status: 400, scimType: "invalidPath",
			body: patch(`{"op":"replace","path":"emails[type eq].value","value":"x@example.com"}`)},
		{name: "patch unknown op", method: "PATCH", path: "/scim/v2/Users/" + id, status: 400, scimType: "invalidSyntax",
			body: patch(`{"op":"move","path":"userName","value":"x"}`)},
		{name: "patch remove without path", method: "PATCH", path: "/scim/v2/Users/" + id, status: 400, scimType: "noTarget",
			body: patch(`{"op":"remove"}`)},
		{name: "patch no operations", method: "PATCH", path: "/scim/v2/Users/" + id, status: 400, scimType: "invalidSyntax",
			body: `{` + patchOp + `,"Operations":[]}`},
		{name: "patch active not a boolean", method: "PATCH", path: "/scim/v2/Users/" + id, status: 400, scimType: "invalidValue",
			body: patch(`{"op":"replace","value":{"active":"nope"}}`)},
		{name: "stale If-Match", method: "PATCH", path: "/scim/v2/Users/" + id, status: 412, hdr: map[string]string{"If-Match": `W/"7"`},
			body: patch(`{"op":"replace","path":"displayName","value":"X"}`)},
		{name: "unknown user", method: "GET", path: "/scim/v2/Users/usr_nobody", status: 404},
		{name: "unknown endpoint", method: "GET", path: "/scim/v2/Widgets", status: 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			u0, g0, a0 := e.snapshot()
			tok := e.token
			if c.token != "" || c.name == "no token" {
				tok = c.token
			}
			e.doWith(c.method, c.path, c.body, tok, c.hdr).wantError(t, c.name, c.status, c.scimType)
			u1, g1, a1 := e.snapshot()
			if len(u0) != len(u1) || len(g0) != len(g1) || a0 != a1 || u0[0].Version != u1[0].Version || g0[0].Version != g1[0].Version {
				t.Errorf("the refused request changed something: users %d→%d groups %d→%d audit %d→%d", len(u0), len(u1), len(g0), len(g1), a0, a1)
			}
		})
	}
}

// A stale If-Match is refused; the current one is accepted.
func TestETag(t *testing.T) {
	e := newEnv(t, boltStore(t), scim.Config{})
	r := e.do("POST", "/scim/v2/Users", `{"userName":"ann@example.com","emails":[{"value":"ann@example.com"}]}`).want(t, "create", 201)
	id := r.str("id")
	if v := r.body["meta"].(map[string]any)["version"]; v != `W/"1"` {
		t.Errorf("meta.version %v", v)
	}
	r = e.doWith("PATCH", "/scim/v2/Users/"+id, `{`+patchOp+`,"Operations":[{"op":"replace","path":"displayName","value":"Ann"}]}`, e.token,
		map[string]string{"If-Match": `W/"1"`}).want(t, "patch at the current version", 200)
	if r.header.Get("ETag") != `W/"2"` {
		t.Errorf("ETag %q", r.header.Get("ETag"))
	}
}

// Paging, attribute selection and the role attribute.
func TestListAndRoles(t *testing.T) {
	e := newEnv(t, boltStore(t), scim.Config{RoleAttribute: "userType"})
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		e.do("POST", "/scim/v2/Users", `{"userName":"`+n+`@example.com","userType":"Admin","emails":[{"value":"`+n+`@example.com"}]}`).want(t, "create "+n, 201)
	}
	r := e.do("GET", "/scim/v2/Users?startIndex=2&count=2&attributes=userName", "").want(t, "page", 200)
	res, _ := r.body["Resources"].([]any)
	if r.total() != 5 || len(res) != 2 || r.body["startIndex"].(float64) != 2 || r.body["itemsPerPage"].(float64) != 2 {
		t.Fatalf("page: %v", r.body)
	}
	first := res[0].(map[string]any)
	if first["userName"] != "b@example.com" || first["emails"] != nil || first["id"] == nil {
		t.Errorf("attributes=userName gave %v", first)
	}
	if u := e.user(first["id"].(string)); u.Role != notify.RoleAdmin {
		t.Errorf("role from userType: %q", u.Role)
	}
	if n := len(e.do("GET", "/scim/v2/Users?count=0", "").want(t, "count 0", 200).body["Resources"].([]any)); n != 0 {
		t.Errorf("count=0 gave %d resources", n)
	}
	for _, p := range []string{"/scim/v2/ServiceProviderConfig", "/scim/v2/ResourceTypes", "/scim/v2/ResourceTypes/User", "/scim/v2/Schemas",
		"/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group"} {
		e.do("GET", p, "").want(t, p, 200)
	}
}

// While a SCIM token exists the admin API's directory writes are refused,
// unless configured writable; SCIM writes go on.
func TestDirectorySynced(t *testing.T) {
	e := newEnv(t, boltStore(t), scim.Config{})
	ctx := context.Background()
	_, err := e.dir.CreateUser(ctx, admin.UserInput{Name: "Ann", Email: "ann@example.com"})
	if !notify.IsCode(err, notify.EDirectorySynced) {
		t.Errorf("CreateUser while synced: %v, want %s", err, notify.EDirectorySynced)
	}
	if err := e.dir.Replace(ctx, notify.Directory{}, true); !notify.IsCode(err, notify.EDirectorySynced) {
		t.Errorf("Replace while synced: %v", err)
	}
	if src, _ := e.dir.Source(ctx); src != admin.SourceSCIM || e.dir.Writable(ctx) {
		t.Errorf("source %q writable %t", src, e.dir.Writable(ctx))
	}
	e.do("POST", "/scim/v2/Users", `{"userName":"ann@example.com","emails":[{"value":"ann@example.com"}]}`).want(t, "SCIM create", 201)

	writable := admin.NewDirectory(admin.DirectoryConfig{Directory: e.st, Credentials: e.st, WritableWhileSynced: true,
		IDs: func() string { return time.Now().Format("150405.000000000") }})
	if _, err := writable.CreateUser(ctx, admin.UserInput{Name: "Bob", Email: "bob@example.com"}); err != nil {
		t.Errorf("CreateUser, writable while synced: %v", err)
	}
	// Rotating the token: the old one stops working.
	old := e.token
	tok, err := e.dir.RotateSCIMToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.doWith("GET", "/scim/v2/Users", "", old, nil).wantError(t, "old token", 401, "")
	e.doWith("GET", "/scim/v2/Users", "", tok, nil).want(t, "new token", 200)
}

// The token bucket answers 429 once the burst is spent.
func TestThrottle(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := newEnv(t, boltStore(t), scim.Config{Rate: 1, Burst: 2, Now: func() time.Time { return now }})
	e.do("GET", "/scim/v2/Users", "").want(t, "1", 200)
	e.do("GET", "/scim/v2/Users", "").want(t, "2", 200)
	e.do("GET", "/scim/v2/Users", "").wantError(t, "3", 429, "")
}

// With RoleGroups, roles come from the mapped groups: the highest of a
// user's, DefaultRole outside them, recomputed when a group changes.
func TestRoleFromGroups(t *testing.T) {
	e := newEnv(t, boltStore(t), scim.Config{RoleGroups: map[string]string{"Argo Admins": "admin", "argo-devs": "developer"}})
	id := e.do("POST", "/scim/v2/Users", `{"userName":"ann@example.com","emails":[{"value":"ann@example.com"}],"roles":[{"value":"admin"}]}`).want(t, "create", 201).str("id")
	if u := e.user(id); u.Role != notify.RoleMember {
		t.Errorf("role before any group: %q", u.Role)
	}
	devs := e.do("POST", "/scim/v2/Groups", `{"displayName":"Argo-Devs","members":[{"value":"`+id+`"}]}`).want(t, "devs", 201).str("id")
	if u := e.user(id); u.Role != notify.RoleDeveloper {
		t.Errorf("role in argo-devs: %q", u.Role)
	}
	admins := e.do("POST", "/scim/v2/Groups", `{"displayName":"Argo Admins","members":[]}`).want(t, "admins", 201).str("id")
	e.do("PATCH", "/scim/v2/Groups/"+admins, `{`+patchOp+`,"Operations":[{"op":"add","path":"members","value":[{"value":"`+id+`"}]}]}`).want(t, "join admins", 200)
	if u := e.user(id); u.Role != notify.RoleAdmin {
		t.Errorf("role in both: %q", u.Role)
	}
	// A PATCH of the user cannot lift the role the groups give.
	e.do("PATCH", "/scim/v2/Users/"+id, `{`+patchOp+`,"Operations":[{"op":"replace","path":"roles","value":[{"value":"viewer"}]}]}`).want(t, "patch roles", 200)
	if u := e.user(id); u.Role != notify.RoleAdmin {
		t.Errorf("role after a roles PATCH: %q", u.Role)
	}
	e.do("PATCH", "/scim/v2/Groups/"+admins, `{`+patchOp+`,"Operations":[{"op":"remove","path":"members[value eq \"`+id+`\"]"}]}`).want(t, "leave admins", 200)
	if u := e.user(id); u.Role != notify.RoleDeveloper {
		t.Errorf("role after leaving admins: %q", u.Role)
	}
	e.do("DELETE", "/scim/v2/Groups/"+devs, "").want(t, "delete devs", 204)
	if u := e.user(id); u.Role != notify.RoleMember {
		t.Errorf("role after argo-devs is deleted: %q", u.Role)
	}
}

// The admin API's directory replace with prune records each rule it
// changed, before and after.
func TestReplaceAuditsPrunedRules(t *testing.T) {
	st := boltStore(t)
	var n int
	ids := func() string { n++; return fmt.Sprintf("%026d", n) }
	dir := admin.NewDirectory(admin.DirectoryConfig{Directory: st, Rules: st, Audit: st, IDs: ids})
	rules := admin.NewRules(admin.RulesConfig{Rules: st, Directory: st, Audit: st, IDs: ids})
	ctx := context.Background()
	u, err := dir.CreateUser(ctx, admin.UserInput{ID: "ann", Name: "Ann", Email: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := rules.Create(ctx, admin.RuleInput{Name: "Ann only", EventTypes: []notify.EventType{notify.TypeJob},
		Severities: notify.Severities, Recipients: notify.Recipients{Users: []string{u.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := dir.Replace(ctx, notify.Directory{}, true); err != nil {
		t.Fatal(err)
	}
	es, _, err := st.ListAudit(ctx, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var prune *notify.AuditEntry
	for _, e := range es {
		if e.Action == "rule.prune" && e.ResourceID == r.ID {
			prune = e
		}
	}
	if prune == nil {
		t.Fatalf("no rule.prune entry in %d entries", len(es))
	}
	var before, after notify.Rule
	if err := json.Unmarshal(prune.Before, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(prune.After, &after); err != nil {
		t.Fatal(err)
	}
	if !before.Enabled || len(before.Recipients.Users) != 1 || after.Enabled || len(after.Recipients.Users) != 0 {
		t.Errorf("before %+v after %+v", before, after)
	}
}

// Entra ID adds an app role with primary true: it replaces the role.
func TestAddPrimaryRole(t *testing.T) {
	e := newEnv(t, boltStore(t), scim.Config{})
	id := e.do("POST", "/scim/v2/Users", `{"userName":"ann@example.com","emails":[{"value":"ann@example.com"}],"roles":[{"value":"viewer","primary":true}]}`).want(t, "create", 201).str("id")
	if u := e.user(id); u.Role != notify.RoleViewer {
		t.Fatalf("role %q", u.Role)
	}
	e.do("PATCH", "/scim/v2/Users/"+id, `{`+patchOp+`,"Operations":[{"op":"Add","path":"roles","value":[{"primary":"True","type":"WindowsAzureActiveDirectoryRole","value":"Admin"}]}]}`).want(t, "add role", 200)
	if u := e.user(id); u.Role != notify.RoleAdmin {
		t.Errorf("role after adding a primary admin role: %q", u.Role)
	}
}

// A user created without displayName is named after name.formatted, and
// follows it when it changes.
func TestNameFollowsFormatted(t *testing.T) {
	e := newEnv(t, boltStore(t), scim.Config{})
	id := e.do("POST", "/scim/v2/Users", `{"userName":"ann@example.com","emails":[{"value":"ann@example.com"}],"name":{"formatted":"Ann Lee"}}`).want(t, "create", 201).str("id")
	e.do("PATCH", "/scim/v2/Users/"+id, `{`+patchOp+`,"Operations":[{"op":"Replace","path":"name.formatted","value":"Ann Smith"}]}`).want(t, "patch", 200)
	if u := e.user(id); u.Name != "Ann Smith" {
		t.Errorf("name %q, want Ann Smith", u.Name)
	}
	r := e.do("GET", "/scim/v2/Users/"+id, "").want(t, "get", 200)
	if r.body["displayName"] != nil {
		t.Errorf("displayName %v: none was sent", r.body["displayName"])
	}
}

// Fields longer than the directory keeps are refused, nothing stored.
func TestTooLong(t *testing.T) {
	e := newEnv(t, boltStore(t), scim.Config{})
	long := strings.Repeat("x", notify.MaxProvisioned+1)
	e.do("POST", "/scim/v2/Users", `{"userName":"ann@example.com","externalId":"`+long+`","emails":[{"value":"ann@example.com"}]}`).wantError(t, "long externalId", 400, "invalidValue")
	if n := e.do("GET", "/scim/v2/Users", "").want(t, "list", 200).total(); n != 0 {
		t.Errorf("%d users stored", n)
	}
}

// Identity providers send member changes to one group in parallel: each
// PATCH lands (a stale read is retried), none is lost.
func TestConcurrentMemberAdds(t *testing.T) { concurrentMemberAdds(t, boltStore(t)) }

func concurrentMemberAdds(t *testing.T, st backend) {
	e := newEnv(t, st, scim.Config{Burst: 1000})
	const n = 8
	ids := make([]string, n)
	for i := range ids {
		ids[i] = e.do("POST", "/scim/v2/Users", fmt.Sprintf(`{"userName":"u%d@example.com","emails":[{"value":"u%d@example.com"}]}`, i, i)).want(t, "create", 201).str("id")
	}
	gid := e.do("POST", "/scim/v2/Groups", `{"displayName":"All"}`).want(t, "group", 201).str("id")
	var wg sync.WaitGroup
	status := make([]int, n)
	for i, id := range ids {
		wg.Go(func() {
			status[i] = e.doWith("PATCH", "/scim/v2/Groups/"+gid,
				`{`+patchOp+`,"Operations":[{"op":"add","path":"members","value":[{"value":"`+id+`"}]}]}`, e.token, nil).status
		})
	}
	wg.Wait()
	for i, s := range status {
		if s != 200 {
			t.Errorf("PATCH %d: %d", i, s)
		}
	}
	if g := e.group(gid); len(g.Members) != n {
		t.Errorf("%d members after %d parallel adds: %v", len(g.Members), n, g.Members)
	}
}
