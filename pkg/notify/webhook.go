package notify

import (
	"encoding/json"
	"errors"
	"maps"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxWebhookHeaders bounds the extra headers a webhook sends.
const MaxWebhookHeaders = 16

// Webhook is a connected HTTP endpoint that receives notifications as
// signed JSON POSTs. The signing secret and the header values (which may
// carry tokens) are write-only: they are kept behind SecretRef and never
// returned by the API; HeaderNames says which headers are set.
type Webhook struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	URL         string    `json:"url"`
	HeaderNames []string  `json:"headerNames"`
	SecretRef   string    `json:"secretRef"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// reservedWebhookHeaders are set by the sender and may not be configured.
var reservedWebhookHeaders = []string{
	"Content-Type", "Content-Length", "Host", "Idempotency-Key", "X-Argo-Signature",
	"Transfer-Encoding", "Connection", "Te", "Upgrade", "Trailer",
}

// ReservedWebhookHeader reports whether name is a header the webhook sender
// sets itself (compared case-insensitively).
func ReservedWebhookHeader(name string) bool {
	return slices.Contains(reservedWebhookHeaders, textproto.CanonicalMIMEHeaderKey(name))
}

// ValidateWebhook checks a webhook's name, URL and extra headers. Whether
// the URL's host is an address the service may call is checked by the
// webhook channel, which resolves it.
func ValidateWebhook(name, rawURL string, headers map[string]string) error {
	var v validator
	if n := utf8.RuneCountInString(name); n == 0 || n > MaxRuleName || strings.TrimSpace(name) != name {
		v.add("name", "must be 1-%d characters without leading or trailing space", MaxRuleName)
	}
	u, err := url.Parse(rawURL)
	switch {
	case len(rawURL) > 2048 || err != nil || u.Host == "" || u.Opaque != "":
		v.add("url", "must be an absolute https:// URL of at most 2048 bytes")
	case u.Scheme != "https" && u.Scheme != "http":
		v.add("url", "must be an https:// URL")
	case u.User != nil:
		v.add("url", "must not carry credentials; use a header")
	case u.Fragment != "":
		v.add("url", "must not have a fragment")
	}
	if len(headers) > MaxWebhookHeaders {
		v.add("headers", "must have at most %d entries", MaxWebhookHeaders)
	}
	seen := map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(headers)) {
		canon := textproto.CanonicalMIMEHeaderKey(k)
		switch {
		case seen[canon]:
			v.add("headers", "%q is set twice", canon)
		case !validHeaderName(k):
			v.add("headers", "%q is not a valid header name", k)
		case ReservedWebhookHeader(k):
			v.add("headers", "%q is set by the service and cannot be configured", k)
		case len(headers[k]) > 4096 || strings.ContainsAny(headers[k], "\r\n\x00"):
			v.add("headers", "the value of %q must be at most 4096 bytes on one line", k)
		}
		seen[canon] = true
	}
	return v.err()
}

// validHeaderName reports whether s is an HTTP token (RFC 9110 5.1).
func validHeaderName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// WebhookSecret is what a webhook keeps behind its SecretRef: the signing
// secret and the header values, which may carry tokens and so are kept out
// of the table.
type WebhookSecret struct {
	Signing string            `json:"signingSecret"`
	Headers map[string]string `json:"headers,omitempty"`
}

// Encode returns s as the value to store.
func (s WebhookSecret) Encode() string {
	b, _ := json.Marshal(s) // strings only: cannot fail
	return string(b)
}

// DecodeWebhookSecret reads a stored WebhookSecret.
func DecodeWebhookSecret(v string) (WebhookSecret, error) {
	var s WebhookSecret
	if err := json.Unmarshal([]byte(v), &s); err != nil || s.Signing == "" {
		return WebhookSecret{}, errors.New("the stored webhook secret is unreadable")
	}
	return s, nil
}

// WebhookHeaderNames returns the canonical names of a webhook's extra
// headers, sorted: what the API shows in place of their write-only values.
func WebhookHeaderNames(h map[string]string) []string {
	out := make([]string, 0, len(h))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		out = append(out, textproto.CanonicalMIMEHeaderKey(k))
	}
	return out
}
