package admin

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// DirectoryConfig holds what the directory service needs. Directory and
// IDs are required.
type DirectoryConfig struct {
	// Directory keeps users and groups.
	Directory store.Directory
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// IDs returns a new unique, sortable id (a ULID).
	IDs func() string
	// OnRulesChanged, if set, is called after every successful change
	// that can change whom a rule reaches: a user or group updated or
	// deleted (a deletion takes a user out of its groups), and every
	// directory replace (which may prune rules). Creating a user or group
	// reaches no one new: no rule can name it yet.
	OnRulesChanged func()

	// Rules, if set, lets the service prune the rules naming a user or
	// group an identity provider deletes (RemoveUser, RemoveGroup).
	Rules store.Rules
	// Audit, if set, records every change in the audit trail.
	Audit store.Audit
	// Credentials, if set, keeps the SCIM token's hash (scim.go). While a
	// SCIM token exists the directory is synced from an identity provider
	// and the admin API's writes fail with EDirectorySynced, unless
	// WritableWhileSynced.
	Credentials         store.Credentials
	WritableWhileSynced bool
	// Logger receives audit failures. Default: slog.Default().
	Logger *slog.Logger
}

// Directory is the directory service: users, groups and the replacement
// of the whole directory.
type Directory struct {
	dir      store.Directory
	rules    store.Rules
	creds    store.Credentials
	writable bool
	clock    clock
	changed  func()
	audit    auditor
}

// NewDirectory returns the directory service. It panics if a required
// field of cfg is nil, a programming error in the caller's wiring.
func NewDirectory(cfg DirectoryConfig) *Directory {
	if cfg.Directory == nil {
		panic("admin.NewDirectory: Config.Directory is nil")
	}
	c := newClock(cfg.Now, cfg.IDs)
	return &Directory{dir: cfg.Directory, rules: cfg.Rules, creds: cfg.Credentials, writable: cfg.WritableWhileSynced,
		clock: c, changed: cfg.OnRulesChanged, audit: newAuditor(cfg.Audit, c, cfg.Logger)}
}

// All returns every user and every group, oldest first.
func (s *Directory) All(ctx context.Context) ([]*notify.User, []*notify.Group, error) {
	users, err := s.AllUsers(ctx)
	if err != nil {
		return nil, nil, err
	}
	groups, err := s.AllGroups(ctx)
	if err != nil {
		return nil, nil, err
	}
	return users, groups, nil
}

// AllUsers returns every user, oldest first.
func (s *Directory) AllUsers(ctx context.Context) ([]*notify.User, error) {
	var users []*notify.User
	for p := (store.Page{Limit: store.MaxLimit}); ; {
		us, next, err := s.dir.ListUsers(ctx, p)
		if err != nil {
			return nil, err
		}
		users = append(users, us...)
		if next == "" {
			return users, nil
		}
		p.Cursor = next
	}
}

// AllGroups returns every group, oldest first.
func (s *Directory) AllGroups(ctx context.Context) ([]*notify.Group, error) {
	var groups []*notify.Group
	for p := (store.Page{Limit: store.MaxLimit}); ; {
		gs, next, err := s.dir.ListGroups(ctx, p)
		if err != nil {
			return nil, err
		}
		groups = append(groups, gs...)
		if next == "" {
			return groups, nil
		}
		p.Cursor = next
	}
}

// Replace makes the directory exactly d, atomically: users and groups not
// in d are removed. EInvalid (fields users[i].… and groups[i].…) if an
// entry is not valid, is repeated, or a group names a user d does not
// hold. If a removed user or group is named by a rule, EInUse (Refs: the
// rules) unless prune, which removes the references from those rules and
// disables a rule left with no recipient. The entries' versions and times
// are set here; the caller's values are ignored.
func (s *Directory) Replace(ctx context.Context, d notify.Directory, prune bool) error {
	if err := s.checkWritable(ctx); err != nil {
		return err
	}
	now := s.clock.stamp()
	var fields []notify.FieldError
	add := func(prefix string, err error) {
		if fs, ok := fieldsOf(err); ok {
			for _, f := range fs {
				fields = append(fields, notify.FieldError{Field: prefix + "." + f.Field, Message: f.Message})
			}
		}
	}
	userIDs, emails := map[string]bool{}, map[string]bool{}
	for i := range d.Users {
		u := &d.Users[i]
		u.CreatedAt, u.UpdatedAt = now, now
		prefix := indexed("users", i)
		add(prefix, u.Validate())
		if userIDs[u.ID] {
			fields = append(fields, notify.FieldError{Field: prefix + ".id", Message: quote(u.ID) + " is repeated"})
		}
		if e := strings.ToLower(u.Email); emails[e] {
			fields = append(fields, notify.FieldError{Field: prefix + ".email", Message: quote(u.Email) + " is repeated"})
		} else {
			emails[e] = true
		}
		userIDs[u.ID] = true
	}
	groupIDs, names := map[string]bool{}, map[string]bool{}
	for i := range d.Groups {
		g := &d.Groups[i]
		g.CreatedAt, g.UpdatedAt = now, now
		prefix := indexed("groups", i)
		add(prefix, g.Validate())
		if groupIDs[g.ID] {
			fields = append(fields, notify.FieldError{Field: prefix + ".id", Message: quote(g.ID) + " is repeated"})
		}
		if n := strings.ToLower(g.Name); names[n] {
			fields = append(fields, notify.FieldError{Field: prefix + ".name", Message: quote(g.Name) + " is repeated"})
		} else {
			names[n] = true
		}
		groupIDs[g.ID] = true
		for j, m := range g.Members {
			if notify.ValidID(m) && !userIDs[m] {
				fields = append(fields, notify.FieldError{Field: indexed(prefix+".members", j), Message: quote(m) + " is not a user of this directory"})
			}
		}
	}
	if err := invalid(fields); err != nil {
		return err
	}
	var before []*notify.Rule
	if prune && s.rules != nil && s.audit.audit != nil {
		var err error
		if before, err = s.rules.AllRules(ctx); err != nil {
			return err
		}
	}
	if err := s.dir.ReplaceDirectory(ctx, d, prune, now); err != nil {
		return err
	}
	announce(s.changed)
	s.auditPruned(ctx, before)
	s.audit.record(ctx, "directory.replace", "directory", "",
		fmt.Sprintf("replaced: %d users, %d groups (prune %t)", len(d.Users), len(d.Groups), prune), nil, nil)
	return nil
}

// auditPruned records, after a directory replace with prune, every rule of
// before (the rules as they were) that the replace changed.
func (s *Directory) auditPruned(ctx context.Context, before []*notify.Rule) {
	if len(before) == 0 {
		return
	}
	after, err := s.rules.AllRules(ctx)
	if err != nil {
		s.audit.log.ErrorContext(ctx, "audit: rules after a directory replace not read", "err", err.Error())
		return
	}
	was := make(map[string]*notify.Rule, len(before))
	for _, r := range before {
		was[r.ID] = r
	}
	for _, r := range after {
		if b := was[r.ID]; b != nil && b.Version != r.Version {
			s.audit.record(ctx, "rule.prune", "rule", r.ID, "users or groups the directory replace removed taken out of the rule", b, r)
		}
	}
}
