package dynamo_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store/dynamo"
)

// TestRefCounterGuardsDelete checks that the delete of a user is decided by
// its reference counter in the delete's own transaction, not by the rules
// it read before: a rule that names the user after that read (simulated by
// raising the counter directly) makes the delete fail.
func TestRefCounterGuardsDelete(t *testing.T) {
	c := client(t)
	table := newTable(t, c)
	s := dynamo.New(c, table)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	u := &notify.User{ID: "u1", Name: "Ann", Email: "ann@example.com", Role: notify.RoleMember, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			dynamo.AttrPK: &types.AttributeValueMemberS{Value: "REFS#USER#u1"},
			dynamo.AttrSK: &types.AttributeValueMemberS{Value: "REFS"},
		},
		UpdateExpression:          aws.String("ADD refs :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.DeleteUser(ctx, "u1", 0)
	if code := notify.ErrorCode(err); code != notify.EStale && code != notify.EInUse {
		t.Fatalf("DeleteUser with a counted reference = %v, want %s or %s", err, notify.EStale, notify.EInUse)
	}
	if _, err := s.GetUser(ctx, "u1"); err != nil {
		t.Errorf("the refused delete removed the user: %v", err)
	}
}

// TestRuleRefsLimit checks that a rule naming more users and groups than
// one transaction can count is refused with a clear EInvalid, before
// anything is written.
func TestRuleRefsLimit(t *testing.T) {
	c := client(t)
	s := dynamo.New(c, newTable(t, c))
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := &notify.Rule{ID: "r1", Name: "Big", Enabled: true, EventTypes: []notify.EventType{notify.TypeJob},
		Severities: []notify.Severity{notify.SeverityCritical}, Source: notify.SourceUser, Version: 1, CreatedAt: now, UpdatedAt: now}
	for i := range dynamo.MaxRuleRefs + 1 {
		r.Recipients.Users = append(r.Recipients.Users, fmt.Sprintf("u%03d", i))
	}
	err := s.CreateRule(t.Context(), r)
	if !notify.IsCode(err, notify.EInvalid) {
		t.Fatalf("CreateRule with %d users = %v, want %s", len(r.Recipients.Users), err, notify.EInvalid)
	}
	if e := err.(*notify.Error); len(e.Fields) != 1 || e.Fields[0].Field != "recipients" {
		t.Errorf("fields = %+v, want one on recipients", e.Fields)
	}
}
