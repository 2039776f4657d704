package ses

// Integration tests on kumo (see _tools/README.md): they skip unless
// ARGO_NOTIFY_INTEGRATION=1 and fail if it is set and kumo does not answer.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/internal/kumotest"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// kumo returns an SES v2 client on kumo and kumo's base URL, or skips the
// test when integration tests are off.
func kumo(t *testing.T) (*sesv2.Client, string) {
	t.Helper()
	return sesv2.NewFromConfig(kumotest.Config(t)), kumotest.URL(t)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("kumo unreachable: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// sentEmail is what kumo records of a SendEmail.
type sentEmail struct {
	MessageID        string `json:"MessageId"`
	FromEmailAddress string
	Destination      struct{ ToAddresses, CcAddresses, BccAddresses []string }
	Subject          string
	Body             string
	HTMLBody         string
	ConfigurationSet string `json:"ConfigurationSetName"`
}

// sent returns kumo's record of each message id, in the order given.
func sent(t *testing.T, base string, ids []string) []sentEmail {
	t.Helper()
	var all struct{ SentEmails []sentEmail }
	getJSON(t, base+"/kumo/ses/v2/sent-emails", &all)
	byID := map[string]sentEmail{}
	for _, e := range all.SentEmails {
		byID[e.MessageID] = e
	}
	out := make([]sentEmail, 0, len(ids))
	for _, id := range ids {
		e, ok := byID[id]
		if !ok {
			t.Fatalf("kumo has no sent email %s", id)
		}
		out = append(out, e)
	}
	return out
}

func TestKumoSend(t *testing.T) {
	client, base := kumo(t)
	b := make([]byte, 4)
	rand.Read(b)
	tag := hex.EncodeToString(b)
	tests := []struct {
		name      string
		cfg       Config
		to        []string
		wantFrom  string
		wantSplit []int
	}{
		{name: "two recipients", cfg: Config{From: "notify@example.com", ConfigurationSet: "argo-" + tag},
			to: []string{"a-" + tag + "@example.com", "b-" + tag + "@example.com"}, wantFrom: "notify@example.com", wantSplit: []int{2}},
		{name: "display name", cfg: Config{From: "Argo Notify <notify@example.com>"},
			to: []string{"c-" + tag + "@example.com"}, wantFrom: `"Argo Notify" <notify@example.com>`, wantSplit: []int{1}},
		{name: "120 recipients", cfg: Config{From: "notify@example.com"}, to: addrs(120), wantFrom: "notify@example.com", wantSplit: []int{50, 50, 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(client, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			n := notification(tt.to...)
			n.Event.Title = "Job <b>nightly</b> failed " + tag
			res, err := s.Send(context.Background(), n)
			if err != nil {
				t.Fatalf("Send() = %v", err)
			}
			ids := strings.Split(res.MessageID, ",")
			if len(ids) != len(tt.wantSplit) {
				t.Fatalf("Result.MessageID %q: %d ids, want %d", res.MessageID, len(ids), len(tt.wantSplit))
			}
			subject, text, html := send.RenderEmail(n)
			var to []string
			for i, e := range sent(t, base, ids) {
				if len(e.Destination.ToAddresses) != tt.wantSplit[i] {
					t.Errorf("message %d has %d recipients, want %d", i, len(e.Destination.ToAddresses), tt.wantSplit[i])
				}
				to = append(to, e.Destination.ToAddresses...)
				if e.FromEmailAddress != tt.wantFrom || e.ConfigurationSet != tt.cfg.ConfigurationSet {
					t.Errorf("from %q, configuration set %q; want %q, %q", e.FromEmailAddress, e.ConfigurationSet, tt.wantFrom, tt.cfg.ConfigurationSet)
				}
				if e.Subject != subject || e.Body != text || e.HTMLBody != html {
					t.Errorf("sent content differs from send.RenderEmail: subject %q", e.Subject)
				}
				if !strings.Contains(e.HTMLBody, "Job &lt;b&gt;nightly&lt;/b&gt; failed") {
					t.Errorf("HTML body does not escape the title: %s", e.HTMLBody)
				}
			}
			if diff := cmp.Diff(tt.to, to); diff != "" {
				t.Errorf("recipients (-want +got):\n%s", diff)
			}
		})
	}
}
