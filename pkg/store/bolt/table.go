package bolt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Bucket names.
var (
	bRules, bRulesID, bRulesName    = []byte("rules"), []byte("rules.id"), []byte("rules.name")
	bRefs                           = []byte("refs") // "u\x00<user>\x00<rule>", "g\x00<group>\x00<rule>"
	bUsers, bUsersID, bUsersEmail   = []byte("users"), []byte("users.id"), []byte("users.email")
	bGroups, bGroupsID, bGroupsName = []byte("groups"), []byte("groups.id"), []byte("groups.name")
	bSMTP, bSMTPID, bSMTPName       = []byte("smtp"), []byte("smtp.id"), []byte("smtp.name")
	bIntegrations                   = []byte("integrations") // "slack" → the workspace
	bSecrets                        = []byte("secrets")
	bDeliveries                     = []byte("deliveries") // id → record
	bDelivByTime                    = []byte("deliveries.time")
	bDelivByEvent, bDelivByRule     = []byte("deliveries.event"), []byte("deliveries.rule")
	bDelivByStatus                  = []byte("deliveries.status")
)

// table stores one kind of resource that has an id, a unique name and a
// creation time: rules, users, groups and SMTP servers.
type table[T any] struct {
	kind      string // for messages: "rule", "user", ...
	uniqField string // the field of the unique name: "name", "email", ...
	data      []byte // order key → JSON
	ids       []byte // id → order key
	names     []byte // folded unique name → id
	id        func(*T) string
	uniq      func(*T) string
	createdAt func(*T) time.Time
	version   func(*T) int64
	// setCreatedAt sets CreatedAt on a copy about to be stored.
	setCreatedAt func(*T, time.Time)
}

// get returns the record with the id and its order key, or ENotFound.
func (t *table[T]) get(tx *bbolt.Tx, id string) (*T, []byte, error) {
	key := tx.Bucket(t.ids).Get([]byte(id))
	if key == nil {
		return nil, nil, notFound(t.kind, id)
	}
	v, err := t.decode(tx.Bucket(t.data).Get(key))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s %q: %w", t.kind, id, err)
	}
	return v, bytes.Clone(key), nil
}

func (t *table[T]) exists(tx *bbolt.Tx, id string) bool {
	return tx.Bucket(t.ids).Get([]byte(id)) != nil
}

func (t *table[T]) decode(b []byte) (*T, error) {
	if b == nil {
		return nil, fmt.Errorf("index points at a missing record")
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, err
	}
	return v, nil
}

func (t *table[T]) conflictID(id string) error {
	return &notify.Error{Code: notify.EConflict, Message: fmt.Sprintf("a %s with id %q exists", t.kind, id),
		Fields: []notify.FieldError{{Field: "id", Message: "is already taken"}}}
}

func (t *table[T]) conflictName(name string) error {
	return &notify.Error{Code: notify.EConflict, Message: fmt.Sprintf("a %s with %s %q exists", t.kind, t.uniqField, name),
		Fields: []notify.FieldError{{Field: t.uniqField, Message: "is already taken"}}}
}

// insert stores a new record: EConflict if its id or unique name is taken.
func (t *table[T]) insert(tx *bbolt.Tx, v *T) error {
	id := t.id(v)
	if t.exists(tx, id) {
		return t.conflictID(id)
	}
	name := []byte(fold(t.uniq(v)))
	if tx.Bucket(t.names).Get(name) != nil {
		return t.conflictName(t.uniq(v))
	}
	key := orderKey(t.createdAt(v), id)
	if err := t.write(tx, key, v); err != nil {
		return err
	}
	if err := tx.Bucket(t.ids).Put([]byte(id), key); err != nil {
		return fmt.Errorf("index %s %q: %w", t.kind, id, err)
	}
	if err := tx.Bucket(t.names).Put(name, []byte(id)); err != nil {
		return fmt.Errorf("index %s %q: %w", t.kind, id, err)
	}
	return nil
}

func (t *table[T]) write(tx *bbolt.Tx, key []byte, v *T) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %q: %w", t.kind, t.id(v), err)
	}
	if err := tx.Bucket(t.data).Put(key, b); err != nil {
		return fmt.Errorf("write %s %q: %w", t.kind, t.id(v), err)
	}
	return nil
}

// replace overwrites old (stored under key) with v, which has the same id:
// EConflict if v's unique name is taken by another record. The record keeps
// its place in the order and its CreatedAt (v is not changed).
func (t *table[T]) replace(tx *bbolt.Tx, old *T, key []byte, v *T) error {
	if c := t.createdAt(old); !t.createdAt(v).Equal(c) {
		cp := *v
		t.setCreatedAt(&cp, c)
		v = &cp
	}
	oldName, newName := fold(t.uniq(old)), fold(t.uniq(v))
	if oldName != newName {
		names := tx.Bucket(t.names)
		if names.Get([]byte(newName)) != nil {
			return t.conflictName(t.uniq(v))
		}
		if err := names.Delete([]byte(oldName)); err != nil {
			return fmt.Errorf("unindex %s %q: %w", t.kind, t.id(v), err)
		}
		if err := names.Put([]byte(newName), []byte(t.id(v))); err != nil {
			return fmt.Errorf("index %s %q: %w", t.kind, t.id(v), err)
		}
	}
	return t.write(tx, key, v)
}

// remove deletes v.
func (t *table[T]) remove(tx *bbolt.Tx, v *T) error {
	id := t.id(v)
	key := bytes.Clone(tx.Bucket(t.ids).Get([]byte(id)))
	if key == nil {
		return notFound(t.kind, id)
	}
	for _, op := range []struct {
		b []byte
		k []byte
	}{{t.data, key}, {t.ids, []byte(id)}, {t.names, []byte(fold(t.uniq(v)))}} {
		if err := tx.Bucket(op.b).Delete(op.k); err != nil {
			return fmt.Errorf("delete %s %q: %w", t.kind, id, err)
		}
	}
	return nil
}

// page returns up to p's limit records after p's cursor that keep accepts
// (nil accepts all), in creation order, and the cursor of the next page.
func (t *table[T]) page(tx *bbolt.Tx, p store.Page, keep func(*T) bool) ([]*T, string, error) {
	limit := limitOf(p.Limit)
	c := tx.Bucket(t.data).Cursor()
	var k, v []byte
	if p.Cursor == "" {
		k, v = c.First()
	} else {
		after, err := decodeCursor(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		k, v = c.Seek(after)
		if k != nil && bytes.Equal(k, after) {
			k, v = c.Next()
		}
	}
	out := make([]*T, 0, min(limit, 64))
	var last []byte
	for ; k != nil; k, v = c.Next() {
		r, err := t.decode(v)
		if err != nil {
			return nil, "", fmt.Errorf("list %ss: %w", t.kind, err)
		}
		if keep != nil && !keep(r) {
			continue
		}
		if len(out) == limit {
			return out, encodeCursor(last), nil
		}
		out = append(out, r)
		last = k
	}
	return out, "", nil
}

// all returns every record in creation order.
func (t *table[T]) all(tx *bbolt.Tx) ([]*T, error) {
	var out []*T
	err := tx.Bucket(t.data).ForEach(func(_, v []byte) error {
		r, err := t.decode(v)
		if err != nil {
			return fmt.Errorf("list %ss: %w", t.kind, err)
		}
		out = append(out, r)
		return nil
	})
	return out, err
}
