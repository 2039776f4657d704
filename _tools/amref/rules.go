package amref

import (
	"fmt"
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
