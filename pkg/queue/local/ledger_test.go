package local

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

func TestSendSeen(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var fail error
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{Now: clk.Now, FailWrites: func() error { return fail }})
	defer q.Close()
	ctx := context.Background()
	send := func(ids, fps []string) ([]queue.Seen, error) {
		ms := make([]queue.Message, len(ids))
		for i, id := range ids {
			ms[i] = queue.Message{ID: id, Body: []byte(id)}
		}
		return q.SendSeen(ctx, ms, fps)
	}
	tests := []struct {
		name string
		ids  []string
		fps  []string
		want []queue.Seen
	}{
		{"new ids", []string{"a", "b"}, []string{"fa", "fb"}, []queue.Seen{queue.SeenNew, queue.SeenNew}},
		{"the same again", []string{"a"}, []string{"fa"}, []queue.Seen{queue.SeenDuplicate}},
		{"another body", []string{"b"}, []string{"fx"}, []queue.Seen{queue.SeenConflict}},
		{"twice in one batch", []string{"c", "c", "c"}, []string{"fc", "fc", "fy"}, []queue.Seen{queue.SeenNew, queue.SeenDuplicate, queue.SeenConflict}},
	}
	for _, tt := range tests {
		got, err := send(tt.ids, tt.fps)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: SendSeen = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	before := stats(t, q)

	// A failed write keeps nothing: neither the messages nor the
	// fingerprints.
	fail = errors.New("injected: no space left on device")
	if _, err := send([]string{"d"}, []string{"fd"}); err == nil {
		t.Fatal("SendSeen with a failing disk succeeded")
	}
	fail = nil
	if got := stats(t, q); got != before {
		t.Errorf("after the failed write: %+v, want %+v", got, before)
	}
	if got, err := send([]string{"d"}, []string{"fd"}); err != nil || got[0] != queue.SeenNew {
		t.Errorf("after recovery: %v, %v; want d new", got, err)
	}

	// Past SeenTTL the fingerprint is forgotten.
	clk.Add(SeenTTL + time.Minute)
	if got, err := send([]string{"a"}, []string{"fz"}); err != nil || got[0] != queue.SeenNew {
		t.Errorf("after the TTL: %v, %v; want a new again", got, err)
	}
}
