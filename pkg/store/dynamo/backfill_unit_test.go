package dynamo

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/argoproj-labs/argo-notify/pkg/store"
)

func TestChunksKeepPairs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		n     int
		pairs []int // ops marked withNext
		want  []int // chunk sizes
	}{
		{"one", 3, nil, []int{3}},
		{"exact", 200, nil, []int{100, 100}},
		{"pair on the edge", 150, []int{99}, []int{99, 51}},
		{"pair inside", 150, []int{98}, []int{100, 50}},
		{"all pairs, odd start", 201, []int{1, 3, 5, 97, 99, 101}, []int{99, 100, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops := make([]op, tc.n)
			for _, i := range tc.pairs {
				ops[i].withNext = true
			}
			var got []int
			for _, c := range chunks(ops) {
				got = append(got, len(c))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("chunks %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("chunks %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// lostCounter is a table where user u1 exists and its counter never does:
// every backfill succeeds and is gone by the next read. The rule write
// naming u1 must give up after counterRepairs backfills.
type lostCounter struct {
	API
	writes, backfills int
}

func (f *lostCounter) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	pk := in.Key[AttrPK].(*types.AttributeValueMemberS).Value
	sk := in.Key[AttrSK].(*types.AttributeValueMemberS).Value
	if pk == "USER" && sk == "u1" { // the record of user u1 (kind.key)
		return &dynamodb.GetItemOutput{Item: in.Key}, nil
	}
	return &dynamodb.GetItemOutput{}, nil
}

func (f *lostCounter) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{}, nil
}

func (f *lostCounter) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if len(in.TransactItems) == 2 && in.TransactItems[1].ConditionCheck != nil {
		f.backfills++
		return &dynamodb.TransactWriteItemsOutput{}, nil
	}
	f.writes++
	return nil, cancelled("None", "ConditionalCheckFailed")
}

func TestBackfillIsBounded(t *testing.T) {
	f := &lostCounter{}
	s := New(f, "t")
	err := s.transact(t.Context(), "test", []op{{}, s.countRef(store.MissingRef{Kind: store.RefUser, ID: "u1"}, 1)})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("transact: %v, want the counter's missing error", err)
	}
	if f.writes != counterRepairs+1 || f.backfills != counterRepairs+1 {
		t.Errorf("%d writes and %d backfills, want %d and %d", f.writes, f.backfills, counterRepairs+1, counterRepairs+1)
	}
}

// TestUnknownNeedsNoBackfill: a rule naming a user that does not exist is
// refused as before, without a backfill.
func TestUnknownNeedsNoBackfill(t *testing.T) {
	f := &lostCounter{}
	s := New(f, "t")
	err := s.transact(t.Context(), "test", []op{{}, s.countRef(store.MissingRef{Kind: store.RefUser, ID: "u2", Index: 3}, 1)})
	if err == nil || !strings.Contains(err.Error(), "recipients.users[3]") {
		t.Errorf("transact: %v, want unknown recipients.users[3]", err)
	}
	if f.writes != 1 || f.backfills != 0 {
		t.Errorf("%d writes and %d backfills, want 1 and 0", f.writes, f.backfills)
	}
}
