package dynamo

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/argoproj-labs/argo-notify/pkg/deploy"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

func TestCursor(t *testing.T) {
	item := map[string]types.AttributeValue{
		AttrPK: str("RULE#r1"), AttrSK: str("RULE"), AttrGSI1PK: str("RULE"),
		AttrGSI1SK: str(sortKey(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), "r1")),
		"Name":     str("not part of the cursor"),
	}
	good := encodeCursor(item)
	for _, tc := range []struct {
		name, cursor, kind string
		ok                 bool
	}{
		{"round trip", good, "RULE", true},
		{"cursor of another list", good, "USER", false},
		{"not base64", "!!not a cursor!!", "RULE", false},
		{"base64 of garbage", "JSUl", "RULE", false},
		{"empty JSON", "e30", "RULE", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := decodeCursor(tc.cursor, tc.kind)
			if !tc.ok {
				if !notify.IsCode(err, notify.EInvalid) {
					t.Errorf("decode: %v, want EInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if want := item[AttrGSI1SK].(*types.AttributeValueMemberS).Value; k != want {
				t.Errorf("resumes after %q, want %q", k, want)
			}
		})
	}
}

func TestSortKeyOrder(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ordered := []string{
		sortKey(time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC), "z"),
		sortKey(t0, "b"),
		sortKey(t0, "c"),
		sortKey(t0.Add(time.Nanosecond), "a"),
		sortKey(t0.Add(time.Millisecond).In(time.FixedZone("east", 5*3600)), "a"),
		sortKey(t0.Add(time.Second), "a"),
	}
	for i := 1; i < len(ordered); i++ {
		if ordered[i-1] >= ordered[i] {
			t.Errorf("%q does not sort before %q", ordered[i-1], ordered[i])
		}
	}
}

// fakeTx is a dynamo API whose TransactWriteItems answers from a script.
type fakeTx struct {
	API
	answers []error
	calls   int
}

func (f *fakeTx) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	f.calls++
	if len(f.answers) == 0 {
		return &dynamodb.TransactWriteItemsOutput{}, nil
	}
	err := f.answers[0]
	f.answers = f.answers[1:]
	return nil, err
}

func cancelled(codes ...string) error {
	e := &types.TransactionCanceledException{Message: aws.String("cancelled")}
	for _, c := range codes {
		e.CancellationReasons = append(e.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
	}
	return e
}

func TestTransactErrors(t *testing.T) {
	first := errors.New("first op failed")
	second := errors.New("second op failed")
	for _, tc := range []struct {
		name      string
		answers   []error
		want      error // nil: success
		wantCalls int
	}{
		{"success", nil, nil, 1},
		{"first condition", []error{cancelled("ConditionalCheckFailed", "None")}, first, 1},
		{"second condition", []error{cancelled("None", "ConditionalCheckFailed")}, second, 1},
		{"conflict, then success", []error{cancelled("TransactionConflict", "None")}, nil, 2},
		{"conflict, then a condition", []error{cancelled("None", "TransactionConflict"), cancelled("None", "ConditionalCheckFailed")}, second, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeTx{answers: tc.answers}
			s := New(f, "t")
			err := s.transact(t.Context(), "test", []op{
				{onFail: func() error { return first }},
				{onFail: func() error { return second }},
			})
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("transact: %v, want %v", err, tc.want)
			}
			if f.calls != tc.wantCalls {
				t.Errorf("%d calls, want %d", f.calls, tc.wantCalls)
			}
		})
	}
	t.Run("endless conflict gives up", func(t *testing.T) {
		var answers []error
		for range transactRetries + 5 {
			answers = append(answers, cancelled("TransactionConflict"))
		}
		f := &fakeTx{answers: answers}
		err := New(f, "t").transact(t.Context(), "test", []op{{onFail: func() error { return first }}})
		if err == nil || errors.Is(err, first) || notify.ErrorCode(err) != notify.EInternal {
			t.Errorf("transact: %v, want an internal error", err)
		}
		if f.calls != transactRetries+1 {
			t.Errorf("%d calls, want %d", f.calls, transactRetries+1)
		}
	})
}

func TestClaimNeedsADeliveryID(t *testing.T) {
	s := New(nil, "t") // refused before any call
	for _, tc := range []struct{ name, id, event string }{
		{"another event's id", notify.DeliveryID("e2", notify.ChannelEmail, "a@example.com"), "e1"},
		{"no event in the id", "d1", "e1"},
		{"no event", "|email|a@example.com", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.ClaimDelivery(t.Context(), &notify.Delivery{ID: tc.id, EventID: tc.event, Version: 1})
			if !notify.IsCode(err, notify.EInvalid) {
				t.Errorf("claim: %v, want EInvalid", err)
			}
		})
	}
}

// TestIndexProjectsTheFilters keeps the stack's index projection
// (deploy.DeliveryIndexAttributes) holding what the list filters read.
func TestIndexProjectsTheFilters(t *testing.T) {
	if !slices.Contains(deploy.DeliveryIndexAttributes, AttrDeliveryRuleIDs) {
		t.Errorf("gsi1 does not project %s, which the rule filter reads on the index", AttrDeliveryRuleIDs)
	}
	if slices.Contains(deploy.DeliveryIndexAttributes, AttrDeliveryStatus) {
		t.Errorf("gsi1 projects %s, which changes at every attempt: each change would write the index", AttrDeliveryStatus)
	}
}
