// Package dynamo is the store on AWS: rules, the directory, integrations and
// delivery records in one DynamoDB table (store.Secrets lives in Secrets
// Manager, in another package).
//
// Table layout (DESIGN.md §4): string keys pk and sk; every record of a kind
// that is listed carries gsi1pk = its kind (RULE, USER, GROUP, SMTP,
// DELIVERY) and gsi1sk = its creation time and id, unique per item, so the
// global secondary index gsi1 lists a kind in creation order. Unique names
// (rule names, user emails, group names, SMTP nicknames, compared
// case-insensitively) are held by guard items, pk = <KIND>NAME#<folded name>,
// written in the same TransactWriteItems as the record. Versions are checked
// by condition expressions; the once-only delivery claim is a conditional
// PutItem. Deliveries are partitioned by event (pk DELIVERY#<event id>, sk
// the delivery id) and carry a TTL attribute, ttl, 30 days after their
// creation. A cursor is the index key of the last item of a page (the shape
// of LastEvaluatedKey), base64url JSON.
//
// Reads of single items are strongly consistent; lists read the index,
// which on AWS is eventually consistent.
//
// Referential integrity (a rule never names a user or group that does not
// exist, even when a delete races a rule write) rests on a reference
// counter item per user and group (refs.go): rule writes raise and lower
// the counters in their own TransactWriteItems, on the condition that they
// exist; deletes remove the counter on the condition that it is 0. Because
// one transaction holds at most 100 items, a rule names at most
// MaxRuleRefs users and groups together on this store (EInvalid beyond),
// and one update changes at most 97 of them. Tables written before the
// counters existed are upgraded lazily (backfill.go): when a rule write or a
// delete fails because the counter of an existing user or group is
// missing, the store creates it with the number of rules naming the entry
// (on the condition that it still does not exist) and tries again. No
// rule can start or stop naming an entry while its counter is missing, so
// that count cannot go stale before the counter is written.
//
// The package imports the domain and the store contract and the AWS SDK,
// never another adapter.
package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// API is the part of the DynamoDB client the store calls. *dynamodb.Client
// implements it.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	// BatchGetItem reads the deliveries of a list page (gsi1 projects
	// only keys and filter attributes).
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// Attribute and index names; the CDK stack creates the table with the same.
const (
	AttrPK     = "pk"
	AttrSK     = "sk"
	AttrGSI1PK = "gsi1pk"
	AttrGSI1SK = "gsi1sk"
	AttrTTL    = "ttl"
	IndexGSI1  = "gsi1"
)

// DeliveryTTL is how long a delivery record (and so its once-only claim) is
// kept before DynamoDB expires it.
const DeliveryTTL = 30 * 24 * time.Hour

const (
	attrUniq  = "uniq"  // on records: the folded unique name
	attrOwner = "owner" // on guards: the id of the record holding the name
	attrVer   = "Version"

	// maxTransactItems is DynamoDB's limit of items in one TransactWriteItems.
	maxTransactItems = 100
	// transactRetries bounds retries of a transaction cancelled by a
	// concurrent one (TransactionConflict), before conditions are judged.
	transactRetries = 6
)

// Store is the DynamoDB implementation of store.Rules, store.Directory,
// store.Integrations and store.Deliveries. It is safe for concurrent use.
type Store struct {
	db    API
	table string
	now   func() time.Time
}

var (
	_ store.Rules        = (*Store)(nil)
	_ store.Directory    = (*Store)(nil)
	_ store.Integrations = (*Store)(nil)
	_ store.Deliveries   = (*Store)(nil)
)

// New returns a store on the table, through the client (built in main with
// config.LoadDefaultConfig).
func New(client API, table string) *Store {
	return &Store{db: client, table: table, now: time.Now}
}

// fold is how unique names are compared: case-insensitively.
func fold(s string) string { return strings.ToLower(s) }

// sortKey is the gsi1sk of a record: creation time (fixed width, so it sorts
// as text) and id, unique per record.
func sortKey(t time.Time, id string) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + id
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: str(pk), AttrSK: str(sk)}
}

func notFound(kind, id string) error {
	return notify.Errorf(notify.ENotFound, "%s %q does not exist", kind, id)
}

func stale(kind, id string, stored, want int64) error {
	return notify.Errorf(notify.EStale, "%s %q is at version %d, not %d", kind, id, stored, want)
}

// limitOf applies store.Page's rules to a requested limit.
func limitOf(l int) int {
	switch {
	case l <= 0:
		return store.DefaultLimit
	case l > store.MaxLimit:
		return store.MaxLimit
	}
	return l
}

// cursor is the exclusive start key of the next page of an index query.
type cursor struct {
	PK  string `json:"pk"`
	SK  string `json:"sk"`
	GPK string `json:"gpk"`
	GSK string `json:"gsk"`
}

func encodeCursor(item map[string]types.AttributeValue) string {
	get := func(name string) string {
		if v, ok := item[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	b, _ := json.Marshal(cursor{PK: get(AttrPK), SK: get(AttrSK), GPK: get(AttrGSI1PK), GSK: get(AttrGSI1SK)})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the index sort key a cursor of list kind resumes
// after, or EInvalid.
func decodeCursor(c, kind string) (string, error) {
	bad := notify.Invalid("cursor", "is not a cursor this list returned")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", bad
	}
	var k cursor
	if err := json.Unmarshal(b, &k); err != nil || k.PK == "" || k.SK == "" || k.GPK != kind || k.GSK == "" {
		return "", bad
	}
	return k.GSK, nil
}

// filter is a condition on the items of a list, applied by DynamoDB after
// the index read.
type filter struct {
	expr   string
	names  map[string]string
	values map[string]types.AttributeValue
}

// queryKind is the query of gsi1 for kind, in order (forward) or reverse,
// after (or before, in reverse) the sort key after if it is not "".
func (s *Store) queryKind(kind string, forward bool, f *filter, after string) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(IndexGSI1),
		KeyConditionExpression:    aws.String("#gpk = :gpk"),
		ExpressionAttributeNames:  map[string]string{"#gpk": AttrGSI1PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":gpk": str(kind)},
		ScanIndexForward:          aws.Bool(forward),
	}
	if after != "" {
		cmp := " > "
		if !forward {
			cmp = " < "
		}
		in.KeyConditionExpression = aws.String("#gpk = :gpk AND #gsk" + cmp + ":after")
		in.ExpressionAttributeNames["#gsk"] = AttrGSI1SK
		in.ExpressionAttributeValues[":after"] = str(after)
	}
	if f != nil {
		in.FilterExpression = aws.String(f.expr)
		for k, v := range f.names {
			in.ExpressionAttributeNames[k] = v
		}
		for k, v := range f.values {
			in.ExpressionAttributeValues[k] = v
		}
	}
	return in
}

// getItem reads one item with a strongly consistent read; nil if absent.
func (s *Store) getItem(ctx context.Context, pk, sk string) (map[string]types.AttributeValue, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(pk, sk), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	if len(res.Item) == 0 {
		return nil, nil
	}
	return res.Item, nil
}

// isConditionFailed reports whether err is a failed condition of a single
// write, and returns the item as it was if DynamoDB sent it back.
func isConditionFailed(err error) (bool, map[string]types.AttributeValue) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return true, ccf.Item
	}
	return false, nil
}

func (s *Store) put(item map[string]types.AttributeValue, cond string, names map[string]string, values map[string]types.AttributeValue) *types.Put {
	p := &types.Put{TableName: aws.String(s.table), Item: item}
	if cond != "" {
		p.ConditionExpression = aws.String(cond)
		p.ExpressionAttributeNames = names
		p.ExpressionAttributeValues = values
	}
	return p
}

// decode unmarshals a record item into a new T.
func decode[T any](item map[string]types.AttributeValue) (*T, error) {
	v := new(T)
	if err := attributevalue.UnmarshalMap(item, v); err != nil {
		return nil, err
	}
	return v, nil
}
