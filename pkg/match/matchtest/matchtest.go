// Package matchtest generates rule sets and events with a plausible
// spread for measuring matchers: pkg/match's benchmarks and the
// Alertmanager reference in _tools/amref use the same generator, so they
// measure the same rules.
package matchtest

import (
	"fmt"
	"math/rand/v2"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// Rules builds n rules with a plausible spread: 80% user rules on one or
// two event types and one to three severities (critical-heavy), 10% of
// them disabled; 20% policy rules, one per policy, mostly onFailure. The
// same seed gives the same rules, so that pkg/match's BenchmarkMatch and
// the Alertmanager reference (_tools/amref) measure the same rule set.
func Rules(rng *rand.Rand, n int) []*notify.Rule {
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

// Events builds n events: mostly INFO and WARNING, a third JOB events,
// half of which carry a policy id that exists. nRules is the
// number of rules Rules built (policy ids refer to its policy rules).
func Events(rng *rand.Rand, n, nRules int) []*notify.Event {
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
