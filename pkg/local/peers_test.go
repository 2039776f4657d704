package local_test

// Test peers of the end-to-end and fault tests: an SMTP server (go-smtp in
// process, STARTTLS and AUTH required, or mailpit from the integration
// environment) and a Slack Web API server, both on 127.0.0.1, both
// recording what they received.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/send/smtp/smtptest"
)

// mailMsg is one message as a mailbox saw it: one per envelope recipient.
type mailMsg struct {
	To      string // lower case
	Subject string
	At      time.Time
}

// smtpPeer is where the service sends mail and where the test reads it.
type smtpPeer struct {
	Host, User, Pass string
	Port             int
	CAFile           string // PEM to trust
	// Messages returns every message received so far.
	Messages func(t testing.TB) []mailMsg
}

// startGoSMTP starts an in-process SMTP server (smtptest) requiring
// STARTTLS and AUTH PLAIN, and returns it (to script DATA replies and
// count DATA commands) and the peer that reads its mail.
func startGoSMTP(t testing.TB) (*smtptest.Server, smtpPeer) {
	t.Helper()
	s := smtptest.NewServer(t, smtptest.WithMaxRecipients(100))
	return s, smtpPeer{
		Host: s.Host, Port: s.Port, User: s.Username, Pass: s.Password, CAFile: s.CAFile,
		Messages: func(testing.TB) []mailMsg {
			var out []mailMsg
			for _, m := range s.Messages() {
				subject := ""
				if msg, err := mail.ReadMessage(bytes.NewReader(m.Data)); err == nil {
					subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
				}
				for _, to := range m.To {
					out = append(out, mailMsg{To: strings.ToLower(to), Subject: subject, At: m.Received})
				}
			}
			return out
		},
	}
}

// mailpitPeer is the mailpit of the integration environment (peers.md).
// It fails the test when the environment is incomplete: with
// ARGO_NOTIFY_INTEGRATION=1 a missing peer is an error, not a skip. Only
// messages to addresses in domain are returned (mailpit is shared by the
// whole test run).
func mailpitPeer(t testing.TB, domain string) smtpPeer {
	t.Helper()
	addr, api := os.Getenv("ARGO_NOTIFY_TEST_SMTP_ADDR"), os.Getenv("ARGO_NOTIFY_TEST_MAILPIT_API")
	ca := os.Getenv("ARGO_NOTIFY_TEST_SMTP_CA")
	host, portText, err := net.SplitHostPort(addr)
	if err != nil || api == "" || ca == "" {
		t.Fatalf("integration environment incomplete: ARGO_NOTIFY_TEST_SMTP_ADDR=%q, ARGO_NOTIFY_TEST_MAILPIT_API=%q, ARGO_NOTIFY_TEST_SMTP_CA=%q", addr, api, ca)
	}
	port, _ := strconv.Atoi(portText)
	if resp, err := http.Get(api + "/readyz"); err != nil {
		t.Fatalf("mailpit unreachable at %s: %v", api, err)
	} else {
		resp.Body.Close()
	}
	suffix := "@" + strings.ToLower(domain)
	return smtpPeer{
		Host: host, Port: port, CAFile: ca,
		User: os.Getenv("ARGO_NOTIFY_TEST_SMTP_USER"), Pass: os.Getenv("ARGO_NOTIFY_TEST_SMTP_PASS"),
		Messages: func(t testing.TB) []mailMsg {
			t.Helper()
			var out []mailMsg
			for start := 0; ; {
				var page struct {
					Total    int `json:"total"`
					Messages []struct {
						To      []struct{ Address string } `json:"To"`
						Subject string                     `json:"Subject"`
						Created time.Time                  `json:"Created"`
					} `json:"messages"`
				}
				resp, err := http.Get(fmt.Sprintf("%s/api/v1/messages?start=%d&limit=200", api, start))
				if err != nil {
					t.Fatalf("mailpit: list messages: %v", err)
				}
				err = json.NewDecoder(resp.Body).Decode(&page)
				resp.Body.Close()
				if err != nil {
					t.Fatalf("mailpit: decode messages: %v", err)
				}
				for _, m := range page.Messages {
					for _, to := range m.To {
						if a := strings.ToLower(to.Address); strings.HasSuffix(a, suffix) {
							out = append(out, mailMsg{To: a, Subject: m.Subject, At: m.Created})
						}
					}
				}
				start += len(page.Messages)
				if len(page.Messages) == 0 || start >= page.Total {
					return out
				}
			}
		},
	}
}

// slackPost is one chat.postMessage the Slack server accepted.
type slackPost struct {
	Channel string
	Text    string // text and attachments, as posted
	At      time.Time
}

// slackPeer is a Slack Web API on 127.0.0.1: auth.test,
// conversations.list and chat.postMessage, which it records. Script
// decides the answer to each chat.postMessage (n from 1): return a status
// and headers to fail it, or 0 to accept.
type slackPeer struct {
	URL   string // the API base, as ARGO_NOTIFY_SLACK_API_URL takes it
	Token string

	mu     sync.Mutex
	script func(n int, channel string) (status int, retryAfter string)
	calls  int
	posts  []slackPost
	tried  []time.Time // every chat.postMessage call, accepted or not
}

func startSlack(t testing.TB) *slackPeer {
	t.Helper()
	s := &slackPeer{Token: "xoxb-e2e-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	authed := func(w http.ResponseWriter, r *http.Request) bool {
		_ = r.ParseForm()
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if tok == "" {
			tok = r.Form.Get("token")
		}
		if tok != s.Token {
			reply(w, map[string]any{"ok": false, "error": "invalid_auth"})
			return false
		}
		return true
	}
	mux.HandleFunc("/api/auth.test", func(w http.ResponseWriter, r *http.Request) {
		if authed(w, r) {
			reply(w, map[string]any{"ok": true, "url": "https://e2e.slack.test/", "team": "E2E", "team_id": "T0E2E", "user": "argo-notify", "user_id": "U0BOT", "bot_id": "B0BOT"})
		}
	})
	mux.HandleFunc("/api/conversations.list", func(w http.ResponseWriter, r *http.Request) {
		if authed(w, r) {
			reply(w, map[string]any{"ok": true, "channels": []map[string]any{{"id": "C0OPS00001", "name": "ops", "is_channel": true}}, "response_metadata": map[string]any{"next_cursor": ""}})
		}
	})
	mux.HandleFunc("/api/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
		if !authed(w, r) {
			return
		}
		ch := r.Form.Get("channel")
		s.mu.Lock()
		s.calls++
		s.tried = append(s.tried, time.Now())
		status, retryAfter := 0, ""
		if s.script != nil {
			status, retryAfter = s.script(s.calls, ch)
		}
		if status != 0 {
			s.mu.Unlock()
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(status)
			return
		}
		s.posts = append(s.posts, slackPost{Channel: ch, Text: r.Form.Get("text") + "\n" + r.Form.Get("attachments") + "\n" + r.Form.Get("blocks"), At: time.Now()})
		n := len(s.posts)
		s.mu.Unlock()
		reply(w, map[string]any{"ok": true, "channel": ch, "ts": fmt.Sprintf("1700000000.%06d", n)})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/api/"
	return s
}

func (s *slackPeer) setScript(f func(n int, channel string) (int, string)) {
	s.mu.Lock()
	s.script = f
	s.mu.Unlock()
}

// Posts returns every accepted post so far.
func (s *slackPeer) Posts() []slackPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]slackPost(nil), s.posts...)
}

// Tried returns the times of every chat.postMessage call so far.
func (s *slackPeer) Tried() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.tried...)
}
