package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp/smtptest"
)

// integrations is the content of the store's integrations and their
// secrets, as text to compare.
func (e *env) integrations() string {
	e.t.Helper()
	ctx := context.Background()
	all, err := e.store.ListSMTP(ctx)
	if err != nil {
		e.t.Fatalf("list SMTP: %v", err)
	}
	var b strings.Builder
	for _, s := range all {
		sec, _ := e.store.GetSecret(ctx, s.PasswordRef)
		fmt.Fprintf(&b, "%+v ref=%q secret=%q\n", *s, s.PasswordRef, sec)
	}
	sl, err := e.store.GetSlack(ctx)
	switch {
	case notify.IsCode(err, notify.ENotFound):
		b.WriteString("no slack\n")
	case err != nil:
		e.t.Fatalf("get Slack: %v", err)
	default:
		sec, _ := e.store.GetSecret(ctx, sl.TokenRef)
		fmt.Fprintf(&b, "%+v ref=%q secret=%q\n", *sl, sl.TokenRef, sec)
	}
	return b.String()
}

// secretGone fails the test if the store still holds the secret ref.
func (e *env) secretGone(ref string) {
	e.t.Helper()
	if ref == "" {
		e.t.Fatal("no secret reference to check")
	}
	if _, err := e.store.GetSecret(context.Background(), ref); !notify.IsCode(err, notify.ENotFound) {
		e.t.Errorf("secret %q still exists (err %v)", ref, err)
	}
}

func (e *env) smtpRef(id string) string {
	e.t.Helper()
	s, err := e.store.GetSMTP(context.Background(), id)
	if err != nil {
		e.t.Fatalf("get SMTP %s: %v", id, err)
	}
	return s.PasswordRef
}

func stepNames(res map[string]any) []string {
	var out []string
	for _, s := range asSlice(res["steps"]) {
		out = append(out, s.(map[string]any)["name"].(string))
	}
	return out
}

func lastStep(res map[string]any) map[string]any {
	steps := asSlice(res["steps"])
	if len(steps) == 0 {
		return nil
	}
	return steps[len(steps)-1].(map[string]any)
}

func smtpSettings(srv *smtptest.Server, password, extra string) string {
	return fmt.Sprintf(`{"nickname":"Test relay","host":"127.0.0.1","port":%d,"adminAddress":"argo@example.com","tls":"starttls","useAuth":true,"username":%q,"password":%q%s}`,
		srv.Port, smtpUser, password, extra)
}

func TestSMTPTestBeforeSaving(t *testing.T) {
	srv := startSMTP(t)
	tests := []struct {
		name      string
		body      string
		ok        bool
		steps     []string
		reply     string // a prefix of the last step's reply
		delivered []string
	}{
		{name: "connect only", body: smtpSettings(srv, smtpPassword, ""), ok: true, steps: []string{"dial", "tls", "auth"}},
		{name: "with a test message", body: smtpSettings(srv, smtpPassword, `,"to":"you@example.com"`), ok: true,
			steps: []string{"dial", "tls", "auth", "send"}, delivered: []string{"you@example.com"}},
		{name: "wrong password", body: smtpSettings(srv, "wrong-pw", `,"to":"you@example.com"`), steps: []string{"dial", "tls", "auth"}, reply: "535"},
		{name: "no TLS offered to a server that requires it", body: strings.Replace(smtpSettings(srv, smtpPassword, `,"to":"you@example.com"`), `"starttls"`, `"none"`, 1),
			steps: []string{"auth"}},
		{name: "nothing listening", body: strings.Replace(smtpSettings(srv, smtpPassword, ""), fmt.Sprint(srv.Port), "1", 1), steps: []string{"dial"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, smtpOption(srv))
			before := len(srv.Messages())
			res := e.must(http.StatusOK, "POST", "/v1/integrations/smtp/test", tc.body)
			if res["ok"] != tc.ok {
				t.Errorf("ok %v, want %v: %v", res["ok"], tc.ok, res)
			}
			if got := stepNames(res); !slices.Equal(got, tc.steps) {
				t.Errorf("steps %v, want %v: %v", got, tc.steps, res)
			}
			last := lastStep(res)
			if !tc.ok && (last["ok"] != false || last["error"] == "") {
				t.Errorf("the last step does not say why it failed: %v", last)
			}
			if tc.reply != "" && !strings.HasPrefix(fmt.Sprint(last["reply"]), tc.reply) {
				t.Errorf("reply %v, want %s…", last["reply"], tc.reply)
			}
			var got []string
			for _, m := range srv.Messages()[before:] {
				got = append(got, m.To...)
			}
			if !slices.Equal(got, tc.delivered) {
				t.Errorf("delivered to %v, want %v", got, tc.delivered)
			}
			if all, _ := e.store.ListSMTP(context.Background()); len(all) != 0 {
				t.Errorf("a test saved %d servers", len(all))
			}
		})
	}
}

func TestSMTPLifecycle(t *testing.T) {
	srv := startSMTP(t)
	e := newEnv(t, smtpOption(srv))

	r := e.do("POST", "/v1/integrations/smtp", smtpSettings(srv, smtpPassword, ""))
	if r.status != http.StatusCreated {
		t.Fatalf("connect: %d %s", r.status, r.body)
	}
	created := r.json(t)
	id := created["id"].(string)
	if id != "smtp_000001" || r.header.Get("Location") != "/v1/integrations/smtp/"+id || r.header.Get("ETag") != `"1"` {
		t.Errorf("id %s, Location %q, ETag %q", id, r.header.Get("Location"), r.header.Get("ETag"))
	}
	if _, ok := created["password"]; ok || created["passwordSet"] != true || created["timeoutSeconds"] != 10.0 {
		t.Errorf("created %v", created)
	}
	if got := e.must(http.StatusOK, "GET", "/v1/integrations/smtp/"+id, ""); !cmp.Equal(got, created) {
		t.Errorf("GET differs from the POST answer:\n%s", cmp.Diff(created, got))
	}

	// Defaults: port 587, timeout 10 s, STARTTLS.
	d := e.must(http.StatusCreated, "POST", "/v1/integrations/smtp", `{"nickname":"Defaults","host":"smtp.example.com","adminAddress":"a@example.com"}`)
	if d["port"] != 587.0 || d["tls"] != "starttls" || d["useAuth"] != false || d["passwordSet"] != false {
		t.Errorf("defaults %v", d)
	}
	list := e.must(http.StatusOK, "GET", "/v1/integrations/smtp", "")
	if ids := itemIDs(list); !slices.Equal(ids, []string{id, d["id"].(string)}) {
		t.Errorf("list %v", ids)
	}

	// The stored server, with its stored password.
	res := e.must(http.StatusOK, "POST", "/v1/integrations/smtp/"+id+"/test", `{"to":"ops@example.com"}`)
	if res["ok"] != true || !slices.Equal(stepNames(res), []string{"dial", "tls", "auth", "send"}) {
		t.Errorf("test of the stored server: %v", res)
	}
	if res := e.must(http.StatusOK, "POST", "/v1/integrations/smtp/"+id+"/test", ""); res["ok"] != true || len(stepNames(res)) != 3 {
		t.Errorf("test without a body: %v", res)
	}

	// PUT back what GET gave, renamed: the password is kept.
	firstRef := e.smtpRef(id)
	created["nickname"] = "Renamed relay"
	body, _ := json.Marshal(created)
	upd := e.must(http.StatusOK, "PUT", "/v1/integrations/smtp/"+id, string(body), "If-Match", `"1"`)
	if upd["nickname"] != "Renamed relay" || upd["version"] != 2.0 || upd["passwordSet"] != true || upd["createdAt"] != created["createdAt"] {
		t.Errorf("updated %v", upd)
	}
	if e.smtpRef(id) != firstRef {
		t.Errorf("a PUT without a password changed the secret")
	}
	if res := e.must(http.StatusOK, "POST", "/v1/integrations/smtp/"+id+"/test", ""); res["ok"] != true {
		t.Errorf("test after a PUT without a password: %v", res)
	}

	// A new password replaces the secret; the old one is deleted.
	e.must(http.StatusOK, "PUT", "/v1/integrations/smtp/"+id, smtpSettings(srv, "a-wrong-pw", ""), "If-Match", `"2"`)
	e.secretGone(firstRef)
	res = e.must(http.StatusOK, "POST", "/v1/integrations/smtp/"+id+"/test", "")
	if last := lastStep(res); res["ok"] != false || last["name"] != "auth" {
		t.Errorf("test with the new (wrong) password: %v", res)
	}

	// Turning auth off drops the password.
	secondRef := e.smtpRef(id)
	off := e.must(http.StatusOK, "PUT", "/v1/integrations/smtp/"+id,
		fmt.Sprintf(`{"nickname":"Renamed relay","host":"127.0.0.1","port":%d,"adminAddress":"argo@example.com"}`, srv.Port), "If-Match", `"3"`)
	if off["passwordSet"] != false || off["useAuth"] != false {
		t.Errorf("auth off: %v", off)
	}
	e.secretGone(secondRef)

	// Turning it back on needs a password again.
	p := e.do("PUT", "/v1/integrations/smtp/"+id, strings.Replace(smtpSettings(srv, "", ""), `"password":""`, `"password":""`, 1), "If-Match", `"4"`)
	if p.status != http.StatusUnprocessableEntity || !slices.Contains(problemFields(p.json(t)), "password") {
		t.Errorf("auth on without a password: %d %s", p.status, p.body)
	}

	// Disconnect: the server and its secret go.
	e.must(http.StatusOK, "PUT", "/v1/integrations/smtp/"+id, smtpSettings(srv, smtpPassword, ""), "If-Match", `"4"`)
	lastRef := e.smtpRef(id)
	e.must(http.StatusNoContent, "DELETE", "/v1/integrations/smtp/"+id, "", "If-Match", `"5"`)
	e.must(http.StatusNotFound, "GET", "/v1/integrations/smtp/"+id, "")
	e.secretGone(lastRef)
}

func TestSlackLifecycle(t *testing.T) {
	e := newEnv(t, startSlack(t))

	if got := e.must(http.StatusOK, "GET", "/v1/integrations/slack", ""); !cmp.Equal(got, map[string]any{"connected": false}) {
		t.Errorf("before connecting: %v", got)
	}
	bad := e.must(http.StatusOK, "POST", "/v1/integrations/slack/test", `{"token":"xoxb-revoked"}`)
	if bad["ok"] != false || !strings.Contains(fmt.Sprint(bad["error"]), "invalid_auth") {
		t.Errorf("test of a rejected token: %v", bad)
	}
	good := e.must(http.StatusOK, "POST", "/v1/integrations/slack/test", fmt.Sprintf(`{"token":%q}`, slackToken))
	if good["ok"] != true || good["team"] != "Acme" || good["botUserId"] != "U0BOT" {
		t.Errorf("test of a good token: %v", good)
	}
	if e.integrations() != "no slack\n" {
		t.Errorf("a test connected: %s", e.integrations())
	}

	ws := e.must(http.StatusCreated, "POST", "/v1/integrations/slack", fmt.Sprintf(`{"token":%q}`, slackToken))
	want := map[string]any{"connected": true, "team": "Acme", "teamId": "T0ACME", "teamUrl": "https://acme.slack.com/",
		"botName": "argo-bot", "botUserId": "U0BOT", "version": 1.0, "createdAt": ws["createdAt"], "updatedAt": ws["updatedAt"]}
	if diff := cmp.Diff(want, ws); diff != "" {
		t.Errorf("connected (-want +got):\n%s", diff)
	}
	if got := e.must(http.StatusOK, "GET", "/v1/integrations/slack", ""); !cmp.Equal(got, ws) {
		t.Errorf("GET differs from the POST answer:\n%s", cmp.Diff(ws, got))
	}
	if res := e.must(http.StatusOK, "POST", "/v1/integrations/slack/test", ""); res["ok"] != true || res["teamId"] != "T0ACME" {
		t.Errorf("test of the stored token: %v", res)
	}

	// Channels, two pages.
	page1 := e.must(http.StatusOK, "GET", "/v1/integrations/slack/channels?limit=2", "")
	page2 := e.must(http.StatusOK, "GET", "/v1/integrations/slack/channels?limit=2&cursor="+fmt.Sprint(page1["next"]), "")
	if ids := append(itemIDs(page1), itemIDs(page2)...); !slices.Equal(ids, []string{"C001", "C002", "G004"}) || page2["next"] != nil {
		t.Errorf("channels %v, next %v", ids, page2["next"])
	}
	if ch := asSlice(page2["items"])[0].(map[string]any); ch["isPrivate"] != true || ch["isMember"] != true || ch["name"] != "sre-private" {
		t.Errorf("channel %v", ch)
	}

	// Reconnecting replaces the token.
	sl, _ := e.store.GetSlack(context.Background())
	again := e.must(http.StatusOK, "POST", "/v1/integrations/slack", fmt.Sprintf(`{"token":%q}`, slackToken))
	if again["version"] != 2.0 || again["createdAt"] != ws["createdAt"] {
		t.Errorf("reconnected %v", again)
	}
	e.secretGone(sl.TokenRef)

	// A rejected token leaves the connection as it was.
	before := e.integrations()
	e.must(http.StatusUnprocessableEntity, "POST", "/v1/integrations/slack", `{"token":"xoxb-revoked"}`)
	if after := e.integrations(); after != before {
		t.Errorf("a rejected token changed the connection:\n%s\n%s", before, after)
	}

	sl, _ = e.store.GetSlack(context.Background())
	e.must(http.StatusNoContent, "DELETE", "/v1/integrations/slack", "")
	e.secretGone(sl.TokenRef)
	if got := e.must(http.StatusOK, "GET", "/v1/integrations/slack", ""); got["connected"] != false {
		t.Errorf("after disconnecting: %v", got)
	}
	e.must(http.StatusConflict, "GET", "/v1/integrations/slack/channels", "")
}

// TestSecretsNeverReturned connects SMTP with a password and Slack with a
// token, exercises every integration route, and checks that no answer and
// no log line holds either secret, nor the rejected ones.
func TestSecretsNeverReturned(t *testing.T) {
	srv := startSMTP(t)
	e := newEnv(t, smtpOption(srv), startSlack(t))
	secrets := []string{smtpPassword, slackToken, "xoxb-revoked-Secret-77", "wrong-pw-Secret-88"}
	var bodies []string
	call := func(method, path, body string, headers ...string) response {
		t.Helper()
		r := e.do(method, path, body, headers...)
		if r.status >= 500 {
			t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
		}
		bodies = append(bodies, fmt.Sprintf("%s %s → %d %v %s", method, path, r.status, r.header, r.body))
		return r
	}

	call("POST", "/v1/integrations/smtp/test", smtpSettings(srv, smtpPassword, `,"to":"x@example.com"`))
	call("POST", "/v1/integrations/smtp/test", smtpSettings(srv, "wrong-pw-Secret-88", ""))
	id := call("POST", "/v1/integrations/smtp", smtpSettings(srv, smtpPassword, "")).json(t)["id"].(string)
	call("POST", "/v1/integrations/smtp", smtpSettings(srv, smtpPassword, "")) // a conflict
	call("POST", "/v1/integrations/smtp/"+id+"/test", `{"to":"x@example.com"}`)
	call("PUT", "/v1/integrations/smtp/"+id, smtpSettings(srv, smtpPassword, `,"tls":"bogus"`), "If-Match", `"1"`)
	call("PUT", "/v1/integrations/smtp/"+id, smtpSettings(srv, smtpPassword, ""), "If-Match", `"1"`)
	call("POST", "/v1/integrations/slack", `{"token":"xoxb-revoked-Secret-77"}`)
	call("POST", "/v1/integrations/slack/test", `{"token":"xoxb-revoked-Secret-77"}`)
	call("POST", "/v1/integrations/slack", fmt.Sprintf(`{"token":%q}`, slackToken))
	call("POST", "/v1/integrations/slack/test", "")
	for _, path := range []string{"/v1/integrations/smtp", "/v1/integrations/smtp/" + id, "/v1/integrations/slack",
		"/v1/integrations/slack/channels", "/v1/deliveries", "/v1/rules", "/v1/openapi.json"} {
		if r := call("GET", path, ""); r.status != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}
	if len(srv.Messages()) != 2 {
		t.Errorf("%d test messages arrived, want 2", len(srv.Messages()))
	}
	for _, secret := range secrets {
		for _, b := range bodies {
			if strings.Contains(b, secret) {
				t.Errorf("an answer holds the secret %q: %s", secret, b)
			}
		}
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("the log holds the secret %q", secret)
		}
	}
	if !strings.Contains(e.logs.String(), "/v1/integrations/smtp/"+id) {
		t.Errorf("the log is not the request log: %.300s", e.logs)
	}
}
