package api_test

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
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/api"
	"github.com/argoproj-labs/argo-notify/pkg/store"
	"github.com/argoproj-labs/argo-notify/pkg/store/bolt"
)

const token = "test-admin-token"

// env is an API over a fresh embedded store, with a clock that advances a
// millisecond per reading and sequential ids.
type env struct {
	t     testing.TB
	h     http.Handler
	store *bolt.Store
	logs  *bytes.Buffer

	// The fakes behind the optional routes (fakes_test.go).
	producer *fakeProducer
	planner  *fakePlanner
	dead     *fakeDeadLetters
	slackURL string
}

func newEnv(t testing.TB, opts ...func(*api.Config)) *env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "argo-notify.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return newEnvWith(t, st, token, opts...)
}

func newEnvWith(t testing.TB, st *bolt.Store, adminToken string, opts ...func(*api.Config)) *env {
	var tick, id atomic.Int64
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	logs := new(bytes.Buffer)
	e := &env{t: t, store: st, logs: logs, producer: &fakeProducer{}, planner: &fakePlanner{}, dead: newFakeDeadLetters()}
	cfg := api.Config{
		Store:         st,
		AdminToken:    adminToken,
		Logger:        slog.New(slog.NewJSONHandler(logs, nil)),
		Now:           func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Millisecond) },
		IDs:           func() string { return fmt.Sprintf("%06d", id.Add(1)) },
		Producer:      e.producer,
		IngestSecrets: ingestSecrets,
		Planner:       e.planner,
		DeadLetters:   e.dead,
	}
	for _, o := range opts {
		o(&cfg)
	}
	e.slackURL = cfg.SlackAPIURL
	e.h = api.New(cfg)
	return e
}

// response is what a request answered.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decode body %q: %v", r.body, err)
	}
	return m
}

// do sends a request with the admin token; headers are name, value pairs
// (an Authorization pair replaces the token).
func (e *env) do(method, path, body string, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// must sends a request and fails the test unless it answers want.
func (e *env) must(want int, method, path, body string, headers ...string) map[string]any {
	e.t.Helper()
	r := e.do(method, path, body, headers...)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.body)
	}
	if len(r.body) == 0 {
		return nil
	}
	return r.json(e.t)
}

// snapshot is the whole content of the store that the API manages.
func (e *env) snapshot() string {
	e.t.Helper()
	ctx := context.Background()
	rules, err := e.store.AllRules(ctx)
	if err != nil {
		e.t.Fatalf("all rules: %v", err)
	}
	users, _, err := e.store.ListUsers(ctx, store.Page{Limit: store.MaxLimit})
	if err != nil {
		e.t.Fatalf("list users: %v", err)
	}
	groups, _, err := e.store.ListGroups(ctx, store.Page{Limit: store.MaxLimit})
	if err != nil {
		e.t.Fatalf("list groups: %v", err)
	}
	b, err := json.Marshal([]any{rules, users, groups})
	if err != nil {
		e.t.Fatalf("marshal snapshot: %v", err)
	}
	return string(b)
}

// seed creates users alice, bob and carol, group sre (alice, bob), rule
// "Prod failures" (id rul_000001 as the first generated id) naming alice and
// sre, and the notification of policy nightly-etl.
func (e *env) seed() {
	e.t.Helper()
	for _, u := range []string{
		`{"id":"alice","name":"Alice","email":"alice@example.com","role":"admin"}`,
		`{"id":"bob","name":"Bob","email":"bob@example.com"}`,
		`{"id":"carol","name":"Carol","email":"carol@example.com","role":"viewer"}`,
	} {
		e.must(http.StatusCreated, "POST", "/v1/users", u)
	}
	e.must(http.StatusCreated, "POST", "/v1/groups", `{"id":"sre","name":"SRE","members":["alice","bob"]}`)
	e.must(http.StatusCreated, "POST", "/v1/rules", ruleJSON("Prod failures", `"users":["alice"],"groups":["sre"]`))
	e.must(http.StatusCreated, "PUT", "/v1/policies/nightly-etl/notification",
		`{"policyName":"Nightly ETL","onSuccess":false,"onFailure":true,"recipients":{"users":["carol"]}}`)
}

// ruleJSON is a valid rule body with the given name and recipients.
func ruleJSON(name, recipients string) string {
	return fmt.Sprintf(`{"name":%q,"eventTypes":["JOB","DEPLOYMENT"],"severities":["CRITICAL","WARNING"],"recipients":{%s}}`, name, recipients)
}
