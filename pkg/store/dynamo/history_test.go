package dynamo

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/argoproj-labs/argo-notify/pkg/internal/kumotest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// scanCounter adds up the index entries the store's queries evaluate and
// the items it reads by key.
type scanCounter struct {
	API
	scanned atomic.Int64
}

func (c *scanCounter) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	for _, ka := range in.RequestItems {
		c.scanned.Add(int64(len(ka.Keys)))
	}
	return c.API.BatchGetItem(ctx, in, o...)
}

func (c *scanCounter) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := c.API.Query(ctx, in, o...)
	if err == nil {
		c.scanned.Add(int64(out.ScannedCount))
	}
	return out, err
}

// historySize is how many deliveries TestFilteredHistoryIsBounded writes:
// ARGO_NOTIFY_HISTORY_SIZE, default 25,000. kumo's queries slow down with
// the table's size (each reads the whole index): 100,000 took 104 s on 2
// cores (15 s to write, 26 requests of ~3.3 s to list), too long for every
// run; the bound per request does not depend on the size.
func historySize(t *testing.T) int {
	if v := os.Getenv("ARGO_NOTIFY_HISTORY_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			t.Fatalf("ARGO_NOTIFY_HISTORY_SIZE=%q: want a number of at least 1000", v)
		}
		return n
	}
	return 25_000
}

// TestFilteredHistoryIsBounded writes a month of deliveries, one in 10,000
// failed, and lists ?status=failed: each request reads a bounded number of
// index entries and answers with a (partial) page and a cursor, and
// following the cursors finds every failed delivery, newest first.
func TestFilteredHistoryIsBounded(t *testing.T) {
	cfg := kumotest.Config(t)
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	ctx := context.Background()
	table := fmt.Sprintf("argo-notify-history-%d", time.Now().UnixNano())
	if err := CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)}) })

	n := historySize(t)
	end := time.Now().UTC()
	step := 30 * 24 * time.Hour / time.Duration(n)
	var wantFailed []string // newest first
	items := make([]map[string]types.AttributeValue, n)
	for i := range n {
		created := end.Add(-time.Duration(i) * step)
		ev := fmt.Sprintf("ev%06d", i)
		d := &notify.Delivery{
			ID: notify.DeliveryID(ev, notify.ChannelEmail, "ops@example.com"), EventID: ev, Channel: notify.ChannelEmail,
			Recipient: "ops@example.com", RuleIDs: []string{"r1"}, Status: notify.DeliverySent, Attempts: 1,
			Version: 3, CreatedAt: created, UpdatedAt: created,
		}
		if i%10_000 == 5_000 {
			d.Status, d.LastError = notify.DeliveryFailed, "550 mailbox unavailable"
			wantFailed = append(wantFailed, d.ID)
		}
		item, err := deliveryItem(d)
		if err != nil {
			t.Fatal(err)
		}
		items[i] = item
	}
	start := time.Now()
	seed(t, db, table, items)
	t.Logf("wrote %d deliveries in %s", n, time.Since(start).Round(time.Millisecond))

	sc := &scanCounter{API: db}
	s := New(sc, table)
	var (
		got      []string
		cursor   string
		requests int
		partial  int
	)
	start = time.Now()
	for {
		requests++
		if requests > n/MaxDeliveryScan+DeliveryShards+2 {
			t.Fatalf("%d requests and the list has not ended", requests)
		}
		before := sc.scanned.Load()
		page, next, err := s.ListDeliveries(ctx, store.DeliveryFilter{Status: notify.DeliveryFailed, Page: store.Page{Limit: 50, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		// The budget, plus at most one step of reads past it (all shards
		// in the first round).
		if read, bound := sc.scanned.Load()-before, int64(MaxDeliveryScan+DeliveryShards*250); read > bound {
			t.Errorf("request %d read %d index entries and deliveries, more than the bound %d", requests, read, bound)
		}
		for _, d := range page {
			if d.Status != notify.DeliveryFailed {
				t.Errorf("listed %s with status %s", d.ID, d.Status)
			}
			got = append(got, d.ID)
		}
		if next == "" {
			break
		}
		if len(page) < 50 {
			partial++
		}
		cursor = next
	}
	t.Logf("listed %d failed of %d deliveries in %d requests (%d partial pages) in %s",
		len(got), n, requests, partial, time.Since(start).Round(time.Millisecond))
	if fmt.Sprint(got) != fmt.Sprint(wantFailed) {
		t.Errorf("failed deliveries listed %v, want %v (newest first)", got, wantFailed)
	}
	if partial == 0 {
		t.Errorf("no partial page: the filtered list was not bounded")
	}

	// Unfiltered, the shards merge newest first: full pages, in order,
	// each delivery once.
	cursor = ""
	for page := range 5 {
		got, next, err := s.ListDeliveries(ctx, store.DeliveryFilter{Page: store.Page{Limit: 100, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 100 || next == "" {
			t.Fatalf("page %d: %d deliveries, next %q; want a full page and a cursor", page, len(got), next)
		}
		for i, d := range got {
			if want := fmt.Sprintf("ev%06d", page*100+i); d.EventID != want {
				t.Fatalf("page %d, item %d: %s, want %s (newest first)", page, i, d.EventID, want)
			}
		}
		cursor = next
	}
}

// seed writes the items with BatchWriteItem, 25 at a time, 8 writers.
func seed(t *testing.T, db *dynamodb.Client, table string, items []map[string]types.AttributeValue) {
	t.Helper()
	var (
		wg   sync.WaitGroup
		next atomic.Int64
		fail atomic.Value
	)
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(25)) - 25
				if i >= len(items) {
					return
				}
				var reqs []types.WriteRequest
				for _, it := range items[i:min(i+25, len(items))] {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
				}
				for len(reqs) > 0 {
					out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
					if err != nil {
						fail.Store(err)
						return
					}
					reqs = out.UnprocessedItems[table]
				}
			}
		})
	}
	wg.Wait()
	if err, ok := fail.Load().(error); ok {
		t.Fatalf("seed: %v", err)
	}
}
