// Package bolt is the store of local mode: every rule, user, group,
// integration, secret and delivery record in one bbolt file under the data
// directory (pure Go, no cgo, file mode 0600).
//
// Layout: each kind of resource has a data bucket keyed by its order key
// (CreatedAt as big-endian nanoseconds, then the id), so a cursor walks it in
// creation order; an id bucket maps ids to order keys; a name bucket maps the
// case-folded unique name (rule name, user email, group name, SMTP nickname)
// to the id. A refs bucket records which rules name which users and groups:
// a rule write checks that they exist, and a delete of a user or group that
// no rule names them, in the same write transaction, so a delete racing a
// rule write naming the same entry never both succeed.
// Deliveries are keyed by id with order indexes by time, event, rule and
// status. Secrets sit in their own bucket.
//
// The package imports the domain and the store contract, never another
// adapter. A Store is safe for concurrent use: bbolt runs one writer at a
// time and any number of readers.
package bolt

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"
	bbolterrors "go.etcd.io/bbolt/errors"

	"github.com/argoproj-labs/argo-notify/pkg/internal/boltgroup"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// schemaVersion is the layout of the file; Open refuses any other.
const schemaVersion = "1"

var (
	bMeta     = []byte("meta")
	schemaKey = []byte("schema")
)

// lockTimeout is how long Open waits for another process to release the file.
const lockTimeout = time.Second

// Store is the embedded implementation of store.Store.
type Store struct {
	db    *bbolt.DB
	group *boltgroup.Committer // writes of concurrent callers, committed together
	path  string
}

var _ store.Store = (*Store)(nil)

var allBuckets = [][]byte{
	bRules, bRulesID, bRulesName, bRefs,
	bUsers, bUsersID, bUsersEmail,
	bGroups, bGroupsID, bGroupsName,
	bSMTP, bSMTPID, bSMTPName, bIntegrations, bSecrets,
	bWebhooks, bWebhooksID, bWebhooksName,
	bDeliveries, bDelivByTime, bDelivByEvent, bDelivByRule, bDelivByStatus,
	bAudit, bCredentials,
}

// Open opens (creating if needed) the store file at path, with mode 0600 and
// its directory with 0700. If another process holds the file, Open fails
// after a second with an error that says so.
func Open(path string) (*Store, error) { return open(path, lockTimeout) }

func open(path string, timeout time.Duration) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout})
	if errors.Is(err, bbolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open store %s: the file is locked by another process (is argo-notify already running?): %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bMeta)
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", bMeta, err)
		}
		switch v := meta.Get(schemaKey); {
		case v == nil:
			if err := meta.Put(schemaKey, []byte(schemaVersion)); err != nil {
				return fmt.Errorf("write schema version: %w", err)
			}
		case string(v) != schemaVersion:
			return fmt.Errorf("the file has schema version %q; this build reads %q", v, schemaVersion)
		}
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &Store{db: db, group: boltgroup.New(db), path: path}, nil
}

// Close releases the file. The Store must not be used afterwards.
func (s *Store) Close() error {
	s.group.Close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Path returns the file the store lives in.
func (s *Store) Path() string { return s.path }

func (s *Store) view(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

func (s *Store) update(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Concurrent writers (the dispatcher's parallel sends, several queue
	// workers) share commits and their fsyncs. Every fn here only assigns
	// its results to variables, so running it again when a group is
	// retried without a failed write is harmless.
	return s.group.Update(fn)
}

// orderKey is the key that sorts records by creation time, then id.
func orderKey(t time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano())^(1<<63))
	return append(k, id...)
}

func encodeCursor(key []byte) string { return base64.RawURLEncoding.EncodeToString(key) }

func decodeCursor(c string) ([]byte, error) {
	k, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(k) < 8 {
		return nil, notify.Invalid("cursor", "is not a cursor this list returned")
	}
	return k, nil
}

func limitOf(l int) int {
	switch {
	case l <= 0:
		return store.DefaultLimit
	case l > store.MaxLimit:
		return store.MaxLimit
	}
	return l
}

// fold is how unique names are compared: case-insensitively.
func fold(s string) string { return strings.ToLower(s) }

func stale(kind, id string, stored, want int64) error {
	return &notify.Error{Code: notify.EStale, Message: fmt.Sprintf("%s %q is at version %d, not %d", kind, id, stored, want)}
}

func notFound(kind, id string) error {
	return notify.Errorf(notify.ENotFound, "%s %q does not exist", kind, id)
}

func cat(parts ...string) []byte {
	return []byte(strings.Join(parts, "\x00"))
}
