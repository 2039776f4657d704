package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
	"github.com/argoproj-labs/argo-notify/pkg/store/dynamo"
)

// legacy writes records as the store wrote them before the reference
// counters: the record and its name guard, no counter.
type legacy struct {
	t     *testing.T
	c     *dynamodb.Client
	table string
	now   time.Time
	n     int
}

func sv(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// put writes v as a record of kind prefix with the unique name uniq, held
// by a guard item (pk guard#folded name).
func (l *legacy) put(prefix, guard, id, uniq string, v any) {
	l.t.Helper()
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		l.t.Fatal(err)
	}
	l.n++
	created := l.now.Add(time.Duration(l.n) * time.Millisecond)
	// The record's key as the store writes it (the kind's partition);
	// what is legacy is the missing counter.
	item[dynamo.AttrPK] = sv(prefix)
	item[dynamo.AttrSK] = sv(id)
	item[dynamo.AttrGSI1SK] = sv(created.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + id)
	item["uniq"] = sv(strings.ToLower(uniq))
	if err := l.write(item); err != nil {
		l.t.Fatal(err)
	}
	g := map[string]types.AttributeValue{dynamo.AttrPK: sv(guard + "#" + strings.ToLower(uniq)), dynamo.AttrSK: sv(guard), "owner": sv(id)}
	if err := l.write(g); err != nil {
		l.t.Fatal(err)
	}
}

func (l *legacy) write(item map[string]types.AttributeValue) error {
	_, err := l.c.PutItem(l.t.Context(), &dynamodb.PutItemInput{TableName: aws.String(l.table), Item: item})
	return err
}

func (l *legacy) user(id string) {
	l.t.Helper()
	l.put("USER", "USEREMAIL", id, id+"@example.com", &notify.User{ID: id, Name: id, Email: id + "@example.com",
		Role: notify.RoleMember, Version: 1, CreatedAt: l.now, UpdatedAt: l.now})
}

func (l *legacy) group(id string, members ...string) {
	l.t.Helper()
	l.put("GROUP", "GROUPNAME", id, id, &notify.Group{ID: id, Name: id, Members: members, Version: 1, CreatedAt: l.now, UpdatedAt: l.now})
}

func (l *legacy) rule(id string, users, groups []string) {
	l.t.Helper()
	l.put("RULE", "RULENAME", id, id, newRule(l.now, id, users, groups))
}

func newRule(now time.Time, id string, users, groups []string) *notify.Rule {
	return &notify.Rule{ID: id, Name: id, Enabled: true, EventTypes: []notify.EventType{notify.TypeJob},
		Severities: []notify.Severity{notify.SeverityCritical}, Source: notify.SourceUser,
		Recipients: notify.Recipients{Users: users, Groups: groups}, Version: 1, CreatedAt: now, UpdatedAt: now}
}

// refs returns the counter of a user or group (kind USER or GROUP), or -1
// if it has none.
func refs(t *testing.T, c *dynamodb.Client, table, kind, id string) int {
	t.Helper()
	res, err := c.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{dynamo.AttrPK: sv("REFS#" + kind + "#" + id), dynamo.AttrSK: sv("REFS")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Item) == 0 {
		return -1
	}
	n, ok := res.Item["refs"].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("counter of %s %s: no refs: %v", kind, id, res.Item)
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkCounts fails unless every existing user and group has a counter
// equal to the number of rules naming it; untouched ones (legacy entries
// nothing needed a counter for yet) may have none.
func checkCounts(t *testing.T, c *dynamodb.Client, table string, st *dynamo.Store, untouched ...string) {
	t.Helper()
	ctx := t.Context()
	all, err := st.AllRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	count := func(kind, id string) int {
		n := 0
		for _, r := range all {
			if r.References(kind, id) {
				n++
			}
		}
		return n
	}
	us, _, err := st.ListUsers(ctx, store.Page{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		got, want := refs(t, c, table, "USER", u.ID), count(store.RefUser, u.ID)
		if got == -1 && slices.Contains(untouched, u.ID) {
			continue
		}
		if got != want {
			t.Errorf("counter of user %s = %d, want %d", u.ID, got, want)
		}
	}
	gs, _, err := st.ListGroups(ctx, store.Page{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if got, want := refs(t, c, table, "GROUP", g.ID), count(store.RefGroup, g.ID); got != want {
			t.Errorf("counter of group %s = %d, want %d", g.ID, got, want)
		}
	}
}

// TestLegacyBackfill runs the store on a table written before the
// reference counters: users, groups and rules without counter items. The
// counters are created when first needed, with the number of rules naming
// the entry, and references stay checked.
func TestLegacyBackfill(t *testing.T) {
	c := client(t)
	table := newTable(t, c)
	st := dynamo.New(c, table)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l := &legacy{t: t, c: c, table: table, now: now}
	l.user("u1")
	l.user("u2")
	l.user("u3")
	l.group("g1", "u1")
	l.rule("r1", []string{"u1"}, []string{"g1"})
	l.rule("r2", []string{"u1"}, nil)
	// Named a user deleted before the upgrade (the old code's race).
	l.rule("r4", []string{"ghost"}, nil)

	if err := st.CreateRule(ctx, newRule(now, "r3", []string{"u1"}, nil)); err != nil {
		t.Fatalf("create a rule naming a legacy user: %v", err)
	}
	if got := refs(t, c, table, "USER", "u1"); got != 3 {
		t.Errorf("counter of u1 after the create = %d, want 3", got)
	}
	err := st.CreateRule(ctx, newRule(now, "r5", []string{"u1", "ghost"}, []string{"nogroup"}))
	if e, ok := err.(*notify.Error); !ok || e.Code != notify.EInvalid || len(e.Fields) != 2 ||
		e.Fields[0].Field != "recipients.groups[0]" || e.Fields[1].Field != "recipients.users[1]" {
		t.Errorf("create a rule naming unknown entries: %v, want EInvalid on recipients.groups[0] and recipients.users[1]", err)
	}

	err = st.DeleteUser(ctx, "u1", 0)
	if e, ok := err.(*notify.Error); !ok || e.Code != notify.EInUse || strings.Join(e.Refs, ",") != "r1,r2,r3" {
		t.Errorf("delete a named legacy user: %v, want EInUse by r1,r2,r3", err)
	}
	if err := st.DeleteGroup(ctx, "g1", 0); !notify.IsCode(err, notify.EInUse) {
		t.Errorf("delete a named legacy group: %v, want EInUse", err)
	}

	// A change of references on a legacy rule: -1 on u1, +1 on legacy u2.
	r2, err := st.GetRule(ctx, "r2")
	if err != nil {
		t.Fatal(err)
	}
	r2.Recipients.Users, r2.Version = []string{"u2"}, r2.Version+1
	if err := st.UpdateRule(ctx, r2); err != nil {
		t.Fatalf("update a legacy rule to name another legacy user: %v", err)
	}
	// The -1 of g1 backfills g1's counter first.
	if err := st.DeleteRule(ctx, "r1", 0); err != nil {
		t.Fatalf("delete a legacy rule naming a legacy group: %v", err)
	}
	if err := st.DeleteRule(ctx, "r4", 0); err != nil {
		t.Fatalf("delete a legacy rule naming a deleted user: %v", err)
	}
	checkCounts(t, c, table, st, "u3")

	if err := st.DeleteUser(ctx, "u1", 0); !notify.IsCode(err, notify.EInUse) {
		t.Errorf("delete u1 named by r3: %v, want EInUse", err)
	}
	if err := st.DeleteRule(ctx, "r3", 0); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteUser(ctx, "u1", 0); err != nil {
		t.Errorf("delete u1 named by no rule: %v", err)
	}
	if err := st.DeleteGroup(ctx, "g1", 0); err != nil {
		t.Errorf("delete g1 named by no rule: %v", err)
	}
	// Never named: its counter is backfilled at 0 by the delete itself.
	if err := st.DeleteUser(ctx, "u3", 0); err != nil {
		t.Errorf("delete a legacy user no rule names: %v", err)
	}
	for _, k := range [][2]string{{"USER", "u1"}, {"GROUP", "g1"}, {"USER", "u3"}} {
		if got := refs(t, c, table, k[0], k[1]); got != -1 {
			t.Errorf("counter of deleted %s %s left with %d", k[0], k[1], got)
		}
	}
	if err := st.CreateRule(ctx, newRule(now, "r6", []string{"u1"}, nil)); !notify.IsCode(err, notify.EInvalid) {
		t.Errorf("create a rule naming deleted u1: %v, want EInvalid", err)
	}
	checkCounts(t, c, table, st)
}

// backfillSpy counts the backfill transactions (a counter Put and a
// ConditionCheck on its record) and how many of them lost.
type backfillSpy struct {
	dynamo.API
	mu         sync.Mutex
	tried, won int
}

func (b *backfillSpy) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	out, err := b.API.TransactWriteItems(ctx, in, o...)
	if len(in.TransactItems) == 2 && in.TransactItems[1].ConditionCheck != nil {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.tried++
		if err == nil {
			b.won++
		}
	}
	return out, err
}

// TestLegacyBackfillRace races rule creates (each of which backfills the
// counter it needs) and a delete of a legacy rule on one legacy user: the
// counter ends equal to the rules naming the user. Then it races a delete
// of a legacy user named by no rule against a rule create naming it:
// exactly one wins, and no counter outlives its user.
func TestLegacyBackfillRace(t *testing.T) {
	c := client(t)
	table := newTable(t, c)
	spy := &backfillSpy{API: c}
	st := dynamo.New(spy, table)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l := &legacy{t: t, c: c, table: table, now: now}
	const rounds, writers = 8, 6
	for round := range rounds {
		u := fmt.Sprintf("u%d", round)
		l.user(u)
		l.rule("old-a-"+u, []string{u}, nil)
		l.rule("old-b-"+u, []string{u}, nil)
		var wg sync.WaitGroup
		errs := make(chan error, writers+1)
		for w := range writers {
			wg.Go(func() {
				if err := st.CreateRule(ctx, newRule(now, fmt.Sprintf("new-%s-%d", u, w), []string{u}, nil)); err != nil {
					errs <- fmt.Errorf("create: %w", err)
				}
			})
		}
		wg.Go(func() {
			if err := st.DeleteRule(ctx, "old-a-"+u, 0); err != nil {
				errs <- fmt.Errorf("delete: %w", err)
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
		if got, want := refs(t, c, table, "USER", u), 1+writers; got != want {
			t.Errorf("round %d: counter of %s = %d, want %d", round, u, got, want)
		}
	}
	checkCounts(t, c, table, st)
	t.Logf("%d rounds: %d backfills tried, %d written", rounds, spy.tried, spy.won)
	if spy.won != rounds {
		t.Errorf("%d backfills written, want one per round (%d)", spy.won, rounds)
	}

	wins := map[string]int{}
	for round := range 2 * rounds {
		u := fmt.Sprintf("free%d", round)
		l.user(u)
		var delErr, createErr error
		var wg sync.WaitGroup
		wg.Go(func() { delErr = st.DeleteUser(ctx, u, 0) })
		wg.Go(func() { createErr = st.CreateRule(ctx, newRule(now, "r-"+u, []string{u}, nil)) })
		wg.Wait()
		_, getErr := st.GetUser(ctx, u)
		_, ruleErr := st.GetRule(ctx, "r-"+u)
		switch {
		case delErr == nil && notify.IsCode(createErr, notify.EInvalid):
			wins["delete"]++
			if !notify.IsCode(getErr, notify.ENotFound) || !notify.IsCode(ruleErr, notify.ENotFound) {
				t.Errorf("round %d: the delete won, yet user: %v, rule: %v", round, getErr, ruleErr)
			}
			if got := refs(t, c, table, "USER", u); got != -1 {
				t.Errorf("round %d: counter of deleted %s left with %d", round, u, got)
			}
		case createErr == nil && (notify.IsCode(delErr, notify.EInUse) || notify.IsCode(delErr, notify.EStale)):
			wins["create"]++
			if getErr != nil || ruleErr != nil {
				t.Errorf("round %d: the create won, yet user: %v, rule: %v", round, getErr, ruleErr)
			}
			if got := refs(t, c, table, "USER", u); got != 1 {
				t.Errorf("round %d: counter of %s = %d, want 1", round, u, got)
			}
		default:
			t.Errorf("round %d: delete: %v, create: %v; want exactly one to succeed", round, delErr, createErr)
		}
	}
	t.Logf("delete versus create on a legacy user: %v", wins)
	checkCounts(t, c, table, st)
}

// TestLegacyReplaceDirectory replaces a legacy directory: removing a user
// rules name is refused without prune; with prune the rules lose it, and
// the counters of removed entries (backfilled to the rules read) go with
// their records.
func TestLegacyReplaceDirectory(t *testing.T) {
	c := client(t)
	table := newTable(t, c)
	st := dynamo.New(c, table)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l := &legacy{t: t, c: c, table: table, now: now}
	l.user("u1")
	l.user("u2")
	l.user("u3")
	l.group("g1", "u1", "u2")
	l.rule("r1", []string{"u1", "u2"}, []string{"g1"})
	keep := notify.Directory{Users: []notify.User{
		{ID: "u2", Name: "u2", Email: "u2@example.com", Role: notify.RoleMember},
	}}
	if err := st.ReplaceDirectory(ctx, keep, false, now); !notify.IsCode(err, notify.EInUse) {
		t.Fatalf("replace removing named legacy entries without prune: %v, want EInUse", err)
	}
	if err := st.ReplaceDirectory(ctx, keep, true, now); err != nil {
		t.Fatalf("replace removing named legacy entries with prune: %v", err)
	}
	r1, err := st.GetRule(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.Recipients.Users) != 1 || r1.Recipients.Users[0] != "u2" || len(r1.Recipients.Groups) != 0 {
		t.Errorf("pruned rule names %v %v, want users [u2]", r1.Recipients.Users, r1.Recipients.Groups)
	}
	for _, k := range [][2]string{{"USER", "u1"}, {"USER", "u3"}, {"GROUP", "g1"}} {
		if got := refs(t, c, table, k[0], k[1]); got != -1 {
			t.Errorf("counter of removed %s %s left with %d", k[0], k[1], got)
		}
	}
	checkCounts(t, c, table, st, "u2")
	if err := st.DeleteUser(ctx, "u2", 0); !notify.IsCode(err, notify.EInUse) {
		t.Errorf("delete u2 named by r1: %v, want EInUse", err)
	}
	if err := st.DeleteRule(ctx, "r1", 0); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteUser(ctx, "u2", 0); err != nil {
		t.Errorf("delete u2: %v", err)
	}
}
