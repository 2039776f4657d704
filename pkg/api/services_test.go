package api_test

import (
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/api"
)

// TestOnRulesChanged checks that the API's writes that can change matching
// announce it, and that reads and refused writes do not.
func TestOnRulesChanged(t *testing.T) {
	var n atomic.Int64
	e := newEnv(t, func(c *api.Config) { c.OnRulesChanged = func() { n.Add(1) } })
	rule := `{"name":"Failures","eventTypes":["JOB"],"severities":["CRITICAL"],"recipients":{"users":["ann"]}}`
	steps := []struct {
		method, path, body string
		ifMatch            string
		status             int
		announced          bool
	}{
		{"POST", "/v1/users", `{"id":"ann","name":"Ann","email":"ann@example.com"}`, "", http.StatusCreated, false},
		{"POST", "/v1/rules", `{"name":"Bad","eventTypes":["JOB"],"severities":["CRITICAL"],"recipients":{"users":["carol"]}}`, "", http.StatusUnprocessableEntity, false},
		{"POST", "/v1/rules", rule, "", http.StatusCreated, true},
		{"GET", "/v1/rules", "", "", http.StatusOK, false},
		{"DELETE", "/v1/users/ann", "", "", http.StatusConflict, false},
		{"PUT", "/v1/policies/nightly/notification", `{"onFailure":true,"recipients":{"emails":["ops@example.com"]}}`, "", http.StatusCreated, true},
		{"POST", "/v1/groups", `{"id":"ops","name":"Ops","members":["ann"]}`, "", http.StatusCreated, false},
		{"PUT", "/v1/groups/ops", `{"name":"Ops","members":[]}`, `"1"`, http.StatusOK, true},
		{"PUT", "/v1/directory?prune=true", `{"users":[],"groups":[]}`, "", http.StatusOK, true},
	}
	for _, st := range steps {
		before := n.Load()
		var r response
		if st.ifMatch != "" {
			r = e.do(st.method, st.path, st.body, "If-Match", st.ifMatch)
		} else {
			r = e.do(st.method, st.path, st.body)
		}
		if r.status != st.status {
			t.Fatalf("%s %s: status %d (%s), want %d", st.method, st.path, r.status, r.body, st.status)
		}
		if got := n.Load() > before; got != st.announced {
			t.Errorf("%s %s: announced %v, want %v", st.method, st.path, got, st.announced)
		}
	}
}
