package sqs

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

// deadQueue returns a fake DLQ holding n messages sent by a Producer.
func deadQueue(t *testing.T, n int) *fakeQueue {
	t.Helper()
	dlq := &fakeQueue{}
	if err := NewProducer(dlq, "https://dlq").Send(context.Background(), msgs(n, 0)); err != nil {
		t.Fatal(err)
	}
	return dlq
}

func TestListDead(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		limit   int
		wantIDs []string
	}{
		{name: "empty", n: 0, limit: 10, wantIDs: []string{}},
		{name: "all", n: 3, limit: 0, wantIDs: []string{"e0", "e1", "e2"}},
		{name: "limited", n: 25, limit: 12, wantIDs: []string{"e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e10", "e11"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dlq := deadQueue(t, tt.n)
			d := NewDeadLetters(dlq, "https://dlq", NewProducer(&fakeQueue{}, "https://main"))
			got, next, err := d.ListDead(context.Background(), tt.limit, "")
			if err != nil {
				t.Fatal(err)
			}
			if next != "" {
				t.Errorf("next = %q, want \"\"", next)
			}
			ids := []string{}
			for _, dl := range got {
				ids = append(ids, dl.ID)
				if dl.ReceiveCount < 1 || dl.FirstSentAt.IsZero() || dl.Attributes[queue.AttrEventType] != "JOB" {
					t.Errorf("dead letter %s = %+v, want receive count, first sent and attributes", dl.ID, dl.Message)
				}
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if v := dlq.visible(); v != tt.n {
				t.Errorf("%d messages visible after listing, want all %d", v, tt.n)
			}
			if len(dlq.deleted) != 0 {
				t.Errorf("listing deleted %v", dlq.deleted)
			}
		})
	}
}

func TestRedrive(t *testing.T) {
	tests := []struct {
		name     string
		id       string
		wantCode string
		wantBody string
	}{
		{name: "by event id", id: "e13", wantBody: `"id":"e13"`},
		{name: "by sqs id", id: "sqs-2", wantBody: `"id":"e1"`},
		{name: "unknown", id: "nope", wantCode: notify.ENotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dlq := deadQueue(t, 15)
			main := &fakeQueue{}
			d := NewDeadLetters(dlq, "https://dlq", NewProducer(main, "https://main"))
			err := d.Redrive(context.Background(), tt.id)
			if got := notify.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("Redrive() = %v, want code %q", err, tt.wantCode)
			}
			wantLeft, wantMain := 15, 0
			if tt.wantCode == "" {
				wantLeft, wantMain = 14, 1
			}
			if len(dlq.msgs) != wantLeft || dlq.visible() != wantLeft {
				t.Errorf("DLQ holds %d (%d visible), want %d all visible", len(dlq.msgs), dlq.visible(), wantLeft)
			}
			if len(main.msgs) != wantMain {
				t.Fatalf("main queue holds %d, want %d", len(main.msgs), wantMain)
			}
			if wantMain == 1 {
				m := main.msgs[0]
				if !strings.Contains(m.body, tt.wantBody) {
					t.Errorf("redriven body %q, want it to contain %q", m.body, tt.wantBody)
				}
				if m.attrs[attrFirstSentAt].StringValue == nil || m.attrs[queue.AttrEventType].StringValue == nil {
					t.Errorf("redriven attributes %v lack first-sent time or event type", m.attrs)
				}
			}
		})
	}
}

var _ queue.DeadLetters = (*DeadLetters)(nil)

func TestRedriveSendFails(t *testing.T) {
	dlq := deadQueue(t, 3)
	main := &fakeQueue{sendErr: errors.New("queue down")}
	d := NewDeadLetters(dlq, "https://dlq", NewProducer(main, "https://main"))
	err := d.Redrive(context.Background(), "e1")
	if !notify.IsCode(err, notify.EUnavailable) {
		t.Fatalf("Redrive() = %v, want EUnavailable", err)
	}
	if len(dlq.msgs) != 3 || dlq.visible() != 3 {
		t.Errorf("DLQ holds %d (%d visible), want all 3 visible", len(dlq.msgs), dlq.visible())
	}
}
