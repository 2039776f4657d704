package awslambda_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestFunctionsLinkOnlyWhatTheyCall keeps each function's binary free of
// the packages it does not call: every package linked is initialized at
// every cold start (an SDK service package costs 0.3-0.8 ms of init, huma
// and the admin API ~0.5 ms).
func TestFunctionsLinkOnlyWhatTheyCall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const (
		sdk    = "github.com/aws/aws-sdk-go-v2/service/"
		module = "github.com/argoproj-labs/argo-notify/"
	)
	for fn, never := range map[string][]string{
		"api": {sdk + "sesv2"},
		"ingest": {sdk + "dynamodb", sdk + "sesv2", module + "pkg/console", module + "pkg/store/dynamo",
			"github.com/danielgtaylor/huma/v2", module + "pkg/api", module + "pkg/send/smtp", module + "pkg/send/slack"},
		"dispatcher": {"github.com/danielgtaylor/huma/v2", module + "pkg/api", module + "pkg/console"},
	} {
		cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "./functions/"+fn)
		cmd.Dir = repoRoot()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", fn, err)
		}
		deps := strings.Fields(string(out))
		for _, p := range never {
			if slices.Contains(deps, p) {
				t.Errorf("functions/%s links %s, which it never calls", fn, p)
			}
		}
	}
}
