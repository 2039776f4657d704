package ingest

import (
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/signature"
)

// SignatureHeader is the HTTP header that carries an ingest request's
// signature.
const SignatureHeader = signature.Header

// MaxSkew is how far a signature's timestamp may be from the receiver's
// clock, either way.
const MaxSkew = signature.MaxSkew

// Sign returns the X-Argo-Signature header value for body, signed with
// secret at time now (see package signature, which webhooks share).
func Sign(secret string, body []byte, now time.Time) string {
	return signature.Sign(secret, body, now)
}

// VerifySignature checks an X-Argo-Signature header value against the raw
// request body with signature.Verify: the request is authentic when some v1
// value is the HMAC of "<t>.<body>" under some non-empty secret and t is
// within MaxSkew of now. Failures are *notify.Error with code EUnauthorized
// ("signature missing", "signature malformed", "signature expired" or
// "signature mismatch").
func VerifySignature(header string, body []byte, secrets []string, now time.Time) error {
	return signature.Verify(header, body, secrets, now)
}
