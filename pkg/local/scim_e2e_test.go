package local_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestSCIMOnTheBinary connects an identity provider to the built binary as
// an administrator would: generate a SCIM token, push a user and a group
// through /scim/v2, and see them in the admin API, which now refuses
// directory writes; the audit trail shows both.
func TestSCIMOnTheBinary(t *testing.T) {
	s := newService(t)
	s.startProcess(t)

	scimCall := func(method, path, token, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return resp.StatusCode, m
	}

	// Before a token exists, SCIM answers 401 to anyone, the admin token
	// included.
	if code, _ := scimCall("GET", "/scim/v2/Users", s.Token, ""); code != http.StatusUnauthorized {
		t.Fatalf("SCIM with the admin token: %d, want 401", code)
	}
	var src struct{ Source string }
	s.must(t, "GET", "/v1/directory/source", nil, http.StatusOK, &src)
	if src.Source != "api" {
		t.Errorf("source before the token: %q", src.Source)
	}
	var tok struct{ Token string }
	s.must(t, "POST", "/v1/scim/token", nil, http.StatusOK, &tok)
	if tok.Token == "" {
		t.Fatal("no token")
	}

	code, u := scimCall("POST", "/scim/v2/Users", tok.Token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
	  "userName":"ann@example.com","name":{"givenName":"Ann","familyName":"Lee"},
	  "emails":[{"primary":true,"value":"ann@example.com","type":"work"}],"active":true}`)
	if code != http.StatusCreated {
		t.Fatalf("SCIM create user: %d %v", code, u)
	}
	id, _ := u["id"].(string)
	code, g := scimCall("POST", "/scim/v2/Groups", tok.Token, `{"displayName":"SRE","members":[{"value":"`+id+`"}]}`)
	if code != http.StatusCreated {
		t.Fatalf("SCIM create group: %d %v", code, g)
	}
	if code, _ := scimCall("PATCH", "/scim/v2/Users/"+id, tok.Token,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`); code != http.StatusOK {
		t.Fatalf("SCIM deactivate: %d", code)
	}

	var users struct {
		Items []struct {
			ID, Email, UserName string
			Active              *bool
		}
	}
	s.must(t, "GET", "/v1/users", nil, http.StatusOK, &users)
	if len(users.Items) != 1 || users.Items[0].ID != id || users.Items[0].UserName != "ann@example.com" ||
		users.Items[0].Active == nil || *users.Items[0].Active {
		t.Errorf("GET /v1/users: %+v", users.Items)
	}
	s.must(t, "GET", "/v1/directory/source", nil, http.StatusOK, &src)
	if src.Source != "scim" {
		t.Errorf("source after the token: %q", src.Source)
	}
	var problem struct{ Code string }
	s.must(t, "POST", "/v1/users", map[string]any{"name": "Bob", "email": "bob@example.com"}, http.StatusConflict, &problem)
	if problem.Code != "directory_synced" {
		t.Errorf("admin write while synced: code %q", problem.Code)
	}
	var audit struct {
		Items []struct{ Actor, Action string }
	}
	s.must(t, "GET", "/v1/audit?limit=10", nil, http.StatusOK, &audit)
	var got []string
	for _, e := range audit.Items {
		got = append(got, e.Actor+" "+e.Action)
	}
	want := []string{"scim user.update", "scim group.create", "scim user.create", "admin scim.token.create"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("audit trail %v, want %v", got, want)
	}
}
