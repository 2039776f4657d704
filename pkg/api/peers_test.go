package api_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/slack-go/slack/slacktest"

	"github.com/argoproj-labs/argo-notify/pkg/api"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp/smtptest"
)

// The credentials the test peers accept.
const (
	smtpUser     = "relay-user"
	smtpPassword = "smtp-pw-Zq81xVv"
	slackToken   = "xoxb-good-token-Hj27Lp"
)

// startSMTP starts an in-process SMTP server on 127.0.0.1 that requires
// STARTTLS and AUTH PLAIN with smtpUser and smtpPassword and keeps the
// messages it accepts.
func startSMTP(t *testing.T) *smtptest.Server {
	t.Helper()
	return smtptest.NewServer(t, smtptest.WithAuth(smtpUser, smtpPassword))
}

// smtpOption is the api.Config option that trusts srv's certificate.
func smtpOption(srv *smtptest.Server) func(*api.Config) {
	return func(c *api.Config) {
		c.SMTPOptions = append(c.SMTPOptions, smtp.WithTLSConfig(srv.ClientTLSConfig()))
	}
}

// slackChannels are the channels of the fake workspace, archived ones
// included (conversations.list leaves them out).
var slackChannels = []map[string]any{
	{"id": "C001", "name": "alerts", "is_private": false, "is_member": true},
	{"id": "C002", "name": "deploys", "is_private": false, "is_member": false},
	{"id": "C003", "name": "old", "is_archived": true},
	{"id": "G004", "name": "sre-private", "is_private": true, "is_member": true},
}

// startSlack starts a slacktest workspace whose auth.test and
// conversations.list accept only slackToken, and returns an option that
// points the API at it.
func startSlack(t *testing.T) func(*api.Config) {
	t.Helper()
	srv := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/auth.test", func(w http.ResponseWriter, r *http.Request) {
			if bearer(r) != slackToken {
				writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
				return
			}
			writeJSON(w, map[string]any{"ok": true, "url": "https://acme.slack.com/", "team": "Acme", "user": "argo-bot",
				"team_id": "T0ACME", "user_id": "U0BOT", "bot_id": "B0BOT"})
		})
		c.Handle("/conversations.list", func(w http.ResponseWriter, r *http.Request) {
			if bearer(r) != slackToken {
				writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
				return
			}
			var live []map[string]any
			for _, ch := range slackChannels {
				if ch["is_archived"] != true {
					live = append(live, ch)
				}
			}
			start, _ := strconv.Atoi(r.PostFormValue("cursor"))
			limit, _ := strconv.Atoi(r.PostFormValue("limit"))
			start = min(start, len(live))
			end := min(start+limit, len(live))
			next := ""
			if end < len(live) {
				next = strconv.Itoa(end)
			}
			writeJSON(w, map[string]any{"ok": true, "channels": live[start:end], "response_metadata": map[string]any{"next_cursor": next}})
		})
	})
	srv.Start()
	t.Cleanup(srv.Stop)
	url := srv.GetAPIURL()
	return func(c *api.Config) { c.SlackAPIURL = url }
}

// bearer is the token of a Web API call, sent in the header or the form.
func bearer(r *http.Request) string {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return tok
	}
	return r.PostFormValue("token")
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
