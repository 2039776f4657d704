package slack_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/slack-go/slack/slacktest"

	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/slack"
)

// lookupHandler answers users.lookupByEmail: ann@example.com is U0ANN.
func lookupHandler(calls *atomic.Int32) slacktest.Binder {
	return func(c slacktest.Customize) {
		c.Handle("/users.lookupByEmail", func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			_ = r.ParseForm()
			if strings.EqualFold(r.Form.Get("email"), "ann@example.com") {
				writeJSON(w, map[string]any{"ok": true, "user": map[string]any{"id": "U0ANN", "name": "ann"}})
				return
			}
			writeJSON(w, map[string]any{"ok": false, "error": "users_not_found"})
		})
	}
}

// TestSendDirectMessage: a recipient that is an email is looked up once
// (cached) and messaged at its user id; an unknown one is a Skip.
func TestSendDirectMessage(t *testing.T) {
	var p posts
	var lookups atomic.Int32
	srv := startServer(t, postHandler(&p, nil), lookupHandler(&lookups))
	s := slack.New(token, srv.GetAPIURL())
	for range 2 {
		res, err := s.Send(context.Background(), notification("ann@example.com"))
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		if !strings.HasPrefix(res.MessageID, "U0ANN/") {
			t.Errorf("message id %q, want the user's", res.MessageID)
		}
	}
	forms := p.all()
	if len(forms) != 2 || forms[0].Get("channel") != "U0ANN" {
		t.Fatalf("posts %v, want two to U0ANN", forms)
	}
	_, err := s.Send(context.Background(), notification("nobody@example.com"))
	var skip *send.Skip
	if !errors.As(err, &skip) || skip.Reason != slack.UnknownUser {
		t.Fatalf("unknown user: %v, want a Skip %q", err, slack.UnknownUser)
	}
	if _, err := s.Send(context.Background(), notification("nobody@example.com")); !errors.As(err, &skip) {
		t.Fatalf("unknown user again: %v", err)
	}
	if n := lookups.Load(); n != 2 {
		t.Errorf("%d lookups, want 2 (one per email, cached)", n)
	}
	if len(p.all()) != 2 {
		t.Errorf("an unknown user was posted to")
	}
}
