package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
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
// deliveries of one event are one partition. Every delivery is also in
// gsi1, spread over DeliveryShards index partitions (gsi1pk
// DELIVERY#<shard>, the shard a hash of the id; gsi1sk creation time and
// id): one partition took every delivery write of the table (~1,000 write
// units a second, and a throttled index throttles the table). The index
// projects only the keys and RuleIDs (deploy.DeliveryIndexAttributes),
// which never change after the claim: so the index is written once per
// delivery, not at every attempt. A list merges the shards newest first,
// filters by rule on the index and reads the deliveries with consistent
// BatchGetItem calls (checking the status on them).
const deliveryKind = "DELIVERY"

// DeliveryShards is how many gsi1 partitions deliveries are spread over.
// Each takes about 1,000 index writes a second (a delivery writes its index
// entry once, at the claim).
const DeliveryShards = 8

// MaxDeliveryScan bounds what one filtered list request reads (index
// entries before the filter, and deliveries read for their status): a
// filter few deliveries pass (?status=failed over a month) answers within
// the API's timeout with a partial page and a cursor instead of reading the
// whole history.
const MaxDeliveryScan = 4000

// Attributes of a delivery the list filters read (the Go field names):
// the index projects RuleIDs (deploy.DeliveryIndexAttributes); the status
// is read from the delivery.
const (
	AttrDeliveryStatus  = "Status"
	AttrDeliveryRuleIDs = "RuleIDs"
)

// deliveryShard is the gsi1pk of the delivery with the id.
func deliveryShard(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return fmt.Sprintf("%s#%02d", deliveryKind, h.Sum32()%DeliveryShards)
}

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
	item[AttrGSI1PK] = str(deliveryShard(d.ID))
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
	return s.claimPut(ctx, d, true)
}

// claimPut is ClaimDelivery; with lost false it does not read what a
// failed claim found (it returns nil for it).
func (s *Store) claimPut(ctx context.Context, d *notify.Delivery, lost bool) (*notify.Delivery, bool, error) {
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
	if !lost {
		return nil, false, nil
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

// errClaimed is a ClaimDeliveries condition that failed: a delivery exists.
var errClaimed = errors.New("a delivery of the batch exists")

// ClaimDeliveries stores all of ds if none of their ids exists, and reports
// true; otherwise it stores none and reports false. One call: a
// conditional PutItem for a single delivery, else one TransactWriteItems of
// conditional puts (attribute_not_exists each), which DynamoDB applies all
// or not at all. A transaction writes each item at twice the cost of a
// PutItem, so this takes as many write units as a claim and a move to
// sending did, in one request instead of 2 × len(ds). Above
// store.MaxClaimBatch it reports false without writing.
func (s *Store) ClaimDeliveries(ctx context.Context, ds []*notify.Delivery) (bool, error) {
	switch {
	case len(ds) == 0:
		return true, nil
	case len(ds) > store.MaxClaimBatch:
		return false, nil
	case len(ds) == 1:
		_, won, err := s.claimPut(ctx, ds[0], false)
		return won, err
	}
	ops := make([]op, len(ds))
	for i, d := range ds {
		if d.EventID == "" || !strings.HasPrefix(d.ID, d.EventID+"|") {
			return false, notify.Invalid("id", "%q is not a delivery id of event %q (see notify.DeliveryID)", d.ID, d.EventID)
		}
		item, err := deliveryItem(d)
		if err != nil {
			return false, err
		}
		ops[i] = op{
			item:   types.TransactWriteItem{Put: s.put(item, "attribute_not_exists(#pk)", map[string]string{"#pk": AttrPK}, nil)},
			onFail: func() error { return errClaimed },
		}
	}
	err := s.transact(ctx, "claim deliveries", ops)
	if errors.Is(err, errClaimed) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
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
		add("contains(#rl, :rl)", "#rl", AttrDeliveryRuleIDs, str(f.RuleID))
	}
	var (
		items []map[string]types.AttributeValue
		next  string
		err   error
	)
	if f.EventID != "" {
		if f.Status != "" {
			add("#st = :st", "#st", "Status", str(string(f.Status)))
		}
		add("#ev = :ev", "#ev", "EventID", str(f.EventID))
		items, next, err = s.eventPage(ctx, f.EventID, flt, f.Page)
	} else {
		// The index does not project the status (it changes on every
		// attempt, and each change would write the index too): it is
		// checked on the deliveries read.
		items, next, err = s.deliveryPage(ctx, flt, string(f.Status), f.Page)
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
	slices.SortFunc(out, func(a, b map[string]types.AttributeValue) int { return strings.Compare(gsk(b), gsk(a)) })
	if len(out) > limit {
		return out[:limit], deliveryCursor(gsk(out[limit-1])), nil
	}
	return out, "", nil
}

// deliveryCursor is the cursor of a delivery list that resumes with the
// deliveries older than the sort key after.
func deliveryCursor(after string) string {
	b, _ := json.Marshal(cursor{PK: deliveryKind, SK: "-", GPK: deliveryKind, GSK: after})
	return base64.RawURLEncoding.EncodeToString(b)
}

// shardRead is where the list of one index shard stands.
type shardRead struct {
	pk   string
	buf  []map[string]types.AttributeValue // read, passed the filter, not yet returned; newest first
	last string                            // gsi1sk of the last entry read ("": none yet)
	done bool                              // no older entry
}

// deliveryPage returns one page of deliveries, newest first, that pass
// flt (on the index) and have the status (if not ""), from every index
// shard merged, and the cursor of the next page. It stops once it has read
// MaxDeliveryScan index entries and deliveries together: the page is then
// partial (perhaps empty) and the cursor resumes after the last entry
// examined.
func (s *Store) deliveryPage(ctx context.Context, flt *filter, status string, p store.Page) ([]map[string]types.AttributeValue, string, error) {
	limit := limitOf(p.Limit)
	before := "\uffff" // above every sort key
	if p.Cursor != "" {
		var err error
		if before, err = decodeCursor(p.Cursor, deliveryKind); err != nil {
			return nil, "", err
		}
	}
	shards := make([]*shardRead, DeliveryShards)
	for i := range shards {
		shards[i] = &shardRead{pk: fmt.Sprintf("%s#%02d", deliveryKind, i), last: before}
	}
	// Unfiltered, each shard needs at most limit+1 entries; filtered, read
	// in larger steps.
	step := int32(limit + 1)
	if flt != nil || status != "" {
		step = 250
	}
	var (
		out      []map[string]types.AttributeValue // the page (index entries, or deliveries with a status), newest first
		read     int                               // index entries and deliveries read
		examined string                            // sort key of the last entry examined ("": none)
	)
	full := func() bool { return len(out) > limit }
	for round := 0; ; round++ {
		// Read the shards that have nothing buffered and may have more:
		// all of them in the first round, then while the budget lasts.
		for _, sh := range shards {
			if sh.done || len(sh.buf) > 0 || (round > 0 && read >= MaxDeliveryScan) {
				continue
			}
			in := s.queryKind(sh.pk, false, flt, sh.last)
			in.Limit = aws.Int32(step)
			res, err := s.db.Query(ctx, in)
			if err != nil {
				return nil, "", fmt.Errorf("list deliveries: %w", err)
			}
			// With more to read, Limit entries were evaluated.
			n := int(res.ScannedCount)
			if len(res.LastEvaluatedKey) > 0 {
				n = max(n, int(step))
			}
			read += n
			sh.buf = res.Items
			if len(res.LastEvaluatedKey) == 0 {
				sh.done = true
			} else if sh.last, err = s.lastSortKey(ctx, res.LastEvaluatedKey); err != nil {
				return nil, "", err
			}
		}
		// Every entry from the frontier (the oldest point some shard with
		// more has read to) up has been read: those can be examined, in
		// order (sort keys are unique, so only that shard's own last entry
		// sits on the frontier).
		frontier := ""
		for _, sh := range shards {
			if !sh.done && sh.last > frontier {
				frontier = sh.last
			}
		}
		pop := func() map[string]types.AttributeValue {
			var top *shardRead
			for _, sh := range shards {
				if len(sh.buf) > 0 && gsk(sh.buf[0]) >= frontier && (top == nil || gsk(sh.buf[0]) > gsk(top.buf[0])) {
					top = sh
				}
			}
			if top == nil {
				return nil
			}
			e := top.buf[0]
			top.buf = top.buf[1:]
			return e
		}
		for !full() && (status == "" || read < MaxDeliveryScan) {
			// Without a status the entries are the page; with one, read
			// the candidates (at most a BatchGetItem's worth) and keep
			// those with the status.
			want := limit + 1 - len(out)
			if status != "" {
				want = maxBatchGet
			}
			var cands []map[string]types.AttributeValue
			for len(cands) < want {
				e := pop()
				if e == nil {
					break
				}
				cands = append(cands, e)
			}
			if len(cands) == 0 {
				break
			}
			examined = gsk(cands[len(cands)-1])
			if status == "" {
				out = append(out, cands...)
				continue
			}
			items, err := s.batchGet(ctx, cands)
			if err != nil {
				return nil, "", err
			}
			read += len(cands)
			for _, it := range items {
				if st, ok := it[AttrDeliveryStatus].(*types.AttributeValueMemberS); ok && st.Value == status && !full() {
					out = append(out, it)
				}
			}
		}
		if full() {
			page := out[:limit]
			if status == "" {
				var err error
				if page, err = s.batchGet(ctx, page); err != nil {
					return nil, "", err
				}
			}
			return page, deliveryCursor(gsk(out[limit-1])), nil
		}
		more := frontier != "" || slices.ContainsFunc(shards, func(sh *shardRead) bool { return len(sh.buf) > 0 })
		if !more || read >= MaxDeliveryScan {
			page := out
			if status == "" {
				var err error
				if page, err = s.batchGet(ctx, page); err != nil {
					return nil, "", err
				}
			}
			if !more {
				return page, "", nil
			}
			// A partial page: everything down to the last entry examined
			// (or, if none was, to the frontier) is done.
			if examined == "" {
				examined = frontier
			}
			return page, deliveryCursor(examined), nil
		}
	}
}

// lastSortKey is the gsi1sk of an index query's LastEvaluatedKey, which
// DynamoDB includes; kumo gives only the table key, and then the item is
// read for it.
func (s *Store) lastSortKey(ctx context.Context, lek map[string]types.AttributeValue) (string, error) {
	if v, ok := lek[AttrGSI1SK].(*types.AttributeValueMemberS); ok {
		return v.Value, nil
	}
	pk, _ := lek[AttrPK].(*types.AttributeValueMemberS)
	sk, _ := lek[AttrSK].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return "", fmt.Errorf("list deliveries: LastEvaluatedKey has no %s", AttrGSI1SK)
	}
	item, err := s.getItem(ctx, pk.Value, sk.Value)
	if err != nil {
		return "", fmt.Errorf("list deliveries: %w", err)
	}
	if v := gsk(item); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("list deliveries: the last entry read (%s) is gone", sk.Value)
}

// batchGet reads the items with the keys of entries (index entries or
// items), with consistent reads, in the entries' order. An item deleted
// since (its TTL expired) is left out.
func (s *Store) batchGet(ctx context.Context, entries []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	id := func(item map[string]types.AttributeValue) string {
		pk, _ := item[AttrPK].(*types.AttributeValueMemberS)
		sk, _ := item[AttrSK].(*types.AttributeValueMemberS)
		if pk == nil || sk == nil {
			return ""
		}
		return pk.Value + "\x00" + sk.Value
	}
	got := make(map[string]map[string]types.AttributeValue, len(entries))
	var pending []map[string]types.AttributeValue
	for _, e := range entries {
		pending = append(pending, map[string]types.AttributeValue{AttrPK: e[AttrPK], AttrSK: e[AttrSK]})
	}
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt == batchGetRetries {
			return nil, fmt.Errorf("list deliveries: %d items still unprocessed after %d reads", len(pending), attempt)
		}
		if attempt > 0 {
			t := time.NewTimer(time.Duration(attempt*attempt) * 20 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("list deliveries: %w", ctx.Err())
			case <-t.C:
			}
		}
		n := min(len(pending), maxBatchGet)
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			s.table: {Keys: pending[:n], ConsistentRead: aws.Bool(true)},
		}})
		if err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		for _, item := range res.Responses[s.table] {
			got[id(item)] = item
		}
		pending = append(res.UnprocessedKeys[s.table].Keys, pending[n:]...)
	}
	out := make([]map[string]types.AttributeValue, 0, len(entries))
	for _, e := range entries {
		if item, ok := got[id(e)]; ok {
			out = append(out, item)
		}
	}
	return out, nil
}

const (
	// maxBatchGet is DynamoDB's limit of keys in one BatchGetItem.
	maxBatchGet = 100
	// batchGetRetries bounds the reads of unprocessed keys.
	batchGetRetries = 6
)
