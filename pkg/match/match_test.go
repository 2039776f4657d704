package match_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/match"
	"github.com/argoproj-labs/argo-notify/pkg/match/matchtest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

func userRule(id string, enabled bool, types []notify.EventType, sevs []notify.Severity) *notify.Rule {
	return &notify.Rule{ID: id, Name: id, Enabled: enabled, Source: notify.SourceUser, EventTypes: types, Severities: sevs}
}

func policyRule(id, policyID string, enabled, onSuccess, onFailure bool) *notify.Rule {
	return &notify.Rule{
		ID: id, Name: id, Enabled: enabled, Source: notify.SourcePolicy,
		EventTypes: []notify.EventType{notify.TypeJob}, Severities: []notify.Severity{notify.SeverityInfo},
		Policy: &notify.Policy{ID: policyID, Name: policyID, OnSuccess: onSuccess, OnFailure: onFailure},
	}
}

func ids(rs []*notify.Rule) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.ID
	}
	return strings.Join(s, ",")
}

var (
	all     = notify.EventTypes
	allSevs = notify.Severities
)

func TestMatch(t *testing.T) {
	rules := []*notify.Rule{
		userRule("u-crit-all", true, all, []notify.Severity{notify.SeverityCritical}),
		userRule("u-job", true, []notify.EventType{notify.TypeJob}, allSevs),
		userRule("u-disabled", false, all, allSevs),
		userRule("u-spend-warn", true, []notify.EventType{notify.TypeSpending}, []notify.Severity{notify.SeverityWarning, notify.SeverityCritical}),
		userRule("u-dup", true, []notify.EventType{notify.TypeSystem, notify.TypeSystem}, []notify.Severity{notify.SeverityInfo, notify.SeverityInfo}),
		userRule("a-first", true, []notify.EventType{notify.TypeSystem}, []notify.Severity{notify.SeverityInfo}),
		policyRule("policy:p1", "p1", true, true, true),
		policyRule("policy:p2", "p2", true, false, true),
		policyRule("policy:p3", "p3", false, true, true),
		policyRule("b-p1-success", "p1", true, true, false),
		{ID: "no-policy", Enabled: true, Source: notify.SourcePolicy, EventTypes: all, Severities: allSevs},
		nil,
	}
	idx := match.New(rules)
	tests := []struct {
		name string
		ev   notify.Event
		want string
	}{
		{"critical system", notify.Event{Type: notify.TypeSystem, Severity: notify.SeverityCritical}, "u-crit-all"},
		{"info system, duplicates indexed once, sorted", notify.Event{Type: notify.TypeSystem, Severity: notify.SeverityInfo}, "a-first,u-dup"},
		{"warning spending", notify.Event{Type: notify.TypeSpending, Severity: notify.SeverityWarning}, "u-spend-warn"},
		{"critical spending", notify.Event{Type: notify.TypeSpending, Severity: notify.SeverityCritical}, "u-crit-all,u-spend-warn"},
		{"nothing matches", notify.Event{Type: notify.TypeDeployment, Severity: notify.SeverityInfo}, ""},
		{"job without policy", notify.Event{Type: notify.TypeJob, Severity: notify.SeverityInfo}, "u-job"},
		{"policy job succeeded", notify.Event{Type: notify.TypeJob, Severity: notify.SeverityInfo, PolicyID: "p1", Status: notify.JobSucceeded}, "b-p1-success,policy:p1,u-job"},
		{"policy job failed, severity irrelevant", notify.Event{Type: notify.TypeJob, Severity: notify.SeverityCritical, PolicyID: "p1", Status: notify.JobFailed}, "policy:p1,u-crit-all,u-job"},
		{"policy onFailure only, success", notify.Event{Type: notify.TypeJob, Severity: notify.SeverityInfo, PolicyID: "p2", Status: notify.JobSucceeded}, "u-job"},
		{"policy onFailure only, failure", notify.Event{Type: notify.TypeJob, Severity: notify.SeverityWarning, PolicyID: "p2", Status: notify.JobFailed}, "policy:p2,u-job"},
		{"disabled policy rule", notify.Event{Type: notify.TypeJob, Severity: notify.SeverityInfo, PolicyID: "p3", Status: notify.JobFailed}, "u-job"},
		{"policy id on a non-JOB event", notify.Event{Type: notify.TypeSystem, Severity: notify.SeverityWarning, PolicyID: "p1", Status: notify.JobFailed}, ""},
		{"policy job without status", notify.Event{Type: notify.TypeJob, Severity: notify.SeverityWarning, PolicyID: "p1"}, "u-job"},
		{"unknown policy", notify.Event{Type: notify.TypeJob, Severity: notify.SeverityWarning, PolicyID: "nope", Status: notify.JobFailed}, "u-job"},
		{"unknown type", notify.Event{Type: "OTHER", Severity: notify.SeverityCritical}, ""},
		{"unknown severity", notify.Event{Type: notify.TypeSystem, Severity: "LOUD"}, ""},
		{"unknown severity still reaches policy rules", notify.Event{Type: notify.TypeJob, Severity: "LOUD", PolicyID: "p2", Status: notify.JobFailed}, "policy:p2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(idx.Match(&tc.ev)); got != tc.want {
				t.Errorf("Match = %q, want %q", got, tc.want)
			}
		})
	}
	if got, want := idx.Len(), 8; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
}

func TestMatchEdges(t *testing.T) {
	t.Run("nil index and nil event", func(t *testing.T) {
		var idx *match.Index
		if got := idx.Match(&notify.Event{Type: notify.TypeJob, Severity: notify.SeverityInfo}); got != nil {
			t.Errorf("nil index matched %v", got)
		}
		if got := match.New(nil).Match(nil); got != nil {
			t.Errorf("nil event matched %v", got)
		}
	})
	t.Run("same pointer given twice is matched once", func(t *testing.T) {
		r := userRule("r", true, all, allSevs)
		p := policyRule("p", "p", true, true, true)
		idx := match.New([]*notify.Rule{r, p, r, p})
		got := ids(idx.Match(&notify.Event{Type: notify.TypeJob, Severity: notify.SeverityInfo, PolicyID: "p", Status: notify.JobFailed}))
		if got != "p,r" {
			t.Errorf("Match = %q, want p,r", got)
		}
	})
	t.Run("appending to a result does not change the index", func(t *testing.T) {
		idx := match.New([]*notify.Rule{userRule("a", true, all, allSevs), userRule("b", true, all, allSevs)})
		ev := &notify.Event{Type: notify.TypeSystem, Severity: notify.SeverityInfo}
		first := idx.Match(ev)
		_ = append(first, userRule("zzz", true, all, allSevs))
		if got := ids(idx.Match(ev)); got != "a,b" {
			t.Errorf("after append, Match = %q, want a,b", got)
		}
	})
}

// naive is the reference matcher: a linear scan that states the rules of
// matching as plainly as possible.
func naive(rules []*notify.Rule, ev *notify.Event) []*notify.Rule {
	var out []*notify.Rule
	for _, r := range rules {
		if r == nil || !r.Enabled || slices.Contains(out, r) {
			continue
		}
		if r.Source == notify.SourcePolicy {
			if r.Policy != nil && ev.Type == notify.TypeJob && ev.PolicyID != "" && ev.PolicyID == r.Policy.ID &&
				((ev.Status == notify.JobSucceeded && r.Policy.OnSuccess) || (ev.Status == notify.JobFailed && r.Policy.OnFailure)) {
				out = append(out, r)
			}
			continue
		}
		// Unknown types and severities never match, even if a (malformed) rule names them.
		if ev.Type.Valid() && ev.Severity.Valid() && slices.Contains(r.EventTypes, ev.Type) && slices.Contains(r.Severities, ev.Severity) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b *notify.Rule) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// TestMatchAgainstNaive compares the index with the naive matcher over
// random rule sets and events, including malformed rules and events.
func TestMatchAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	types := append(slices.Clone(notify.EventTypes), "BOGUS")
	sevs := append(slices.Clone(notify.Severities), "BOGUS")
	statuses := []notify.JobStatus{"", notify.JobSucceeded, notify.JobFailed, "WEIRD"}
	for round := range 300 {
		n := rng.IntN(60)
		policies := 1 + rng.IntN(8)
		rules := make([]*notify.Rule, 0, n)
		perm := rng.Perm(n) // unique ids, given in random order
		for i := range n {
			rules = append(rules, randomRule(rng, fmt.Sprintf("r%02d", perm[i]), types, sevs, policies))
			if i > 0 && rng.IntN(20) == 0 {
				rules = append(rules, rules[rng.IntN(len(rules))]) // a repeated pointer
			}
		}
		idx := match.New(rules)
		for range 50 {
			ev := &notify.Event{
				Type:     types[rng.IntN(len(types))],
				Severity: sevs[rng.IntN(len(sevs))],
				Status:   statuses[rng.IntN(len(statuses))],
			}
			if rng.IntN(3) > 0 {
				ev.PolicyID = fmt.Sprintf("p%d", rng.IntN(policies+1))
			}
			got, want := idx.Match(ev), naive(rules, ev)
			if !slices.Equal(got, want) {
				t.Fatalf("round %d: event %+v:\n got  %s\n want %s", round, ev, ids(got), ids(want))
			}
		}
	}
}

func randomRule(rng *rand.Rand, id string, types []notify.EventType, sevs []notify.Severity, policies int) *notify.Rule {
	r := &notify.Rule{ID: id, Name: id, Enabled: rng.IntN(10) > 0, Source: notify.SourceUser}
	for range 1 + rng.IntN(3) {
		r.EventTypes = append(r.EventTypes, types[rng.IntN(len(types))])
	}
	for range 1 + rng.IntN(3) {
		r.Severities = append(r.Severities, sevs[rng.IntN(len(sevs))])
	}
	if rng.IntN(4) == 0 {
		r.Source = notify.SourcePolicy
		if rng.IntN(10) > 0 {
			r.Policy = &notify.Policy{ID: fmt.Sprintf("p%d", rng.IntN(policies)), OnSuccess: rng.IntN(2) == 0, OnFailure: rng.IntN(2) == 0}
		}
	}
	return r
}

// TestMatchConcurrent runs Match from several goroutines; with -race it
// checks that the index is safe for concurrent use.
func TestMatchConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rules := matchtest.Rules(rng, 500)
	evs := matchtest.Events(rng, 200, 500)
	idx := match.New(rules)
	want := make([]string, len(evs))
	for i, ev := range evs {
		want[i] = ids(naive(rules, ev))
	}
	errs := make(chan string, 8)
	for range 8 {
		go func() {
			for i, ev := range evs {
				if got := ids(idx.Match(ev)); got != want[i] {
					errs <- fmt.Sprintf("event %d: got %s, want %s", i, got, want[i])
					return
				}
			}
			errs <- ""
		}()
	}
	for range 8 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}
