package notify

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// DirectoryPlan is what replacing the directory changes, computed once by
// PlanDirectory for every store to apply atomically. Users and groups to
// create carry version 1; those to update carry their new version (the
// stored one is Version-1) and their stored CreatedAt; those to delete are
// as stored. Rules to prune carry their new version, without the removed
// users and groups, and disabled if no recipient is left.
type DirectoryPlan struct {
	CreateUsers, UpdateUsers, DeleteUsers    []User
	CreateGroups, UpdateGroups, DeleteGroups []Group
	PruneRules                               []Rule
}

// Empty reports whether the plan changes nothing.
func (p *DirectoryPlan) Empty() bool {
	return len(p.CreateUsers)+len(p.UpdateUsers)+len(p.DeleteUsers)+
		len(p.CreateGroups)+len(p.UpdateGroups)+len(p.DeleteGroups)+len(p.PruneRules) == 0
}

// PlanDirectory computes the plan that makes the directory exactly want,
// given the stored users, groups and rules. Entries of want that equal the
// stored ones (name, email, role; name, members) are left alone. It fails
// as want.Check does, and with EInUse (Refs: the rule ids, sorted) if a
// removed user or group is named by a rule and prune is false. now stamps
// what changes. It is pure: the inputs are not changed.
func PlanDirectory(users []*User, groups []*Group, rules []*Rule, want Directory, prune bool, now time.Time) (*DirectoryPlan, error) {
	if err := want.Check(); err != nil {
		return nil, err
	}
	p := &DirectoryPlan{}
	goneUsers := userEntries.plan(users, want.Users, now, &p.CreateUsers, &p.UpdateUsers, &p.DeleteUsers)
	goneGroups := groupEntries.plan(groups, want.Groups, now, &p.CreateGroups, &p.UpdateGroups, &p.DeleteGroups)

	var refs []string
	for _, r := range rules {
		if slices.ContainsFunc(r.Recipients.Users, func(id string) bool { return goneUsers[id] }) ||
			slices.ContainsFunc(r.Recipients.Groups, func(id string) bool { return goneGroups[id] }) {
			refs = append(refs, r.ID)
		}
	}
	slices.Sort(refs)
	if len(refs) > 0 && !prune {
		return nil, &Error{Code: EInUse,
			Message: fmt.Sprintf("users or groups the directory removes are named by %d rule(s): %s", len(refs), strings.Join(refs, ", ")),
			Refs:    refs}
	}
	for _, r := range rules {
		if !slices.Contains(refs, r.ID) {
			continue
		}
		nr := *r
		nr.Recipients.Users = slices.DeleteFunc(slices.Clone(r.Recipients.Users), func(u string) bool { return goneUsers[u] })
		nr.Recipients.Groups = slices.DeleteFunc(slices.Clone(r.Recipients.Groups), func(g string) bool { return goneGroups[g] })
		nr.Version++
		nr.UpdatedAt = now
		if nr.Recipients.Empty() {
			nr.Enabled = false
		}
		p.PruneRules = append(p.PruneRules, nr)
	}
	slices.SortFunc(p.PruneRules, func(a, b Rule) int { return strings.Compare(a.ID, b.ID) })
	return p, nil
}

// entries says how to plan one kind of directory entry.
type entries[T any] struct {
	id      func(*T) string
	same    func(a, b *T) bool // nothing a client sets differs
	version func(*T) int64
	created func(*T) time.Time
	stamp   func(v *T, version int64, created, updated time.Time)
}

var userEntries = entries[User]{
	id:      func(u *User) string { return u.ID },
	same:    func(a, b *User) bool { return a.Name == b.Name && a.Email == b.Email && a.Role == b.Role },
	version: func(u *User) int64 { return u.Version },
	created: func(u *User) time.Time { return u.CreatedAt },
	stamp:   func(u *User, v int64, c, m time.Time) { u.Version, u.CreatedAt, u.UpdatedAt = v, c, m },
}

var groupEntries = entries[Group]{
	id:      func(g *Group) string { return g.ID },
	same:    func(a, b *Group) bool { return a.Name == b.Name && slices.Equal(a.Members, b.Members) },
	version: func(g *Group) int64 { return g.Version },
	created: func(g *Group) time.Time { return g.CreatedAt },
	stamp:   func(g *Group, v int64, c, m time.Time) { g.Version, g.CreatedAt, g.UpdatedAt = v, c, m },
}

// plan sorts the entries of want into create and update, and the stored
// entries cur that want does not keep into del, and returns the ids of
// those.
func (e entries[T]) plan(cur []*T, want []T, now time.Time, create, update, del *[]T) map[string]bool {
	stored := make(map[string]*T, len(cur))
	for _, v := range cur {
		stored[e.id(v)] = v
	}
	keep := make(map[string]bool, len(want))
	for i := range want {
		v := want[i] // a copy: want belongs to the caller
		keep[e.id(&v)] = true
		switch prev := stored[e.id(&v)]; {
		case prev == nil:
			e.stamp(&v, 1, now, now)
			*create = append(*create, v)
		case !e.same(prev, &v):
			e.stamp(&v, e.version(prev)+1, e.created(prev), now)
			*update = append(*update, v)
		}
	}
	gone := map[string]bool{}
	for _, v := range cur {
		if !keep[e.id(v)] {
			gone[e.id(v)] = true
			*del = append(*del, *v)
		}
	}
	return gone
}
