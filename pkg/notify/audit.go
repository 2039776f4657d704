package notify

import (
	"encoding/json"
	"time"
)

// AuditEntry records one change made through the admin API or SCIM: who
// made it, what it changed, when, and for rules the state before and
// after.
type AuditEntry struct {
	// ID is unique and sorts by time (a ULID).
	ID string    `json:"id"`
	At time.Time `json:"at"`
	// Actor says who: "admin" (the admin token or a JWT subject), "scim".
	Actor string `json:"actor"`
	// Action is what was done, e.g. "user.create", "rule.update",
	// "directory.replace", "scim.token.rotate".
	Action string `json:"action"`
	// Resource is the kind of what changed (user, group, rule, directory,
	// credential) and ResourceID its id ("" for the whole directory).
	Resource   string `json:"resource"`
	ResourceID string `json:"resourceId,omitempty"`
	// Summary is a short human-readable description.
	Summary string `json:"summary,omitempty"`
	// Before and After are the resource's JSON before and after the change
	// (rules, users and groups; absent on create and delete respectively).
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
}

// Credential is the hash of a bearer token a client of the service holds
// (the SCIM token), never the token itself.
type Credential struct {
	Name      string    `json:"name"`
	Hash      string    `json:"hash"` // hex SHA-256 of the token
	CreatedAt time.Time `json:"createdAt"`
}
