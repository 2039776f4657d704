package api_test

import (
	"testing"
)

// TestValidationMessageStyle checks the one style of validation messages:
// the bad value quoted, then what is allowed — whether huma's schema
// validation, the domain's rule validation or the event decoder finds it.
func TestValidationMessageStyle(t *testing.T) {
	e := newEnv(t)
	e.seed()
	tests := []struct {
		name, path, body string
		headers          []string
		field, message   string
	}{
		{name: "rule event type (schema enum)", path: "/v1/rules",
			body:  `{"name":"x","eventTypes":["NOPE"],"severities":["INFO"],"recipients":{"users":["alice"]}}`,
			field: "eventTypes[0]", message: `"NOPE" is not one of SYSTEM, CONFIGURATION, JOB, DEPLOYMENT, SPENDING`},
		{name: "rule severity (schema enum)", path: "/v1/rules",
			body:  `{"name":"x","eventTypes":["JOB"],"severities":["LOUD"],"recipients":{"users":["alice"]}}`,
			field: "severities[0]", message: `"LOUD" is not one of CRITICAL, WARNING, INFO`},
		{name: "rule unknown user", path: "/v1/rules",
			body:  `{"name":"x","eventTypes":["JOB"],"severities":["INFO"],"recipients":{"users":["zed"]}}`,
			field: "recipients.users[0]", message: `"zed" is not a known user id`},
		{name: "event type", path: "/v1/events",
			body:  `{"type":"NOPE","severity":"INFO","title":"t"}`,
			field: "type", message: `"NOPE" is not one of SYSTEM, CONFIGURATION, JOB, DEPLOYMENT, SPENDING`},
		{name: "event severity missing", path: "/v1/events",
			body:  `{"type":"JOB","title":"t"}`,
			field: "severity", message: `is required: one of CRITICAL, WARNING, INFO`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := tt.headers
			if tt.path == "/v1/events" {
				headers = signed(ingestSecret, tt.body, clock)
			}
			r := e.do("POST", tt.path, tt.body, headers...)
			if r.status != 422 {
				t.Fatalf("status %d, want 422: %s", r.status, r.body)
			}
			errs, _ := r.json(t)["errors"].([]any)
			for _, x := range errs {
				m, _ := x.(map[string]any)
				if m["field"] == tt.field {
					if m["message"] != tt.message {
						t.Errorf("%s: message %q, want %q", tt.field, m["message"], tt.message)
					}
					return
				}
			}
			t.Errorf("no error for field %s in %s", tt.field, r.body)
		})
	}
}

// TestNoSniffEverywhere checks X-Content-Type-Options on answers of every
// kind: success, 400, 401, 404, 405, 422.
func TestNoSniffEverywhere(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		method, path, body string
		headers            []string
		status             int
	}{
		{"GET", "/v1/rules", "", nil, 200},
		{"GET", "/healthz", "", nil, 200},
		{"POST", "/v1/rules", "{", nil, 400},
		{"GET", "/v1/rules", "", []string{"Authorization", "Bearer wrong"}, 401},
		{"GET", "/v1/rules/nope", "", nil, 404},
		{"PATCH", "/v1/rules", "", nil, 405},
		{"POST", "/v1/rules", `{"name":""}`, nil, 422},
	} {
		r := e.do(tc.method, tc.path, tc.body, tc.headers...)
		if r.status != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, r.status, tc.status)
		}
		if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s %s (%d): X-Content-Type-Options %q, want nosniff", tc.method, tc.path, r.status, got)
		}
	}
}
