package match_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/match"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// realisticRules builds n rules with a plausible spread: 80% user rules on
// one or two event types and one to three severities (critical-heavy),
// 10% of them disabled; 20% policy rules, one per policy, mostly onFailure.
func realisticRules(rng *rand.Rand, n int) []*notify.Rule {
	rules := make([]*notify.Rule, 0, n)
	perm := rng.Perm(n)
	for i := range n {
		id := fmt.Sprintf("rule-%06d", perm[i])
		if i%5 == 4 {
			rules = append(rules, &notify.Rule{
				ID: id, Enabled: rng.IntN(10) > 0, Source: notify.SourcePolicy,
				Policy: &notify.Policy{ID: fmt.Sprintf("pol-%d", i), OnSuccess: rng.IntN(3) == 0, OnFailure: true},
			})
			continue
		}
		r := &notify.Rule{ID: id, Enabled: rng.IntN(10) > 0, Source: notify.SourceUser}
		for _, t := range rng.Perm(len(notify.EventTypes))[:1+rng.IntN(2)] {
			r.EventTypes = append(r.EventTypes, notify.EventTypes[t])
		}
		r.Severities = []notify.Severity{notify.SeverityCritical}
		if rng.IntN(2) == 0 {
			r.Severities = append(r.Severities, notify.SeverityWarning)
		}
		if rng.IntN(4) == 0 {
			r.Severities = append(r.Severities, notify.SeverityInfo)
		}
		rules = append(rules, r)
	}
	return rules
}

// realisticEvents: mostly INFO and WARNING, a third JOB events, half of
// which carry a policy id that exists.
func realisticEvents(rng *rand.Rand, n, nRules int) []*notify.Event {
	sevs := []notify.Severity{notify.SeverityInfo, notify.SeverityInfo, notify.SeverityInfo, notify.SeverityWarning, notify.SeverityWarning, notify.SeverityCritical}
	evs := make([]*notify.Event, n)
	for i := range evs {
		ev := &notify.Event{Type: notify.EventTypes[rng.IntN(len(notify.EventTypes))], Severity: sevs[rng.IntN(len(sevs))]}
		if rng.IntN(3) == 0 {
			ev.Type = notify.TypeJob
			ev.Status = notify.JobFailed
			if rng.IntN(3) == 0 {
				ev.Status = notify.JobSucceeded
			}
			if rng.IntN(2) == 0 && nRules >= 5 {
				ev.PolicyID = fmt.Sprintf("pol-%d", 5*rng.IntN(nRules/5)+4)
			}
		}
		evs[i] = ev
	}
	return evs
}

func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{10, 1_000, 10_000} {
		rng := rand.New(rand.NewPCG(uint64(n), 7))
		rules := realisticRules(rng, n)
		evs := realisticEvents(rng, 1024, n)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			idx := match.New(rules)
			matched := 0
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				matched += len(idx.Match(evs[i&1023]))
				i++
			}
			b.ReportMetric(float64(matched)/float64(i), "matches/event")
		})
		b.Run(fmt.Sprintf("rules=%d/naive", n), func(b *testing.B) {
			matched := 0
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				matched += len(naive(rules, evs[i&1023]))
				i++
			}
			b.ReportMetric(float64(matched)/float64(i), "matches/event")
		})
	}
}

func BenchmarkNew(b *testing.B) {
	for _, n := range []int{10, 1_000, 10_000} {
		rules := realisticRules(rand.New(rand.NewPCG(uint64(n), 7)), n)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				match.New(rules)
			}
		})
	}
}
