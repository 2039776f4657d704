package ingest_test

import (
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
)

func TestDerivedIDAndFingerprint(t *testing.T) {
	body := []byte(`[{"type":"JOB","severity":"CRITICAL","title":"a"},{"type":"JOB","severity":"CRITICAL","title":"a"}]`)
	a, b := ingest.DerivedID(100, body, 0), ingest.DerivedID(100, body, 1)
	if a == b || a != ingest.DerivedID(100, body, 0) {
		t.Errorf("ids %q, %q: want distinct per index and stable per request", a, b)
	}
	if ingest.DerivedID(101, body, 0) == a || ingest.DerivedID(100, append([]byte(" "), body...), 0) == a {
		t.Error("another timestamp or body gave the same id")
	}
	if at, ok := ingest.SignedAt(ingest.Sign("s", body, time.Unix(1767323045, 0))); !ok || at != 1767323045 {
		t.Errorf("SignedAt = %d, %v", at, ok)
	}
	if _, ok := ingest.SignedAt("v1=ab"); ok {
		t.Error("SignedAt found a timestamp in a header without one")
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	evs, err := ingest.DecodeIndexed(body, now, func(i int) string { return ingest.DerivedID(100, body, i) })
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].ID != a || evs[1].ID != b {
		t.Errorf("ids %q %q, want %q %q", evs[0].ID, evs[1].ID, a, b)
	}
	later := evs[0]
	later.ReceivedAt = now.Add(time.Hour)
	if ingest.Fingerprint(&evs[0]) != ingest.Fingerprint(&later) {
		t.Error("the fingerprint depends on the time of receipt")
	}
	other := evs[0]
	other.Title = "b"
	if ingest.Fingerprint(&evs[0]) == ingest.Fingerprint(&other) {
		t.Error("another title gave the same fingerprint")
	}
}
