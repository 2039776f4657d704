package sqs

import (
	"context"
	"errors"
	"strconv"
	"sync"

	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// fakeQueue is an in-memory queue behind the small client interfaces this
// package declares. Visibility is modelled without a clock: a message is
// hidden by a receive or a visibility change > 0 and shown again by a
// change to 0.
type fakeQueue struct {
	mu       sync.Mutex
	msgs     []*fakeMsg
	next     int
	batches  [][]types.SendMessageBatchRequestEntry // every SendMessageBatch call
	changes  []int32                                // every visibility change, in order
	deleted  []string                               // SQS ids deleted
	receives int

	// failSend, if set, decides per call and entry whether SQS fails it:
	// returns (code, senderFault, fail).
	failSend func(call int, e types.SendMessageBatchRequestEntry) (string, bool, bool)
	sendErr  error
}

type fakeMsg struct {
	id       string
	receipt  string
	body     string
	attrs    map[string]types.MessageAttributeValue
	count    int
	hidden   bool
	sentAtMS int64
}

func (q *fakeQueue) SendMessageBatch(_ context.Context, in *awssqs.SendMessageBatchInput, _ ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.batches = append(q.batches, in.Entries)
	if q.sendErr != nil {
		return nil, q.sendErr
	}
	out := &awssqs.SendMessageBatchOutput{}
	call := len(q.batches)
	for _, e := range in.Entries {
		if q.failSend != nil {
			if code, sender, fail := q.failSend(call, e); fail {
				out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: &code, SenderFault: sender, Message: strPtr("scripted")})
				continue
			}
		}
		q.next++
		id := "sqs-" + strconv.Itoa(q.next)
		q.msgs = append(q.msgs, &fakeMsg{id: id, body: *e.MessageBody, attrs: e.MessageAttributes, sentAtMS: int64(1_700_000_000_000 + q.next)})
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id, MessageId: &id})
	}
	return out, nil
}

func (q *fakeQueue) ReceiveMessage(_ context.Context, in *awssqs.ReceiveMessageInput, _ ...func(*awssqs.Options)) (*awssqs.ReceiveMessageOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.receives++
	out := &awssqs.ReceiveMessageOutput{}
	for _, m := range q.msgs {
		if len(out.Messages) >= int(in.MaxNumberOfMessages) {
			break
		}
		if m.hidden {
			continue
		}
		m.count++
		m.receipt = m.id + "/r" + strconv.Itoa(m.count)
		m.hidden = in.VisibilityTimeout != 0
		out.Messages = append(out.Messages, types.Message{
			MessageId:         strPtr(m.id),
			ReceiptHandle:     strPtr(m.receipt),
			Body:              strPtr(m.body),
			MessageAttributes: m.attrs,
			Attributes: map[string]string{
				"ApproximateReceiveCount": strconv.Itoa(m.count),
				"SentTimestamp":           strconv.FormatInt(m.sentAtMS, 10),
			},
		})
	}
	return out, nil
}

func (q *fakeQueue) byReceipt(r string) *fakeMsg {
	for _, m := range q.msgs {
		if m.receipt == r {
			return m
		}
	}
	return nil
}

func (q *fakeQueue) ChangeMessageVisibility(_ context.Context, in *awssqs.ChangeMessageVisibilityInput, _ ...func(*awssqs.Options)) (*awssqs.ChangeMessageVisibilityOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.changes = append(q.changes, in.VisibilityTimeout)
	m := q.byReceipt(*in.ReceiptHandle)
	if m == nil {
		return nil, errors.New("ReceiptHandleIsInvalid")
	}
	m.hidden = in.VisibilityTimeout != 0
	return &awssqs.ChangeMessageVisibilityOutput{}, nil
}

func (q *fakeQueue) ChangeMessageVisibilityBatch(_ context.Context, in *awssqs.ChangeMessageVisibilityBatchInput, _ ...func(*awssqs.Options)) (*awssqs.ChangeMessageVisibilityBatchOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := &awssqs.ChangeMessageVisibilityBatchOutput{}
	for _, e := range in.Entries {
		q.changes = append(q.changes, e.VisibilityTimeout)
		m := q.byReceipt(*e.ReceiptHandle)
		if m == nil {
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: strPtr("ReceiptHandleIsInvalid"), SenderFault: true})
			continue
		}
		m.hidden = e.VisibilityTimeout != 0
		out.Successful = append(out.Successful, types.ChangeMessageVisibilityBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

func (q *fakeQueue) DeleteMessage(_ context.Context, in *awssqs.DeleteMessageInput, _ ...func(*awssqs.Options)) (*awssqs.DeleteMessageOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, m := range q.msgs {
		if m.receipt == *in.ReceiptHandle {
			q.deleted = append(q.deleted, m.id)
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			return &awssqs.DeleteMessageOutput{}, nil
		}
	}
	return nil, errors.New("ReceiptHandleIsInvalid")
}

// visible counts the messages a receive would return.
func (q *fakeQueue) visible() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, m := range q.msgs {
		if !m.hidden {
			n++
		}
	}
	return n
}
