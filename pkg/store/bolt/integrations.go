package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// smtpRecord is an SMTP server as stored: with its PasswordRef, which the
// domain type keeps out of JSON.
type smtpRecord struct {
	notify.SMTP
	PasswordRef string `json:"passwordRef,omitempty"`
}

func (r *smtpRecord) value() *notify.SMTP {
	s := r.SMTP
	s.PasswordRef = r.PasswordRef
	return &s
}

var smtps = &table[smtpRecord]{
	kind: "SMTP server", uniqField: "nickname",
	data: bSMTP, ids: bSMTPID, names: bSMTPName,
	id:           func(r *smtpRecord) string { return r.ID },
	uniq:         func(r *smtpRecord) string { return r.Nickname },
	createdAt:    func(r *smtpRecord) time.Time { return r.CreatedAt },
	version:      func(r *smtpRecord) int64 { return r.Version },
	setCreatedAt: func(r *smtpRecord, t time.Time) { r.CreatedAt = t },
}

// PutSMTP creates (s.Version == 1) or updates (stored version s.Version-1)
// an SMTP server; EConflict if the nickname is taken by another.
func (s *Store) PutSMTP(ctx context.Context, srv *notify.SMTP) error {
	rec := &smtpRecord{SMTP: *srv, PasswordRef: srv.PasswordRef}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if srv.Version == 1 {
			return smtps.insert(tx, rec)
		}
		old, key, err := smtps.get(tx, srv.ID)
		if err != nil {
			return err
		}
		if old.Version != srv.Version-1 {
			return stale("SMTP server", srv.ID, old.Version, srv.Version-1)
		}
		return smtps.replace(tx, old, key, rec)
	})
}

// GetSMTP returns the SMTP server with the id or ENotFound.
func (s *Store) GetSMTP(ctx context.Context, id string) (*notify.SMTP, error) {
	var out *notify.SMTP
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		r, _, err := smtps.get(tx, id)
		if err != nil {
			return err
		}
		out = r.value()
		return nil
	})
	return out, err
}

// ListSMTP returns every SMTP server, oldest first.
func (s *Store) ListSMTP(ctx context.Context) ([]*notify.SMTP, error) {
	var out []*notify.SMTP
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		all, err := smtps.all(tx)
		if err != nil {
			return err
		}
		out = make([]*notify.SMTP, len(all))
		for i, r := range all {
			out[i] = r.value()
		}
		return nil
	})
	return out, err
}

// DeleteSMTP removes an SMTP server or returns ENotFound.
func (s *Store) DeleteSMTP(ctx context.Context, id string) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, _, err := smtps.get(tx, id)
		if err != nil {
			return err
		}
		return smtps.remove(tx, old)
	})
}

// slackRecord is the Slack workspace as stored, with its TokenRef.
type slackRecord struct {
	notify.Slack
	TokenRef string `json:"tokenRef,omitempty"`
}

var slackKey = []byte("slack")

// PutSlack replaces the connected Slack workspace.
func (s *Store) PutSlack(ctx context.Context, sl *notify.Slack) error {
	b, err := json.Marshal(&slackRecord{Slack: *sl, TokenRef: sl.TokenRef})
	if err != nil {
		return fmt.Errorf("encode Slack workspace: %w", err)
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bIntegrations).Put(slackKey, b); err != nil {
			return fmt.Errorf("write Slack workspace: %w", err)
		}
		return nil
	})
}

// GetSlack returns the connected Slack workspace or ENotFound.
func (s *Store) GetSlack(ctx context.Context) (*notify.Slack, error) {
	var out *notify.Slack
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bIntegrations).Get(slackKey)
		if b == nil {
			return notify.Errorf(notify.ENotFound, "no Slack workspace is connected")
		}
		var r slackRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("read Slack workspace: %w", err)
		}
		sl := r.Slack
		sl.TokenRef = r.TokenRef
		out = &sl
		return nil
	})
	return out, err
}

// DeleteSlack disconnects the Slack workspace or returns ENotFound.
func (s *Store) DeleteSlack(ctx context.Context) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bIntegrations)
		if b.Get(slackKey) == nil {
			return notify.Errorf(notify.ENotFound, "no Slack workspace is connected")
		}
		if err := b.Delete(slackKey); err != nil {
			return fmt.Errorf("delete Slack workspace: %w", err)
		}
		return nil
	})
}

// secretPrefix starts every secret reference this store hands out.
const secretPrefix = "embedded:"

// PutSecret stores (or overwrites) the secret called name and returns its
// reference.
func (s *Store) PutSecret(ctx context.Context, name, value string) (string, error) {
	if name == "" {
		return "", notify.Invalid("name", "must not be empty")
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bSecrets).Put([]byte(name), []byte(value)); err != nil {
			return fmt.Errorf("write secret %q: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return secretPrefix + name, nil
}

// GetSecret returns the value behind ref or ENotFound.
func (s *Store) GetSecret(ctx context.Context, ref string) (string, error) {
	var out string
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		name, ok := strings.CutPrefix(ref, secretPrefix)
		v := tx.Bucket(bSecrets).Get([]byte(name))
		if !ok || name == "" || v == nil {
			return notify.Errorf(notify.ENotFound, "secret %q does not exist", ref)
		}
		out = string(v)
		return nil
	})
	return out, err
}

// DeleteSecret removes the secret behind ref or returns ENotFound.
func (s *Store) DeleteSecret(ctx context.Context, ref string) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		name, ok := strings.CutPrefix(ref, secretPrefix)
		b := tx.Bucket(bSecrets)
		if !ok || name == "" || b.Get([]byte(name)) == nil {
			return notify.Errorf(notify.ENotFound, "secret %q does not exist", ref)
		}
		if err := b.Delete([]byte(name)); err != nil {
			return fmt.Errorf("delete secret %q: %w", ref, err)
		}
		return nil
	})
}
