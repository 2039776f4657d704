package bolt

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

const benchRules = 10_000

var benchT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func benchRule(i int) *notify.Rule {
	at := benchT0.Add(time.Duration(i) * time.Millisecond)
	return &notify.Rule{
		ID: fmt.Sprintf("01JBENCH%08d", i), Name: fmt.Sprintf("rule number %d", i), Enabled: i%10 != 0,
		EventTypes: []notify.EventType{notify.TypeJob, notify.TypeDeployment},
		Severities: []notify.Severity{notify.SeverityCritical, notify.SeverityWarning},
		Recipients: notify.Recipients{Users: []string{"u1", "u2"}, Groups: []string{"g1"}, Emails: []string{"ops@example.com"}, SlackChannels: []string{"C0123456789"}},
		Source:     notify.SourceUser, Version: 1, CreatedAt: at, UpdatedAt: at,
	}
}

// storeWithRules opens a fresh store holding n rules, written in one
// transaction so that setting up does not take n fsyncs.
func storeWithRules(b *testing.B, n int) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	err = s.db.Update(func(tx *bbolt.Tx) error {
		for i := range n {
			r := benchRule(i)
			if err := rules.insert(tx, r); err != nil {
				return err
			}
			if err := setRefs(tx, r, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkCreateRule(b *testing.B) {
	s := storeWithRules(b, benchRules)
	ctx := b.Context()
	i := benchRules
	b.ReportAllocs()
	for b.Loop() {
		if err := s.CreateRule(ctx, benchRule(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkListRules(b *testing.B) {
	s := storeWithRules(b, benchRules)
	ctx := b.Context()
	b.Run("first page of 50", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rs, _, err := s.ListRules(ctx, store.RuleFilter{Page: store.Page{Limit: 50}})
			if err != nil || len(rs) != 50 {
				b.Fatal(len(rs), err)
			}
		}
	})
	b.Run("full walk by 50", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n, cursor := 0, ""
			for {
				rs, next, err := s.ListRules(ctx, store.RuleFilter{Page: store.Page{Limit: 50, Cursor: cursor}})
				if err != nil {
					b.Fatal(err)
				}
				n += len(rs)
				if next == "" {
					break
				}
				cursor = next
			}
			if n != benchRules {
				b.Fatalf("walked %d rules", n)
			}
		}
	})
	b.Run("first page of 50 disabled", func(b *testing.B) {
		no := false
		b.ReportAllocs()
		for b.Loop() {
			rs, _, err := s.ListRules(ctx, store.RuleFilter{Enabled: &no, Page: store.Page{Limit: 50}})
			if err != nil || len(rs) != 50 {
				b.Fatal(len(rs), err)
			}
		}
	})
	b.Run("AllRules", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rs, err := s.AllRules(ctx)
			if err != nil || len(rs) != benchRules {
				b.Fatal(len(rs), err)
			}
		}
	})
}

func benchDelivery(i int) *notify.Delivery {
	at := benchT0.Add(time.Duration(i) * time.Millisecond)
	rcpt := fmt.Sprintf("user%d@example.com", i%100)
	ev := fmt.Sprintf("01JEVENT%08d", i/100)
	return &notify.Delivery{ID: notify.DeliveryID(ev, notify.ChannelEmail, rcpt), EventID: ev, Channel: notify.ChannelEmail,
		Recipient: rcpt, RuleIDs: []string{"r1"}, Status: notify.DeliveryQueued, Version: 1, CreatedAt: at, UpdatedAt: at}
}

func BenchmarkClaimDelivery(b *testing.B) {
	ctx := b.Context()
	b.Run("new", func(b *testing.B) {
		s := storeWithRules(b, 0)
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			if _, won, err := s.ClaimDelivery(ctx, benchDelivery(i)); err != nil || !won {
				b.Fatal(won, err)
			}
			i++
		}
	})
	b.Run("new parallel", func(b *testing.B) {
		s := storeWithRules(b, 0)
		var mu = make(chan int, 1)
		mu <- 0
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := <-mu
				mu <- i + 1
				if _, won, err := s.ClaimDelivery(ctx, benchDelivery(i)); err != nil || !won {
					b.Fatal(won, err)
				}
			}
		})
	})
	b.Run("already claimed", func(b *testing.B) {
		s := storeWithRules(b, 0)
		d := benchDelivery(0)
		if _, _, err := s.ClaimDelivery(ctx, d); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, won, err := s.ClaimDelivery(ctx, d); err != nil || won {
				b.Fatal(won, err)
			}
		}
	})
}
