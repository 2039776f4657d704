package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
	"github.com/argoproj-labs/argo-notify/pkg/store/dynamo"
)

// queryLog keeps every Query the store makes.
type queryLog struct {
	dynamo.API
	mu sync.Mutex
	in []*dynamodb.QueryInput
}

func (q *queryLog) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	q.mu.Lock()
	q.in = append(q.in, in)
	q.mu.Unlock()
	return q.API.Query(ctx, in, o...)
}

// walkAll reads every page of a list.
func walkAll[T any](t *testing.T, list func(p store.Page) ([]T, string, error)) []T {
	t.Helper()
	var out []T
	cursor := ""
	for range 1000 {
		page, next, err := list(store.Page{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		cursor = next
	}
	t.Fatal("list did not end")
	return nil
}

// TestCreateThenListConsistent is what the console does: create, then
// list. Over 200 tries the new rule is listed every time, and a group of
// users created just before always finds them. Every list read is a
// strongly consistent Query of the base table (real DynamoDB's index reads
// are eventually consistent; kumo's are not, so the reads are checked too).
func TestCreateThenListConsistent(t *testing.T) {
	c := client(t)
	log := &queryLog{API: c}
	s := dynamo.New(log, newTable(t, c))
	ctx := context.Background()
	base := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	const tries = 200
	for i := range tries {
		now := base.Add(time.Duration(i) * time.Millisecond)
		id := fmt.Sprintf("r%03d", i)
		if err := s.CreateRule(ctx, &notify.Rule{
			ID: id, Name: "Rule " + id, Enabled: true,
			EventTypes: []notify.EventType{notify.TypeJob}, Severities: []notify.Severity{notify.SeverityCritical},
			Recipients: notify.Recipients{Emails: []string{"ops@example.com"}},
			Source:     notify.SourceUser, Version: 1, CreatedAt: now, UpdatedAt: now,
		}); err != nil {
			t.Fatal(err)
		}
		rules := walkAll(t, func(p store.Page) ([]*notify.Rule, string, error) {
			return s.ListRules(ctx, store.RuleFilter{Page: p})
		})
		if len(rules) != i+1 || rules[len(rules)-1].ID != id {
			t.Fatalf("try %d: listed %d rules, last %q; want %d, last %q", i, len(rules), rules[len(rules)-1].ID, i+1, id)
		}
		if i%10 != 0 {
			continue
		}
		uid, gid := fmt.Sprintf("u%03d", i), fmt.Sprintf("g%03d", i)
		if err := s.CreateUser(ctx, &notify.User{ID: uid, Name: "User " + uid, Email: uid + "@example.com", Role: notify.RoleMember, Version: 1, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateGroup(ctx, &notify.Group{ID: gid, Name: "Group " + gid, Members: []string{uid}, Version: 1, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatalf("try %d: a group of the user just created: %v", i, err)
		}
		users := walkAll(t, func(p store.Page) ([]*notify.User, string, error) { return s.ListUsers(ctx, p) })
		groups := walkAll(t, func(p store.Page) ([]*notify.Group, string, error) { return s.ListGroups(ctx, p) })
		if !slices.ContainsFunc(users, func(u *notify.User) bool { return u.ID == uid }) ||
			!slices.ContainsFunc(groups, func(g *notify.Group) bool { return g.ID == gid }) {
			t.Fatalf("try %d: user %s or group %s not listed", i, uid, gid)
		}
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	for _, in := range log.in {
		if in.IndexName != nil || !aws.ToBool(in.ConsistentRead) {
			t.Fatalf("a list read the index %v (consistent %v): %s", aws.ToString(in.IndexName), aws.ToBool(in.ConsistentRead), aws.ToString(in.KeyConditionExpression))
		}
	}
}
