package slack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/slack"
)

const token = "xoxb-test-token-123"

// posts records the chat.postMessage calls a test server received.
type posts struct {
	mu    sync.Mutex
	forms []url.Values
}

func (p *posts) add(v url.Values) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forms = append(p.forms, v)
	return len(p.forms)
}

func (p *posts) all() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.forms...)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// postHandler answers chat.postMessage with answer(call) once it has
// recorded the form; answer returns the HTTP status, extra headers and the
// JSON body.
func postHandler(p *posts, answer func(call int, w http.ResponseWriter) bool) slacktest.Binder {
	return func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseForm(); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			call := p.add(r.PostForm)
			if answer != nil && answer(call, w) {
				return
			}
			writeJSON(w, map[string]any{"ok": true, "channel": r.PostForm.Get("channel"), "ts": fmt.Sprintf("1700000000.%06d", call)})
		})
	}
}

func startServer(t *testing.T, binders ...slacktest.Binder) *slacktest.Server {
	t.Helper()
	s := slacktest.NewTestServer(binders...)
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

func notification(channel string) *send.Notification {
	return &send.Notification{
		Event: &notify.Event{
			ID: "evt-1", Type: notify.TypeJob, Severity: notify.SeverityCritical,
			Title: "Backup failed <!channel>", Message: "ping <@U123> and @here", Source: "argo/prod",
			URL: "https://argo.example.com/jobs/1",
		},
		Rules:   []send.RuleRef{{ID: "rul_1", Name: "Critical jobs"}},
		Channel: notify.ChannelSlack,
		To:      []string{channel},
	}
}

func TestSendPosts(t *testing.T) {
	var p posts
	srv := startServer(t, postHandler(&p, nil))
	res, err := slack.New(token, srv.GetAPIURL()).Send(context.Background(), notification("C0123"))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res.Provider != "slack" || res.MessageID != "C0123/1700000000.000001" {
		t.Errorf("result = %+v", res)
	}
	forms := p.all()
	if len(forms) != 1 {
		t.Fatalf("server got %d posts, want 1", len(forms))
	}
	f := forms[0]
	if f.Get("channel") != "C0123" || f.Get("token") != token {
		t.Errorf("channel %q token %q", f.Get("channel"), f.Get("token"))
	}
	if f.Get("unfurl_links") != "false" || f.Get("unfurl_media") != "false" {
		t.Errorf("unfurl_links=%q unfurl_media=%q, want false", f.Get("unfurl_links"), f.Get("unfurl_media"))
	}
	var atts []slackapi.Attachment
	if err := json.Unmarshal([]byte(f.Get("attachments")), &atts); err != nil {
		t.Fatalf("attachments: %v", err)
	}
	if len(atts) != 1 || atts[0].Color != "#d4213d" || len(atts[0].Blocks.BlockSet) < 3 {
		t.Fatalf("attachments = %+v, want one red attachment with blocks", atts)
	}
	all := f.Get("text") + f.Get("attachments")
	for _, bad := range []string{"<!channel>", "<@U123>", "@here"} {
		if strings.Contains(all, bad) {
			t.Errorf("posted message contains %q", bad)
		}
	}
	if !strings.Contains(f.Get("text"), "Backup failed &lt;!channel&gt;") {
		t.Errorf("text = %q", f.Get("text"))
	}
}

// TestSendOnDefaultSlacktest runs against slacktest's own chat.postMessage.
func TestSendOnDefaultSlacktest(t *testing.T) {
	srv := startServer(t)
	res, err := slack.New(token, strings.TrimSuffix(srv.GetAPIURL(), "/")).Send(context.Background(), notification("C0999"))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if !strings.HasPrefix(res.MessageID, "C0999/") {
		t.Errorf("message id = %q", res.MessageID)
	}
}

func slackError(code string) func(int, http.ResponseWriter) bool {
	return func(_ int, w http.ResponseWriter) bool {
		writeJSON(w, map[string]any{"ok": false, "error": code})
		return true
	}
}

func httpStatus(status int, header map[string]string) func(int, http.ResponseWriter) bool {
	return func(_ int, w http.ResponseWriter) bool {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html>error</html>"))
		return true
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name       string
		answer     func(int, http.ResponseWriter) bool
		to         []string
		permanent  bool
		retryAfter time.Duration
		posts      int
	}{
		{name: "rate limited", answer: httpStatus(429, map[string]string{"Retry-After": "7"}), retryAfter: 7 * time.Second, posts: 1},
		{name: "429 without retry-after", answer: httpStatus(429, nil), posts: 1},
		{name: "server error", answer: httpStatus(503, nil), posts: 1},
		{name: "bad gateway", answer: httpStatus(502, nil), posts: 1},
		{name: "not found url", answer: httpStatus(404, nil), permanent: true, posts: 1},
		{name: "channel_not_found", answer: slackError("channel_not_found"), permanent: true, posts: 1},
		{name: "not_in_channel", answer: slackError("not_in_channel"), permanent: true, posts: 1},
		{name: "is_archived", answer: slackError("is_archived"), permanent: true, posts: 1},
		{name: "invalid_auth", answer: slackError("invalid_auth"), permanent: true, posts: 1},
		{name: "account_inactive", answer: slackError("account_inactive"), permanent: true, posts: 1},
		{name: "token_revoked", answer: slackError("token_revoked"), permanent: true, posts: 1},
		{name: "missing_scope", answer: slackError("missing_scope"), permanent: true, posts: 1},
		{name: "ratelimited code", answer: slackError("ratelimited"), posts: 1},
		{name: "internal_error code", answer: slackError("internal_error"), posts: 1},
		{name: "no channel", to: []string{}, permanent: true},
		{name: "two channels", to: []string{"C1", "C2"}, permanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p posts
			srv := startServer(t, postHandler(&p, tt.answer))
			n := notification("C0123")
			if tt.to != nil {
				n.To = tt.to
			}
			_, err := slack.New(token, srv.GetAPIURL()).Send(context.Background(), n)
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if got := send.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			if got := send.RetryAfter(err); got != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", got, tt.retryAfter)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error reveals the token: %v", err)
			}
			if got := len(p.all()); got != tt.posts {
				t.Errorf("server got %d posts, want %d (no client-side retries)", got, tt.posts)
			}
		})
	}
}

// TestSendRetryAfter429 is the fault script of issue 3: Slack answers 429
// with Retry-After once, and the retry posts exactly one message.
func TestSendRetryAfter429(t *testing.T) {
	var p posts
	srv := startServer(t, postHandler(&p, func(call int, w http.ResponseWriter) bool {
		if call == 1 {
			return httpStatus(429, map[string]string{"Retry-After": "1"})(call, w)
		}
		return false
	}))
	s := slack.New(token, srv.GetAPIURL())
	_, err := s.Send(context.Background(), notification("C0123"))
	if err == nil || send.IsPermanent(err) || send.RetryAfter(err) != time.Second {
		t.Fatalf("first Send = %v, want transient with RetryAfter 1s", err)
	}
	if _, err := s.Send(context.Background(), notification("C0123")); err != nil {
		t.Fatalf("second Send: %v", err)
	}
	if got := len(p.all()); got != 2 {
		t.Errorf("server got %d posts, want 2 (one refused, one accepted)", got)
	}
}

func TestSendUnreachable(t *testing.T) {
	srv := startServer(t)
	url := srv.GetAPIURL()
	srv.Stop()
	_, err := slack.New(token, url).Send(context.Background(), notification("C0123"))
	if err == nil || send.IsPermanent(err) {
		t.Fatalf("Send to a stopped server = %v, want a transient error", err)
	}
}

func TestAuthTest(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc // nil: slacktest's own auth.test
		want    slack.Identity
		code    string
	}{
		{
			name: "ok",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, map[string]any{"ok": true, "url": "https://acme.slack.com/", "team": "Acme", "user": "argo-bot",
					"team_id": "T1", "user_id": "U1", "bot_id": "B1"})
			},
			want: slack.Identity{Team: "Acme", TeamID: "T1", TeamURL: "https://acme.slack.com/", BotName: "argo-bot", BotUserID: "U1", BotID: "B1"},
		},
		{name: "slacktest default"},
		{
			name: "invalid_auth",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
			},
			code: notify.EInvalid,
		},
		{
			name:    "server error",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) },
			code:    notify.EUnavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var binders []slacktest.Binder
			if tt.handler != nil {
				binders = append(binders, func(c slacktest.Customize) { c.Handle("/auth.test", tt.handler) })
			}
			srv := startServer(t, binders...)
			id, err := slack.AuthTest(context.Background(), token, srv.GetAPIURL())
			if tt.code != "" {
				if !notify.IsCode(err, tt.code) {
					t.Fatalf("AuthTest error = %v, want code %s", err, tt.code)
				}
				if strings.Contains(err.Error(), token) {
					t.Errorf("error reveals the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("AuthTest: %v", err)
			}
			if tt.handler == nil {
				if id.TeamID == "" || id.BotUserID == "" {
					t.Errorf("identity = %+v, want team and bot ids", id)
				}
				return
			}
			if id != tt.want {
				t.Errorf("identity = %+v, want %+v", id, tt.want)
			}
		})
	}
}

// conversations serves conversations.list over a fixed set of channels,
// paginated by limit, archived ones excluded when asked.
func conversations(t *testing.T, all []map[string]any) slacktest.Binder {
	return func(c slacktest.Customize) {
		c.Handle("/conversations.list", func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseForm(); err != nil {
				t.Error(err)
			}
			if got := r.PostForm.Get("types"); got != "public_channel,private_channel" {
				t.Errorf("types = %q", got)
			}
			if r.PostForm.Get("exclude_archived") != "true" {
				t.Errorf("exclude_archived = %q", r.PostForm.Get("exclude_archived"))
			}
			var live []map[string]any
			for _, ch := range all {
				if ch["is_archived"] != true {
					live = append(live, ch)
				}
			}
			start, _ := strconv.Atoi(r.PostForm.Get("cursor"))
			limit, _ := strconv.Atoi(r.PostForm.Get("limit"))
			end := min(start+limit, len(live))
			next := ""
			if end < len(live) {
				next = strconv.Itoa(end)
			}
			writeJSON(w, map[string]any{"ok": true, "channels": live[start:end], "response_metadata": map[string]any{"next_cursor": next}})
		})
	}
}

func TestChannelsPaginates(t *testing.T) {
	var all []map[string]any
	want := map[string]slack.Channel{}
	for i := range 7 {
		id := fmt.Sprintf("C%03d", i)
		ch := map[string]any{"id": id, "name": fmt.Sprintf("chan-%d", i), "is_private": i%2 == 1, "is_member": i%3 == 0, "is_archived": i == 4}
		all = append(all, ch)
		if i != 4 {
			want[id] = slack.Channel{ID: id, Name: fmt.Sprintf("chan-%d", i), IsPrivate: i%2 == 1, IsMember: i%3 == 0}
		}
	}
	srv := startServer(t, conversations(t, all))
	got := map[string]slack.Channel{}
	cursor, pages := "", 0
	for {
		chs, next, err := slack.Channels(context.Background(), token, srv.GetAPIURL(), cursor, 2)
		if err != nil {
			t.Fatalf("Channels: %v", err)
		}
		pages++
		if len(chs) > 2 {
			t.Errorf("page of %d, want at most 2", len(chs))
		}
		for _, c := range chs {
			if _, dup := got[c.ID]; dup {
				t.Errorf("channel %s listed twice", c.ID)
			}
			got[c.ID] = c
		}
		if next == "" {
			break
		}
		cursor = next
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if pages != 3 {
		t.Errorf("%d pages, want 3", pages)
	}
	if len(got) != len(want) {
		t.Errorf("got %d channels, want %d", len(got), len(want))
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("channel %s = %+v, want %+v", id, got[id], w)
		}
	}
}

func TestChannelsMissingScope(t *testing.T) {
	srv := startServer(t, func(c slacktest.Customize) {
		c.Handle("/conversations.list", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, map[string]any{"ok": false, "error": "missing_scope", "needed": "groups:read"})
		})
	})
	_, _, err := slack.Channels(context.Background(), token, srv.GetAPIURL(), "", 0)
	if !notify.IsCode(err, notify.EInvalid) || !strings.Contains(err.Error(), "groups:read") {
		t.Errorf("Channels error = %v, want invalid naming the scope", err)
	}
}
