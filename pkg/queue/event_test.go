package queue

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

func TestEventRoundTrip(t *testing.T) {
	ev := &notify.Event{
		ID: "e-1", Type: notify.TypeJob, Severity: notify.SeverityCritical, Title: "Job failed",
		Message: "m", Source: "argo/prod", OccurredAt: time.Date(2026, 11, 30, 1, 2, 3, 4, time.UTC),
		ReceivedAt: time.Date(2026, 11, 30, 1, 2, 4, 0, time.UTC), PolicyID: "p-1", PolicyName: "nightly",
		JobID: "j-1", Status: notify.JobFailed, URL: "https://argo.example/jobs/j-1", Labels: map[string]string{"team": "a"},
	}
	m, err := EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	wantAttrs := map[string]string{AttrEventID: "e-1", AttrEventType: "JOB", AttrSeverity: "CRITICAL"}
	if m.ID != "e-1" || !reflect.DeepEqual(m.Attributes, wantAttrs) {
		t.Errorf("EncodeEvent = id %q attributes %v, want e-1 %v", m.ID, m.Attributes, wantAttrs)
	}
	got, err := DecodeEvent(m)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ev) {
		t.Errorf("DecodeEvent(EncodeEvent(ev)) = %+v, want %+v", got, ev)
	}
}

func TestEncodeEventWithoutID(t *testing.T) {
	if _, err := EncodeEvent(&notify.Event{Type: notify.TypeJob}); err == nil {
		t.Error("EncodeEvent of an event without id = nil error")
	}
}

func TestDecodeEventNotEvent(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"not JSON", "{not json"},
		{"no id", `{"type":"JOB","severity":"CRITICAL","title":"x"}`},
		{"wrong shape", `[1,2,3]`},
		{"empty", ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := DecodeEvent(Message{ID: "m1", Body: []byte(tc.body)})
			if !errors.Is(err, ErrNotEvent) || ev != nil {
				t.Errorf("DecodeEvent = %v, %v; want nil, ErrNotEvent", ev, err)
			}
		})
	}
}
