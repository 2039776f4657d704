package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Audit entries are items pk AUDIT, sk the id (a ULID, which sorts by
// time): one partition, listed newest first by a strongly consistent Query
// that reads one page, not the whole partition (the trail only grows; its
// writes are administrators' changes, far below a partition's limits). They
// are not in gsi1, which only deliveries use.
// Credentials are items pk CRED#<name>, sk CRED, holding only a hash.
const (
	kindAudit      = "AUDIT"
	kindCredential = "CRED"
)

var (
	_ store.Audit       = (*Store)(nil)
	_ store.Credentials = (*Store)(nil)
)

// AppendAudit stores e; EConflict if its id is taken.
func (s *Store) AppendAudit(ctx context.Context, e *notify.AuditEntry) error {
	if e.ID == "" {
		return notify.Invalid("id", "must not be empty")
	}
	item, err := attributevalue.MarshalMap(e)
	if err != nil {
		return fmt.Errorf("encode audit entry %q: %w", e.ID, err)
	}
	item[AttrPK] = str(kindAudit)
	item[AttrSK] = str(e.ID)
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return notify.Errorf(notify.EConflict, "audit entry %q exists", e.ID)
	}
	if err != nil {
		return fmt.Errorf("write audit entry %q: %w", e.ID, err)
	}
	return nil
}

// ListAudit returns one page of entries, newest first.
func (s *Store) ListAudit(ctx context.Context, p store.Page) ([]*notify.AuditEntry, string, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		ConsistentRead:            aws.Bool(true),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limitOf(p.Limit) + 1)), // one more: is there a next page?
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(kindAudit)},
	}
	if p.Cursor != "" {
		after, err := decodeCursor(p.Cursor, kindAudit)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{AttrPK: str(kindAudit), AttrSK: str(after)}
	}
	res, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("list audit entries: %w", err)
	}
	out := make([]*notify.AuditEntry, len(res.Items))
	for i, item := range res.Items {
		if out[i], err = decode[notify.AuditEntry](item); err != nil {
			return nil, "", fmt.Errorf("read audit entry: %w", err)
		}
	}
	var next string
	if limit := limitOf(p.Limit); len(out) > limit {
		out = out[:limit]
		next = auditCursor(out[limit-1].ID)
	}
	return out, next, nil
}

// auditCursor resumes the audit list after the entry id.
func auditCursor(id string) string {
	b, _ := json.Marshal(cursor{PK: kindAudit, SK: id, GPK: kindAudit, GSK: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

// PutCredential stores c under its name, replacing any.
func (s *Store) PutCredential(ctx context.Context, c *notify.Credential) error {
	if c.Name == "" {
		return notify.Invalid("name", "must not be empty")
	}
	item, err := attributevalue.MarshalMap(c)
	if err != nil {
		return fmt.Errorf("encode credential %q: %w", c.Name, err)
	}
	item[AttrPK] = str(kindCredential + "#" + c.Name)
	item[AttrSK] = str(kindCredential)
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("write credential %q: %w", c.Name, err)
	}
	return nil
}

// GetCredential returns the credential of that name or ENotFound.
func (s *Store) GetCredential(ctx context.Context, name string) (*notify.Credential, error) {
	item, err := s.getItem(ctx, kindCredential+"#"+name, kindCredential)
	if err != nil {
		return nil, fmt.Errorf("get credential %q: %w", name, err)
	}
	if item == nil {
		return nil, notFound("credential", name)
	}
	c, err := decode[notify.Credential](item)
	if err != nil {
		return nil, fmt.Errorf("read credential %q: %w", name, err)
	}
	return c, nil
}
