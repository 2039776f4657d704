package ingest_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

var now = time.Date(2026, 11, 26, 2, 30, 0, 0, time.UTC)

// hmacHex computes the expected signature independently of the package.
func hmacHex(secret, t, body string) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(t + "." + body))
	return hex.EncodeToString(h.Sum(nil))
}

func TestSign(t *testing.T) {
	body := []byte(`{"type":"JOB"}`)
	got := ingest.Sign("s3cret", body, now)
	want := "t=1795660200,v1=" + hmacHex("s3cret", "1795660200", string(body))
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(`{"type":"SYSTEM","severity":"INFO","title":"hi"}`)
	ts := "1795660200" // now
	good := hmacHex("current", ts, string(body))
	old := hmacHex("previous", ts, string(body))
	other := hmacHex("someone-else", ts, string(body))
	secrets := []string{"current", "previous"}
	tests := []struct {
		name    string
		header  string
		body    []byte
		secrets []string
		now     time.Time
		wantMsg string // "" means accepted
	}{
		{name: "valid", header: "t=" + ts + ",v1=" + good},
		{name: "valid with spaces", header: " t=" + ts + " , v1=" + good + " "},
		{name: "second secret (rotation)", header: "t=" + ts + ",v1=" + old},
		{name: "several v1, one valid", header: "t=" + ts + ",v1=" + other + ",v1=" + good},
		{name: "unknown scheme ignored", header: "t=" + ts + ",v0=abc,v1=" + good},
		{name: "uppercase hex", header: "t=" + ts + ",v1=" + strings.ToUpper(good)},
		{name: "skew at the limit, past", header: "t=" + ts + ",v1=" + good, now: now.Add(5 * time.Minute)},
		{name: "skew at the limit, future", header: "t=" + ts + ",v1=" + good, now: now.Add(-5 * time.Minute)},
		{name: "empty secret skipped", header: "t=" + ts + ",v1=" + good, secrets: []string{"", "current"}},

		{name: "missing", header: "", wantMsg: "signature missing"},
		{name: "blank", header: "   ", wantMsg: "signature missing"},
		{name: "no t", header: "v1=" + good, wantMsg: "signature malformed"},
		{name: "no v1", header: "t=" + ts, wantMsg: "signature malformed"},
		{name: "two t", header: "t=" + ts + ",t=" + ts + ",v1=" + good, wantMsg: "signature malformed"},
		{name: "t not a number", header: "t=abc,v1=" + good, wantMsg: "signature malformed"},
		{name: "t negative", header: "t=-1,v1=" + good, wantMsg: "signature malformed"},
		{name: "t leading zero", header: "t=0" + ts + ",v1=" + good, wantMsg: "signature malformed"},
		{name: "t too long", header: "t=1234567890123,v1=" + good, wantMsg: "signature malformed"},
		{name: "part without =", header: "t=" + ts + ",v1", wantMsg: "signature malformed"},
		{name: "v1 short", header: "t=" + ts + ",v1=" + good[:62], wantMsg: "signature malformed"},
		{name: "v1 not hex", header: "t=" + ts + ",v1=" + strings.Repeat("zz", 32), wantMsg: "signature malformed"},
		{name: "too many v1", header: "t=" + ts + strings.Repeat(",v1="+other, 9), wantMsg: "signature malformed"},
		{name: "header too long", header: "t=" + ts + ",v1=" + good + ",x=" + strings.Repeat("a", 1100), wantMsg: "signature malformed"},
		{name: "expired", header: "t=" + ts + ",v1=" + good, now: now.Add(5*time.Minute + time.Second), wantMsg: "signature expired"},
		{name: "from the future", header: "t=" + ts + ",v1=" + good, now: now.Add(-5*time.Minute - time.Second), wantMsg: "signature expired"},
		{name: "wrong secret", header: "t=" + ts + ",v1=" + other, wantMsg: "signature mismatch"},
		{name: "body changed", header: "t=" + ts + ",v1=" + good, body: []byte(`{"type":"SYSTEM","severity":"CRITICAL","title":"hi"}`), wantMsg: "signature mismatch"},
		{name: "timestamp changed", header: "t=1795660201,v1=" + good, wantMsg: "signature mismatch"},
		{name: "no secrets configured", header: "t=" + ts + ",v1=" + good, secrets: []string{}, wantMsg: "signature mismatch"},
		{name: "only empty secrets", header: "t=" + ts + ",v1=" + hmacHex("", ts, string(body)), secrets: []string{""}, wantMsg: "signature mismatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, s, n := body, secrets, now
			if tc.body != nil {
				b = tc.body
			}
			if tc.secrets != nil {
				s = tc.secrets
			}
			if !tc.now.IsZero() {
				n = tc.now
			}
			err := ingest.VerifySignature(tc.header, b, s, n)
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatalf("VerifySignature = %v, want nil", err)
				}
				return
			}
			if !notify.IsCode(err, notify.EUnauthorized) {
				t.Fatalf("VerifySignature = %v, want code %s", err, notify.EUnauthorized)
			}
			if e := err.(*notify.Error); e.Message != tc.wantMsg {
				t.Errorf("message = %q, want %q", e.Message, tc.wantMsg)
			}
			for _, secret := range s {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains a secret", err)
				}
			}
		})
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, body := range [][]byte{nil, {}, []byte("x"), []byte(strings.Repeat("é", 1000))} {
		h := ingest.Sign("k", body, now)
		if err := ingest.VerifySignature(h, body, []string{"k"}, now.Add(time.Minute)); err != nil {
			t.Errorf("body %q: %v", body, err)
		}
	}
}
