package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// fakeStore keeps what the services' tests need in maps. The embedded
// interfaces are nil: a call the tests do not expect panics.
type fakeStore struct {
	store.Rules
	store.Directory
	store.Integrations

	rules   map[string]*notify.Rule
	users   map[string]*notify.User
	groups  map[string]*notify.Group
	smtp    map[string]*notify.SMTP
	slack   *notify.Slack
	secrets map[string]string
	failPut error // returned by PutSMTP and PutSlack when set
}

func newFakeStore() *fakeStore {
	return &fakeStore{rules: map[string]*notify.Rule{}, users: map[string]*notify.User{},
		groups: map[string]*notify.Group{}, smtp: map[string]*notify.SMTP{}, secrets: map[string]string{}}
}

func notFound(what, id string) error {
	return notify.Errorf(notify.ENotFound, "%s %q does not exist", what, id)
}

func (f *fakeStore) GetRule(_ context.Context, id string) (*notify.Rule, error) {
	if r, ok := f.rules[id]; ok {
		c := *r
		return &c, nil
	}
	return nil, notFound("rule", id)
}

// checkRefs refuses a rule naming a missing user or group, as stores do.
func (f *fakeStore) checkRefs(r *notify.Rule) error {
	var missing []store.MissingRef
	for _, ref := range store.RuleRefs(r) {
		_, u := f.users[ref.ID]
		_, g := f.groups[ref.ID]
		if (ref.Kind == store.RefUser && !u) || (ref.Kind == store.RefGroup && !g) {
			missing = append(missing, ref)
		}
	}
	return store.UnknownRecipients(missing)
}

func (f *fakeStore) CreateRule(_ context.Context, r *notify.Rule) error {
	if err := f.checkRefs(r); err != nil {
		return err
	}
	c := *r
	f.rules[r.ID] = &c
	return nil
}

func (f *fakeStore) UpdateRule(_ context.Context, r *notify.Rule) error {
	old, ok := f.rules[r.ID]
	if !ok {
		return notFound("rule", r.ID)
	}
	if old.Version != r.Version-1 {
		return notify.Errorf(notify.EStale, "stale")
	}
	if err := f.checkRefs(r); err != nil {
		return err
	}
	c := *r
	f.rules[r.ID] = &c
	return nil
}

func (f *fakeStore) DeleteRule(_ context.Context, id string, _ int64) error {
	delete(f.rules, id)
	return nil
}

func (f *fakeStore) GetUser(_ context.Context, id string) (*notify.User, error) {
	if u, ok := f.users[id]; ok {
		c := *u
		return &c, nil
	}
	return nil, notFound("user", id)
}

func (f *fakeStore) CreateUser(_ context.Context, u *notify.User) error {
	c := *u
	f.users[u.ID] = &c
	return nil
}

func (f *fakeStore) UpdateUser(ctx context.Context, u *notify.User) error {
	return f.CreateUser(ctx, u)
}

func (f *fakeStore) DeleteUser(_ context.Context, id string, _ int64) error {
	delete(f.users, id)
	return nil
}

func (f *fakeStore) GetGroup(_ context.Context, id string) (*notify.Group, error) {
	if g, ok := f.groups[id]; ok {
		c := *g
		return &c, nil
	}
	return nil, notFound("group", id)
}

func (f *fakeStore) CreateGroup(_ context.Context, g *notify.Group) error {
	c := *g
	f.groups[g.ID] = &c
	return nil
}

func (f *fakeStore) UpdateGroup(ctx context.Context, g *notify.Group) error {
	return f.CreateGroup(ctx, g)
}

func (f *fakeStore) DeleteGroup(_ context.Context, id string, _ int64) error {
	delete(f.groups, id)
	return nil
}

func (f *fakeStore) ReplaceDirectory(context.Context, notify.Directory, bool, time.Time) error {
	return nil
}

func (f *fakeStore) ListSMTP(context.Context) ([]*notify.SMTP, error) {
	var out []*notify.SMTP
	for _, s := range f.smtp {
		out = append(out, s)
	}
	return out, nil
}

func (f *fakeStore) GetSMTP(_ context.Context, id string) (*notify.SMTP, error) {
	if s, ok := f.smtp[id]; ok {
		c := *s
		return &c, nil
	}
	return nil, notFound("SMTP server", id)
}

func (f *fakeStore) PutSMTP(_ context.Context, s *notify.SMTP) error {
	if f.failPut != nil {
		return f.failPut
	}
	c := *s
	f.smtp[s.ID] = &c
	return nil
}

func (f *fakeStore) DeleteSMTP(_ context.Context, id string) error {
	delete(f.smtp, id)
	return nil
}

func (f *fakeStore) GetSlack(context.Context) (*notify.Slack, error) {
	if f.slack == nil {
		return nil, notFound("Slack workspace", "")
	}
	c := *f.slack
	return &c, nil
}

func (f *fakeStore) PutSlack(_ context.Context, s *notify.Slack) error {
	if f.failPut != nil {
		return f.failPut
	}
	c := *s
	f.slack = &c
	return nil
}

func (f *fakeStore) DeleteSlack(context.Context) error {
	f.slack = nil
	return nil
}

func (f *fakeStore) PutSecret(_ context.Context, name, value string) (string, error) {
	ref := "mem:" + name
	f.secrets[ref] = value
	return ref, nil
}

func (f *fakeStore) GetSecret(_ context.Context, ref string) (string, error) {
	if v, ok := f.secrets[ref]; ok {
		return v, nil
	}
	return "", notFound("secret", ref)
}

func (f *fakeStore) DeleteSecret(_ context.Context, ref string) error {
	delete(f.secrets, ref)
	return nil
}

// seq returns ids 1, 2, 3, …
func seq() func() string {
	n := 0
	return func() string { n++; return fmt.Sprint(n) }
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return t0 }

// counter counts the calls of a hook.
type counter struct{ n int }

func (c *counter) hook() { c.n++ }
