package amref

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/alertmanager/config"
	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// Rules builds n rules with a plausible spread: 80% user rules on one or
// two event types and one to three severities (critical-heavy), 10% of
// them disabled; 20% policy rules, one per policy, mostly onFailure. It
// mirrors realisticRules of pkg/match's BenchmarkMatch (same draws in the
// same order), so a seed gives the same rules there and here.
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
// half of which carry a policy id that exists. It mirrors
// realisticEvents of pkg/match's BenchmarkMatch.
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

// rootReceiver names the root route, which Route.Match returns when no
// rule's route matches.
const rootReceiver = "-"

// Tree expresses rules as an Alertmanager routing tree: one child route
// per enabled rule, its receiver the rule id, continue: true.
func Tree(rules []*notify.Rule) (*dispatch.Route, error) {
	root := &config.Route{Receiver: rootReceiver}
	for _, r := range rules {
		if r == nil || !r.Enabled {
			continue
		}
		var ms amcommoncfg.Matchers
		add := func(t labels.MatchType, name, value string) error {
			m, err := labels.NewMatcher(t, name, value)
			if err != nil {
				return fmt.Errorf("rule %s: %w", r.ID, err)
			}
			ms = append(ms, m)
			return nil
		}
		var err error
		if r.Source == notify.SourcePolicy {
			if r.Policy == nil || r.Policy.ID == "" || (!r.Policy.OnSuccess && !r.Policy.OnFailure) {
				continue
			}
			var outcomes []string
			if r.Policy.OnFailure {
				outcomes = append(outcomes, string(notify.JobFailed))
			}
			if r.Policy.OnSuccess {
				outcomes = append(outcomes, string(notify.JobSucceeded))
			}
			err = errorsJoin(
				add(labels.MatchEqual, "type", string(notify.TypeJob)),
				add(labels.MatchEqual, "policy", r.Policy.ID),
				add(labels.MatchRegexp, "status", alternation(outcomes)),
			)
		} else {
			if len(r.EventTypes) == 0 || len(r.Severities) == 0 {
				continue
			}
			types := make([]string, len(r.EventTypes))
			for i, t := range r.EventTypes {
				types[i] = string(t)
			}
			sevs := make([]string, len(r.Severities))
			for i, s := range r.Severities {
				sevs[i] = string(s)
			}
			err = errorsJoin(
				add(labels.MatchRegexp, "type", alternation(types)),
				add(labels.MatchRegexp, "severity", alternation(sevs)),
			)
		}
		if err != nil {
			return nil, err
		}
		root.Routes = append(root.Routes, &config.Route{Receiver: r.ID, Matchers: ms, Continue: true})
	}
	return dispatch.NewRoute(root, nil), nil
}

func errorsJoin(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// alternation is "A|B|…" of the quoted values (Alertmanager anchors it).
func alternation(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = regexp.QuoteMeta(v)
	}
	return strings.Join(q, "|")
}

// Labels is the label set of ev that the routes match on.
func Labels(ev *notify.Event) model.LabelSet {
	ls := model.LabelSet{"type": model.LabelValue(ev.Type), "severity": model.LabelValue(ev.Severity)}
	if ev.Status != "" {
		ls["status"] = model.LabelValue(ev.Status)
	}
	if ev.PolicyID != "" {
		ls["policy"] = model.LabelValue(ev.PolicyID)
	}
	return ls
}

// RouteIDs are the rule ids of the routes Route.Match returned, sorted
// (none when only the root matched).
func RouteIDs(routes []*dispatch.Route) []string {
	var ids []string
	for _, r := range routes {
		if r.RouteOpts.Receiver != rootReceiver {
			ids = append(ids, r.RouteOpts.Receiver)
		}
	}
	slices.Sort(ids)
	return ids
}

// RuleIDs are the ids of rules, sorted.
func RuleIDs(rules []*notify.Rule) []string {
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return ids
}
