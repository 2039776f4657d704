package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// SignedAt returns the timestamp (unix seconds) of an X-Argo-Signature
// header value, and whether it has one. Call it after VerifySignature
// accepted the header: it does not check the signature.
func SignedAt(header string) (int64, bool) {
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && k == "t" {
			t, err := strconv.ParseInt(v, 10, 64)
			return t, err == nil
		}
	}
	return 0, false
}

// DerivedID is the id of the index-th event of a signed request that gave
// it none: "evt_" and a hash of the signature's timestamp and the raw body,
// then "-<index>". The same request sent again — a client's retry, or a
// captured request replayed within the signature window — gives the same
// ids, so the dispatcher's once-per-recipient claims notify nobody twice;
// a different body or timestamp gives other ids.
func DerivedID(signedAt int64, body []byte, index int) string {
	h := sha256.New()
	h.Write([]byte(strconv.FormatInt(signedAt, 10)))
	h.Write([]byte{'.'})
	h.Write(body)
	return "evt_" + hex.EncodeToString(h.Sum(nil)[:16]) + "-" + strconv.Itoa(index)
}

// Fingerprint identifies what an event says, apart from when it was
// received: two requests carrying one id with equal fingerprints are the
// same event sent twice; with different ones, a conflict (the id was
// reused for another event).
func Fingerprint(ev *notify.Event) string {
	// The outer receivedAt hides the event's (nil: left out).
	b, err := json.Marshal(struct {
		*notify.Event
		ReceivedAt *struct{} `json:"receivedAt,omitempty"`
	}{Event: ev})
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
