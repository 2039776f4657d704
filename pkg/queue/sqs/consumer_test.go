package sqs

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

func record(id, body string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, ReceiptHandle: id + "/r1", Body: body}
}

func TestHandleBatch(t *testing.T) {
	tests := []struct {
		name        string
		records     []events.SQSMessage
		handler     queue.Handler
		wantFailed  []string
		wantChanges []int32
	}{
		{
			name:       "all succeed",
			records:    []events.SQSMessage{record("a", "1"), record("b", "2")},
			handler:    func(context.Context, queue.Message) error { return nil },
			wantFailed: []string{},
		},
		{
			name:    "one error fails only its record",
			records: []events.SQSMessage{record("a", "ok"), record("b", "bad"), record("c", "ok")},
			handler: func(_ context.Context, m queue.Message) error {
				if string(m.Body) == "bad" {
					return errors.New("boom")
				}
				return nil
			},
			wantFailed: []string{"b"},
		},
		{
			name:    "retry error delays the record",
			records: []events.SQSMessage{record("a", "slow"), record("b", "ok")},
			handler: func(_ context.Context, m queue.Message) error {
				if string(m.Body) == "slow" {
					return &queue.RetryError{After: 1500 * time.Millisecond, Err: errors.New("rate limited")}
				}
				return nil
			},
			wantFailed:  []string{"a"},
			wantChanges: []int32{2},
		},
		{
			name:    "wrapped retry error capped at 12 hours",
			records: []events.SQSMessage{record("a", "x")},
			handler: func(context.Context, queue.Message) error {
				return errors.Join(errors.New("ctx"), &queue.RetryError{After: 48 * time.Hour, Err: errors.New("quota")})
			},
			wantFailed:  []string{"a"},
			wantChanges: []int32{43200},
		},
		{
			name:    "panic fails only its record",
			records: []events.SQSMessage{record("a", "ok"), record("b", "poison"), record("c", "ok")},
			handler: func(_ context.Context, m queue.Message) error {
				if string(m.Body) == "poison" {
					panic("poison message")
				}
				return nil
			},
			wantFailed: []string{"b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &fakeQueue{}
			for _, r := range tt.records {
				q.msgs = append(q.msgs, &fakeMsg{id: r.MessageId, receipt: r.ReceiptHandle, hidden: true})
			}
			c := NewConsumer(q, "https://queue", nil)
			resp := c.HandleBatch(context.Background(), events.SQSEvent{Records: tt.records}, tt.handler)
			failed := []string{}
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if diff := cmp.Diff(tt.wantFailed, failed); diff != "" {
				t.Errorf("failed items (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantChanges, q.changes); diff != "" {
				t.Errorf("visibility changes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandleBatchOutOfTime(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var handled []string
	h := func(_ context.Context, m queue.Message) error {
		handled = append(handled, m.ID)
		cancel()
		return nil
	}
	c := NewConsumer(&fakeQueue{}, "https://queue", nil)
	resp := c.HandleBatch(ctx, events.SQSEvent{Records: []events.SQSMessage{record("a", ""), record("b", ""), record("c", "")}}, h)
	if diff := cmp.Diff([]string{"a"}, handled); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}
	want := []events.SQSBatchItemFailure{{ItemIdentifier: "b"}, {ItemIdentifier: "c"}}
	if diff := cmp.Diff(want, resp.BatchItemFailures); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
}

func TestHandleBatchFIFO(t *testing.T) {
	recs := []events.SQSMessage{record("a", "ok"), record("b", "bad"), record("c", "ok")}
	for i := range recs {
		recs[i].EventSourceARN = "arn:aws:sqs:us-east-1:000000000000:events.fifo"
	}
	var handled []string
	h := func(_ context.Context, m queue.Message) error {
		handled = append(handled, m.ID)
		if string(m.Body) == "bad" {
			return errors.New("boom")
		}
		return nil
	}
	resp := NewConsumer(&fakeQueue{}, "https://queue", nil).HandleBatch(context.Background(), events.SQSEvent{Records: recs}, h)
	if diff := cmp.Diff([]string{"a", "b"}, handled); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}
	want := []events.SQSBatchItemFailure{{ItemIdentifier: "b"}, {ItemIdentifier: "c"}}
	if diff := cmp.Diff(want, resp.BatchItemFailures); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
}

func TestFromRecord(t *testing.T) {
	str := func(s string) events.SQSMessageAttribute {
		return events.SQSMessageAttribute{DataType: "String", StringValue: &s}
	}
	tests := []struct {
		name string
		rec  events.SQSMessage
		want queue.Message
	}{
		{
			name: "event id and counts",
			rec: events.SQSMessage{
				MessageId: "sqs-1", Body: `{"x":1}`,
				Attributes:        map[string]string{"ApproximateReceiveCount": "3", "SentTimestamp": "1764118923000"},
				MessageAttributes: map[string]events.SQSMessageAttribute{queue.AttrEventID: str("e1"), queue.AttrSeverity: str("INFO"), "bin": {DataType: "Binary", BinaryValue: []byte{1}}},
			},
			want: queue.Message{ID: "e1", Body: []byte(`{"x":1}`), ReceiveCount: 3, FirstSentAt: time.UnixMilli(1764118923000).UTC(),
				Attributes: map[string]string{queue.AttrEventID: "e1", queue.AttrSeverity: "INFO"}},
		},
		{
			name: "first sent survives a redrive",
			rec: events.SQSMessage{
				MessageId: "sqs-2", Body: "b",
				Attributes:        map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1764118923000"},
				MessageAttributes: map[string]events.SQSMessageAttribute{attrFirstSentAt: str("2026-01-02T03:04:05Z")},
			},
			want: queue.Message{ID: "sqs-2", Body: []byte("b"), ReceiveCount: 1, FirstSentAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		},
		{
			name: "poison: no attributes at all",
			rec:  events.SQSMessage{MessageId: "sqs-3", Body: "\x00not json"},
			want: queue.Message{ID: "sqs-3", Body: []byte("\x00not json")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, FromRecord(&tt.rec)); diff != "" {
				t.Errorf("FromRecord (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLeaveLastReceiveToRedrive(t *testing.T) {
	rec := func(n string) events.SQSMessage {
		r := record("a", "x")
		r.Attributes = map[string]string{"ApproximateReceiveCount": n}
		return r
	}
	tests := []struct {
		name string
		opts []ConsumerOption
		recv string
		want int
	}{
		{"default: the handler sees the last receive", nil, "5", queue.MaxReceives},
		{"redrive: never the last", []ConsumerOption{LeaveLastReceiveToRedrive()}, "5", queue.MaxReceives - 1},
		{"redrive: past the limit too", []ConsumerOption{LeaveLastReceiveToRedrive()}, "9", queue.MaxReceives - 1},
		{"redrive: earlier receives unchanged", []ConsumerOption{LeaveLastReceiveToRedrive()}, "2", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen int
			c := NewConsumer(&fakeQueue{}, "https://queue", nil, tt.opts...)
			resp := c.HandleBatch(context.Background(), events.SQSEvent{Records: []events.SQSMessage{rec(tt.recv)}}, func(_ context.Context, m queue.Message) error {
				seen = m.ReceiveCount
				return errors.New("still failing")
			})
			if seen != tt.want {
				t.Errorf("handler saw receive %d, want %d", seen, tt.want)
			}
			if len(resp.BatchItemFailures) != 1 {
				t.Errorf("failures = %v, want the record back", resp.BatchItemFailures)
			}
		})
	}
}
