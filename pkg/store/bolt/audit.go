package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

var (
	bAudit       = []byte("audit")       // entry id (a ULID, sorting by time) → JSON
	bCredentials = []byte("credentials") // name → JSON
)

var (
	_ store.Audit       = (*Store)(nil)
	_ store.Credentials = (*Store)(nil)
)

// AppendAudit stores e; EConflict if its id is taken.
func (s *Store) AppendAudit(ctx context.Context, e *notify.AuditEntry) error {
	if e.ID == "" {
		return notify.Invalid("id", "must not be empty")
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode audit entry %q: %w", e.ID, err)
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bAudit)
		if b.Get([]byte(e.ID)) != nil {
			return notify.Errorf(notify.EConflict, "audit entry %q exists", e.ID)
		}
		if err := b.Put([]byte(e.ID), data); err != nil {
			return fmt.Errorf("write audit entry %q: %w", e.ID, err)
		}
		return nil
	})
}

// ListAudit returns one page of entries, newest first.
func (s *Store) ListAudit(ctx context.Context, p store.Page) ([]*notify.AuditEntry, string, error) {
	var after []byte
	if p.Cursor != "" {
		k, err := decodeCursor(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		after = k
	}
	limit := limitOf(p.Limit)
	out := []*notify.AuditEntry{}
	var next string
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bAudit).Cursor()
		var k, v []byte
		if after == nil {
			k, v = c.Last()
		} else {
			k, v = c.Seek(after)
			if k == nil {
				k, v = c.Last()
			}
			for k != nil && bytes.Compare(k, after) >= 0 {
				k, v = c.Prev()
			}
		}
		for ; k != nil; k, v = c.Prev() {
			if len(out) == limit {
				next = encodeCursor([]byte(out[len(out)-1].ID))
				return nil
			}
			var e notify.AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode audit entry %q: %w", k, err)
			}
			out = append(out, &e)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// PutCredential stores c under its name, replacing any.
func (s *Store) PutCredential(ctx context.Context, c *notify.Credential) error {
	if c.Name == "" {
		return notify.Invalid("name", "must not be empty")
	}
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode credential %q: %w", c.Name, err)
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bCredentials).Put([]byte(c.Name), data); err != nil {
			return fmt.Errorf("write credential %q: %w", c.Name, err)
		}
		return nil
	})
}

// GetCredential returns the credential of that name or ENotFound.
func (s *Store) GetCredential(ctx context.Context, name string) (*notify.Credential, error) {
	var c *notify.Credential
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		v := tx.Bucket(bCredentials).Get([]byte(name))
		if v == nil {
			return notFound("credential", name)
		}
		c = &notify.Credential{}
		if err := json.Unmarshal(v, c); err != nil {
			return fmt.Errorf("decode credential %q: %w", name, err)
		}
		return nil
	})
	return c, err
}
