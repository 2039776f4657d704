package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Actors of audit entries that are not a person's name.
const (
	ActorAdmin = "admin" // the admin token (local mode) or an admin of the console
	ActorSCIM  = "scim"  // an identity provider, through /scim/v2
)

type actorKey struct{}

// WithActor returns ctx carrying who makes the changes done with it, as the
// audit trail records it (ActorAdmin, ActorSCIM or a JWT subject).
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorOf returns the actor WithActor put in ctx, or ActorAdmin.
func ActorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return ActorAdmin
}

// auditor records changes in the audit trail. A nil store records
// nothing. Recording follows the change and cannot undo it: a failure is
// logged, not returned.
type auditor struct {
	audit store.Audit
	clock clock
	log   *slog.Logger
}

func newAuditor(a store.Audit, c clock, log *slog.Logger) auditor {
	if log == nil {
		log = slog.Default()
	}
	return auditor{audit: a, clock: c, log: log}
}

// record appends one entry: action on resource id, with the JSON of before
// and after (either may be nil).
func (a auditor) record(ctx context.Context, action, resource, id, summary string, before, after any) {
	if a.audit == nil {
		return
	}
	e := &notify.AuditEntry{
		ID: auditID(a.clock.now()), At: a.clock.stamp(), Actor: ActorOf(ctx),
		Action: action, Resource: resource, ResourceID: id, Summary: summary,
		Before: rawJSON(before), After: rawJSON(after),
	}
	// The change is made: record it even if the caller has gone.
	if err := a.audit.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		a.log.ErrorContext(ctx, "audit entry not recorded", "action", action, "resource_id", id, "err", err.Error())
	}
}

// auditSeq orders the entries of one process made in the same
// millisecond.
var auditSeq atomic.Uint32

// auditID is an id that sorts by time: aud_, the Unix milliseconds and a
// sequence number in fixed-width hex, and random bits against collisions
// between processes. It does not draw on the services' id source, so
// recording changes no id a caller sees.
func auditID(t time.Time) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return fmt.Sprintf("aud_%013x%08x%s", t.UnixMilli(), auditSeq.Add(1), hex.EncodeToString(r[:]))
}

func rawJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	switch x := v.(type) {
	case *notify.Rule:
		if x == nil {
			return nil
		}
	case *notify.User:
		if x == nil {
			return nil
		}
	case *notify.Group:
		if x == nil {
			return nil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}
