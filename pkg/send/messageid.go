package send

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// MessageIDHeader carries MessageID where the provider rewrites Message-ID
// (SES replaces it with its own).
const MessageIDHeader = "X-Argo-Notify-Message-Id"

// MessageID is the Message-ID (without angle brackets) of the email n, in
// domain: derived from its delivery id, so every attempt of one delivery —
// a retry, or a resend after an interrupted attempt — carries the same one
// and a mail client can fold a duplicate. n.To holds one address as the
// dispatcher sends them; several are folded into one id.
func MessageID(n *Notification, domain string) string {
	if domain == "" {
		domain = "argo-notify.invalid"
	}
	ch := n.Channel
	if ch == "" {
		ch = notify.ChannelEmail
	}
	eventID := ""
	if n.Event != nil {
		eventID = n.Event.ID
	}
	sum := sha256.Sum256([]byte(notify.DeliveryID(eventID, ch, strings.Join(n.To, ","))))
	return hex.EncodeToString(sum[:16]) + "@" + domain
}

// DomainOf is the domain of an email address, or "" without one.
func DomainOf(addr string) string {
	addr = strings.TrimSuffix(strings.TrimSpace(addr), ">")
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i+1 < len(addr) {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}
