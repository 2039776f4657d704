// Package match owns rule matching: which rules an event reaches. It is pure
// (no I/O) and imports only the domain package pkg/notify and the standard
// library; it must not import stores, queues or senders.
package match

import (
	"cmp"
	"slices"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// Index answers which rules match an event. It is built once from a set of
// rules by New, is immutable afterwards and safe for concurrent use.
//
// Enabled user rules sit in a table indexed by event type and severity (in
// the order of notify.EventTypes and notify.Severities); each
// cell is sorted by rule ID ahead of time. Enabled policy rules sit in a map
// from policy ID to the rules that fire on success and on failure. A lookup
// therefore costs one table read, at most one map read, and a merge of the
// two (already sorted) lists: it grows with the matching rules, not with all
// rules.
type Index struct {
	// user holds the cell of (type row ti, severity column si) at
	// ti*len(notify.Severities)+si: rows and columns follow the order of
	// notify.EventTypes and notify.Severities.
	user   [][]*notify.Rule
	policy map[string]*policyRules
	n      int
}

type policyRules struct {
	onSuccess []*notify.Rule
	onFailure []*notify.Rule
}

// cell returns the position of (t, s) in Index.user; ok is false for an
// unknown type or severity.
func cell(t notify.EventType, s notify.Severity) (int, bool) {
	ti, si := slices.Index(notify.EventTypes, t), slices.Index(notify.Severities, s)
	if ti < 0 || si < 0 {
		return 0, false
	}
	return ti*len(notify.Severities) + si, true
}

// New builds an index of rules. A rule whose Source is not SourcePolicy is
// treated as a user rule. Disabled rules, nil rules, policy rules without a
// policy and repeated pointers are left out; unknown event types and severities in a
// rule are ignored. A rule that names a type or severity twice is still
// indexed once per cell. The index keeps the rule pointers: callers must not
// modify the rules afterwards (build a new index instead).
func New(rules []*notify.Rule) *Index {
	idx := &Index{
		user:   make([][]*notify.Rule, len(notify.EventTypes)*len(notify.Severities)),
		policy: make(map[string]*policyRules),
	}
	seen := make(map[*notify.Rule]bool, len(rules))
	for _, r := range rules {
		if r == nil || !r.Enabled || seen[r] {
			continue
		}
		seen[r] = true
		switch r.Source {
		case notify.SourcePolicy:
			if r.Policy == nil || r.Policy.ID == "" || (!r.Policy.OnSuccess && !r.Policy.OnFailure) {
				continue
			}
			p := idx.policy[r.Policy.ID]
			if p == nil {
				p = &policyRules{}
				idx.policy[r.Policy.ID] = p
			}
			if r.Policy.OnSuccess {
				p.onSuccess = append(p.onSuccess, r)
			}
			if r.Policy.OnFailure {
				p.onFailure = append(p.onFailure, r)
			}
			idx.n++
		default:
			added := false
			for _, t := range r.EventTypes {
				for _, sev := range r.Severities {
					c, ok := cell(t, sev)
					if !ok {
						continue
					}
					rules := idx.user[c]
					if len(rules) > 0 && rules[len(rules)-1] == r {
						continue // the same type or severity named twice
					}
					idx.user[c] = append(rules, r)
					added = true
				}
			}
			if added {
				idx.n++
			}
		}
	}
	for c := range idx.user {
		idx.user[c] = sortRules(idx.user[c])
	}
	for _, p := range idx.policy {
		p.onSuccess = sortRules(p.onSuccess)
		p.onFailure = sortRules(p.onFailure)
	}
	return idx
}

// sortRules sorts by rule ID (stable, so rules sharing an ID keep the order
// they were given in) and trims the capacity, so that a caller appending to
// a slice returned by Match cannot write into the index.
func sortRules(rs []*notify.Rule) []*notify.Rule {
	slices.SortStableFunc(rs, byID)
	return rs[:len(rs):len(rs)]
}

func byID(a, b *notify.Rule) int { return cmp.Compare(a.ID, b.ID) }

// Len reports how many rules the index holds (enabled rules that can match
// something).
func (idx *Index) Len() int { return idx.n }

// Match returns the rules ev matches, each once, sorted by rule ID (rule IDs
// are unique in a store; among rules given with equal IDs the order is
// unspecified).
//
// A user rule matches when its event types contain ev.Type and its
// severities contain ev.Severity. A policy rule matches JOB events whose
// PolicyID is the rule's policy and whose Status is SUCCEEDED (when the rule
// has OnSuccess) or FAILED (when it has OnFailure), whatever the severity.
//
// The returned slice may be owned by the index and shared between callers:
// callers must not modify its elements or the rules it points to (appending
// is safe; its capacity is trimmed). Match allocates only when an event
// matches both user and policy rules. It returns nil when nothing matches.
func (idx *Index) Match(ev *notify.Event) []*notify.Rule {
	if idx == nil || ev == nil {
		return nil
	}
	var user []*notify.Rule
	if c, ok := cell(ev.Type, ev.Severity); ok {
		user = idx.user[c]
	}
	pol := idx.policyMatch(ev)
	switch {
	case len(pol) == 0:
		if len(user) == 0 {
			return nil
		}
		return user
	case len(user) == 0:
		return pol
	}
	return merge(user, pol)
}

func (idx *Index) policyMatch(ev *notify.Event) []*notify.Rule {
	if ev.Type != notify.TypeJob || ev.PolicyID == "" || len(idx.policy) == 0 {
		return nil
	}
	p := idx.policy[ev.PolicyID]
	if p == nil {
		return nil
	}
	switch ev.Status {
	case notify.JobSucceeded:
		return p.onSuccess
	case notify.JobFailed:
		return p.onFailure
	}
	return nil
}

// merge merges two lists sorted by ID into a new one. The lists are disjoint
// (a rule is either a user or a policy rule), so nothing is dropped.
func merge(a, b []*notify.Rule) []*notify.Rule {
	out := make([]*notify.Rule, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if b[j].ID < a[i].ID {
			out = append(out, b[j])
			j++
		} else {
			out = append(out, a[i])
			i++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
