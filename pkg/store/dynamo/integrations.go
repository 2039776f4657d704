package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

var smtps = &kind[notify.SMTP]{
	name: "SMTP server", prefix: "SMTP", guard: "SMTPNAME", uniqField: "nickname",
	id:           func(s *notify.SMTP) string { return s.ID },
	uniq:         func(s *notify.SMTP) string { return s.Nickname },
	createdAt:    func(s *notify.SMTP) time.Time { return s.CreatedAt },
	version:      func(s *notify.SMTP) int64 { return s.Version },
	setCreatedAt: func(s *notify.SMTP, t time.Time) { s.CreatedAt = t },
}

// The one Slack workspace item.
const slackPK, slackSK = "SLACK#", "SLACK"

// PutSMTP creates (srv.Version == 1) or updates (stored version
// srv.Version-1) an SMTP server; EConflict if the nickname is taken by
// another. The password stays behind PasswordRef.
func (s *Store) PutSMTP(ctx context.Context, srv *notify.SMTP) error {
	if srv.Version == 1 {
		return smtps.insert(ctx, s, srv)
	}
	return smtps.update(ctx, s, srv, nil)
}

// GetSMTP returns the SMTP server with the id or ENotFound.
func (s *Store) GetSMTP(ctx context.Context, id string) (*notify.SMTP, error) {
	return smtps.get(ctx, s, id)
}

// ListSMTP returns every SMTP server, oldest first.
func (s *Store) ListSMTP(ctx context.Context) ([]*notify.SMTP, error) {
	return smtps.all(ctx, s)
}

// DeleteSMTP removes an SMTP server or returns ENotFound.
func (s *Store) DeleteSMTP(ctx context.Context, id string) error {
	return smtps.remove(ctx, s, id, 0, nil)
}

// PutSlack replaces the connected Slack workspace.
func (s *Store) PutSlack(ctx context.Context, sl *notify.Slack) error {
	item, err := attributevalue.MarshalMap(sl)
	if err != nil {
		return fmt.Errorf("encode Slack workspace: %w", err)
	}
	for k, v := range key(slackPK, slackSK) {
		item[k] = v
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("write Slack workspace: %w", err)
	}
	return nil
}

// GetSlack returns the connected Slack workspace or ENotFound.
func (s *Store) GetSlack(ctx context.Context) (*notify.Slack, error) {
	item, err := s.getItem(ctx, slackPK, slackSK)
	if err != nil {
		return nil, fmt.Errorf("get Slack workspace: %w", err)
	}
	if item == nil {
		return nil, notify.Errorf(notify.ENotFound, "no Slack workspace is connected")
	}
	sl, err := decode[notify.Slack](item)
	if err != nil {
		return nil, fmt.Errorf("read Slack workspace: %w", err)
	}
	return sl, nil
}

// DeleteSlack disconnects the Slack workspace or returns ENotFound.
func (s *Store) DeleteSlack(ctx context.Context) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(slackPK, slackSK),
		ConditionExpression:      aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
	})
	if failed, _ := isConditionFailed(err); failed {
		return notify.Errorf(notify.ENotFound, "no Slack workspace is connected")
	}
	if err != nil {
		return fmt.Errorf("delete Slack workspace: %w", err)
	}
	return nil
}
