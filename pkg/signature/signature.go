// Package signature is the HMAC scheme argo-notify signs with, both ways:
// Argo signs the events it posts to /v1/events, and argo-notify signs the
// notifications it posts to webhooks, so one verifier serves both. The
// header is "X-Argo-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
// "<t>.<body>")>".
//
// It imports only the standard library and pkg/notify (for its errors).
package signature

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// Header is the HTTP header that carries a signature.
const Header = "X-Argo-Signature"

// MaxSkew is how far a signature's timestamp may be from the receiver's
// clock, either way.
const MaxSkew = 5 * time.Minute

// Limits on the signature header, so that parsing and checking it costs a
// bounded amount of work whatever a client sends.
const (
	maxSignatureHeader = 1024
	maxSignatures      = 8
)

// The messages of the EUnauthorized errors Verify returns. They say
// which step failed and nothing else.
const (
	msgMissing   = "signature missing"
	msgMalformed = "signature malformed"
	msgExpired   = "signature expired"
	msgMismatch  = "signature mismatch"
)

// Sign returns the X-Argo-Signature header value for body, signed with
// secret at time now: "t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
// "<t>.<body>")>".
func Sign(secret string, body []byte, now time.Time) string {
	t := strconv.FormatInt(now.Unix(), 10)
	return "t=" + t + ",v1=" + hex.EncodeToString(mac(secret, t, body))
}

func mac(secret, t string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(t))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks an X-Argo-Signature header value against the raw
// request body. The header is "t=<unix seconds>,v1=<hex>[,v1=<hex>…]"; the
// request is authentic when some v1 value equals HMAC-SHA256(secret,
// "<t>.<body>") for some non-empty secret in secrets (several v1 values and
// several secrets allow the secret to be rotated without downtime), and t is
// within MaxSkew of now. Other keys (e.g. a future v2) are ignored.
// Comparisons are constant-time.
//
// Every failure is an *notify.Error with code EUnauthorized whose message is
// one of "signature missing", "signature malformed", "signature expired" or
// "signature mismatch". With no usable secret nothing can match: the result
// is a mismatch (fail closed).
func Verify(header string, body []byte, secrets []string, now time.Time) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return unauthorized(msgMissing)
	}
	if len(header) > maxSignatureHeader {
		return unauthorized(msgMalformed)
	}
	var (
		ts   string
		sigs [][]byte
	)
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return unauthorized(msgMalformed)
		}
		switch k {
		case "t":
			if ts != "" || !validTimestamp(v) {
				return unauthorized(msgMalformed)
			}
			ts = v
		case "v1":
			if len(v) != 2*sha256.Size || len(sigs) == maxSignatures {
				return unauthorized(msgMalformed)
			}
			sig, err := hex.DecodeString(v)
			if err != nil {
				return unauthorized(msgMalformed)
			}
			sigs = append(sigs, sig)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return unauthorized(msgMalformed)
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return unauthorized(msgMalformed)
	}
	if d := now.Unix() - t; d > int64(MaxSkew/time.Second) || d < -int64(MaxSkew/time.Second) {
		return unauthorized(msgExpired)
	}
	matched := 0
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		want := mac(secret, ts, body)
		for _, sig := range sigs {
			// Every pair is compared, so the time taken does not depend on
			// which secret or which signature matched.
			if hmac.Equal(sig, want) {
				matched++
			}
		}
	}
	if matched == 0 {
		return unauthorized(msgMismatch)
	}
	return nil
}

// validTimestamp reports whether s is 1-12 decimal digits without a leading
// zero (or "0"): unix seconds until the year 33658, and one spelling per
// value.
func validTimestamp(s string) bool {
	if s == "" || len(s) > 12 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func unauthorized(msg string) *notify.Error {
	return &notify.Error{Code: notify.EUnauthorized, Message: msg}
}
