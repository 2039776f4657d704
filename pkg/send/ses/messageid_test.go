package ses

import (
	"context"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// TestSendMessageIDHeader: SES rewrites Message-ID, so the id derived from
// the delivery travels in send.MessageIDHeader, the same on every attempt.
func TestSendMessageIDHeader(t *testing.T) {
	f := &fakeSES{}
	s, err := New(f, Config{From: "Argo <notify@example.com>"})
	if err != nil {
		t.Fatal(err)
	}
	n := notification("a@example.com")
	for range 2 {
		if _, err := s.Send(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	want := "<" + send.MessageID(n, "example.com") + ">"
	for i, in := range f.calls {
		hs := in.Content.Simple.Headers
		if len(hs) != 1 || *hs[0].Name != send.MessageIDHeader || *hs[0].Value != want {
			t.Errorf("call %d: headers %+v, want %s: %s", i, hs, send.MessageIDHeader, want)
		}
	}
}
