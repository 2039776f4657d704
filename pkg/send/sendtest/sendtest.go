// Package sendtest holds what the rendering tests of every channel share:
// the notifications rendered to golden files (a full one, a minimal one and
// a hostile one) and the golden-file comparison. It is imported by tests
// only.
package sendtest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// RenderCases are the notifications each channel renders to golden files,
// by name.
func RenderCases() map[string]*send.Notification {
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

// Golden compares got with testdata/name, or writes it there when update
// is set (the test's -update flag).
func Golden(t *testing.T, update bool, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if update {
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
