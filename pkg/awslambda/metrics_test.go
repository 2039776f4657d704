package awslambda_test

import (
	"slices"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
	"github.com/argoproj-labs/argo-notify/pkg/send/route"
)

// TestMetricChannelsAreTheChannels keeps the stack's per-channel alarms
// (deploy.MetricChannels) in step with the channels the dispatcher routes.
func TestMetricChannelsAreTheChannels(t *testing.T) {
	var got []string
	for _, ch := range route.New(route.Config{}).Channels() {
		got = append(got, string(ch.Name))
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(deploy.MetricChannels))
	if !slices.Equal(got, want) {
		t.Errorf("channels %v, deploy.MetricChannels %v: update pkg/deploy (the stack alarms per channel)", got, want)
	}
}
