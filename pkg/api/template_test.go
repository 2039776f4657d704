package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/dispatch"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send/route"
)

// TestRuleTemplate: a template that does not execute is refused with its
// position; a good one is kept and previewed by POST /v1/match.
func TestRuleTemplate(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/v1/rules", `{"name":"T","eventTypes":["JOB"],"severities":["CRITICAL"],"recipients":{"emails":["a@example.com"]},"template":{"subject":"x {{.Nope}}"}}`)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "template.subject") || !strings.Contains(string(r.body), "line 1, column 5") {
		t.Fatalf("bad template: %d %s; want 422 naming template.subject at line 1, column 5", r.status, r.body)
	}
	e.must(http.StatusCreated, "POST", "/v1/rules", `{"name":"T","eventTypes":["JOB"],"severities":["CRITICAL"],"recipients":{"emails":["a@example.com"]},"template":{"subject":"{{.Severity}}! {{.Title}}","text":"env={{label \"env\" .Labels}}"}}`)
	// The planner of this harness is a fake: give it the real plan.
	d := dispatch.New(dispatch.Config{Rules: e.store, Directory: e.store, Deliveries: e.store, Router: route.New(route.Config{})})
	plan, err := d.Plan(context.Background(), &notify.Event{ID: "x", Type: notify.TypeJob, Severity: notify.SeverityCritical, Title: "etl failed", Labels: map[string]string{"env": "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	e.planner.plan = plan
	got := e.must(http.StatusOK, "POST", "/v1/match", `{"type":"JOB","severity":"CRITICAL","title":"etl failed","labels":{"env":"prod"}}`)
	rendered, _ := got["rendered"].([]any)
	if len(rendered) != 1 {
		t.Fatalf("rendered = %v, want one", got["rendered"])
	}
	one := rendered[0].(map[string]any)
	if one["subject"] != "CRITICAL! etl failed" || one["text"] != "env=prod" {
		t.Errorf("rendered = %v", one)
	}
}

// TestRuleTemplateOverBudget: a template that would run for ever, or
// allocate a gigabyte, is refused on save with a 422 saying so (and the
// request returns: the execution is bounded).
func TestRuleTemplateOverBudget(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ tmpl, msg string }{
		{`{"text":"{{range 99999999999}}{{end}}"}`, "the template takes more than 100000 steps"},
		{`{"slack":"{{printf \"%999999999d\" 1}}"}`, "error calling printf: a width or precision is over 1024"},
	} {
		r := e.do("POST", "/v1/rules", `{"name":"T","eventTypes":["JOB"],"severities":["CRITICAL"],"recipients":{"emails":["a@example.com"]},"template":`+tc.tmpl+`}`)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "line 1, column ") || !strings.Contains(string(r.body), tc.msg) {
			t.Errorf("%s: %d %s; want 422 saying …%s…", tc.tmpl, r.status, r.body, tc.msg)
		}
	}
}
