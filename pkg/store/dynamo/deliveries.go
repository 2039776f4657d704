package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Deliveries: pk DELIVERY#<id>, sk DELIVERY, listed newest first through
// gsi1 (gsi1pk DELIVERY, gsi1sk creation time and id); filters by event,
// rule and status are applied to the index read.
const deliveryKind = "DELIVERY"

func deliveryKey(id string) (pk, sk string) { return deliveryKind + "#" + id, deliveryKind }

// deliveryItem is the stored form of d, with its TTL.
func deliveryItem(d *notify.Delivery) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(d)
	if err != nil {
		return nil, fmt.Errorf("encode delivery %q: %w", d.ID, err)
	}
	pk, sk := deliveryKey(d.ID)
	item[AttrPK], item[AttrSK] = str(pk), str(sk)
	item[AttrGSI1PK] = str(deliveryKind)
	item[AttrGSI1SK] = str(sortKey(d.CreatedAt, d.ID))
	created := d.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	item[AttrTTL] = num(created.Add(DeliveryTTL).Unix())
	return item, nil
}

// ClaimDelivery stores d if no delivery with its id exists and returns it
// with true; otherwise it returns the stored one with false. One conditional
// PutItem (attribute_not_exists), which DynamoDB runs atomically: of two
// concurrent claims exactly one succeeds. The loser reads the winner from
// the failed condition's returned item, or with one consistent GetItem if
// the service did not return it.
func (s *Store) ClaimDelivery(ctx context.Context, d *notify.Delivery) (*notify.Delivery, bool, error) {
	item, err := deliveryItem(d)
	if err != nil {
		return nil, false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            map[string]string{"#pk": AttrPK},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		out := *d
		return &out, true, nil
	}
	failed, old := isConditionFailed(err)
	if !failed {
		return nil, false, fmt.Errorf("claim delivery %q: %w", d.ID, err)
	}
	if len(old) == 0 {
		stored, err := s.GetDelivery(ctx, d.ID)
		if err != nil {
			return nil, false, fmt.Errorf("claim delivery %q: read the stored claim: %w", d.ID, err)
		}
		return stored, false, nil
	}
	stored, err := decode[notify.Delivery](old)
	if err != nil {
		return nil, false, fmt.Errorf("claim delivery %q: read the stored claim: %w", d.ID, err)
	}
	return stored, false, nil
}

// UpdateDelivery replaces the delivery whose stored version is d.Version-1:
// one conditional PutItem (plus one GetItem when it is refused, to tell
// ENotFound from EStale).
func (s *Store) UpdateDelivery(ctx context.Context, d *notify.Delivery) error {
	item, err := deliveryItem(d)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                item,
		ConditionExpression:                 aws.String("#v = :prev"),
		ExpressionAttributeNames:            map[string]string{"#v": attrVer},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":prev": num(d.Version - 1)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return nil
	}
	failed, old := isConditionFailed(err)
	if !failed {
		return fmt.Errorf("update delivery %q: %w", d.ID, err)
	}
	var stored *notify.Delivery
	if len(old) > 0 {
		if stored, err = decode[notify.Delivery](old); err != nil {
			return fmt.Errorf("update delivery %q: %w", d.ID, err)
		}
	} else if stored, err = s.GetDelivery(ctx, d.ID); err != nil {
		return err
	}
	return stale("delivery", d.ID, stored.Version, d.Version-1)
}

// GetDelivery returns the delivery with the id or ENotFound.
func (s *Store) GetDelivery(ctx context.Context, id string) (*notify.Delivery, error) {
	pk, sk := deliveryKey(id)
	item, err := s.getItem(ctx, pk, sk)
	if err != nil {
		return nil, fmt.Errorf("get delivery %q: %w", id, err)
	}
	if item == nil {
		return nil, notFound("delivery", id)
	}
	d, err := decode[notify.Delivery](item)
	if err != nil {
		return nil, fmt.Errorf("read delivery %q: %w", id, err)
	}
	return d, nil
}

// ListDeliveries returns one page of the deliveries f selects, newest first.
func (s *Store) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*notify.Delivery, string, error) {
	var flt *filter
	add := func(expr, name, attr string, v types.AttributeValue) {
		if flt == nil {
			flt = &filter{names: map[string]string{}, values: map[string]types.AttributeValue{}}
		} else {
			flt.expr += " AND "
		}
		flt.expr += expr
		flt.names[name] = attr
		flt.values[":"+name[1:]] = v
	}
	if f.EventID != "" {
		add("#ev = :ev", "#ev", "EventID", str(f.EventID))
	}
	if f.RuleID != "" {
		add("contains(#rl, :rl)", "#rl", "RuleIDs", str(f.RuleID))
	}
	if f.Status != "" {
		add("#st = :st", "#st", "Status", str(string(f.Status)))
	}
	items, next, err := s.page(ctx, deliveryKind, false, flt, f.Page)
	if err != nil {
		return nil, "", err
	}
	out := make([]*notify.Delivery, len(items))
	for i, item := range items {
		if out[i], err = decode[notify.Delivery](item); err != nil {
			return nil, "", fmt.Errorf("read delivery: %w", err)
		}
	}
	return out, next, nil
}
