package send_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/send/sendtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func renderCases() map[string]*send.Notification { return sendtest.RenderCases() }

func golden(t *testing.T, name, got string) {
	t.Helper()
	sendtest.Golden(t, *update, name, got)
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
