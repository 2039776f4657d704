package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/api"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store/bolt"
)

var update = flag.Bool("update", false, "rewrite testdata/openapi.json from the code")

func TestRuleLifecycle(t *testing.T) {
	e := newEnv(t)
	e.seed()

	r := e.do("POST", "/v1/rules", `{"name":"Spend","enabled":false,"eventTypes":["SPENDING"],"severities":["INFO"],"recipients":{"emails":["fin@example.com"],"slackChannels":["C0123456789"]}}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	created := r.json(t)
	id := created["id"].(string)
	if !strings.HasPrefix(id, "rul_") || created["version"] != 1.0 || created["source"] != "user" || created["enabled"] != false {
		t.Errorf("created %s", r.body)
	}
	if r.header.Get("ETag") != `"1"` || r.header.Get("Location") != "/v1/rules/"+id {
		t.Errorf("ETag %q Location %q", r.header.Get("ETag"), r.header.Get("Location"))
	}
	if created["createdAt"] != created["updatedAt"] || created["createdAt"] == nil {
		t.Errorf("timestamps %v %v", created["createdAt"], created["updatedAt"])
	}
	// Empty recipient lists come back as [], not null or absent.
	if rc := created["recipients"].(map[string]any); rc["users"] == nil || len(rc["users"].([]any)) != 0 {
		t.Errorf("recipients %v", rc)
	}

	got := e.must(http.StatusOK, "GET", "/v1/rules/"+id, "")
	if diff := cmp.Diff(created, got); diff != "" {
		t.Errorf("GET differs from the POST answer (-post +get):\n%s", diff)
	}

	upd := e.must(http.StatusOK, "PUT", "/v1/rules/"+id,
		`{"name":"Spending","eventTypes":["SPENDING","SYSTEM"],"severities":["INFO"],"recipients":{"groups":["sre"]}}`, "If-Match", `"1"`)
	if upd["version"] != 2.0 || upd["name"] != "Spending" || upd["createdAt"] != created["createdAt"] || upd["updatedAt"] == created["updatedAt"] {
		t.Errorf("updated %v", upd)
	}
	if upd["enabled"] != false {
		t.Errorf("a PUT without enabled changed it: %v", upd["enabled"])
	}

	e.must(http.StatusNoContent, "DELETE", "/v1/rules/"+id, "", "If-Match", `"2"`)
	e.must(http.StatusNotFound, "GET", "/v1/rules/"+id, "")
	e.must(http.StatusNoContent, "DELETE", "/v1/rules/rul_000001", "") // If-Match is optional on DELETE
}

// TestRoundTrip GETs a rule, changes one field of the JSON and PUTs all of
// it back, read-only fields included.
func TestRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.seed()
	r := e.do("GET", "/v1/rules/rul_000001", "")
	rule := r.json(t)
	rule["enabled"] = false
	body, _ := json.Marshal(rule)

	put := e.must(http.StatusOK, "PUT", "/v1/rules/rul_000001", string(body), "If-Match", r.header.Get("ETag"))
	if put["enabled"] != false || put["version"] != 2.0 || put["id"] != "rul_000001" || put["source"] != "user" {
		t.Errorf("after PUT: %v", put)
	}
	delete(put, "updatedAt")
	delete(rule, "updatedAt")
	rule["version"] = 2.0
	if diff := cmp.Diff(rule, put); diff != "" {
		t.Errorf("PUT changed more than enabled (-want +got):\n%s", diff)
	}
	disabled := e.must(http.StatusOK, "GET", "/v1/rules?enabled=false", "")
	if ids := itemIDs(disabled); !slices.Equal(ids, []string{"rul_000001"}) {
		t.Errorf("disabled rules %v", ids)
	}

	// The same for a user and a group.
	for _, path := range []string{"/v1/users/bob", "/v1/groups/sre"} {
		r := e.do("GET", path, "")
		m := r.json(t)
		m["name"] = "Renamed " + path[len(path)-3:]
		body, _ := json.Marshal(m)
		got := e.must(http.StatusOK, "PUT", path, string(body), "If-Match", r.header.Get("ETag"))
		if got["name"] != m["name"] || got["version"] != 2.0 {
			t.Errorf("PUT %s: %v", path, got)
		}
	}
}

func TestListFilters(t *testing.T) {
	e := newEnv(t)
	e.seed()
	e.must(http.StatusCreated, "POST", "/v1/rules", `{"name":"Off","enabled":false,"eventTypes":["SYSTEM"],"severities":["INFO"],"recipients":{"users":["bob"]}}`)
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"rul_000001", "policy:nightly-etl", "rul_000002"}},
		{"?source=user", []string{"rul_000001", "rul_000002"}},
		{"?source=policy", []string{"policy:nightly-etl"}},
		{"?enabled=true", []string{"rul_000001", "policy:nightly-etl"}},
		{"?enabled=false", []string{"rul_000002"}},
		{"?source=policy&enabled=false", nil},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			got := e.must(http.StatusOK, "GET", "/v1/rules"+tc.query, "")
			if ids := itemIDs(got); !slices.Equal(ids, tc.want) {
				t.Errorf("ids %v, want %v", ids, tc.want)
			}
		})
	}
	pol := e.must(http.StatusOK, "GET", "/v1/rules?source=policy", "")["items"].([]any)[0].(map[string]any)
	want := map[string]any{"id": "nightly-etl", "name": "Nightly ETL", "onSuccess": false, "onFailure": true}
	if diff := cmp.Diff(want, pol["policy"]); diff != "" {
		t.Errorf("policy details (-want +got):\n%s", diff)
	}
}

func itemIDs(list map[string]any) []string {
	var ids []string
	for _, it := range asSlice(list["items"]) {
		ids = append(ids, it.(map[string]any)["id"].(string))
	}
	return ids
}

func TestPagination(t *testing.T) {
	e := newEnv(t)
	e.must(http.StatusCreated, "POST", "/v1/users", `{"id":"u","name":"U","email":"u@example.com"}`)
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("rule %d", i)
		want = append(want, name)
		e.must(http.StatusCreated, "POST", "/v1/rules", ruleJSON(name, `"users":["u"]`))
	}
	var got []string
	var sizes []int
	cursor := ""
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("the walk does not end")
		}
		path := "/v1/rules?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := e.do("GET", path, "")
		if r.status != http.StatusOK {
			t.Fatalf("page %d: %d %s", page, r.status, r.body)
		}
		m := r.json(t)
		items := asSlice(m["items"])
		sizes = append(sizes, len(items))
		for _, it := range items {
			got = append(got, it.(map[string]any)["name"].(string))
		}
		next, ok := m["next"].(string)
		if !ok {
			if _, present := m["next"]; present {
				t.Errorf("last page has next %v; want it absent", m["next"])
			}
			break
		}
		cursor = next
	}
	if !slices.Equal(got, want) || !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Errorf("walked %v in pages %v, want %v in pages [3 3 1]", got, sizes, want)
	}
	users := e.must(http.StatusOK, "GET", "/v1/users?limit=1", "")
	if len(asSlice(users["items"])) != 1 || users["next"] != nil {
		t.Errorf("users page %v", users)
	}
}

func TestPolicyNotification(t *testing.T) {
	e := newEnv(t)
	e.seed()
	path := "/v1/policies/nightly-etl/notification"

	r := e.do("GET", path, "")
	if r.status != http.StatusOK || r.header.Get("ETag") != `"1"` {
		t.Fatalf("GET: %d %v %s", r.status, r.header, r.body)
	}
	m := r.json(t)
	m["onSuccess"] = true
	body, _ := json.Marshal(m)
	upd := e.do("PUT", path, string(body), "If-Match", `"1"`)
	if upd.status != http.StatusOK || upd.header.Get("ETag") != `"2"` {
		t.Fatalf("PUT update: %d %v %s", upd.status, upd.header, upd.body)
	}
	if got := upd.json(t); got["onSuccess"] != true || got["onFailure"] != true || got["name"] != "Policy Nightly ETL" || got["createdAt"] != m["createdAt"] {
		t.Errorf("updated %v", got)
	}
	rule := e.must(http.StatusOK, "GET", "/v1/rules/policy:nightly-etl", "")
	if rule["source"] != "policy" || !slices.Equal(asSlice(rule["eventTypes"]), []any{"JOB"}) || len(asSlice(rule["severities"])) != 3 {
		t.Errorf("policy rule %v", rule)
	}

	// A new policy: 201, without If-Match, with a default name.
	cr := e.do("PUT", "/v1/policies/weekly/notification", `{"onSuccess":true,"recipients":{"emails":["x@example.com"]}}`)
	if cr.status != http.StatusCreated || cr.header.Get("ETag") != `"1"` {
		t.Fatalf("PUT create: %d %s", cr.status, cr.body)
	}
	if got := cr.json(t); got["name"] != "Policy weekly" || got["enabled"] != true || got["ruleId"] != "policy:weekly" {
		t.Errorf("created %v", got)
	}

	e.must(http.StatusNoContent, "DELETE", path, "", "If-Match", `"2"`)
	e.must(http.StatusNotFound, "GET", path, "")
	e.must(http.StatusNotFound, "GET", "/v1/rules/policy:nightly-etl", "")
}

func TestUsersAndGroups(t *testing.T) {
	e := newEnv(t)
	e.seed()

	u := e.do("POST", "/v1/users", `{"name":"Dan","email":"dan@example.com"}`)
	if u.status != http.StatusCreated {
		t.Fatalf("create user: %d %s", u.status, u.body)
	}
	dan := u.json(t)
	if !strings.HasPrefix(dan["id"].(string), "usr_") || dan["role"] != "member" || u.header.Get("Location") != "/v1/users/"+dan["id"].(string) {
		t.Errorf("user %v, Location %q", dan, u.header.Get("Location"))
	}
	g := e.must(http.StatusCreated, "POST", "/v1/groups", fmt.Sprintf(`{"name":"Ops","members":[%q,"bob"]}`, dan["id"]))
	if !strings.HasPrefix(g["id"].(string), "grp_") {
		t.Errorf("group %v", g)
	}
	if got := e.must(http.StatusOK, "GET", "/v1/groups", ""); len(asSlice(got["items"])) != 2 {
		t.Errorf("groups %v", got)
	}
	if got := e.must(http.StatusOK, "GET", "/v1/users", ""); len(asSlice(got["items"])) != 4 {
		t.Errorf("users %v", got)
	}

	// Deleting a user takes it out of its groups.
	e.must(http.StatusNoContent, "DELETE", "/v1/users/"+dan["id"].(string), "", "If-Match", `"1"`)
	ops := e.must(http.StatusOK, "GET", "/v1/groups/"+g["id"].(string), "")
	if !slices.Equal(asSlice(ops["members"]), []any{"bob"}) {
		t.Errorf("members after delete: %v", ops["members"])
	}
	e.must(http.StatusNoContent, "DELETE", "/v1/groups/"+g["id"].(string), "")
	e.must(http.StatusNotFound, "GET", "/v1/groups/"+g["id"].(string), "")
}

func TestDirectoryReplace(t *testing.T) {
	e := newEnv(t)
	e.seed()

	// Without prune: bob leaves (no rule names him), the rest stays.
	d := e.must(http.StatusOK, "PUT", "/v1/directory",
		`{"users":[{"id":"alice","name":"Alice L.","email":"alice@example.com","role":"admin"},{"id":"carol","name":"Carol","email":"carol@example.com","role":"viewer"},{"id":"erin","name":"Erin","email":"erin@example.com"}],
		  "groups":[{"id":"sre","name":"SRE","members":["alice","erin"]}]}`)
	users := asSlice(d["users"])
	if len(users) != 3 || len(asSlice(d["groups"])) != 1 {
		t.Fatalf("directory %v", d)
	}
	alice := users[0].(map[string]any)
	if alice["name"] != "Alice L." || alice["version"] != 2.0 {
		t.Errorf("alice %v", alice)
	}
	e.must(http.StatusNotFound, "GET", "/v1/users/bob", "")
	if got := e.must(http.StatusOK, "GET", "/v1/directory", ""); !cmp.Equal(got, d) {
		t.Errorf("GET /v1/directory differs from the PUT answer:\n%s", cmp.Diff(d, got))
	}

	// With prune: alice and sre leave; the rule naming only them is
	// emptied and disabled; carol's policy rule is untouched.
	e.must(http.StatusOK, "PUT", "/v1/directory?prune=true",
		`{"users":[{"id":"carol","name":"Carol","email":"carol@example.com","role":"viewer"}],"groups":[]}`)
	rule := e.must(http.StatusOK, "GET", "/v1/rules/rul_000001", "")
	rc := rule["recipients"].(map[string]any)
	if len(asSlice(rc["users"])) != 0 || len(asSlice(rc["groups"])) != 0 || rule["enabled"] != false || rule["version"] != 2.0 {
		t.Errorf("pruned rule %v", rule)
	}
	pol := e.must(http.StatusOK, "GET", "/v1/policies/nightly-etl/notification", "")
	if pol["version"] != 1.0 {
		t.Errorf("policy rule changed: %v", pol)
	}
}

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/healthz", "", "Authorization", "")
	if r.status != http.StatusOK || r.json(t)["status"] != "ok" {
		t.Errorf("healthz: %d %s", r.status, r.body)
	}
}

// failingStore fails every GetRule with an error that is not a
// notify.Error, as a broken disk would.
type failingStore struct{ *bolt.Store }

func (failingStore) GetRule(context.Context, string) (*notify.Rule, error) {
	return nil, errors.New("read /var/secret/path: input/output error")
}

func TestInternalErrorsAreHidden(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logs bytes.Buffer
	h := api.New(api.Config{Store: failingStore{st}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/rules/x", nil))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("answer %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(rec.Body.String(), `"code":"internal"`) {
		t.Errorf("code: %s", rec.Body)
	}
	if !strings.Contains(logs.String(), "input/output error") {
		t.Errorf("the log lacks the detail: %s", logs.String())
	}
}

// TestOpenAPI fails when the document the code generates differs from
// testdata/openapi.json; `go test ./pkg/api -update` rewrites the file.
func TestOpenAPI(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/v1/openapi.json", "")
	if r.status != http.StatusOK {
		t.Fatalf("GET /v1/openapi.json: %d %s", r.status, r.body)
	}
	var doc map[string]any
	if err := json.Unmarshal(r.body, &doc); err != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("not an OpenAPI 3.1 document (%v): %.200s", err, r.body)
	}
	golden := filepath.Join("testdata", "openapi.json")
	if *update {
		if err := os.WriteFile(golden, r.body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/api -update)", err)
	}
	if !bytes.Equal(r.body, want) {
		t.Errorf("the OpenAPI document differs from %s (run go test ./pkg/api -update and review the diff):\n%s",
			golden, cmp.Diff(string(want), string(r.body)))
	}
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/v1/rules", "/v1/rules/{id}", "/v1/policies/{policyId}/notification", "/v1/users", "/v1/users/{id}", "/v1/groups", "/v1/groups/{id}", "/v1/directory"} {
		if paths[p] == nil {
			t.Errorf("the document lacks %s", p)
		}
	}
}
