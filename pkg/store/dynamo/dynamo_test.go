package dynamo_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/argoproj-labs/argo-notify/pkg/internal/kumotest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
	"github.com/argoproj-labs/argo-notify/pkg/store/dynamo"
	"github.com/argoproj-labs/argo-notify/pkg/store/storetest"
)

// client returns a DynamoDB client for the emulator that
// _tools/with-peers.sh started, or skips the test when ARGO_NOTIFY_INTEGRATION
// is not 1. With the variable set, an unreachable emulator fails the test.
func client(t *testing.T) *dynamodb.Client {
	t.Helper()
	// kumo sends a wrong CRC32 header (EMULATORS.md): test clients only.
	return dynamodb.NewFromConfig(kumotest.Config(t), func(o *dynamodb.Options) {
		o.DisableValidateResponseChecksum = true
	})
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// tableName is unique per test, so tests never share a table.
func tableName(t *testing.T) string {
	name := unsafe.ReplaceAllString(t.Name(), "-")
	if len(name) > 200 {
		name = name[len(name)-200:]
	}
	return "argo-notify-" + name + "-" + rand.Text()[:8]
}

// newTable creates a fresh table and drops it when the test ends.
func newTable(t *testing.T, c *dynamodb.Client) string {
	t.Helper()
	name := tableName(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := dynamo.CreateTable(ctx, c, name); err != nil {
		t.Fatalf("create table (is the emulator running?): %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("delete table %s: %v", name, err)
		}
	})
	return name
}

// withSecrets completes the DynamoDB store to a store.Store with an
// in-memory store.Secrets (Secrets Manager is another package's adapter).
type withSecrets struct {
	*dynamo.Store
	*memSecrets
}

type memSecrets struct {
	mu sync.Mutex
	m  map[string]string
}

func (m *memSecrets) PutSecret(_ context.Context, name, value string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m["mem:"+name] = value
	return "mem:" + name, nil
}

func (m *memSecrets) GetSecret(_ context.Context, ref string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[ref]
	if !ok {
		return "", notify.Errorf(notify.ENotFound, "secret %q does not exist", ref)
	}
	return v, nil
}

func (m *memSecrets) DeleteSecret(_ context.Context, ref string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[ref]; !ok {
		return notify.Errorf(notify.ENotFound, "secret %q does not exist", ref)
	}
	delete(m.m, ref)
	return nil
}

func TestConformance(t *testing.T) {
	c := client(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return withSecrets{dynamo.New(c, newTable(t, c)), &memSecrets{m: map[string]string{}}}
	})
}

// counter counts the calls made through dynamo.API, by operation.
type counter struct {
	dynamo.API
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[op]++
}

func (c *counter) take() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	total := 0
	for _, op := range []string{"GetItem", "PutItem", "DeleteItem", "Query", "TransactWriteItems"} {
		if c.n[op] > 0 {
			parts = append(parts, fmt.Sprintf("%s×%d", op, c.n[op]))
			total += c.n[op]
		}
	}
	c.n = map[string]int{}
	return fmt.Sprintf("%d: %s", total, strings.Join(parts, " "))
}

func (c *counter) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.add("GetItem")
	return c.API.GetItem(ctx, in, o...)
}

func (c *counter) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.add("PutItem")
	return c.API.PutItem(ctx, in, o...)
}

func (c *counter) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.add("DeleteItem")
	return c.API.DeleteItem(ctx, in, o...)
}

func (c *counter) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.add("Query")
	return c.API.Query(ctx, in, o...)
}

func (c *counter) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.add("TransactWriteItems")
	return c.API.TransactWriteItems(ctx, in, o...)
}

// kumoNoOldItem is the count of a refused conditional write on kumo, which
// ignores ReturnValuesOnConditionCheckFailure: the store then reads the
// stored item with one GetItem. Real DynamoDB returns it with the error.
const kumoNoOldItem = "2: GetItem×1 PutItem×1"

// TestCallsPerOperation pins how many DynamoDB calls the hot operations
// make: the dispatcher claims and updates a delivery per recipient and reads
// every rule per batch.
func TestCallsPerOperation(t *testing.T) {
	c := client(t)
	cnt := &counter{API: c, n: map[string]int{}}
	s := dynamo.New(cnt, newTable(t, c))
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 120 {
		r := &notify.Rule{ID: fmt.Sprintf("r%03d", i), Name: fmt.Sprintf("rule %d", i), Enabled: true,
			EventTypes: []notify.EventType{notify.TypeJob}, Severities: []notify.Severity{notify.SeverityCritical},
			Recipients: notify.Recipients{Emails: []string{"ops@example.com"}}, Source: notify.SourceUser,
			Version: 1, CreatedAt: now.Add(time.Duration(i) * time.Millisecond), UpdatedAt: now}
		if err := s.CreateRule(ctx, r); err != nil {
			t.Fatalf("create rule: %v", err)
		}
	}
	cnt.take()
	d := &notify.Delivery{ID: notify.DeliveryID("e1", notify.ChannelEmail, "a@example.com"), EventID: "e1",
		Channel: notify.ChannelEmail, Recipient: "a@example.com", RuleIDs: []string{"r001"},
		Status: notify.DeliveryQueued, Version: 1, CreatedAt: now, UpdatedAt: now}

	steps := []struct {
		name string
		do   func() error
		want []string // the first is what real DynamoDB needs; others are accepted too
	}{
		{"claim (won)", func() error {
			_, won, err := s.ClaimDelivery(ctx, d)
			if err == nil && !won {
				err = fmt.Errorf("the claim lost")
			}
			return err
		}, []string{"1: PutItem×1"}},
		{"claim (lost)", func() error {
			_, won, err := s.ClaimDelivery(ctx, d)
			if err == nil && won {
				err = fmt.Errorf("the claim won twice")
			}
			return err
		}, []string{"1: PutItem×1", kumoNoOldItem}},
		{"update delivery", func() error {
			u := *d
			u.Status, u.Version = notify.DeliverySending, 2
			return s.UpdateDelivery(ctx, &u)
		}, []string{"1: PutItem×1"}},
		{"update delivery (stale)", func() error {
			u := *d
			u.Status, u.Version = notify.DeliverySent, 2
			if err := s.UpdateDelivery(ctx, &u); !notify.IsCode(err, notify.EStale) {
				return fmt.Errorf("got %v, want EStale", err)
			}
			return nil
		}, []string{"1: PutItem×1", kumoNoOldItem}},
		{"AllRules (120 rules)", func() error {
			all, err := s.AllRules(ctx)
			if err == nil && len(all) != 120 {
				err = fmt.Errorf("%d rules, want 120", len(all))
			}
			return err
		}, []string{"1: Query×1"}},
		{"update rule (same name)", func() error {
			r, err := s.GetRule(ctx, "r001")
			if err != nil {
				return err
			}
			cnt.take()
			r.Enabled, r.Version = false, r.Version+1
			return s.UpdateRule(ctx, r)
		}, []string{"1: PutItem×1"}},
		{"update rule (renamed)", func() error {
			r, err := s.GetRule(ctx, "r001")
			if err != nil {
				return err
			}
			cnt.take()
			r.Name, r.Version = "renamed", r.Version+1
			return s.UpdateRule(ctx, r)
		}, []string{"3: GetItem×1 PutItem×1 TransactWriteItems×1"}},
		{"create rule", func() error {
			r, err := s.GetRule(ctx, "r002")
			if err != nil {
				return err
			}
			cnt.take()
			r.ID, r.Name = "new", "new"
			return s.CreateRule(ctx, r)
		}, []string{"1: TransactWriteItems×1"}},
		{"list deliveries of an event", func() error {
			ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{EventID: "e1"})
			if err == nil && len(ds) != 1 {
				err = fmt.Errorf("%d deliveries, want 1", len(ds))
			}
			return err
		}, []string{"1: Query×1"}},
		{"list rules (page of 50)", func() error {
			_, _, err := s.ListRules(ctx, store.RuleFilter{})
			return err
		}, []string{"1: Query×1"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			got := cnt.take()
			t.Logf("%s: %s", st.name, got)
			if !slices.Contains(st.want, got) {
				t.Errorf("%s: calls %q, want one of %q", st.name, got, st.want)
			}
		})
	}
}

// TestReplaceLargeDirectory replaces a directory with more writes than one
// transaction holds (100): the store splits them, in order.
func TestReplaceLargeDirectory(t *testing.T) {
	c := client(t)
	cnt := &counter{API: c, n: map[string]int{}}
	s := dynamo.New(cnt, newTable(t, c))
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	dir := func(n int) notify.Directory {
		var d notify.Directory
		for i := range n {
			d.Users = append(d.Users, notify.User{ID: fmt.Sprintf("u%03d", i), Name: fmt.Sprintf("User %d", i),
				Email: fmt.Sprintf("u%d@example.com", i), Role: notify.RoleMember})
		}
		d.Groups = []notify.Group{{ID: "g1", Name: "First", Members: []string{"u000", "u001"}}}
		return d
	}
	count := func() int {
		n, cursor := 0, ""
		for {
			us, next, err := s.ListUsers(ctx, store.Page{Limit: 100, Cursor: cursor})
			if err != nil {
				t.Fatalf("list users: %v", err)
			}
			n += len(us)
			if next == "" {
				return n
			}
			cursor = next
		}
	}
	for _, tc := range []struct {
		name     string
		users    int
		wantCall string
	}{
		// 150 users + 1 group, each a record, a name guard and a
		// reference counter: 453 writes.
		{"from empty", 150, "8: Query×3 TransactWriteItems×5"},
		// 90 users, their email guards and their counters deleted: 270
		// writes.
		{"shrink", 60, "6: Query×3 TransactWriteItems×3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cnt.take()
			if err := s.ReplaceDirectory(ctx, dir(tc.users), false, now); err != nil {
				t.Fatalf("replace: %v", err)
			}
			got := cnt.take()
			t.Logf("replace with %d users: %s calls", tc.users, got)
			if got != tc.wantCall {
				t.Errorf("calls %q, want %q", got, tc.wantCall)
			}
			if n := count(); n != tc.users {
				t.Errorf("%d users, want %d", n, tc.users)
			}
		})
	}
	err := s.CreateUser(ctx, &notify.User{ID: "x", Name: "X", Email: "U59@example.com", Role: notify.RoleMember, Version: 1, CreatedAt: now, UpdatedAt: now})
	if !notify.IsCode(err, notify.EConflict) {
		t.Errorf("create with a kept email: %v, want EConflict", err)
	}
	err = s.CreateUser(ctx, &notify.User{ID: "y", Name: "Y", Email: "u60@example.com", Role: notify.RoleMember, Version: 1, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Errorf("create with a freed email: %v", err)
	}
}
