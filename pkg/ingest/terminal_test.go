package ingest

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
)

// TestTerminalStatuses checks that the statuses FromEventBridge maps to a
// JOB event are exactly the terminal ones of deploy's patterns, which the
// stack's EventBridge rules route to ingest: a status missing from a rule
// would never notify, one too many would invoke ingest for nothing.
func TestTerminalStatuses(t *testing.T) {
	ecsStatuses := []string{"PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"}
	tests := []struct {
		name     string
		fixture  string
		src      deploy.JobSource
		statuses []string
	}{
		{"batch", "batch.failed.json", deploy.Batch, keys(batchOutcomes)},
		{"stepfunctions", "stepfunctions.failed.json", deploy.States, keys(statesOutcomes)},
		{"codebuild", "codebuild.failed.json", deploy.CodeBuild, keys(codeBuildOutcomes)},
		{"ecs", "ecs.failed.json", deploy.ECS, ecsStatuses},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := os.ReadFile("../../events/eventbridge/" + tc.fixture)
			if err != nil {
				t.Fatal(err)
			}
			var ev map[string]any
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			if ev["source"] != tc.src.Source || ev["detail-type"] != tc.src.DetailType {
				t.Fatalf("fixture is %v %v, pattern %s %s", ev["source"], ev["detail-type"], tc.src.Source, tc.src.DetailType)
			}
			var terminal []string
			for _, status := range tc.statuses {
				ev["detail"].(map[string]any)[tc.src.StatusField] = status
				b, _ := json.Marshal(ev)
				_, ok, err := FromEventBridge(b, time.Now())
				if err != nil {
					t.Fatalf("status %s: %v", status, err)
				}
				if ok {
					terminal = append(terminal, status)
				}
			}
			want := slices.Sorted(slices.Values(tc.src.Terminal))
			if slices.Sort(terminal); !slices.Equal(terminal, want) {
				t.Errorf("terminal statuses %v, deploy's pattern routes %v", terminal, want)
			}
		})
	}
}

func keys(m map[string]outcome) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
