package bolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

var rules = &table[notify.Rule]{
	kind: "rule", uniqField: "name",
	data: bRules, ids: bRulesID, names: bRulesName,
	id:           func(r *notify.Rule) string { return r.ID },
	uniq:         func(r *notify.Rule) string { return r.Name },
	createdAt:    func(r *notify.Rule) time.Time { return r.CreatedAt },
	version:      func(r *notify.Rule) int64 { return r.Version },
	setCreatedAt: func(r *notify.Rule, t time.Time) { r.CreatedAt = t },
}

// Reference kinds in the refs bucket.
const (
	refUser  = "u"
	refGroup = "g"
)

// setRefs records (add) or forgets the users and groups rule r names.
func setRefs(tx *bbolt.Tx, r *notify.Rule, add bool) error {
	b := tx.Bucket(bRefs)
	for _, l := range []struct {
		kind string
		ids  []string
	}{{refUser, r.Recipients.Users}, {refGroup, r.Recipients.Groups}} {
		for _, id := range l.ids {
			k := cat(l.kind, id, r.ID)
			var err error
			if add {
				err = b.Put(k, nil)
			} else {
				err = b.Delete(k)
			}
			if err != nil {
				return fmt.Errorf("index references of rule %q: %w", r.ID, err)
			}
		}
	}
	return nil
}

// refsTo returns the ids of the rules that name the user or group id, sorted.
func refsTo(tx *bbolt.Tx, kind, id string) []string {
	prefix := cat(kind, id, "")
	var out []string
	c := tx.Bucket(bRefs).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		out = append(out, string(k[len(prefix):]))
	}
	return out
}

// checkRefs fails with EInvalid (store.UnknownRecipients) if r names a user
// or group that does not exist. It runs in the transaction that writes r,
// so a concurrent DeleteUser or DeleteGroup either sees the rule's
// references or has already removed what the rule would name.
func checkRefs(tx *bbolt.Tx, r *notify.Rule) error {
	var missing []store.MissingRef
	for _, ref := range store.RuleRefs(r) {
		exists := users.exists
		if ref.Kind == store.RefGroup {
			exists = groups.exists
		}
		if !exists(tx, ref.ID) {
			missing = append(missing, ref)
		}
	}
	return store.UnknownRecipients(missing)
}

// CreateRule stores a new rule; EConflict if its id or name is taken,
// EInvalid if it names a user or group that does not exist.
func (s *Store) CreateRule(ctx context.Context, r *notify.Rule) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if err := checkRefs(tx, r); err != nil {
			return err
		}
		if err := rules.insert(tx, r); err != nil {
			return err
		}
		return setRefs(tx, r, true)
	})
}

// GetRule returns the rule with the id or ENotFound.
func (s *Store) GetRule(ctx context.Context, id string) (*notify.Rule, error) {
	var r *notify.Rule
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		r, _, err = rules.get(tx, id)
		return err
	})
	return r, err
}

// ListRules returns one page of the rules f selects, oldest first.
func (s *Store) ListRules(ctx context.Context, f store.RuleFilter) ([]*notify.Rule, string, error) {
	var keep func(*notify.Rule) bool
	if f.Source != "" || f.Enabled != nil {
		keep = func(r *notify.Rule) bool {
			return (f.Source == "" || r.Source == f.Source) && (f.Enabled == nil || r.Enabled == *f.Enabled)
		}
	}
	var (
		out  []*notify.Rule
		next string
	)
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		out, next, err = rules.page(tx, f.Page, keep)
		return err
	})
	return out, next, err
}

// UpdateRule replaces the rule whose stored version is r.Version-1;
// EInvalid if it names a user or group that does not exist.
func (s *Store) UpdateRule(ctx context.Context, r *notify.Rule) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, key, err := rules.get(tx, r.ID)
		if err != nil {
			return err
		}
		if old.Version != r.Version-1 {
			return stale("rule", r.ID, old.Version, r.Version-1)
		}
		if err := checkRefs(tx, r); err != nil {
			return err
		}
		return replaceRule(tx, old, key, r)
	})
}

func replaceRule(tx *bbolt.Tx, old *notify.Rule, key []byte, r *notify.Rule) error {
	if err := rules.replace(tx, old, key, r); err != nil {
		return err
	}
	if err := setRefs(tx, old, false); err != nil {
		return err
	}
	return setRefs(tx, r, true)
}

// DeleteRule removes a rule (any version if version is 0).
func (s *Store) DeleteRule(ctx context.Context, id string, version int64) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, _, err := rules.get(tx, id)
		if err != nil {
			return err
		}
		if version != 0 && old.Version != version {
			return stale("rule", id, old.Version, version)
		}
		if err := setRefs(tx, old, false); err != nil {
			return err
		}
		return rules.remove(tx, old)
	})
}

// AllRules returns every rule, oldest first.
func (s *Store) AllRules(ctx context.Context) ([]*notify.Rule, error) {
	var out []*notify.Rule
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		out, err = rules.all(tx)
		return err
	})
	return out, err
}
