package queue

import "context"

// Seen is what a Ledger knew of an event id when a Send carried it.
type Seen string

// What a Ledger can say of an event id.
const (
	// SeenNew: the id was not known; its fingerprint is now remembered.
	SeenNew Seen = ""
	// SeenDuplicate: the id was known with the same fingerprint — the same
	// event sent again (a client's retry, a replayed request).
	SeenDuplicate Seen = "duplicate"
	// SeenConflict: the id was known with another fingerprint — the id
	// was reused for a different event. The first fingerprint is kept.
	SeenConflict Seen = "conflict"
)

// Ledger is a Producer that also remembers, for a while, the fingerprint
// of each event id it was sent, in the same commit as the messages (so
// nothing is half-written: either the messages and the fingerprints, or
// neither). Ingest uses it to tell duplicates and conflicts apart.
type Ledger interface {
	// SendSeen sends msgs as Producer.Send does; fingerprints[i] is that
	// of msgs[i] (whose ID is the event id). It returns what was known of
	// each id before this call (an id twice in msgs: the second is a
	// duplicate or a conflict of the first).
	SendSeen(ctx context.Context, msgs []Message, fingerprints []string) ([]Seen, error)
}
