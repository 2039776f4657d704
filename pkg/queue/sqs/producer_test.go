package sqs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

func noBackoff(int) time.Duration { return 0 }

func msgs(n, size int) []queue.Message {
	out := make([]queue.Message, n)
	for i := range out {
		body := fmt.Sprintf(`{"id":"e%d","type":"JOB","severity":"INFO","title":"t"}`, i)
		if size > len(body) {
			body += strings.Repeat(" ", size-len(body))
		}
		out[i] = queue.Message{ID: fmt.Sprintf("e%d", i), Body: []byte(body)}
	}
	return out
}

func TestProducerSend(t *testing.T) {
	errBoom := errors.New("connection reset")
	tests := []struct {
		name       string
		msgs       []queue.Message
		failSend   func(call int, e types.SendMessageBatchRequestEntry) (string, bool, bool)
		sendErr    error
		wantSizes  []int // entries per SendMessageBatch call
		wantQueued int
		wantCode   string
	}{
		{name: "25 in three batches", msgs: msgs(25, 0), wantSizes: []int{10, 10, 5}, wantQueued: 25},
		{name: "none", msgs: nil, wantSizes: nil, wantQueued: 0},
		{name: "batches bounded by bytes", msgs: msgs(5, 100<<10), wantSizes: []int{2, 2, 1}, wantQueued: 5},
		{name: "one message over the limit", msgs: msgs(2, MaxBatchBytes+1), wantCode: notify.ETooLarge},
		{
			name: "failed entries retried alone",
			msgs: msgs(12, 0),
			failSend: func(call int, e types.SendMessageBatchRequestEntry) (string, bool, bool) {
				return "InternalError", false, call == 1 && (*e.Id == "1" || *e.Id == "3")
			},
			wantSizes:  []int{10, 2, 2},
			wantQueued: 12,
		},
		{
			name: "entry failing every time",
			msgs: msgs(3, 0),
			failSend: func(_ int, e types.SendMessageBatchRequestEntry) (string, bool, bool) {
				return "ServiceUnavailable", false, *e.Id == "2"
			},
			wantSizes:  []int{3, 1, 1, 1},
			wantQueued: 2,
			wantCode:   notify.EUnavailable,
		},
		{
			name: "sender fault not retried",
			msgs: msgs(3, 0),
			failSend: func(_ int, e types.SendMessageBatchRequestEntry) (string, bool, bool) {
				return "InvalidMessageContents", true, *e.Id == "0"
			},
			wantSizes:  []int{3},
			wantQueued: 2,
			wantCode:   notify.EInvalid,
		},
		{name: "call fails", msgs: msgs(3, 0), sendErr: errBoom, wantSizes: []int{3}, wantCode: notify.EUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &fakeQueue{failSend: tt.failSend, sendErr: tt.sendErr}
			p := NewProducer(q, "https://queue")
			p.Backoff = noBackoff
			err := p.Send(context.Background(), tt.msgs)
			if got := notify.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("Send() error = %v, want code %q", err, tt.wantCode)
			}
			if tt.sendErr != nil && !errors.Is(err, tt.sendErr) {
				t.Errorf("Send() error = %v, want it to wrap %v", err, tt.sendErr)
			}
			var sizes []int
			for _, b := range q.batches {
				sizes = append(sizes, len(b))
			}
			if diff := cmp.Diff(tt.wantSizes, sizes); diff != "" {
				t.Errorf("batch sizes (-want +got):\n%s", diff)
			}
			if len(q.msgs) != tt.wantQueued {
				t.Errorf("queued %d messages, want %d", len(q.msgs), tt.wantQueued)
			}
			if tt.wantCode == "" {
				// Every body arrives once, in order.
				for i, m := range q.msgs {
					if want := string(tt.msgs[i].Body); m.body != want && tt.failSend == nil {
						t.Errorf("message %d body = %q, want %q", i, m.body, want)
					}
				}
			}
		})
	}
}

func TestProducerSendStopsOnCancel(t *testing.T) {
	q := &fakeQueue{failSend: func(int, types.SendMessageBatchRequestEntry) (string, bool, bool) {
		return "InternalError", false, true
	}}
	p := NewProducer(q, "https://queue")
	ctx, cancel := context.WithCancel(context.Background())
	p.Backoff = func(int) time.Duration { cancel(); return time.Hour }
	err := p.Send(ctx, msgs(1, 0))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Send() error = %v, want context.Canceled", err)
	}
	if len(q.batches) != 1 {
		t.Errorf("%d calls, want 1", len(q.batches))
	}
}

func TestAttributes(t *testing.T) {
	first := time.Date(2026, 11, 26, 1, 2, 3, 4, time.UTC)
	many := map[string]string{}
	for i := range 12 {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	tests := []struct {
		name string
		msg  queue.Message
		want map[string]string
	}{
		{
			name: "from the body",
			msg:  queue.Message{ID: "m1", Body: []byte(`{"id":"e1","type":"JOB","severity":"CRITICAL"}`)},
			want: map[string]string{queue.AttrEventID: "e1", queue.AttrEventType: "JOB", queue.AttrSeverity: "CRITICAL"},
		},
		{
			name: "given attributes win",
			msg: queue.Message{ID: "m1", Body: []byte(`{"id":"e1","type":"JOB","severity":"CRITICAL"}`),
				Attributes: map[string]string{queue.AttrEventID: "x", queue.AttrEventType: "SYSTEM", queue.AttrSeverity: "INFO", "extra": "y", "empty": ""}},
			want: map[string]string{queue.AttrEventID: "x", queue.AttrEventType: "SYSTEM", queue.AttrSeverity: "INFO", "extra": "y"},
		},
		{
			name: "body not an event",
			msg:  queue.Message{ID: "m1", Body: []byte(`not json`), FirstSentAt: first},
			want: map[string]string{queue.AttrEventID: "m1", attrFirstSentAt: "2026-11-26T01:02:03.000000004Z"},
		},
		{
			name: "at most ten, well-known first",
			msg:  queue.Message{ID: "m1", Body: []byte(`{}`), Attributes: many},
			want: map[string]string{queue.AttrEventID: "m1", "k00": "v", "k01": "v", "k02": "v", "k03": "v", "k04": "v", "k05": "v", "k06": "v", "k07": "v", "k08": "v"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, attributes(&tt.msg)); diff != "" {
				t.Errorf("attributes (-want +got):\n%s", diff)
			}
		})
	}
}
