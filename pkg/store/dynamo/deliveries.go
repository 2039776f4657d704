package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Deliveries: pk DELIVERY#<event id>, sk <delivery id> (the id is
// notify.DeliveryID: the event id, "|", channel, "|", recipient), so the
// deliveries of one event are one partition; every delivery is also listed
// newest first through gsi1 (gsi1pk DELIVERY, gsi1sk creation time and id),
// where filters by rule and status are applied to the index read.
const deliveryKind = "DELIVERY"

// deliveryKey is the key of the delivery with the id: its partition is the
// part of the id before the first "|", the event id.
func deliveryKey(id string) (pk, sk string) {
	event, _, _ := strings.Cut(id, "|")
	return deliveryKind + "#" + event, id
}

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
// with true; otherwise it returns the stored one with false. d.ID must be
// notify.DeliveryID(d.EventID, …) (EInvalid otherwise). One conditional
// PutItem (attribute_not_exists), which DynamoDB runs atomically: of two
// concurrent claims exactly one succeeds. The loser reads the winner from
// the failed condition's returned item, or with one consistent GetItem if
// the service did not return it.
func (s *Store) ClaimDelivery(ctx context.Context, d *notify.Delivery) (*notify.Delivery, bool, error) {
	if d.EventID == "" || !strings.HasPrefix(d.ID, d.EventID+"|") {
		return nil, false, notify.Invalid("id", "%q is not a delivery id of event %q (see notify.DeliveryID)", d.ID, d.EventID)
	}
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
	if id == "" {
		return nil, notFound("delivery", id)
	}
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
// With an event id, it reads that event's partition (strongly consistent);
// otherwise the index of all deliveries, filtered.
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
	if f.RuleID != "" {
		add("contains(#rl, :rl)", "#rl", "RuleIDs", str(f.RuleID))
	}
	if f.Status != "" {
		add("#st = :st", "#st", "Status", str(string(f.Status)))
	}
	var (
		items []map[string]types.AttributeValue
		next  string
		err   error
	)
	if f.EventID != "" {
		add("#ev = :ev", "#ev", "EventID", str(f.EventID))
		items, next, err = s.eventPage(ctx, f.EventID, flt, f.Page)
	} else {
		items, next, err = s.page(ctx, deliveryKind, false, flt, f.Page)
	}
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

// eventPage returns one page of the deliveries of an event that pass flt,
// newest first, with the cursors page uses. It reads the event's whole
// partition (one event has one delivery per recipient and channel) and
// orders it by gsi1sk.
func (s *Store) eventPage(ctx context.Context, eventID string, flt *filter, p store.Page) ([]map[string]types.AttributeValue, string, error) {
	limit := limitOf(p.Limit)
	var after string
	if p.Cursor != "" {
		var err error
		if after, err = decodeCursor(p.Cursor, deliveryKind); err != nil {
			return nil, "", err
		}
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		FilterExpression:          aws.String(flt.expr),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(deliveryKind + "#" + eventID)},
	}
	for k, v := range flt.names {
		in.ExpressionAttributeNames[k] = v
	}
	for k, v := range flt.values {
		in.ExpressionAttributeValues[k] = v
	}
	if after != "" {
		in.FilterExpression = aws.String(flt.expr + " AND #gsk < :after")
		in.ExpressionAttributeNames["#gsk"] = AttrGSI1SK
		in.ExpressionAttributeValues[":after"] = str(after)
	}
	var out []map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("list deliveries of event %q: %w", eventID, err)
		}
		out = append(out, res.Items...)
		if len(res.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	gsk := func(item map[string]types.AttributeValue) string {
		v, _ := item[AttrGSI1SK].(*types.AttributeValueMemberS)
		if v == nil {
			return ""
		}
		return v.Value
	}
	slices.SortFunc(out, func(a, b map[string]types.AttributeValue) int { return strings.Compare(gsk(b), gsk(a)) })
	if len(out) > limit {
		return out[:limit], encodeCursor(out[limit-1]), nil
	}
	return out, "", nil
}
