package ingest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// FuzzDecode: Decode never panics; what it accepts is valid and has ids;
// what it refuses is an *notify.Error.
func FuzzDecode(f *testing.F) {
	for _, b := range samples(f, argoSamples) {
		f.Add(b)
	}
	for _, s := range []string{okEvent, "[" + okEvent + "," + okEvent + "]", "[]", "null", `{"labels":{"a":1}}`, `[{"type":5}]`, `{"occurredAt":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := ingest.Decode(body, now, nil)
		if err != nil {
			var ne *notify.Error
			if !errors.As(err, &ne) || (ne.Code != notify.EInvalid && ne.Code != notify.ETooLarge) {
				t.Fatalf("error %v is not an invalid/too_large *notify.Error", err)
			}
			if evs != nil {
				t.Fatal("events returned with an error")
			}
			return
		}
		if len(evs) < 1 || len(evs) > notify.MaxEventBatch {
			t.Fatalf("%d events accepted", len(evs))
		}
		for i := range evs {
			if err := evs[i].Validate(); err != nil || evs[i].ID == "" || !evs[i].ReceivedAt.Equal(now) {
				t.Fatalf("event %d accepted but invalid (%v) or without id/receivedAt: %+v", i, err, evs[i])
			}
		}
	})
}

// FuzzVerifySignature: VerifySignature never panics, fails only with
// EUnauthorized, and accepts only headers that carry a correct HMAC.
func FuzzVerifySignature(f *testing.F) {
	body := samples(f, argoSamples)["job-critical.json"]
	f.Add(ingest.Sign("secret", body, now), body)
	f.Add("t=1795660200,v1=00,v1="+ingest.Sign("other", body, now)[16:], body)
	f.Add("", []byte{})
	f.Add("t=,v1=", []byte("x"))
	f.Add("t=1795660200,v1="+string(make([]byte, 64)), []byte("x"))
	secrets := []string{"secret", "old-secret"}
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := ingest.VerifySignature(header, body, secrets, now)
		if err != nil {
			if !notify.IsCode(err, notify.EUnauthorized) {
				t.Fatalf("error %v is not unauthorized", err)
			}
			return
		}
		// Accepted: the header must contain the signature of one of the
		// secrets at a timestamp within the skew.
		for d := -ingest.MaxSkew; d <= ingest.MaxSkew; d += time.Second {
			for _, s := range secrets {
				sig := ingest.Sign(s, body, now.Add(d))
				if containsFold(header, sig[len(sig)-64:]) {
					return
				}
			}
		}
		t.Fatalf("accepted header %q without a valid signature", header)
	})
}

func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		match := true
		for j := 0; j < len(sub); j++ {
			a, b := s[i+j], sub[j]
			if 'A' <= a && a <= 'F' {
				a += 'a' - 'A'
			}
			if a != b {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// FuzzFromEventBridge: FromEventBridge never panics; an event it returns is
// valid; an error is either ErrUnsupported or an *notify.Error.
func FuzzFromEventBridge(f *testing.F) {
	for _, b := range samples(f, eventBridgeSamples) {
		f.Add(b)
	}
	f.Add([]byte(`{"id":"x","source":"aws.ecs","detail-type":"ECS Task State Change","time":"2026-11-26T02:00:00Z","region":"us-east-1","detail":{"taskArn":"t","lastStatus":"STOPPED","containers":[{}]}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, ok, err := ingest.FromEventBridge(raw, now)
		switch {
		case err != nil:
			if ok || ev != nil {
				t.Fatal("event returned with an error")
			}
			var ne *notify.Error
			if !errors.Is(err, ingest.ErrUnsupported) && !errors.As(err, &ne) {
				t.Fatalf("error %v is neither ErrUnsupported nor *notify.Error", err)
			}
		case ok:
			if ev == nil {
				t.Fatal("ok without an event")
			}
			if err := ev.Validate(); err != nil {
				t.Fatalf("mapped event invalid: %v: %+v", err, ev)
			}
		case ev != nil:
			t.Fatal("event returned with ok=false")
		}
	})
}
