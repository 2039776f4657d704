package channel_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/channel"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

type nopSender struct{ name string }

func (s *nopSender) Send(context.Context, *send.Notification) (send.Result, error) {
	return send.Result{Provider: s.name}, nil
}

func spec(name notify.Channel, field string, r channel.Router) channel.Channel {
	return channel.Channel{Name: name, Field: field, Via: field, Router: r,
		Addresses: func(notify.Recipients) []string { return nil }}
}

func TestRegistryRoutesByName(t *testing.T) {
	a := &nopSender{"a"}
	reg := channel.New(
		spec("a", "as", channel.RouterFunc(func(context.Context) (send.Sender, error) { return a, nil })),
		spec("b", "bs", nil),
		spec("c", "cs", channel.RouterFunc(func(context.Context) (send.Sender, error) { return nil, &send.Skip{Reason: "c is off"} })),
	)
	if s, err := reg.Sender(context.Background(), "a"); err != nil || s != a {
		t.Errorf("Sender(a) = %v, %v", s, err)
	}
	for ch, reason := range map[notify.Channel]string{"b": `channel "b" has no sender`, "c": "c is off", "zz": `unsupported channel "zz"`} {
		_, err := reg.Sender(context.Background(), ch)
		var skip *send.Skip
		if !errors.As(err, &skip) || skip.Reason != reason {
			t.Errorf("Sender(%s) = %v, want skip %q", ch, err, reason)
		}
	}
	if got := reg.Channels(); len(got) != 3 || got[0].Name != "a" || got[2].Name != "c" {
		t.Errorf("Channels = %v, want a, b, c in order", got)
	}
	if _, ok := reg.Lookup("b"); !ok {
		t.Errorf("Lookup(b) failed")
	}
}

func TestRegistryRefusesBadWiring(t *testing.T) {
	for name, chs := range map[string][]channel.Channel{
		"same name":     {spec("a", "as", nil), spec("a", "bs", nil)},
		"same field":    {spec("a", "as", nil), spec("b", "as", nil)},
		"no addresses":  {{Name: "a", Field: "as", Via: "a"}},
		"no field name": {spec("a", "", nil)},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("New did not panic")
				}
			}()
			channel.New(chs...)
		})
	}
}

func TestReaderReusesWithinTTL(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := channel.Reader[int]{TTL: time.Second, Now: func() time.Time { return now }}
	calls := 0
	get := func() (int, error) { calls++; return calls, nil }
	for range 3 {
		if v, _ := r.Read(get); v != 1 {
			t.Errorf("Read = %d within the TTL, want the first answer", v)
		}
	}
	now = now.Add(time.Second)
	if v, _ := r.Read(get); v != 2 {
		t.Errorf("Read after the TTL = %d, want a new read", v)
	}
	fail := channel.Reader[int]{TTL: time.Hour}
	n := 0
	for range 2 {
		_, _ = fail.Read(func() (int, error) { n++; return 0, errors.New("boom") })
	}
	if n != 2 {
		t.Errorf("errors were reused: %d reads, want 2", n)
	}
}

func TestSendersKeepOneVersion(t *testing.T) {
	var s channel.Senders
	a, b := &nopSender{"a"}, &nopSender{"b"}
	s.Put("x@1", a)
	if s.Get("x@1") != a || s.Get("x@2") != nil {
		t.Errorf("Get after Put")
	}
	s.Put("x@2", b)
	if s.Get("x@1") != nil || s.Get("x@2") != b {
		t.Errorf("an old version is still kept")
	}
}
