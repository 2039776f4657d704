package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBadInput sends every kind of bad request the issue lists to a seeded
// API and checks the status, the problem code, the field at fault and that
// the store did not change.
func TestBadInput(t *testing.T) {
	huge := `{"name":"` + strings.Repeat("a", 1<<20) + `","eventTypes":["JOB"],"severities":["INFO"],"recipients":{"emails":["a@example.com"]}}`
	long := strings.Repeat("n", 129)
	ifMatch := func(v string) []string { return []string{"If-Match", v} }
	withSlack := startSlack(t)
	sign := func(body string) []string { return signed(ingestSecret, body, clock) }
	ev := eventJSON("web-7 failed", "")
	oversize := "[" + strings.Repeat(eventJSON(strings.Repeat("t", 256), `,"message":"`+strings.Repeat("m", 16000)+`"`)+",", 20) + ev + "]"
	batch101 := "[" + strings.Repeat(ev+",", 100) + ev + "]"
	ctlEvent := `{"type":"JOB","severity":"INFO","title":"web\u001b[2J"}` // a JSON escape of ESC
	smtpBody := func(extra string) string {
		return `{"nickname":"relay","host":"smtp.example.com","adminAddress":"argo@example.com"` + extra + `}`
	}
	connectSMTP := func(e *env) {
		e.must(http.StatusCreated, "POST", "/v1/integrations/smtp", smtpBody(`,"useAuth":true,"username":"u","password":"p"`))
	}

	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		headers []string
		status  int
		code    string
		field   string   // a field the problem must name; "" checks none
		allow   string   // the Allow header of a 405
		refs    []string // the refs of an in_use problem
		setup   func(e *env)
	}{
		// Malformed bodies, unknown fields, wrong types, size.
		{name: "malformed JSON", method: "POST", path: "/v1/rules", body: `{"name":`, status: 400, code: "malformed"},
		{name: "malformed JSON on PUT", method: "PUT", path: "/v1/rules/rul_000001", body: `[1,`, headers: ifMatch(`"1"`), status: 400, code: "malformed"},
		{name: "not an object", method: "POST", path: "/v1/users", body: `"alice"`, status: 422, code: "invalid"},
		{name: "unknown field", method: "POST", path: "/v1/rules", body: `{"name":"x","colour":"red","eventTypes":["JOB"],"severities":["INFO"],"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "colour"},
		{name: "unknown nested field", method: "POST", path: "/v1/rules", body: ruleJSON("x", `"users":["alice"],"phones":["+1"]`), status: 422, code: "invalid", field: "recipients.phones"},
		{name: "wrong type bool", method: "POST", path: "/v1/rules", body: `{"name":"x","enabled":"yes","eventTypes":["JOB"],"severities":["INFO"],"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "enabled"},
		{name: "wrong type array", method: "POST", path: "/v1/rules", body: `{"name":"x","eventTypes":"JOB","severities":["INFO"],"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "eventTypes"},
		{name: "wrong type item", method: "POST", path: "/v1/rules", body: ruleJSON("x", `"users":[1]`), status: 422, code: "invalid", field: "recipients.users[0]"},
		{name: "wrong type name", method: "POST", path: "/v1/rules", body: `{"name":7,"eventTypes":["JOB"],"severities":["INFO"],"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "name"},
		{name: "body over 1 MiB", method: "POST", path: "/v1/rules", body: huge, status: 413, code: "too_large"},
		{name: "not JSON content type", method: "POST", path: "/v1/rules", body: ruleJSON("x", `"users":["alice"]`), headers: []string{"Content-Type", "text/plain"}, status: 415, code: "unsupported_media_type"},

		// Rule validation.
		{name: "empty name", method: "POST", path: "/v1/rules", body: ruleJSON("", `"users":["alice"]`), status: 422, code: "invalid", field: "name"},
		{name: "blank-padded name", method: "POST", path: "/v1/rules", body: ruleJSON(" x", `"users":["alice"]`), status: 422, code: "invalid", field: "name"},
		{name: "missing name", method: "POST", path: "/v1/rules", body: `{"eventTypes":["JOB"],"severities":["INFO"],"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "name"},
		{name: "name too long", method: "POST", path: "/v1/rules", body: ruleJSON(long, `"users":["alice"]`), status: 422, code: "invalid", field: "name"},
		{name: "duplicate name", method: "POST", path: "/v1/rules", body: ruleJSON("Prod failures", `"users":["alice"]`), status: 409, code: "conflict"},
		{name: "duplicate name other case", method: "POST", path: "/v1/rules", body: ruleJSON("PROD FAILURES", `"users":["alice"]`), status: 409, code: "conflict"},
		{name: "unknown event type", method: "POST", path: "/v1/rules", body: `{"name":"x","eventTypes":["JOB","BUILD"],"severities":["INFO"],"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "eventTypes[1]"},
		{name: "repeated event type", method: "POST", path: "/v1/rules", body: `{"name":"x","eventTypes":["JOB","JOB"],"severities":["INFO"],"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "eventTypes[1]"},
		{name: "no event type", method: "POST", path: "/v1/rules", body: `{"name":"x","eventTypes":[],"severities":["INFO"],"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "eventTypes"},
		{name: "unknown severity", method: "POST", path: "/v1/rules", body: `{"name":"x","eventTypes":["JOB"],"severities":["LOW"],"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "severities[0]"},
		{name: "no severity", method: "POST", path: "/v1/rules", body: `{"name":"x","eventTypes":["JOB"],"severities":[],"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "severities"},
		{name: "no recipients", method: "POST", path: "/v1/rules", body: ruleJSON("x", ``), status: 422, code: "invalid", field: "recipients"},
		{name: "invalid email", method: "POST", path: "/v1/rules", body: ruleJSON("x", `"emails":["ops@example.com","not an email"]`), status: 422, code: "invalid", field: "recipients.emails[1]"},
		{name: "email with display name", method: "POST", path: "/v1/rules", body: ruleJSON("x", `"emails":["Ops <ops@example.com>"]`), status: 422, code: "invalid", field: "recipients.emails[0]"},
		{name: "invalid Slack channel", method: "POST", path: "/v1/rules", body: ruleJSON("x", `"slackChannels":["#general"]`), status: 422, code: "invalid", field: "recipients.slackChannels[0]"},
		{name: "unknown user id", method: "POST", path: "/v1/rules", body: ruleJSON("x", `"users":["alice","zed"]`), status: 422, code: "invalid", field: "recipients.users[1]"},
		{name: "unknown user id and invalid email", method: "POST", path: "/v1/rules", body: ruleJSON("x", `"users":["zed"],"emails":["nope"]`), status: 422, code: "invalid", field: "recipients.users[0]"},
		{name: "unknown group id", method: "POST", path: "/v1/rules", body: ruleJSON("x", `"groups":["nobody"]`), status: 422, code: "invalid", field: "recipients.groups[0]"},
		{name: "unknown user id on PUT", method: "PUT", path: "/v1/rules/rul_000001", body: ruleJSON("Prod failures", `"users":["zed"]`), headers: ifMatch(`"1"`), status: 422, code: "invalid", field: "recipients.users[0]"},
		{name: "policy rule through POST /v1/rules", method: "POST", path: "/v1/rules", body: `{"name":"x","source":"policy","eventTypes":["JOB"],"severities":["INFO"],"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "source"},
		{name: "unknown source", method: "POST", path: "/v1/rules", body: `{"name":"x","source":"admin","eventTypes":["JOB"],"severities":["INFO"],"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "source"},

		// Rule ids, versions, read-only policy rules.
		{name: "unknown rule id GET", method: "GET", path: "/v1/rules/rul_nope", status: 404, code: "not_found"},
		{name: "unknown rule id PUT", method: "PUT", path: "/v1/rules/rul_nope", body: ruleJSON("x", `"users":["alice"]`), headers: ifMatch(`"1"`), status: 404, code: "not_found"},
		{name: "unknown rule id DELETE", method: "DELETE", path: "/v1/rules/rul_nope", status: 404, code: "not_found"},
		{name: "stale If-Match on PUT", method: "PUT", path: "/v1/rules/rul_000001", body: ruleJSON("Prod failures", `"users":["alice"]`), headers: ifMatch(`"7"`), status: 412, code: "version_mismatch"},
		{name: "malformed If-Match", method: "PUT", path: "/v1/rules/rul_000001", body: ruleJSON("Prod failures", `"users":["alice"]`), headers: ifMatch(`1`), status: 412, code: "version_mismatch", field: "If-Match"},
		{name: "weak If-Match", method: "PUT", path: "/v1/rules/rul_000001", body: ruleJSON("Prod failures", `"users":["alice"]`), headers: ifMatch(`W/"1"`), status: 412, code: "version_mismatch", field: "If-Match"},
		{name: "missing If-Match on PUT", method: "PUT", path: "/v1/rules/rul_000001", body: ruleJSON("Prod failures", `"users":["alice"]`), status: 428, code: "precondition_required"},
		{name: "stale If-Match on DELETE", method: "DELETE", path: "/v1/rules/rul_000001", headers: ifMatch(`"2"`), status: 412, code: "version_mismatch"},
		{name: "rename to a taken name", method: "PUT", path: "/v1/rules/rul_000001", body: ruleJSON("policy nightly etl", `"users":["alice"]`), headers: ifMatch(`"1"`), status: 409, code: "conflict"},
		{name: "PUT a policy rule", method: "PUT", path: "/v1/rules/policy:nightly-etl", body: ruleJSON("x", `"users":["alice"]`), headers: ifMatch(`"1"`), status: 409, code: "read_only"},
		{name: "DELETE a policy rule", method: "DELETE", path: "/v1/rules/policy:nightly-etl", status: 409, code: "read_only"},

		// Routing.
		{name: "wrong method on a rule", method: "PATCH", path: "/v1/rules/rul_000001", body: `{}`, status: 405, code: "method_not_allowed", allow: "DELETE, GET, HEAD, PUT"},
		{name: "wrong method on rules", method: "DELETE", path: "/v1/rules", status: 405, code: "method_not_allowed", allow: "GET, HEAD, POST"},
		{name: "wrong method on the directory", method: "POST", path: "/v1/directory", body: `{}`, status: 405, code: "method_not_allowed", allow: "GET, HEAD, PUT"},
		{name: "unknown route", method: "GET", path: "/v1/nope", status: 404, code: "not_found"},
		{name: "unknown version", method: "GET", path: "/v2/rules", status: 404, code: "not_found"},

		// List parameters.
		{name: "limit zero", method: "GET", path: "/v1/rules?limit=0", status: 422, code: "invalid", field: "limit"},
		{name: "limit too large", method: "GET", path: "/v1/users?limit=501", status: 422, code: "invalid", field: "limit"},
		{name: "limit not a number", method: "GET", path: "/v1/groups?limit=ten", status: 422, code: "invalid", field: "limit"},
		{name: "unknown source filter", method: "GET", path: "/v1/rules?source=admin", status: 422, code: "invalid", field: "source"},
		{name: "bad enabled filter", method: "GET", path: "/v1/rules?enabled=maybe", status: 422, code: "invalid", field: "enabled"},
		{name: "bad cursor", method: "GET", path: "/v1/rules?cursor=zz", status: 422, code: "invalid", field: "cursor"},

		// Policy notifications.
		{name: "policy neither success nor failure", method: "PUT", path: "/v1/policies/p2/notification", body: `{"onSuccess":false,"onFailure":false,"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "onSuccess"},
		{name: "policy id invalid", method: "PUT", path: "/v1/policies/-p/notification", body: `{"onFailure":true,"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "policyId"},
		{name: "policy unknown user", method: "PUT", path: "/v1/policies/p2/notification", body: `{"onFailure":true,"recipients":{"users":["zed"]}}`, status: 422, code: "invalid", field: "recipients.users[0]"},
		{name: "policy no recipients", method: "PUT", path: "/v1/policies/p2/notification", body: `{"onFailure":true,"recipients":{}}`, status: 422, code: "invalid", field: "recipients"},
		{name: "policy unknown field", method: "PUT", path: "/v1/policies/p2/notification", body: `{"onFailure":true,"severity":"INFO","recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "severity"},
		{name: "policy name too long", method: "PUT", path: "/v1/policies/p2/notification", body: `{"policyName":"` + strings.Repeat("p", 257) + `","onFailure":true,"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "policyName"},
		{name: "policy rule name taken", method: "PUT", path: "/v1/policies/p2/notification", body: `{"name":"Prod failures","onFailure":true,"recipients":{"users":["alice"]}}`, status: 409, code: "conflict"},
		{name: "policy stale If-Match", method: "PUT", path: "/v1/policies/nightly-etl/notification", body: `{"onFailure":true,"recipients":{"users":["alice"]}}`, headers: ifMatch(`"5"`), status: 412, code: "version_mismatch"},
		{name: "policy If-Match on a new one", method: "PUT", path: "/v1/policies/p2/notification", body: `{"onFailure":true,"recipients":{"users":["alice"]}}`, headers: ifMatch(`*`), status: 412, code: "version_mismatch"},
		{name: "policy unknown GET", method: "GET", path: "/v1/policies/p2/notification", status: 404, code: "not_found"},
		{name: "policy unknown DELETE", method: "DELETE", path: "/v1/policies/p2/notification", status: 404, code: "not_found"},

		// Users.
		{name: "user invalid email", method: "POST", path: "/v1/users", body: `{"name":"Dan","email":"dan@"}`, status: 422, code: "invalid", field: "email"},
		{name: "user duplicate email", method: "POST", path: "/v1/users", body: `{"name":"Dan","email":"ALICE@example.com"}`, status: 409, code: "conflict"},
		{name: "user duplicate id", method: "POST", path: "/v1/users", body: `{"id":"alice","name":"Dan","email":"dan@example.com"}`, status: 409, code: "conflict"},
		{name: "user invalid id", method: "POST", path: "/v1/users", body: `{"id":"-dan","name":"Dan","email":"dan@example.com"}`, status: 422, code: "invalid", field: "id"},
		{name: "user unknown role", method: "POST", path: "/v1/users", body: `{"name":"Dan","email":"dan@example.com","role":"owner"}`, status: 422, code: "invalid", field: "role"},
		{name: "user empty name", method: "POST", path: "/v1/users", body: `{"name":"","email":"dan@example.com"}`, status: 422, code: "invalid", field: "name"},
		{name: "user missing email", method: "POST", path: "/v1/users", body: `{"name":"Dan"}`, status: 422, code: "invalid", field: "email"},
		{name: "user unknown GET", method: "GET", path: "/v1/users/zed", status: 404, code: "not_found"},
		{name: "user PUT stale", method: "PUT", path: "/v1/users/bob", body: `{"name":"Bob","email":"bob@example.com"}`, headers: ifMatch(`"3"`), status: 412, code: "version_mismatch"},
		{name: "user PUT without If-Match", method: "PUT", path: "/v1/users/bob", body: `{"name":"Bob","email":"bob@example.com"}`, status: 428, code: "precondition_required"},
		{name: "user PUT email taken", method: "PUT", path: "/v1/users/bob", body: `{"name":"Bob","email":"alice@example.com"}`, headers: ifMatch(`"1"`), status: 409, code: "conflict"},
		{name: "user DELETE named by a rule", method: "DELETE", path: "/v1/users/alice", status: 409, code: "in_use", refs: []string{"rul_000001"}},
		{name: "user DELETE named by a policy", method: "DELETE", path: "/v1/users/carol", status: 409, code: "in_use", refs: []string{"policy:nightly-etl"}},
		{name: "user DELETE stale", method: "DELETE", path: "/v1/users/bob", headers: ifMatch(`"2"`), status: 412, code: "version_mismatch"},

		// Groups.
		{name: "group unknown member", method: "POST", path: "/v1/groups", body: `{"name":"Ops","members":["alice","zed"]}`, status: 422, code: "invalid", field: "members[1]"},
		{name: "group duplicate name", method: "POST", path: "/v1/groups", body: `{"name":"sre","members":[]}`, status: 409, code: "conflict"},
		{name: "group duplicate id", method: "POST", path: "/v1/groups", body: `{"id":"sre","name":"Ops"}`, status: 409, code: "conflict"},
		{name: "group unknown member and empty name", method: "POST", path: "/v1/groups", body: `{"name":"","members":["zed"]}`, status: 422, code: "invalid", field: "members[0]"},
		{name: "group repeated member", method: "POST", path: "/v1/groups", body: `{"name":"Ops","members":["alice","alice"]}`, status: 422, code: "invalid", field: "members[1]"},
		{name: "group PUT unknown member", method: "PUT", path: "/v1/groups/sre", body: `{"name":"SRE","members":["zed"]}`, headers: ifMatch(`"1"`), status: 422, code: "invalid", field: "members[0]"},
		{name: "group DELETE named by a rule", method: "DELETE", path: "/v1/groups/sre", status: 409, code: "in_use", refs: []string{"rul_000001"}},
		{name: "group unknown DELETE", method: "DELETE", path: "/v1/groups/nope", status: 404, code: "not_found"},

		// Directory.
		{name: "directory drops a user a rule names", method: "PUT", path: "/v1/directory",
			body:   `{"users":[{"id":"bob","name":"Bob","email":"bob@example.com"},{"id":"carol","name":"Carol","email":"carol@example.com"}],"groups":[{"id":"sre","name":"SRE","members":["bob"]}]}`,
			status: 409, code: "in_use", refs: []string{"rul_000001"}},
		{name: "directory repeated user id", method: "PUT", path: "/v1/directory",
			body:   `{"users":[{"id":"alice","name":"A","email":"a@example.com"},{"id":"alice","name":"B","email":"b@example.com"}],"groups":[]}`,
			status: 422, code: "invalid", field: "users[1].id"},
		{name: "directory repeated email", method: "PUT", path: "/v1/directory",
			body:   `{"users":[{"id":"a","name":"A","email":"a@example.com"},{"id":"b","name":"B","email":"A@example.com"}],"groups":[]}`,
			status: 422, code: "invalid", field: "users[1].email"},
		{name: "directory invalid email", method: "PUT", path: "/v1/directory",
			body:   `{"users":[{"id":"a","name":"A","email":"nope"}],"groups":[]}`,
			status: 422, code: "invalid", field: "users[0].email"},
		{name: "directory member not in it", method: "PUT", path: "/v1/directory",
			body:   `{"users":[{"id":"alice","name":"Alice","email":"alice@example.com"}],"groups":[{"id":"sre","name":"SRE","members":["alice","bob"]}]}`,
			status: 422, code: "invalid", field: "groups[0].members[1]"},
		{name: "directory without groups", method: "PUT", path: "/v1/directory", body: `{"users":[]}`, status: 422, code: "invalid", field: "groups"},
		{name: "directory bad prune", method: "PUT", path: "/v1/directory?prune=maybe", body: `{"users":[],"groups":[]}`, status: 422, code: "invalid", field: "prune"},

		// Ingest: the signature is checked before the body, the size before both.
		{name: "ingest bearer token but no signature", method: "POST", path: "/v1/events", body: ev, status: 401, code: "unauthorized"},
		{name: "ingest wrong secret", method: "POST", path: "/v1/events", body: ev, headers: signed("not-the-secret", ev, clock), status: 401, code: "unauthorized"},
		{name: "ingest expired signature", method: "POST", path: "/v1/events", body: ev, headers: signed(ingestSecret, ev, clock.Add(-6*time.Minute)), status: 401, code: "unauthorized"},
		{name: "ingest signature from the future", method: "POST", path: "/v1/events", body: ev, headers: signed(ingestSecret, ev, clock.Add(6*time.Minute)), status: 401, code: "unauthorized"},
		{name: "ingest signature of another body", method: "POST", path: "/v1/events", body: ev, headers: signed(ingestSecret, eventJSON("other", ""), clock), status: 401, code: "unauthorized"},
		{name: "ingest malformed signature", method: "POST", path: "/v1/events", body: ev, headers: []string{"X-Argo-Signature", "v1=abc"}, status: 401, code: "unauthorized"},
		{name: "ingest malformed signed JSON", method: "POST", path: "/v1/events", body: `{"type":`, headers: sign(`{"type":`), status: 400, code: "malformed"},
		{name: "ingest malformed unsigned JSON", method: "POST", path: "/v1/events", body: `{"type":`, status: 401, code: "unauthorized"},
		{name: "ingest oversized signed", method: "POST", path: "/v1/events", body: oversize, headers: sign(oversize), status: 413, code: "too_large"},
		{name: "ingest oversized unsigned", method: "POST", path: "/v1/events", body: oversize, status: 413, code: "too_large"},
		{name: "ingest 101 events", method: "POST", path: "/v1/events", body: batch101, headers: sign(batch101), status: 422, code: "invalid", field: "body"},
		{name: "ingest empty batch", method: "POST", path: "/v1/events", body: `[]`, headers: sign(`[]`), status: 422, code: "invalid", field: "body"},
		{name: "ingest unknown field", method: "POST", path: "/v1/events", body: eventJSON("x", `,"colour":"red"`), headers: sign(eventJSON("x", `,"colour":"red"`)), status: 422, code: "invalid", field: "colour"},
		{name: "ingest unknown severity", method: "POST", path: "/v1/events", body: `{"type":"JOB","severity":"LOW","title":"x"}`, headers: sign(`{"type":"JOB","severity":"LOW","title":"x"}`), status: 422, code: "invalid", field: "severity"},
		{name: "ingest bad item in a batch", method: "POST", path: "/v1/events", body: "[" + ev + `,{"type":"JOB","severity":"INFO","title":""}]`, headers: sign("[" + ev + `,{"type":"JOB","severity":"INFO","title":""}]`), status: 422, code: "invalid", field: "[1].title"},
		{name: "ingest bad id", method: "POST", path: "/v1/events", body: eventJSON("x", `,"id":"-x"`), headers: sign(eventJSON("x", `,"id":"-x"`)), status: 422, code: "invalid", field: "id"},

		// Dry run.
		{name: "match malformed JSON", method: "POST", path: "/v1/match", body: `{"type"`, status: 400, code: "malformed"},
		{name: "match an array", method: "POST", path: "/v1/match", body: "[" + ev + "]", status: 422, code: "invalid", field: "body"},
		{name: "match unknown type", method: "POST", path: "/v1/match", body: `{"type":"BUILD","severity":"INFO","title":"x"}`, status: 422, code: "invalid", field: "type"},
		{name: "match unknown field", method: "POST", path: "/v1/match", body: eventJSON("x", `,"colour":"red"`), status: 422, code: "invalid", field: "colour"},
		{name: "match oversized", method: "POST", path: "/v1/match", body: oversize, status: 413, code: "too_large"},
		{name: "match without a token", method: "POST", path: "/v1/match", body: ev, headers: []string{"Authorization", ""}, status: 401, code: "unauthorized"},

		// Deliveries and dead letters.
		{name: "deliveries unknown status", method: "GET", path: "/v1/deliveries?status=lost", status: 422, code: "invalid", field: "status"},
		{name: "deliveries limit too large", method: "GET", path: "/v1/deliveries?limit=501", status: 422, code: "invalid", field: "limit"},
		{name: "deliveries bad cursor", method: "GET", path: "/v1/deliveries?cursor=zz", status: 422, code: "invalid", field: "cursor"},
		{name: "dead letters limit zero", method: "GET", path: "/v1/dead-letters?limit=0", status: 422, code: "invalid", field: "limit"},
		{name: "redrive an unknown dead letter", method: "POST", path: "/v1/dead-letters/nope/redrive", status: 404, code: "not_found"},

		// SMTP.
		{name: "smtp missing host", method: "POST", path: "/v1/integrations/smtp", body: `{"nickname":"relay","adminAddress":"argo@example.com"}`, status: 422, code: "invalid", field: "host"},
		{name: "smtp host with a port", method: "POST", path: "/v1/integrations/smtp", body: `{"nickname":"relay","host":"smtp.example.com:25","adminAddress":"argo@example.com"}`, status: 422, code: "invalid", field: "host"},
		{name: "smtp port out of range", method: "POST", path: "/v1/integrations/smtp", body: smtpBody(`,"port":70000`), status: 422, code: "invalid", field: "port"},
		{name: "smtp unknown tls mode", method: "POST", path: "/v1/integrations/smtp", body: smtpBody(`,"tls":"ssl"`), status: 422, code: "invalid", field: "tls"},
		{name: "smtp timeout too long", method: "POST", path: "/v1/integrations/smtp", body: smtpBody(`,"timeoutSeconds":600`), status: 422, code: "invalid", field: "timeoutSeconds"},
		{name: "smtp invalid admin address", method: "POST", path: "/v1/integrations/smtp", body: `{"nickname":"relay","host":"smtp.example.com","adminAddress":"argo"}`, status: 422, code: "invalid", field: "adminAddress"},
		{name: "smtp auth without username", method: "POST", path: "/v1/integrations/smtp", body: smtpBody(`,"useAuth":true,"password":"p"`), status: 422, code: "invalid", field: "username"},
		{name: "smtp auth without password", method: "POST", path: "/v1/integrations/smtp", body: smtpBody(`,"useAuth":true,"username":"u"`), status: 422, code: "invalid", field: "password"},
		{name: "smtp empty nickname", method: "POST", path: "/v1/integrations/smtp", body: `{"nickname":"","host":"smtp.example.com","adminAddress":"argo@example.com"}`, status: 422, code: "invalid", field: "nickname"},
		{name: "smtp unknown field", method: "POST", path: "/v1/integrations/smtp", body: smtpBody(`,"ssl":true`), status: 422, code: "invalid", field: "ssl"},
		{name: "smtp duplicate nickname", method: "POST", path: "/v1/integrations/smtp", body: `{"nickname":"RELAY","host":"other.example.com","adminAddress":"argo@example.com"}`, setup: connectSMTP, status: 409, code: "conflict"},
		{name: "smtp PUT without If-Match", method: "PUT", path: "/v1/integrations/smtp/smtp_000002", body: smtpBody(`,"useAuth":true,"username":"u"`), setup: connectSMTP, status: 428, code: "precondition_required"},
		{name: "smtp PUT stale", method: "PUT", path: "/v1/integrations/smtp/smtp_000002", body: smtpBody(`,"useAuth":true,"username":"u"`), headers: ifMatch(`"4"`), setup: connectSMTP, status: 412, code: "version_mismatch"},
		{name: "smtp DELETE stale", method: "DELETE", path: "/v1/integrations/smtp/smtp_000002", headers: ifMatch(`"2"`), setup: connectSMTP, status: 412, code: "version_mismatch"},
		{name: "smtp test with its password gone", method: "POST", path: "/v1/integrations/smtp/smtp_000002/test", setup: func(e *env) {
			connectSMTP(e)
			if err := e.store.DeleteSecret(context.Background(), e.smtpRef("smtp_000002")); err != nil {
				e.t.Fatal(err)
			}
		}, status: 409, code: "conflict"},
		{name: "smtp PUT unknown", method: "PUT", path: "/v1/integrations/smtp/smtp_nope", body: smtpBody(""), headers: ifMatch(`"1"`), status: 404, code: "not_found"},
		{name: "smtp DELETE unknown", method: "DELETE", path: "/v1/integrations/smtp/smtp_nope", status: 404, code: "not_found"},
		{name: "smtp test bad address", method: "POST", path: "/v1/integrations/smtp/test", body: smtpBody(`,"to":"nobody"`), status: 422, code: "invalid", field: "to"},
		{name: "smtp test without password", method: "POST", path: "/v1/integrations/smtp/test", body: smtpBody(`,"useAuth":true,"username":"u"`), status: 422, code: "invalid", field: "password"},
		{name: "smtp test of an unknown server", method: "POST", path: "/v1/integrations/smtp/smtp_nope/test", status: 404, code: "not_found"},

		// Input that should never have been accepted (issue 10, item 3).
		{name: "ingest control character in a title", method: "POST", path: "/v1/events", body: ctlEvent, headers: sign(ctlEvent), status: 422, code: "invalid", field: "title"},
		{name: "ingest bidi override in a message", method: "POST", path: "/v1/events", body: eventJSON("x", `,"message":"fine\u202etxt.exe"`), headers: sign(eventJSON("x", `,"message":"fine\u202etxt.exe"`)), status: 422, code: "invalid", field: "message"},
		{name: "ingest C1 control in a label", method: "POST", path: "/v1/events", body: eventJSON("x", `,"labels":{"k":"a\u0085b"}`), headers: sign(eventJSON("x", `,"labels":{"k":"a\u0085b"}`)), status: 422, code: "invalid", field: "labels.k"},
		{name: "ingest slash in an id", method: "POST", path: "/v1/events", body: eventJSON("x", `,"id":"a/b"`), headers: sign(eventJSON("x", `,"id":"a/b"`)), status: 422, code: "invalid", field: "id"},
		{name: "ingest dot-dot in an id", method: "POST", path: "/v1/events", body: eventJSON("x", `,"id":"a..b"`), headers: sign(eventJSON("x", `,"id":"a..b"`)), status: 422, code: "invalid", field: "id"},
		{name: "ingest duplicate key", method: "POST", path: "/v1/events", body: `{"type":"JOB","severity":"INFO","severity":"CRITICAL","title":"x"}`, headers: sign(`{"type":"JOB","severity":"INFO","severity":"CRITICAL","title":"x"}`), status: 400, code: "malformed"},
		{name: "ingest duplicate key in a batch", method: "POST", path: "/v1/events", body: "[" + ev + `,{"type":"JOB","severity":"INFO","title":"x","labels":{"a":"1","a":"2"}}]`, headers: sign("[" + ev + `,{"type":"JOB","severity":"INFO","title":"x","labels":{"a":"1","a":"2"}}]`), status: 400, code: "malformed"},
		{name: "ingest not JSON content type", method: "POST", path: "/v1/events", body: ev, headers: append(sign(ev), "Content-Type", "text/plain"), status: 415, code: "unsupported_media_type"},
		{name: "match not JSON content type", method: "POST", path: "/v1/match", body: ev, headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 415, code: "unsupported_media_type"},
		{name: "match control character", method: "POST", path: "/v1/match", body: ctlEvent, status: 422, code: "invalid", field: "title"},
		{name: "rule name with a bidi override", method: "POST", path: "/v1/rules", body: ruleJSON("ops\u202e", `"users":["alice"]`), status: 422, code: "invalid", field: "name"},
		{name: "rule name with a zero-width space", method: "POST", path: "/v1/rules", body: ruleJSON("ops\u200b", `"users":["alice"]`), status: 422, code: "invalid", field: "name"},
		{name: "rule name with a control character", method: "POST", path: "/v1/rules", body: `{"name":"ops\u0000","eventTypes":["JOB"],"severities":["INFO"],"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "name"},
		{name: "rule duplicate key", method: "POST", path: "/v1/rules", body: `{"name":"x","name":"y","eventTypes":["JOB"],"severities":["INFO"],"recipients":{"users":["alice"]}}`, status: 400, code: "malformed"},
		{name: "rule email domain literal", method: "POST", path: "/v1/rules", body: ruleJSON("x", `"emails":["root@[127.0.0.1]"]`), status: 422, code: "invalid", field: "recipients.emails[0]"},
		{name: "policy name with a zero-width joiner", method: "PUT", path: "/v1/policies/p2/notification", body: `{"name":"nightly\u200d","onFailure":true,"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "name"},
		{name: "policy blank name", method: "PUT", path: "/v1/policies/p2/notification", body: `{"policyName":" ","onFailure":true,"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "policyName"},
		{name: "policy id with a slash", method: "PUT", path: "/v1/policies/a%2Fb/notification", body: `{"onFailure":true,"recipients":{"users":["alice"]}}`, status: 422, code: "invalid", field: "policyId"},
		{name: "smtp nickname with a bidi isolate", method: "POST", path: "/v1/integrations/smtp", body: `{"nickname":"relay\u2066","host":"smtp.example.com","adminAddress":"argo@example.com"}`, status: 422, code: "invalid", field: "nickname"},
		{name: "smtp admin address domain literal", method: "POST", path: "/v1/integrations/smtp", body: `{"nickname":"relay","host":"smtp.example.com","adminAddress":"argo@[10.0.0.1]"}`, status: 422, code: "invalid", field: "adminAddress"},

		// Slack.
		{name: "slack token rejected", method: "POST", path: "/v1/integrations/slack", body: `{"token":"xoxb-revoked"}`, status: 422, code: "invalid", field: "token"},
		{name: "slack empty token", method: "POST", path: "/v1/integrations/slack", body: `{"token":""}`, status: 422, code: "invalid", field: "token"},
		{name: "slack no token", method: "POST", path: "/v1/integrations/slack", body: `{}`, status: 422, code: "invalid", field: "token"},
		{name: "slack channels when not connected", method: "GET", path: "/v1/integrations/slack/channels", status: 409, code: "not_connected"},
		{name: "slack test when not connected", method: "POST", path: "/v1/integrations/slack/test", status: 409, code: "not_connected"},
		{name: "slack disconnect when not connected", method: "DELETE", path: "/v1/integrations/slack", status: 404, code: "not_found"},
		{name: "slack channels limit too large", method: "GET", path: "/v1/integrations/slack/channels?limit=1001", status: 422, code: "invalid", field: "limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each case has its own store and fakes
			e := newEnv(t, withSlack)
			e.seed()
			if tc.setup != nil {
				tc.setup(e)
			}
			before, integrations := e.snapshot(), e.integrations()

			r := e.do(tc.method, tc.path, tc.body, tc.headers...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q, want application/problem+json", ct)
			}
			p := r.json(t)
			if p["code"] != tc.code {
				t.Errorf("code %v, want %s; body %s", p["code"], tc.code, r.body)
			}
			if p["status"] != float64(tc.status) || p["title"] == "" || p["type"] != "urn:argo-notify:problem:"+tc.code {
				t.Errorf("problem lacks status, title or type: %s", r.body)
			}
			if tc.field != "" && !slices.Contains(problemFields(p), tc.field) {
				t.Errorf("fields %v, want one to be %q; body %s", problemFields(p), tc.field, r.body)
			}
			if tc.allow != "" && r.header.Get("Allow") != tc.allow {
				t.Errorf("Allow %q, want %q", r.header.Get("Allow"), tc.allow)
			}
			if tc.refs != nil {
				var refs []string
				for _, v := range asSlice(p["refs"]) {
					refs = append(refs, v.(string))
				}
				if !slices.Equal(refs, tc.refs) {
					t.Errorf("refs %v, want %v", refs, tc.refs)
				}
			}
			if after := e.snapshot(); after != before {
				t.Errorf("the store changed:\nbefore %s\nafter  %s", before, after)
			}
			if after := e.integrations(); after != integrations {
				t.Errorf("the integrations changed:\nbefore %s\nafter  %s", integrations, after)
			}
			if msgs := e.producer.sent(); len(msgs) != 0 {
				t.Errorf("%d messages were queued", len(msgs))
			}
			if n := len(e.planner.events); n != 0 {
				t.Errorf("the planner was called %d times", n)
			}
		})
	}
}

func problemFields(p map[string]any) []string {
	var out []string
	for _, f := range asSlice(p["errors"]) {
		out = append(out, f.(map[string]any)["field"].(string))
	}
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// TestAuth checks that every route but /healthz needs the token, and that a
// 401 says nothing about whether the route exists.
func TestAuth(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		auth   string // the Authorization header; "-" sends none
		status int
	}{
		{name: "no token", method: "GET", path: "/v1/rules", auth: "-", status: 401},
		{name: "wrong token", method: "GET", path: "/v1/rules", auth: "Bearer wrong", status: 401},
		{name: "token prefix", method: "GET", path: "/v1/rules", auth: "Bearer " + token[:len(token)-1], status: 401},
		{name: "wrong scheme", method: "GET", path: "/v1/rules", auth: "Basic " + token, status: 401},
		{name: "bare token", method: "GET", path: "/v1/rules", auth: token, status: 401},
		{name: "unknown route without token", method: "GET", path: "/v1/nope", auth: "-", status: 401},
		{name: "wrong method without token", method: "PATCH", path: "/v1/rules", auth: "-", status: 401},
		{name: "openapi without token", method: "GET", path: "/v1/openapi.json", auth: "-", status: 401},
		{name: "right token", method: "GET", path: "/v1/rules", auth: "Bearer " + token, status: 200},
		{name: "scheme case-insensitive", method: "GET", path: "/v1/rules", auth: "bearer " + token, status: 200},
		{name: "healthz without token", method: "GET", path: "/healthz", auth: "-", status: 200},
	}
	e := newEnv(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			auth := tc.auth
			if auth == "-" {
				auth = ""
			}
			r := e.do(tc.method, tc.path, "", "Authorization", auth)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tc.status, r.body)
			}
			if tc.status != http.StatusUnauthorized {
				return
			}
			if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate %q, want Bearer", got)
			}
			p := r.json(t)
			if p["code"] != "unauthorized" || p["detail"] != "a valid bearer token is required" {
				t.Errorf("problem %s", r.body)
			}
			if r.header.Get("Allow") != "" {
				t.Errorf("a 401 sent Allow %q", r.header.Get("Allow"))
			}
		})
	}

	t.Run("no token configured", func(t *testing.T) {
		open := newEnvWith(t, e.store, "")
		if r := open.do("GET", "/v1/rules", "", "Authorization", ""); r.status != http.StatusOK {
			t.Errorf("status %d, want 200 without a configured token; body %s", r.status, r.body)
		}
	})
}

// TestIfMatchStar: If-Match: * matches whatever version a resource is at
// (RFC 9110), on every route that takes If-Match.
func TestIfMatchStar(t *testing.T) {
	e := newEnv(t)
	e.seed()
	star := []string{"If-Match", "*"}
	e.must(http.StatusOK, "PUT", "/v1/rules/rul_000001", ruleJSON("Prod failures", `"users":["alice"]`), star...)
	e.must(http.StatusOK, "PUT", "/v1/rules/rul_000001", ruleJSON("Prod failures", `"users":["bob"]`), star...)
	e.must(http.StatusOK, "PUT", "/v1/users/bob", `{"name":"Bob","email":"bob@example.com"}`, star...)
	e.must(http.StatusOK, "PUT", "/v1/policies/nightly-etl/notification", `{"onFailure":true,"recipients":{"users":["alice"]}}`, star...)
	e.must(http.StatusNoContent, "DELETE", "/v1/rules/rul_000001", "", star...)
}
