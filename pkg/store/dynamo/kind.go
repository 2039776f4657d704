package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
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

// kind describes one kind of record that has an id, a unique name and a
// creation time: rules, users, groups, SMTP servers and webhooks.
//
// All records of a kind share one base-table partition (pk is the kind's
// prefix, sk the id), so that a list is one strongly consistent Query: a
// record created (or deleted) is in (or out of) every list that follows.
// These collections are small (an organization's rules and directory); a
// list reads the partition whole and orders it by creation (gsi1sk, kept
// as a plain attribute: the records are not in gsi1, which only deliveries
// use).
type kind[T any] struct {
	name      string // for messages: "rule", "user", ...
	prefix    string // pk of every record of the kind; sk is the id
	guard     string // pk of a name guard is guard#folded-name, sk is guard
	uniqField string // the field of the unique name: "name", "email", ...
	id        func(*T) string
	uniq      func(*T) string
	createdAt func(*T) time.Time
	version   func(*T) int64
	// setCreatedAt sets the creation time: an update keeps the stored one.
	setCreatedAt func(*T, time.Time)
}

func (k *kind[T]) key(id string) map[string]types.AttributeValue {
	return key(k.prefix, id)
}

func (k *kind[T]) guardKey(name string) map[string]types.AttributeValue {
	return key(k.guard+"#"+fold(name), k.guard)
}

// item is the stored form of v: its fields, keys and folded name.
func (k *kind[T]) item(v *T) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s %q: %w", k.name, k.id(v), err)
	}
	id := k.id(v)
	item[AttrPK] = str(k.prefix)
	item[AttrSK] = str(id)
	item[AttrGSI1SK] = str(sortKey(k.createdAt(v), id)) // creation order; no gsi1pk: not indexed
	item[attrUniq] = str(fold(k.uniq(v)))
	return item, nil
}

func (k *kind[T]) guardItem(name, id string) map[string]types.AttributeValue {
	item := k.guardKey(name)
	item[attrOwner] = str(id)
	return item
}

func (k *kind[T]) conflictID(id string) error {
	return &notify.Error{Code: notify.EConflict, Message: fmt.Sprintf("a %s with id %q exists", k.name, id),
		Fields: []notify.FieldError{{Field: "id", Message: "is already taken"}}}
}

func (k *kind[T]) conflictName(name string) error {
	return &notify.Error{Code: notify.EConflict, Message: fmt.Sprintf("a %s with %s %q exists", k.name, k.uniqField, name),
		Fields: []notify.FieldError{{Field: k.uniqField, Message: "is already taken"}}}
}

// get returns the record with the id, or ENotFound.
func (k *kind[T]) get(ctx context.Context, s *Store, id string) (*T, error) {
	item, err := s.getItem(ctx, k.prefix, id)
	if err != nil {
		return nil, fmt.Errorf("get %s %q: %w", k.name, id, err)
	}
	if item == nil {
		return nil, notFound(k.name, id)
	}
	v, err := decode[T](item)
	if err != nil {
		return nil, fmt.Errorf("read %s %q: %w", k.name, id, err)
	}
	return v, nil
}

// putNew is the op that writes v as a new record.
func (k *kind[T]) putNew(s *Store, v *T) (op, error) {
	item, err := k.item(v)
	if err != nil {
		return op{}, err
	}
	id := k.id(v)
	return op{
		item:   types.TransactWriteItem{Put: s.put(item, "attribute_not_exists(#pk)", map[string]string{"#pk": AttrPK}, nil)},
		onFail: func() error { return k.conflictID(id) },
	}, nil
}

// putOver is the op that replaces the record stored at version prev with v.
func (k *kind[T]) putOver(s *Store, v *T, prev int64) (op, error) {
	item, err := k.item(v)
	if err != nil {
		return op{}, err
	}
	id := k.id(v)
	return op{
		item: types.TransactWriteItem{Put: s.put(item, "#v = :prev",
			map[string]string{"#v": attrVer}, map[string]types.AttributeValue{":prev": num(prev)})},
		onFail: func() error { return notify.Errorf(notify.EStale, "%s %q changed meanwhile", k.name, id) },
	}, nil
}

// deleteAt is the op that deletes the record stored at version ver.
func (k *kind[T]) deleteAt(s *Store, id string, ver int64) op {
	return op{
		item: types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: k.key(id),
			ConditionExpression:       aws.String("#v = :v"),
			ExpressionAttributeNames:  map[string]string{"#v": attrVer},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(ver)},
		}},
		onFail: func() error { return notify.Errorf(notify.EStale, "%s %q changed meanwhile", k.name, id) },
	}
}

// takeName is the op that gives the name to id: the guard must be free, or
// held by from (when from != "").
func (k *kind[T]) takeName(s *Store, name, id, from string) op {
	cond, names, values := "attribute_not_exists(#pk)", map[string]string{"#pk": AttrPK}, map[string]types.AttributeValue(nil)
	if from != "" {
		cond, names, values = "#o = :from", map[string]string{"#o": attrOwner}, map[string]types.AttributeValue{":from": str(from)}
	}
	return op{
		item:   types.TransactWriteItem{Put: s.put(k.guardItem(name, id), cond, names, values)},
		onFail: func() error { return k.conflictName(name) },
	}
}

// freeName is the op that releases the name held by id.
func (k *kind[T]) freeName(s *Store, name, id string) op {
	return op{
		item: types.TransactWriteItem{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: k.guardKey(name),
			ConditionExpression:       aws.String("#o = :id"),
			ExpressionAttributeNames:  map[string]string{"#o": attrOwner},
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(id)},
		}},
		onFail: func() error {
			return fmt.Errorf("%s %q: the guard of its %s %q is not its own", k.name, id, k.uniqField, name)
		},
	}
}

// insert stores a new record and takes its name in one transaction, with
// the extra ops: EConflict if the id or the name is taken.
func (k *kind[T]) insert(ctx context.Context, s *Store, v *T, extra ...op) error {
	put, err := k.putNew(s, v)
	if err != nil {
		return err
	}
	return s.transact(ctx, fmt.Sprintf("create %s %q", k.name, k.id(v)),
		append([]op{put, k.takeName(s, k.uniq(v), k.id(v), "")}, extra...))
}

// update replaces the record whose stored version is v's version - 1,
// keeping the stored CreatedAt (and so the record's place in lists; v is not
// changed). check, if not nil, validates the change against the stored
// record and the store before anything is written. When the name keeps its
// folded form and CreatedAt is the stored one (the common case), this is
// one conditional PutItem; otherwise the record is read first, and a rename
// is a transaction that moves the name guard.
func (k *kind[T]) update(ctx context.Context, s *Store, v *T, check func(ctx context.Context, old *T) error) error {
	id, prev := k.id(v), k.version(v)-1
	what := fmt.Sprintf("update %s %q", k.name, id)
	var old *T
	if check == nil {
		item, err := k.item(v)
		if err != nil {
			return err
		}
		// Optimistic: expected version, same name, same creation time.
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           aws.String(s.table),
			Item:                item,
			ConditionExpression: aws.String("#v = :prev AND #u = :u AND #gsk = :gsk"),
			ExpressionAttributeNames: map[string]string{
				"#v": attrVer, "#u": attrUniq, "#gsk": AttrGSI1SK},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":prev": num(prev), ":u": item[attrUniq], ":gsk": item[AttrGSI1SK]},
		})
		if err == nil {
			return nil
		}
		if failed, _ := isConditionFailed(err); !failed {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	old, err := k.getAt(ctx, s, id, prev)
	if err != nil {
		return err
	}
	if check != nil {
		if err := check(ctx, old); err != nil {
			return err
		}
	}
	return k.replace(ctx, s, v, old)
}

// replace writes v over old (read at v's version - 1) in one transaction
// with the extra ops, keeping old's CreatedAt and moving the name guard on
// a rename.
func (k *kind[T]) replace(ctx context.Context, s *Store, v, old *T, extra ...op) error {
	id := k.id(v)
	if c := k.createdAt(old); !k.createdAt(v).Equal(c) {
		cp := *v
		k.setCreatedAt(&cp, c)
		v = &cp
	}
	o, err := k.putOver(s, v, k.version(old))
	if err != nil {
		return err
	}
	ops := []op{o}
	if oldName := k.uniq(old); fold(oldName) != fold(k.uniq(v)) {
		ops = append(ops, k.freeName(s, oldName, id), k.takeName(s, k.uniq(v), id, ""))
	}
	return s.transact(ctx, fmt.Sprintf("update %s %q", k.name, id), append(ops, extra...))
}

// getAt returns the record with the id if it is at version ver: ENotFound
// or EStale otherwise.
func (k *kind[T]) getAt(ctx context.Context, s *Store, id string, ver int64) (*T, error) {
	old, err := k.get(ctx, s, id)
	if err != nil {
		return nil, err
	}
	if got := k.version(old); got != ver {
		return nil, stale(k.name, id, got, ver)
	}
	return old, nil
}

// remove deletes the record with the id (any version if version is 0) and
// frees its name, after check (if not nil) accepts the stored record. extra
// ops join the same transaction.
func (k *kind[T]) remove(ctx context.Context, s *Store, id string, version int64, check func(ctx context.Context, old *T) ([]op, error)) error {
	old, err := k.get(ctx, s, id)
	if err != nil {
		return err
	}
	if version != 0 && k.version(old) != version {
		return stale(k.name, id, k.version(old), version)
	}
	var extra []op
	if check != nil {
		if extra, err = check(ctx, old); err != nil {
			return err
		}
	}
	ops := append([]op{k.deleteAt(s, id, k.version(old)), k.freeName(s, k.uniq(old), id)}, extra...)
	if len(ops) > maxTransactItems {
		return notify.Errorf(notify.EInvalid, "deleting %s %q touches %d items, more than one transaction can hold (%d)", k.name, id, len(ops), maxTransactItems)
	}
	return s.transact(ctx, fmt.Sprintf("delete %s %q", k.name, id), ops)
}

// page lists one page of records in creation order, after the cursor,
// that pass f: from one strongly consistent read of the kind's partition.
func (k *kind[T]) page(ctx context.Context, s *Store, p store.Page, f *filter) ([]*T, string, error) {
	limit := limitOf(p.Limit)
	var after string
	if p.Cursor != "" {
		var err error
		if after, err = decodeCursor(p.Cursor, k.prefix); err != nil {
			return nil, "", err
		}
	}
	items, err := s.partition(ctx, k.prefix, f)
	if err != nil {
		return nil, "", err
	}
	i, _ := slices.BinarySearchFunc(items, after, func(item map[string]types.AttributeValue, after string) int {
		if gsk(item) <= after {
			return -1
		}
		return 1
	})
	items = items[i:]
	var next string
	if len(items) > limit {
		items = items[:limit]
		next = kindCursor(k.prefix, items[limit-1])
	}
	out := make([]*T, len(items))
	for i, item := range items {
		if out[i], err = decode[T](item); err != nil {
			return nil, "", fmt.Errorf("read %s: %w", k.name, err)
		}
	}
	return out, next, nil
}

// all lists every record in creation order (strongly consistent).
func (k *kind[T]) all(ctx context.Context, s *Store) ([]*T, error) {
	items, err := s.partition(ctx, k.prefix, nil)
	if err != nil {
		return nil, err
	}
	out := make([]*T, len(items))
	for i, item := range items {
		if out[i], err = decode[T](item); err != nil {
			return nil, fmt.Errorf("read %s: %w", k.name, err)
		}
	}
	return out, nil
}

// partition reads every item of the partition pk that passes f, with
// strongly consistent reads, ordered by gsi1sk (creation).
func (s *Store) partition(ctx context.Context, pk string, f *filter) ([]map[string]types.AttributeValue, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
	}
	if f != nil {
		in.FilterExpression = aws.String(f.expr)
		maps.Copy(in.ExpressionAttributeNames, f.names)
		maps.Copy(in.ExpressionAttributeValues, f.values)
	}
	var out []map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", strings.ToLower(pk), err)
		}
		out = append(out, res.Items...)
		if len(res.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
	slices.SortFunc(out, func(a, b map[string]types.AttributeValue) int { return strings.Compare(gsk(a), gsk(b)) })
	return out, nil
}

// gsk is an item's gsi1sk ("" if it has none).
func gsk(item map[string]types.AttributeValue) string {
	if v, ok := item[AttrGSI1SK].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// kindCursor is the cursor of a list of kind that resumes after item.
func kindCursor(kind string, item map[string]types.AttributeValue) string {
	b, _ := json.Marshal(cursor{PK: kind, SK: "-", GPK: kind, GSK: gsk(item)})
	return base64.RawURLEncoding.EncodeToString(b)
}
