package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/api"
	"github.com/argoproj-labs/argo-notify/pkg/scim"
)

// Every admin change is in GET /v1/audit, newest first and paged, with the
// rule before and after an update.
func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	e.seed()
	e.must(http.StatusOK, "PUT", "/v1/rules/rul_000001", ruleJSON("Prod failures, renamed", `"users":["alice"]`), "If-Match", `"1"`)
	e.must(http.StatusNoContent, "DELETE", "/v1/users/bob", "")

	var actions []string
	var update map[string]any
	for cursor := ""; ; {
		page := e.must(http.StatusOK, "GET", "/v1/audit?limit=3&cursor="+cursor, "")
		items := page["items"].([]any)
		if len(items) > 3 {
			t.Fatalf("page of %d", len(items))
		}
		for _, it := range items {
			m := it.(map[string]any)
			actions = append(actions, m["actor"].(string)+" "+m["action"].(string)+" "+m["resourceId"].(string))
			if m["action"] == "rule.update" {
				update = m
			}
		}
		next, _ := page["next"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	want := []string{"admin user.delete bob", "admin rule.update rul_000001", "admin rule.create policy:nightly-etl",
		"admin rule.create rul_000001", "admin group.create sre", "admin user.create carol", "admin user.create bob", "admin user.create alice"}
	if strings.Join(actions, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit trail:\n%s\nwant:\n%s", strings.Join(actions, "\n"), strings.Join(want, "\n"))
	}
	if update == nil {
		t.Fatal("no rule.update entry")
	}
	b, _ := json.Marshal(update)
	var u struct {
		Before, After struct{ Name string }
	}
	if err := json.Unmarshal(b, &u); err != nil {
		t.Fatal(err)
	}
	if u.Before.Name != "Prod failures" || u.After.Name != "Prod failures, renamed" {
		t.Errorf("rule before %q after %q", u.Before.Name, u.After.Name)
	}
}

// Once a SCIM token exists, the directory is synced: the admin API's
// directory writes answer 409 directory_synced, reads go on.
func TestDirectorySyncedAnswers409(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.SCIM = &scim.Config{} })
	e.seed()
	if src := e.must(http.StatusOK, "GET", "/v1/directory/source", ""); src["source"] != "api" || src["writable"] != true {
		t.Errorf("source before: %v", src)
	}
	tok := e.must(http.StatusOK, "POST", "/v1/scim/token", "")
	if s, _ := tok["token"].(string); !strings.HasPrefix(s, "scim_") {
		t.Errorf("token %v", tok)
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/users", `{"name":"Dan","email":"dan@example.com"}`},
		{"DELETE", "/v1/users/carol", ""},
		{"POST", "/v1/groups", `{"name":"Devs"}`},
		{"PUT", "/v1/directory", `{"users":[],"groups":[]}`},
	} {
		r := e.do(c.method, c.path, c.body)
		if r.status != http.StatusConflict || !strings.Contains(string(r.body), `"code":"directory_synced"`) {
			t.Errorf("%s %s while synced: %d %s", c.method, c.path, r.status, r.body)
		}
	}
	e.must(http.StatusOK, "GET", "/v1/users/carol", "")
	if src := e.must(http.StatusOK, "GET", "/v1/directory/source", ""); src["source"] != "scim" || src["writable"] != false {
		t.Errorf("source after: %v", src)
	}
	// The SCIM routes take the SCIM token, not the admin token.
	if r := e.do("GET", "/scim/v2/Users", ""); r.status != http.StatusUnauthorized {
		t.Errorf("SCIM with the admin token: %d", r.status)
	}
}
