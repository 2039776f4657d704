package channel_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoProviderSDK: core send and the registry import no provider SDK
// (Slack, AWS, SMTP) and no channel package, so a channel is a plug-in.
func TestNoProviderSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, pkg := range []string{"github.com/argoproj-labs/argo-notify/pkg/send", "github.com/argoproj-labs/argo-notify/pkg/channel"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for dep := range strings.FieldsSeq(string(out)) {
			for _, banned := range []string{"github.com/slack-go/", "github.com/aws/", "github.com/wneessen/", "github.com/emersion/",
				"github.com/argoproj-labs/argo-notify/pkg/send/", "github.com/argoproj-labs/argo-notify/pkg/store"} {
				if strings.HasPrefix(dep, banned) {
					t.Errorf("%s imports %s", pkg, dep)
				}
			}
		}
	}
}
