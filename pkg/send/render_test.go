package send_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// renderCases are the notifications rendered to golden files.
func renderCases() map[string]*send.Notification {
	at := time.Date(2026, 11, 26, 3, 4, 5, 0, time.UTC)
	return map[string]*send.Notification{
		"job-failed": {
			Event: &notify.Event{
				ID: "evt-1", Type: notify.TypeJob, Severity: notify.SeverityCritical,
				Title: "Nightly backup failed", Message: "Job backup-42 exited with code 3.\nSee the log for details.",
				Source: "argo/prod-eu", OccurredAt: at, PolicyID: "pol-7", PolicyName: "Nightly backup",
				JobID: "job-42", Status: notify.JobFailed, URL: "https://argo.example.com/jobs/42?tab=log&x=1",
				Labels: map[string]string{"env": "prod", "team": "storage"},
			},
			Rules:   []send.RuleRef{{ID: "rul_1", Name: "Critical jobs"}, {ID: "rul_2", Name: "Backup owners"}},
			Channel: notify.ChannelEmail,
			To:      []string{"ops@example.com"},
		},
		"minimal": {
			Event: &notify.Event{Type: notify.TypeSystem, Severity: notify.SeverityInfo, Title: "Maintenance done"},
			Rules: []send.RuleRef{{ID: "rul_3", Name: "Everything"}},
		},
		"hostile": {
			Event: &notify.Event{
				ID: "evt-x", Type: notify.TypeDeployment, Severity: notify.SeverityWarning,
				Title:      "<!channel> deploy <script>alert(1)</script>\r\nBcc: victim@example.com",
				Message:    "hey <!here> and <@U123> and @channel @HERE @everyone, click <http://evil.example|here> & win",
				Source:     "<https://evil.example|argo>",
				ReceivedAt: at,
				URL:        "https://argo.example.com/x?a=<b>|c",
				Labels:     map[string]string{"<!subteam^S1>": "<@U999>", "k": `"><img src=x onerror=alert(1)>`},
			},
			Rules: []send.RuleRef{{ID: "rul_4", Name: "<b>bold</b> rule @here"}},
		},
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got; go test -update to accept):\n%s", name, diff)
	}
}

func TestRenderEmailGolden(t *testing.T) {
	for name, n := range renderCases() {
		t.Run(name, func(t *testing.T) {
			subject, text, html := send.RenderEmail(n)
			golden(t, name+".email.txt", "Subject: "+subject+"\n\n"+text)
			golden(t, name+".email.html", html)
		})
	}
}

func TestRenderEmailContent(t *testing.T) {
	n := renderCases()["job-failed"]
	subject, text, html := send.RenderEmail(n)
	if want := "[CRITICAL] JOB: Nightly backup failed"; subject != want {
		t.Errorf("subject = %q, want %q", subject, want)
	}
	for _, want := range []string{
		"Critical jobs (rul_1)", "Backup owners (rul_2)", "argo/prod-eu", "2026-11-26 03:04:05 UTC",
		"https://argo.example.com/jobs/42?tab=log&x=1", "env: prod", "team: storage", "Nightly backup (pol-7)",
		"job-42", "FAILED", "Job backup-42 exited with code 3.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text body lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{
		"Critical jobs (rul_1)", "Backup owners (rul_2)", "argo/prod-eu", "2026-11-26 03:04:05 UTC",
		`href="https://argo.example.com/jobs/42?tab=log&amp;x=1"`, "<code>env</code></td><td>prod",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("html body lacks %q:\n%s", want, html)
		}
	}
}

func TestRenderEmailEscapes(t *testing.T) {
	subject, _, html := send.RenderEmail(renderCases()["hostile"])
	if strings.ContainsAny(subject, "\r\n") {
		t.Errorf("subject keeps a line break: %q", subject)
	}
	for _, bad := range []string{"<script>", "<img", "<!channel>", "<b>bold"} {
		if strings.Contains(html, bad) {
			t.Errorf("html body contains unescaped %q", bad)
		}
	}
	if !strings.Contains(html, "&lt;script&gt;") {
		t.Errorf("html body does not show the escaped title")
	}
}
