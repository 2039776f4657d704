package amref

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/common/model"

	"github.com/argoproj-labs/argo-notify/pkg/match"
	"github.com/argoproj-labs/argo-notify/pkg/match/matchtest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// setup builds n rules and 1,024 events from the seed BenchmarkMatch uses
// for n, our index and Alertmanager's tree over them, and checks that both
// return the same rule ids for every event.
func setup(tb testing.TB, n int) (*match.Index, *dispatch.Route, []*notify.Event, []model.LabelSet) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	rules := matchtest.Rules(rng, n)
	evs := matchtest.Events(rng, 1024, n)
	idx := match.New(rules)
	tree, err := Tree(rules)
	if err != nil {
		tb.Fatal(err)
	}
	lsets := make([]model.LabelSet, len(evs))
	for i, ev := range evs {
		lsets[i] = Labels(ev)
	}
	matched := 0
	for i, ev := range evs {
		ours, theirs := RuleIDs(idx.Match(ev)), RouteIDs(tree.Match(lsets[i]))
		if !slices.Equal(ours, theirs) {
			tb.Fatalf("event %d (%s %s %s %s): ours %d rules %v, Alertmanager %d routes %v",
				i, ev.Type, ev.Severity, ev.Status, ev.PolicyID, len(ours), head(ours), len(theirs), head(theirs))
		}
		matched += len(ours)
	}
	if matched == 0 {
		tb.Fatal("no event matched any rule: the cross-check proves nothing")
	}
	return idx, tree, evs, lsets
}

func head(ids []string) []string { return ids[:min(len(ids), 5)] }

// TestSameMatches is the cross-check alone: both matchers return the same
// rules for every generated event, at each size.
func TestSameMatches(t *testing.T) {
	for _, n := range []int{10, 1_000, 10_000} {
		t.Run(fmt.Sprintf("rules=%d", n), func(t *testing.T) { setup(t, n) })
	}
}

// BenchmarkMatchVsAlertmanager times one event's match, ours and
// Alertmanager's Route.Match (the routes as it returns them, unsorted),
// over the same 10,000 rules and events (after
// the cross-check). The table of make bench compares their ns/op.
func BenchmarkMatchVsAlertmanager(b *testing.B) {
	const n = 10_000
	idx, tree, evs, lsets := setup(b, n)
	b.Run(fmt.Sprintf("rules=%d/ours", n), func(b *testing.B) {
		matched, i := 0, 0
		b.ReportAllocs()
		for b.Loop() {
			matched += len(idx.Match(evs[i&1023]))
			i++
		}
		b.ReportMetric(float64(matched)/float64(i), "matches/event")
	})
	b.Run(fmt.Sprintf("rules=%d/alertmanager", n), func(b *testing.B) {
		matched, i := 0, 0
		b.ReportAllocs()
		for b.Loop() {
			// The routes as Route.Match returns them (the root alone when
			// no rule matches): no sorting, as ours needs none.
			if rs := tree.Match(lsets[i&1023]); len(rs) > 1 || rs[0] != tree {
				matched += len(rs)
			}
			i++
		}
		b.ReportMetric(float64(matched)/float64(i), "matches/event")
	})
}
