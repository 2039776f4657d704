package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

func (c *clock) delivery(eventID, recipient string, ruleIDs ...string) *notify.Delivery {
	now := c.now()
	return &notify.Delivery{
		ID: notify.DeliveryID(eventID, notify.ChannelEmail, recipient), EventID: eventID, Channel: notify.ChannelEmail,
		Recipient: recipient, RuleIDs: ruleIDs, Status: notify.DeliveryQueued, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
}

func testDeliveries(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("claim, get, update", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		d := c.delivery("e1", "ann@example.com", "r1", "r2")
		want := *d
		got, won, err := s.ClaimDelivery(ctx, d)
		must(t, "claim", err)
		if !won {
			t.Errorf("the first claim lost")
		}
		if diffd := diff(&want, got); diffd != "" {
			t.Errorf("claim result (-want +got):\n%s", diffd)
		}
		stored, err := s.GetDelivery(ctx, d.ID)
		must(t, "get", err)
		if diffd := diff(&want, stored); diffd != "" {
			t.Errorf("get after claim (-want +got):\n%s", diffd)
		}
		_, err = s.GetDelivery(ctx, "nope")
		wantCode(t, "get unknown", err, notify.ENotFound)

		again := c.delivery("e1", "ann@example.com", "r9")
		again.Note = "second claim"
		got, won, err = s.ClaimDelivery(ctx, again)
		must(t, "claim again", err)
		if won {
			t.Errorf("a second claim won")
		}
		if diffd := diff(&want, got); diffd != "" {
			t.Errorf("a lost claim returns the stored delivery (-want +got):\n%s", diffd)
		}

		u := want
		u.Status, u.Attempts, u.Version, u.UpdatedAt = notify.DeliverySending, 1, 2, c.now()
		must(t, "to sending", s.UpdateDelivery(ctx, &u))
		wantCode(t, "same version again", s.UpdateDelivery(ctx, &u), notify.EStale)
		f := u
		sent := c.now()
		f.Status, f.Version, f.UpdatedAt, f.SentAt, f.Provider, f.ProviderMessageID = notify.DeliverySent, 3, sent, &sent, "smtp", "<m1@example.com>"
		must(t, "to sent", s.UpdateDelivery(ctx, &f))
		stale := u
		stale.Status, stale.Version, stale.LastError = notify.DeliveryFailed, 3, "late"
		wantCode(t, "stale update", s.UpdateDelivery(ctx, &stale), notify.EStale)
		stored, err = s.GetDelivery(ctx, d.ID)
		must(t, "get", err)
		if diffd := diff(&f, stored); diffd != "" {
			t.Errorf("get after updates (-want +got):\n%s", diffd)
		}
		missing := c.delivery("e2", "x@example.com")
		missing.Version = 2
		wantCode(t, "update unknown", s.UpdateDelivery(ctx, missing), notify.ENotFound)
	})

	t.Run("concurrent claims: exactly one wins", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		const n = 16
		ds := make([]*notify.Delivery, n)
		for i := range ds {
			ds[i] = c.delivery("e1", "ann@example.com", "r1")
			ds[i].Note = fmt.Sprintf("claim %d", i)
		}
		got := make([]*notify.Delivery, n)
		won := make([]bool, n)
		errs := concurrently(n, func(i int) error {
			var err error
			got[i], won[i], err = s.ClaimDelivery(ctx, ds[i])
			return err
		})
		winner := -1
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("claim %d: %v", i, errs[i])
			}
			if won[i] {
				if winner >= 0 {
					t.Errorf("claims %d and %d both won", winner, i)
				}
				winner = i
			}
		}
		if winner < 0 {
			t.Fatalf("no claim won")
		}
		stored, err := s.GetDelivery(ctx, ds[0].ID)
		must(t, "get", err)
		if stored.Note != ds[winner].Note {
			t.Errorf("stored note %q, want the winner's %q", stored.Note, ds[winner].Note)
		}
		for i := range n {
			if d := diff(stored, got[i]); d != "" {
				t.Errorf("claim %d returned something other than the stored delivery (-stored +got):\n%s", i, d)
			}
		}
	})

	t.Run("claim an event's deliveries at once: all or none", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		ok, err := s.ClaimDeliveries(ctx, nil)
		must(t, "claim none", err)
		if !ok {
			t.Errorf("claiming no deliveries reported false")
		}
		batch := func(event string, recipients ...string) []*notify.Delivery {
			var ds []*notify.Delivery
			for _, r := range recipients {
				d := c.delivery(event, r, "r1")
				d.Status, d.Attempts = notify.DeliverySending, 1
				ds = append(ds, d)
			}
			return ds
		}
		first := batch("e1", "ann@example.com", "bob@example.com", "cy@example.com")
		ok, err = s.ClaimDeliveries(ctx, first)
		must(t, "claim a batch", err)
		if !ok {
			t.Fatalf("the first batch claim lost")
		}
		for _, d := range first {
			stored, err := s.GetDelivery(ctx, d.ID)
			must(t, "get", err)
			if dd := diff(d, stored); dd != "" {
				t.Errorf("stored %s (-want +got):\n%s", d.ID, dd)
			}
		}
		// One id of the next batch exists: nothing of it is stored.
		next := batch("e1", "dee@example.com", "bob@example.com", "eve@example.com")
		next[1].Note = "second claim"
		ok, err = s.ClaimDeliveries(ctx, next)
		must(t, "claim an overlapping batch", err)
		if ok {
			t.Errorf("a batch with a claimed delivery won")
		}
		for _, d := range []*notify.Delivery{next[0], next[2]} {
			_, err := s.GetDelivery(ctx, d.ID)
			wantCode(t, "a delivery of a lost batch", err, notify.ENotFound)
		}
		stored, err := s.GetDelivery(ctx, next[1].ID)
		must(t, "get", err)
		if dd := diff(first[1], stored); dd != "" {
			t.Errorf("a lost batch changed a claimed delivery (-want +got):\n%s", dd)
		}
		// Too many for one step: refused without a write.
		var many []string
		for i := range store.MaxClaimBatch + 1 {
			many = append(many, fmt.Sprintf("u%03d@example.com", i))
		}
		big := batch("e2", many...)
		ok, err = s.ClaimDeliveries(ctx, big)
		must(t, "claim too many", err)
		if ok {
			t.Errorf("a batch of %d won, want false above MaxClaimBatch", len(big))
		}
		_, err = s.GetDelivery(ctx, big[0].ID)
		wantCode(t, "a delivery of a refused batch", err, notify.ENotFound)
		// A batch of one is a claim too.
		ok, err = s.ClaimDeliveries(ctx, big[:1])
		must(t, "claim one", err)
		if !ok {
			t.Errorf("a batch of one lost")
		}
		ok, err = s.ClaimDeliveries(ctx, big[:1])
		must(t, "claim one again", err)
		if ok {
			t.Errorf("a batch of one won twice")
		}
	})

	t.Run("concurrent batch and single claims: each delivery won once", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		const rounds = 10
		for round := range rounds {
			ev := fmt.Sprintf("race%d", round)
			var ds []*notify.Delivery
			for _, r := range []string{"ann@example.com", "bob@example.com", "cy@example.com"} {
				d := c.delivery(ev, r, "r1")
				d.Status, d.Attempts = notify.DeliverySending, 1
				ds = append(ds, d)
			}
			single := *ds[1]
			single.Status, single.Attempts, single.Note = notify.DeliveryQueued, 0, "single"
			var batchWon, singleWon bool
			errs := concurrently(2, func(i int) error {
				var err error
				if i == 0 {
					batchWon, err = s.ClaimDeliveries(ctx, ds)
				} else {
					_, singleWon, err = s.ClaimDelivery(ctx, &single)
				}
				return err
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d claim %d: %v", round, i, err)
				}
			}
			if batchWon == singleWon {
				t.Fatalf("round %d: batch won %v, single won %v: want exactly one", round, batchWon, singleWon)
			}
			stored, err := s.GetDelivery(ctx, ds[1].ID)
			must(t, "get", err)
			if singleWon != (stored.Note == "single") {
				t.Errorf("round %d: stored %+v does not match the winner", round, stored)
			}
			_, err = s.GetDelivery(ctx, ds[0].ID)
			if batchWon {
				must(t, "get a batch delivery", err)
			} else {
				wantCode(t, "a delivery of the lost batch", err, notify.ENotFound)
			}
		}
	})

	t.Run("list filters with pagination, newest first", func(t *testing.T) {
		s, c := newStore(t), &clock{}
		var all []*notify.Delivery // in creation order
		for i := range 18 {
			ev := fmt.Sprintf("e%d", i%3)
			rules := [][]string{{"r1"}, {"r2"}, {"r1", "r2"}}[i%3]
			if i%4 == 0 {
				rules = []string{"r3"}
			}
			d := c.delivery(ev, fmt.Sprintf("user%02d@example.com", 17-i), rules...)
			_, won, err := s.ClaimDelivery(ctx, d)
			must(t, "claim", err)
			if !won {
				t.Fatalf("claim %d lost", i)
			}
			all = append(all, d)
		}
		// Move some to other statuses, so the status index must follow.
		for i, d := range all {
			if i%2 == 0 {
				continue
			}
			u := *d
			u.Version, u.Status = 2, []notify.DeliveryStatus{notify.DeliverySent, notify.DeliveryFailed, notify.DeliverySending}[i%3]
			must(t, "update", s.UpdateDelivery(ctx, &u))
			all[i] = &u
		}
		for _, f := range []store.DeliveryFilter{
			{},
			{EventID: "e1"},
			{RuleID: "r1"},
			{RuleID: "r3"},
			{Status: notify.DeliveryQueued},
			{Status: notify.DeliverySent},
			{EventID: "e2", Status: notify.DeliveryQueued},
			{RuleID: "r2", Status: notify.DeliverySending},
			{EventID: "e0", RuleID: "r3"},
			{EventID: "nope"},
		} {
			var want []string
			for _, d := range slices.Backward(all) {
				if (f.EventID == "" || d.EventID == f.EventID) && (f.RuleID == "" || slices.Contains(d.RuleIDs, f.RuleID)) &&
					(f.Status == "" || d.Status == f.Status) {
					want = append(want, d.ID)
				}
			}
			t.Run(fmt.Sprintf("event %q rule %q status %q", f.EventID, f.RuleID, f.Status), func(t *testing.T) {
				for _, limit := range []int{1, 2, 5, 20} {
					got := walk(t, "deliveries", limit, func(p store.Page) ([]*notify.Delivery, string, error) {
						ff := f
						ff.Page = p
						return s.ListDeliveries(ctx, ff)
					})
					ids := make([]string, len(got))
					for i, d := range got {
						ids[i] = d.ID
					}
					if d := diff(want, ids); d != "" {
						t.Errorf("limit %d ids (-want +got):\n%s", limit, d)
					}
				}
			})
		}
		_, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{Page: store.Page{Cursor: "%%%"}})
		wantCode(t, "bad cursor", err, notify.EInvalid)
	})
}
