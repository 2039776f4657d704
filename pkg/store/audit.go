package store

import (
	"context"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// Audit keeps the audit trail of changes.
type Audit interface {
	// AppendAudit stores e; EConflict if an entry with its ID exists.
	AppendAudit(ctx context.Context, e *notify.AuditEntry) error
	// ListAudit returns one page of entries, newest first (by ID, a ULID).
	ListAudit(ctx context.Context, p Page) (entries []*notify.AuditEntry, next string, err error)
}

// Credentials keeps the hashes of bearer tokens by name ("scim").
type Credentials interface {
	// PutCredential stores c, replacing the credential of that name.
	PutCredential(ctx context.Context, c *notify.Credential) error
	// GetCredential returns the credential of that name or ENotFound.
	GetCredential(ctx context.Context, name string) (*notify.Credential, error)
}
