package notify

import (
	"strings"
	"time"
)

// Channel is how a notification travels.
type Channel string

// Channels.
const (
	ChannelEmail   Channel = "email"
	ChannelSlack   Channel = "slack"
	ChannelWebhook Channel = "webhook" // recipient: the webhook's id
)

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery statuses.
const (
	// DeliveryQueued: claimed, not yet attempted, or a transient failure
	// waiting for its retry.
	DeliveryQueued DeliveryStatus = "queued"
	// DeliverySending: an attempt is in flight. A delivery found in this
	// state past its lease (or left by a previous local process) may or
	// may not have reached its recipient: it is sent again and recorded
	// sent with a note that it may be a duplicate (at least once).
	DeliverySending DeliveryStatus = "sending"
	// DeliveryHeld: kept back until DueAt by the hold stage. An event's
	// delivery folded into a digest is held until the digest (DigestID)
	// goes out; a digest delivery is held until its window closes.
	DeliveryHeld    DeliveryStatus = "held"
	DeliverySent    DeliveryStatus = "sent"
	DeliveryFailed  DeliveryStatus = "failed"
	DeliverySkipped DeliveryStatus = "skipped"
)

// Final reports whether no further attempt will be made.
func (s DeliveryStatus) Final() bool {
	return s == DeliverySent || s == DeliveryFailed || s == DeliverySkipped
}

// Delivery records one (event, channel, recipient) notification. Its ID is
// derived from those three, so a claim on it is unique per recipient and
// event however often the event is delivered by the queue.
type Delivery struct {
	ID                string         `json:"id"`
	EventID           string         `json:"eventId"`
	Channel           Channel        `json:"channel"`
	Recipient         string         `json:"recipient"`
	RuleIDs           []string       `json:"ruleIds"`
	Status            DeliveryStatus `json:"status"`
	Attempts          int            `json:"attempts"`
	LastError         string         `json:"lastError,omitempty"`
	Provider          string         `json:"provider,omitempty"` // smtp, ses, console, slack, webhook
	ProviderMessageID string         `json:"providerMessageId,omitempty"`
	Note              string         `json:"note,omitempty"` // e.g. why skipped, or an SES fallback
	Version           int64          `json:"version"`
	CreatedAt         time.Time      `json:"createdAt"`
	UpdatedAt         time.Time      `json:"updatedAt"`
	SentAt            *time.Time     `json:"sentAt,omitempty"`
	// DueAt is when a held delivery is released.
	DueAt *time.Time `json:"dueAt,omitempty"`
	// DigestID is the digest delivery this event's delivery is folded
	// into (or, on the event that opened the window, the digest it
	// opened).
	DigestID string `json:"digestId,omitempty"`
	// Digest is set on a digest delivery: the events folded into it.
	Digest *Digest `json:"digest,omitempty"`
}

// DeliveryID is the id of the delivery of event eventID to recipient over
// channel. Email recipients are compared case-insensitively.
func DeliveryID(eventID string, ch Channel, recipient string) string {
	if ch == ChannelEmail {
		recipient = strings.ToLower(recipient)
	}
	return eventID + "|" + string(ch) + "|" + recipient
}
