package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/admin"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/scim"
	"github.com/argoproj-labs/argo-notify/pkg/store"
	"github.com/argoproj-labs/argo-notify/pkg/store/bolt"
)

// backend is what the SCIM service provider's directory service needs.
type backend interface {
	store.Directory
	store.Rules
	store.Audit
	store.Credentials
}

// env is the service provider on a store, served over HTTP on 127.0.0.1,
// with the rule service beside it (as the admin API uses it).
type env struct {
	t     *testing.T
	st    backend
	dir   *admin.Directory
	rules *admin.Rules
	srv   *httptest.Server
	token string
}

func boltStore(t *testing.T) backend {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newEnv(t *testing.T, st backend, cfg scim.Config) *env {
	t.Helper()
	var n atomic.Int64
	ids := func() string { return fmt.Sprintf("%026d", n.Add(1)) }
	e := &env{t: t, st: st}
	e.dir = admin.NewDirectory(admin.DirectoryConfig{Directory: st, Rules: st, Audit: st, Credentials: st, IDs: ids,
		Logger: slog.New(slog.DiscardHandler)})
	e.rules = admin.NewRules(admin.RulesConfig{Rules: st, Directory: st, Audit: st, IDs: ids})
	cfg.Directory = e.dir
	cfg.Logger = slog.New(slog.DiscardHandler)
	h := scim.New(cfg)
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	tok, err := e.dir.RotateSCIMToken(context.Background())
	if err != nil {
		t.Fatalf("RotateSCIMToken: %v", err)
	}
	e.token = tok
	return e
}

// resp is a decoded answer.
type resp struct {
	status int
	header http.Header
	body   map[string]any
}

// do sends a SCIM request with the env's token; body is JSON text or nil.
func (e *env) do(method, path, body string) resp {
	return e.doWith(method, path, body, e.token, nil)
}

func (e *env) doWith(method, path, body, token string, hdr map[string]string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header}
	if len(bytes.TrimSpace(data)) > 0 {
		if ct := res.Header.Get("Content-Type"); ct != "application/scim+json" {
			e.t.Errorf("%s %s: Content-Type %q, want application/scim+json", method, path, ct)
		}
		if err := json.Unmarshal(data, &r.body); err != nil {
			e.t.Fatalf("%s %s: body %s: %v", method, path, data, err)
		}
	}
	return r
}

// want fails the test unless r has the status.
func (r resp) want(t *testing.T, what string, status int) resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body %v", what, r.status, status, r.body)
	}
	return r
}

// wantError fails the test unless r is a SCIM error with status and
// scimType ("" for none).
func (r resp) wantError(t *testing.T, what string, status int, scimType string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: status %d, want %d; body %v", what, r.status, status, r.body)
		return
	}
	if got, _ := r.body["scimType"].(string); got != scimType {
		t.Errorf("%s: scimType %q, want %q (%v)", what, got, scimType, r.body)
	}
	if s, _ := r.body["status"].(string); s != fmt.Sprint(status) {
		t.Errorf("%s: body status %q, want %q", what, s, fmt.Sprint(status))
	}
	if sc, _ := r.body["schemas"].([]any); len(sc) != 1 || sc[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Errorf("%s: schemas %v, want the Error message schema", what, r.body["schemas"])
	}
}

func (r resp) str(key string) string { s, _ := r.body[key].(string); return s }

// total returns totalResults of a ListResponse.
func (r resp) total() int { f, _ := r.body["totalResults"].(float64); return int(f) }

// user reads a user from the store.
func (e *env) user(id string) *notify.User {
	e.t.Helper()
	u, err := e.st.GetUser(context.Background(), id)
	if err != nil {
		e.t.Fatalf("GetUser %s: %v", id, err)
	}
	return u
}

func (e *env) group(id string) *notify.Group {
	e.t.Helper()
	g, err := e.st.GetGroup(context.Background(), id)
	if err != nil {
		e.t.Fatalf("GetGroup %s: %v", id, err)
	}
	return g
}

func (e *env) rule(id string) *notify.Rule {
	e.t.Helper()
	r, err := e.st.GetRule(context.Background(), id)
	if err != nil {
		e.t.Fatalf("GetRule %s: %v", id, err)
	}
	return r
}

// gone fails the test unless the user or group does not exist.
func (e *env) gone(kind, id string) {
	e.t.Helper()
	var err error
	if kind == "user" {
		_, err = e.st.GetUser(context.Background(), id)
	} else {
		_, err = e.st.GetGroup(context.Background(), id)
	}
	if !notify.IsCode(err, notify.ENotFound) {
		e.t.Errorf("%s %s: %v, want not found", kind, id, err)
	}
}

// newRule creates a user rule through the rule service.
func (e *env) newRule(name string, users, groups []string) *notify.Rule {
	e.t.Helper()
	r, err := e.rules.Create(context.Background(), admin.RuleInput{Name: name, EventTypes: []notify.EventType{notify.TypeJob},
		Severities: notify.Severities, Recipients: notify.Recipients{Users: users, Groups: groups}})
	if err != nil {
		e.t.Fatalf("create rule %s: %v", name, err)
	}
	return r
}

// audit returns the actions recorded, oldest first.
func (e *env) audit() []string {
	e.t.Helper()
	es, _, err := e.st.ListAudit(context.Background(), store.Page{Limit: store.MaxLimit})
	if err != nil {
		e.t.Fatalf("ListAudit: %v", err)
	}
	var out []string
	for _, x := range slices.Backward(es) {
		out = append(out, x.Actor+" "+x.Action+" "+x.ResourceID)
	}
	return out
}
